//! Builtin checker `unordered`: the output must hold the same lines as the
//! expected output, in any order. Each line is compared by its tokens (so
//! spacing inside a line does not matter); blank lines are ignored.

use std::cmp::Ordering;

use gavel_sdk::checker::{Checker, Info, Verdict};
use gavel_sdk::text::{excerpt, tokens};

struct Unordered;

impl Checker for Unordered {
    fn info() -> Info {
        Info::new("unordered", "Lines in any order", env!("CARGO_PKG_VERSION"))
    }

    fn check(_input: &[u8], expected: &[u8], actual: &[u8], _args: &[String]) -> Verdict {
        // Both sides sorted, then merged: O(n log n) slice comparisons and no
        // hashing, so megabytes of lines fit a checker's fuel budget.
        let mut want: Vec<Vec<&[u8]>> = lines(expected).collect();
        want.sort_unstable();
        let mut got: Vec<(Vec<&[u8]>, usize)> = actual
            .split(|&b| b == b'\n')
            .enumerate()
            .map(|(number, line)| (tokens(line).collect::<Vec<_>>(), number + 1))
            .filter(|(key, _)| !key.is_empty())
            .collect();
        got.sort_unstable();
        let (mut w, mut g) = (0, 0);
        let mut missing = Vec::new();
        // The first unexpected line in output order.
        let mut unexpected: Option<&(Vec<&[u8]>, usize)> = None;
        while w < want.len() || g < got.len() {
            let order = match (want.get(w), got.get(g)) {
                (Some(expected), Some((line, _))) => expected.cmp(line),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match order {
                Ordering::Equal => (w, g) = (w + 1, g + 1),
                Ordering::Less => {
                    missing.push(&want[w]);
                    w += 1;
                }
                Ordering::Greater => {
                    if unexpected.is_none_or(|(_, first)| got[g].1 < *first) {
                        unexpected = Some(&got[g]);
                    }
                    g += 1;
                }
            }
        }
        if let Some((key, number)) = unexpected {
            return Verdict::WrongAnswer(format!(
                "line {number} (`{}`) is not expected (or appears too often)",
                excerpt(&key.join(&b' '))
            ));
        }
        match missing.first() {
            Some(line) => Verdict::WrongAnswer(format!(
                "{} expected line(s) missing, e.g. `{}`",
                missing.len(),
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
