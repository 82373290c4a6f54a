//! The Gavel plugin SDK: write a checker or a language plugin in a few lines
//! of Rust, build it for `wasm32-wasip2`, and drop the `.wasm` into a runner's
//! plugins folder (or ship it in a problem package).
//!
//! A complete checker (compare the first token case-insensitively):
//!
//! ```no_run
//! use gavel_sdk::checker::{Checker, Info, Verdict};
//!
//! struct CaseInsensitive;
//!
//! impl Checker for CaseInsensitive {
//!     fn info() -> Info {
//!         Info::new("case-insensitive", "First token, any case", env!("CARGO_PKG_VERSION"))
//!     }
//!     fn check(_input: &[u8], expected: &[u8], actual: &[u8], _args: &[String]) -> Verdict {
//!         let (e, a) = (gavel_sdk::text::tokens(expected).next(), gavel_sdk::text::tokens(actual).next());
//!         match (e, a) {
//!             (Some(e), Some(a)) if e.eq_ignore_ascii_case(a) => Verdict::Accepted,
//!             _ => Verdict::WrongAnswer("first token differs".into()),
//!         }
//!     }
//! }
//!
//! gavel_sdk::export_checker!(CaseInsensitive);
//! ```
//!
//! The crate is a `cdylib` built with `cargo build --release --target
//! wasm32-wasip2`; see `docs/plugins.md` in the Gavel repository.
//!
//! The WIT contract (`wit/plugin.wit`) is bound here once; plugins only see
//! the plain Rust types below.

extern crate self as gavel_sdk;

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

pub mod text;

/// Checkers: decide whether a contestant's output is right.
pub mod checker {
    use std::marker::PhantomData;

    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)] // generated code
    pub mod bindings {
        wit_bindgen::generate!({
            path: "../../wit",
            world: "checker",
            pub_export_macro: true,
            export_macro_name: "__export_checker_world",
            default_bindings_module: "gavel_sdk::checker::bindings",
            runtime_path: "gavel_sdk::__wit_bindgen::rt",
        });
    }

    use bindings::gavel::plugin::types as wit;

    /// What a checker says about itself.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Info {
        /// Stable id: lowercase letters, digits and `-`.
        pub id: String,
        /// Human-readable name.
        pub name: String,
        /// The checker's version.
        pub version: String,
    }

    impl Info {
        /// Convenience constructor.
        pub fn new(id: &str, name: &str, version: &str) -> Self {
            Info { id: id.into(), name: name.into(), version: version.into() }
        }
    }

    /// A checker's decision about one case.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Verdict {
        Accepted,
        WrongAnswer(String),
        PresentationError(String),
        /// `score` in `[0, 1]`.
        Partial {
            score: f64,
            message: String,
        },
        /// The checker's own failure (→ JE), e.g. bad arguments.
        Fail(String),
    }

    /// Implement this and call [`export_checker!`](crate::export_checker).
    pub trait Checker {
        /// Describe the checker.
        fn info() -> Info;
        /// Judge one case. All three texts are raw bytes (maybe not UTF-8).
        fn check(input: &[u8], expected: &[u8], actual: &[u8], args: &[String]) -> Verdict;
    }

    #[doc(hidden)]
    pub struct Adapter<T>(PhantomData<T>);

    impl<T: Checker> bindings::Guest for Adapter<T> {
        fn info() -> wit::PluginInfo {
            let Info { id, name, version } = T::info();
            wit::PluginInfo { id, name, version }
        }

        fn check(
            input: Vec<u8>,
            expected: Vec<u8>,
            actual: Vec<u8>,
            args: Vec<String>,
        ) -> wit::Verdict {
            match T::check(&input, &expected, &actual, &args) {
                Verdict::Accepted => wit::Verdict::Accepted,
                Verdict::WrongAnswer(m) => wit::Verdict::WrongAnswer(m),
                Verdict::PresentationError(m) => wit::Verdict::PresentationError(m),
                Verdict::Partial { score, message } => {
                    wit::Verdict::Partial(wit::PartialScore { score, message })
                }
                Verdict::Fail(m) => wit::Verdict::Fail(m),
            }
        }
    }
}

/// Language toolchains: compile a submission, then run it per test case.
pub mod language {
    use std::marker::PhantomData;

    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)] // generated code
    pub mod bindings {
        wit_bindgen::generate!({
            path: "../../wit",
            world: "language",
            pub_export_macro: true,
            export_macro_name: "__export_language_world",
            default_bindings_module: "gavel_sdk::language::bindings",
            runtime_path: "gavel_sdk::__wit_bindgen::rt",
        });
    }

    /// The same contract plus `init`, for languages whose start-up the host
    /// can snapshot ([`export_language!`](crate::export_language) with
    /// `preinit`).
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)] // generated code
    pub mod preinit_bindings {
        wit_bindgen::generate!({
            path: "../../wit",
            world: "preinit-language",
            pub_export_macro: true,
            export_macro_name: "__export_preinit_language_world",
            default_bindings_module: "gavel_sdk::language::preinit_bindings",
            runtime_path: "gavel_sdk::__wit_bindgen::rt",
        });
    }

    use bindings::gavel::plugin::types as wit;

    /// What a language says about itself.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Info {
        pub id: String,
        pub name: String,
        pub version: String,
        /// The file name submissions are stored under, e.g. `main.js`.
        pub source_file: String,
        /// Fuel that counts as one millisecond of reported time (calibrated
        /// against the language's native reference; see `wit/plugin.wit`).
        pub fuel_per_ms: u64,
        /// Fuel the implementation burns per millisecond of real CPU time:
        /// sizes the host's wall-clock backstop.
        pub fuel_per_cpu_ms: u64,
    }

    /// Implement this and call [`export_language!`](crate::export_language).
    pub trait Language {
        /// Describe the language.
        fn info() -> Info;
        /// Check a submission; `Err` is the compile error shown to the contestant.
        fn compile(source: Vec<u8>) -> Result<Vec<u8>, String>;
        /// Run a compiled program: stdin/stdout/stderr are WASI's; return the
        /// exit status.
        fn run(program: Vec<u8>, args: Vec<String>) -> u8;
        /// Start-up work done once, before a snapshot that every later call
        /// starts from (only with `export_language!(T, preinit)`). It must
        /// not touch stdin/stdout or keep WASI handles.
        fn init() {}
    }

    #[doc(hidden)]
    pub struct Adapter<T>(PhantomData<T>);

    impl<T: Language> bindings::Guest for Adapter<T> {
        fn info() -> wit::LanguageInfo {
            let Info { id, name, version, source_file, fuel_per_ms, fuel_per_cpu_ms } = T::info();
            wit::LanguageInfo { id, name, version, source_file, fuel_per_ms, fuel_per_cpu_ms }
        }

        fn compile(source: Vec<u8>) -> Result<Vec<u8>, String> {
            T::compile(source)
        }

        fn run(program: Vec<u8>, args: Vec<String>) -> u8 {
            T::run(program, args)
        }
    }

    impl<T: Language> preinit_bindings::Guest for Adapter<T> {
        fn info() -> preinit_bindings::gavel::plugin::types::LanguageInfo {
            let Info { id, name, version, source_file, fuel_per_ms, fuel_per_cpu_ms } = T::info();
            preinit_bindings::gavel::plugin::types::LanguageInfo {
                id,
                name,
                version,
                source_file,
                fuel_per_ms,
                fuel_per_cpu_ms,
            }
        }

        fn compile(source: Vec<u8>) -> Result<Vec<u8>, String> {
            T::compile(source)
        }

        fn run(program: Vec<u8>, args: Vec<String>) -> u8 {
            T::run(program, args)
        }

        fn init() {
            T::init()
        }
    }
}

/// Exports a [`checker::Checker`] as the plugin's `checker` world.
#[macro_export]
macro_rules! export_checker {
    ($checker:ty) => {
        type __GavelCheckerExport = $crate::checker::Adapter<$checker>;
        $crate::checker::bindings::__export_checker_world!(__GavelCheckerExport with_types_in $crate::checker::bindings);
    };
}

/// Exports a [`language::Language`] as the plugin's `language` world; with
/// `preinit`, as the `preinit-language` world, so the host calls
/// [`language::Language::init`] once and starts every run from a snapshot.
#[macro_export]
macro_rules! export_language {
    ($language:ty) => {
        type __GavelLanguageExport = $crate::language::Adapter<$language>;
        $crate::language::bindings::__export_language_world!(__GavelLanguageExport with_types_in $crate::language::bindings);
    };
    ($language:ty, preinit) => {
        type __GavelLanguageExport = $crate::language::Adapter<$language>;
        $crate::language::preinit_bindings::__export_preinit_language_world!(__GavelLanguageExport with_types_in $crate::language::preinit_bindings);
    };
}
