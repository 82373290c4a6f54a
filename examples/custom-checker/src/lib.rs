//! Checker for `examples/problems/any-divisor`: many answers are right, so
//! the output is checked against the input, not against the expected file.

use gavel_sdk::checker::{Checker, Info, Verdict};
use gavel_sdk::text::tokens;

struct AnyDivisor;

impl Checker for AnyDivisor {
    fn info() -> Info {
        Info::new("any-divisor", "Any proper divisor of n", env!("CARGO_PKG_VERSION"))
    }

    fn check(input: &[u8], _expected: &[u8], actual: &[u8], _args: &[String]) -> Verdict {
        let number = |t: Option<&[u8]>| t.and_then(|t| std::str::from_utf8(t).ok()?.parse::<u64>().ok());
        let (Some(n), Some(d)) = (number(tokens(input).next()), number(tokens(actual).next())) else {
            return Verdict::WrongAnswer("expected one integer".into());
        };
        match 1 < d && d < n && n % d == 0 {
            true => Verdict::Accepted,
            false => Verdict::WrongAnswer(format!("{d} is not a proper divisor of {n}")),
        }
    }
}

gavel_sdk::export_checker!(AnyDivisor);
