//! Builtin checker `lines`: Normal-OJ's rule. Lines are compared one by one
//! after removing trailing whitespace (spaces, tabs, `\r`) from each; blank
//! lines at the end of either output are ignored. Leading and inner
//! whitespace still count.

use gavel_sdk::checker::{Checker, Info, Verdict};
use gavel_sdk::text::{common_prefix, excerpt, is_space};

struct Lines;

impl Checker for Lines {
    fn info() -> Info {
        Info::new("lines", "Lines, ignoring trailing whitespace", env!("CARGO_PKG_VERSION"))
    }

    fn check(_input: &[u8], expected: &[u8], actual: &[u8], _args: &[String]) -> Verdict {
        if expected.len() == actual.len() && common_prefix(expected, actual) == expected.len() {
            return Verdict::Accepted;
        }
        let (mut e, mut a) = (significant_lines(expected), significant_lines(actual));
        let mut number = 1usize;
        loop {
            match (e.next(), a.next()) {
                (Some(x), Some(y)) if x == y => number += 1,
                (Some(x), Some(y)) => {
                    return Verdict::WrongAnswer(format!(
                        "line {number} differs: expected `{}`, got `{}`",
                        excerpt(x),
                        excerpt(y)
                    ));
                }
                (Some(x), None) => {
                    return Verdict::WrongAnswer(format!(
                        "output ends early: line {number} should be `{}`",
                        excerpt(x)
                    ));
                }
                (None, Some(y)) => {
                    return Verdict::WrongAnswer(format!(
                        "extra output: line {number} is `{}`",
                        excerpt(y)
                    ));
                }
                (None, None) => return Verdict::Accepted,
            }
        }
    }
}

/// The lines of `text` without trailing whitespace and without the blank
/// lines at its end.
fn significant_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let end = text.iter().rposition(|&b| !is_space(b)).map_or(0, |p| p + 1);
    let lines = (end > 0).then(|| text[..end].split(|&b| b == b'\n'));
    lines.into_iter().flatten().map(trim_end)
}

fn trim_end(line: &[u8]) -> &[u8] {
    let end = line.iter().rposition(|&b| !is_space(b)).map_or(0, |p| p + 1);
    &line[..end]
}

gavel_sdk::export_checker!(Lines);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expected: &str, actual: &str) -> Verdict {
        Lines::check(b"", expected.as_bytes(), actual.as_bytes(), &[])
    }

    #[test]
    fn trailing_whitespace_and_blank_lines_are_ignored() {
        for actual in [
            "a b\nc\n",
            "a b\nc",
            "a b  \nc\t\n",
            "a b\r\nc\r\n",
            "a b\nc\n\n\n",
            "a b\nc\n \n\t\n",
        ] {
            assert_eq!(check("a b\nc\n", actual), Verdict::Accepted, "{actual:?}");
        }
        assert_eq!(check("", "\n\n"), Verdict::Accepted);
        assert_eq!(check("\n", ""), Verdict::Accepted);
    }

    #[test]
    fn leading_and_inner_whitespace_and_inner_blank_lines_count() {
        for actual in [" a b\nc\n", "a  b\nc\n", "a b\n\nc\n", "a b c\n", "a b\n", "a b\nc\nd\n"] {
            assert!(matches!(check("a b\nc\n", actual), Verdict::WrongAnswer(_)), "{actual:?}");
        }
    }

    #[test]
    fn messages_name_the_line() {
        let Verdict::WrongAnswer(m) = check("1\n2\n3\n", "1\n2\n4\n") else { panic!() };
        assert_eq!(m, "line 3 differs: expected `3`, got `4`");
        let Verdict::WrongAnswer(m) = check("1\n2\n", "1\n") else { panic!() };
        assert_eq!(m, "output ends early: line 2 should be `2`");
        let Verdict::WrongAnswer(m) = check("1\n", "1\n2") else { panic!() };
        assert_eq!(m, "extra output: line 2 is `2`");
    }
}
