//! Builtin checker `tokens`: the output must hold the same whitespace-separated
//! tokens as the expected output; the amount and kind of whitespace (spaces,
//! tabs, newlines, `\r`) do not matter.
//!
//! The comparison is one pass over both texts: long runs of identical bytes are
//! compared eight at a time, and only where the texts diverge does the checker
//! look at whitespace. Wrong answers take a second, slower pass that finds the
//! first differing token for the message.

use gavel_sdk::checker::{Checker, Info, Verdict};
use gavel_sdk::text::{common_prefix, excerpt, is_space, tokens};

struct Tokens;

impl Checker for Tokens {
    fn info() -> Info {
        Info::new("tokens", "Whitespace-separated tokens", env!("CARGO_PKG_VERSION"))
    }

    fn check(_input: &[u8], expected: &[u8], actual: &[u8], _args: &[String]) -> Verdict {
        if same_tokens(expected, actual) {
            Verdict::Accepted
        } else {
            Verdict::WrongAnswer(first_difference(expected, actual))
        }
    }
}

/// Whether `a` and `b` hold the same tokens.
fn same_tokens(a: &[u8], b: &[u8]) -> bool {
    let (mut i, mut j) = (0, 0);
    loop {
        let n = common_prefix(&a[i..], &b[j..]);
        i += n;
        j += n;
        if i == a.len() && j == b.len() {
            return true;
        }
        // Inside a token the texts may only diverge where both tokens end.
        let space_a = a.get(i).is_none_or(|&c| is_space(c));
        let space_b = b.get(j).is_none_or(|&c| is_space(c));
        let inside_token = i > 0 && !is_space(a[i - 1]);
        if inside_token && !(space_a && space_b) {
            return false;
        }
        let skipped = skip_spaces(a, &mut i) + skip_spaces(b, &mut j);
        if skipped == 0 || (i == a.len()) != (j == b.len()) {
            return false;
        }
    }
}

/// Advances `at` past whitespace; returns how many bytes it skipped.
fn skip_spaces(text: &[u8], at: &mut usize) -> usize {
    let n = text[*at..].iter().take_while(|&&c| is_space(c)).count();
    *at += n;
    n
}

/// Describes the first token that differs.
fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let (mut e, mut a) = (tokens(expected), tokens(actual));
    let mut index = 1usize;
    loop {
        match (e.next(), a.next()) {
            (Some(x), Some(y)) if x == y => index += 1,
            (Some(x), Some(y)) => {
                return format!(
                    "token {index} differs: expected `{}`, got `{}`",
                    excerpt(x),
                    excerpt(y)
                );
            }
            (Some(x), None) => {
                return format!("output ends early: token {index} should be `{}`", excerpt(x));
            }
            (None, Some(y)) => return format!("extra output: token {index} is `{}`", excerpt(y)),
            (None, None) => return "outputs differ".into(),
        }
    }
}

gavel_sdk::export_checker!(Tokens);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expected: &str, actual: &str) -> Verdict {
        Tokens::check(b"", expected.as_bytes(), actual.as_bytes(), &[])
    }

    #[test]
    fn whitespace_never_matters() {
        for actual in ["1 2\n", "1 2", "1  2", " 1\t2 \r\n\n", "\n1\n2\n\n", "1\r\n2\r\n"] {
            assert_eq!(check("1 2\n", actual), Verdict::Accepted, "{actual:?}");
        }
        assert_eq!(check("", " \n"), Verdict::Accepted);
        assert_eq!(check("", ""), Verdict::Accepted);
    }

    #[test]
    fn tokens_must_match() {
        for actual in ["12\n", "1 2 3", "1", "1 22", "11 2", "1 2x", "", "2 1"] {
            assert!(matches!(check("1 2\n", actual), Verdict::WrongAnswer(_)), "{actual:?}");
        }
        assert!(matches!(check("", "x"), Verdict::WrongAnswer(_)));
    }

    #[test]
    fn long_texts_compare_across_word_boundaries() {
        let expected: String = (0..1000).map(|i| format!("{i} ")).collect();
        let spaced = expected.replace(' ', "\n");
        assert_eq!(check(&expected, &spaced), Verdict::Accepted);
        let wrong = expected.replacen("500", "501", 1);
        let Verdict::WrongAnswer(m) = check(&expected, &wrong) else { panic!() };
        assert_eq!(m, "token 501 differs: expected `500`, got `501`");
    }

    #[test]
    fn messages_say_what_is_missing_or_extra() {
        let Verdict::WrongAnswer(m) = check("1 2", "1") else { panic!() };
        assert_eq!(m, "output ends early: token 2 should be `2`");
        let Verdict::WrongAnswer(m) = check("1", "1 2") else { panic!() };
        assert_eq!(m, "extra output: token 2 is `2`");
    }
}
