//! The real `gavel_sdk` for the host, but with an `export_checker!` that
//! defines `pub fn check` and `pub fn info` in the checker's module, so a
//! fuzz target can call a checker included with `#[path]`.

pub use real_sdk::{checker, text};

/// Defines `check` and `info` for `$checker` in the calling module.
#[macro_export]
macro_rules! export_checker {
    ($checker:ty) => {
        pub fn check(
            input: &[u8],
            expected: &[u8],
            actual: &[u8],
            args: &[String],
        ) -> $crate::checker::Verdict {
            <$checker as $crate::checker::Checker>::check(input, expected, actual, args)
        }

        pub fn info() -> $crate::checker::Info {
            <$checker as $crate::checker::Checker>::info()
        }
    };
}
