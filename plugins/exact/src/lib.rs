//! Builtin checker `exact`: the output must equal the expected output byte
//! for byte; the first difference is reported with its line and offset.

use gavel_sdk::checker::{Checker, Info, Verdict};

struct Exact;

impl Checker for Exact {
    fn info() -> Info {
        Info::new("exact", "Byte-for-byte comparison", env!("CARGO_PKG_VERSION"))
    }

    fn check(_input: &[u8], expected: &[u8], actual: &[u8], _args: &[String]) -> Verdict {
        match first_difference(expected, actual) {
            None => Verdict::Accepted,
            Some(at) => {
                let line =
                    expected[..at.min(expected.len())].iter().filter(|&&b| b == b'\n').count() + 1;
                Verdict::WrongAnswer(format!(
                    "outputs differ at byte {at} (line {line}): expected {}, got {}",
                    describe(expected, at),
                    describe(actual, at)
                ))
            }
        }
    }
}

/// The offset of the first differing byte, or `None` when equal.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let at = gavel_sdk::text::common_prefix(a, b);
    (at < a.len().max(b.len())).then_some(at)
}

fn describe(text: &[u8], at: usize) -> String {
    match text.get(at..) {
        Some([]) | None => "end of output".into(),
        Some(rest) => format!("`{}`", gavel_sdk::text::excerpt(&rest[..rest.len().min(20)])),
    }
}

gavel_sdk::export_checker!(Exact);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_pass_and_any_difference_fails() {
        assert_eq!(Exact::check(b"", b"1 2\n", b"1 2\n", &[]), Verdict::Accepted);
        assert_eq!(Exact::check(b"", b"", b"", &[]), Verdict::Accepted);
        for actual in [&b"1 2"[..], b"1 2 \n", b"1  2\n", b"1 3\n", b"1 2\r\n"] {
            assert!(
                matches!(Exact::check(b"", b"1 2\n", actual, &[]), Verdict::WrongAnswer(_)),
                "{actual:?}"
            );
        }
    }

    #[test]
    fn the_message_names_the_first_difference() {
        let Verdict::WrongAnswer(m) = Exact::check(b"", b"a\nbc\n", b"a\nbd\n", &[]) else {
            panic!()
        };
        assert_eq!(m, "outputs differ at byte 3 (line 2): expected `c\n`, got `d\n`");
        let Verdict::WrongAnswer(m) = Exact::check(b"", b"ab", b"abc", &[]) else { panic!() };
        assert!(m.contains("expected end of output"), "{m}");
    }
}
