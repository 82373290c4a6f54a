//! Builtin checker `unordered`: the output must hold the same lines as the
//! expected output, in any order. Each line is compared by its tokens (so
//! spacing inside a line does not matter); blank lines are ignored.

use std::collections::HashMap;

use gavel_sdk::checker::{Checker, Info, Verdict};
use gavel_sdk::text::{excerpt, tokens};

struct Unordered;

impl Checker for Unordered {
    fn info() -> Info {
        Info::new("unordered", "Lines in any order", env!("CARGO_PKG_VERSION"))
    }

    fn check(_input: &[u8], expected: &[u8], actual: &[u8], _args: &[String]) -> Verdict {
        let mut missing: HashMap<Vec<&[u8]>, usize> = HashMap::new();
        for line in lines(expected) {
            *missing.entry(line).or_default() += 1;
        }
        for (number, line) in actual.split(|&b| b == b'\n').enumerate() {
            let key: Vec<&[u8]> = tokens(line).collect();
            if key.is_empty() {
                continue;
            }
            match missing.get_mut(&key) {
                Some(count) if *count > 0 => *count -= 1,
                _ => {
                    return Verdict::WrongAnswer(format!(
                        "line {} (`{}`) is not expected (or appears too often)",
                        number + 1,
                        excerpt(&key.join(&b' '))
                    ));
                }
            }
        }
        let left = missing.values().sum::<usize>();
        match lines(expected).find(|line| missing.get(line).is_some_and(|&n| n > 0)) {
            Some(line) => Verdict::WrongAnswer(format!(
                "{left} expected line(s) missing, e.g. `{}`",
                excerpt(&line.join(&b' '))
            )),
            None => Verdict::Accepted,
        }
    }
}

/// The non-blank lines of `text`, each as its tokens.
fn lines(text: &[u8]) -> impl Iterator<Item = Vec<&[u8]>> {
    text.split(|&b| b == b'\n')
        .map(|line| tokens(line).collect::<Vec<_>>())
        .filter(|t| !t.is_empty())
}

gavel_sdk::export_checker!(Unordered);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expected: &str, actual: &str) -> Verdict {
        Unordered::check(b"", expected.as_bytes(), actual.as_bytes(), &[])
    }

    #[test]
    fn any_order_and_spacing_pass() {
        assert_eq!(check("1 2\n3 4\n5\n", "5\n3  4\n\n1 2"), Verdict::Accepted);
        assert_eq!(check("a\na\nb\n", "a\nb\na\n"), Verdict::Accepted);
        assert_eq!(check("", "\n"), Verdict::Accepted);
    }

    #[test]
    fn multiplicity_and_content_count() {
        let Verdict::WrongAnswer(m) = check("a\na\nb\n", "a\nb\n") else { panic!() };
        assert_eq!(m, "1 expected line(s) missing, e.g. `a`");
        let Verdict::WrongAnswer(m) = check("a\nb\n", "a\nb\nb\n") else { panic!() };
        assert_eq!(m, "line 3 (`b`) is not expected (or appears too often)");
        assert!(matches!(check("1 2\n", "2 1\n"), Verdict::WrongAnswer(_)));
    }
}
