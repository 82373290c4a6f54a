//! Builtin checker `float`: token by token, numbers may differ by an absolute
//! or a relative error; other tokens must be equal.
//!
//! Arguments: `abs=EPS` and/or `rel=EPS`. A number passes when either
//! *given* bound holds: `|actual - expected| <= abs`, or
//! `|actual - expected| <= rel * |expected|`. `abs=` alone is an absolute
//! bound only, `rel=` alone a relative bound only; with neither, both are
//! `1e-6` (testlib's `rcmp6`). `nan` only matches `nan`; an infinity only
//! matches the same infinity, so either where a finite number is expected is
//! a wrong answer.

use gavel_sdk::checker::{Checker, Info, Verdict};
use gavel_sdk::text::{excerpt, key_values, parse_float, tokens};

struct Float;

/// The accepted error, from the checker's arguments: the bounds that were
/// given (both `1e-6` when none was).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tolerance {
    abs: Option<f64>,
    rel: Option<f64>,
}

impl Tolerance {
    const DEFAULT: f64 = 1e-6;

    fn from_args(args: &[String]) -> Result<Self, String> {
        let mut tolerance = Tolerance { abs: None, rel: None };
        for (key, value) in key_values(args) {
            let slot = match key {
                "abs" => &mut tolerance.abs,
                "rel" => &mut tolerance.rel,
                _ => {
                    return Err(format!(
                        "unknown argument `{key}`: expected `abs=EPS` or `rel=EPS`"
                    ));
                }
            };
            *slot =
                Some(value.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(
                    || format!("argument `{key}`: `{value}` is not a non-negative number"),
                )?);
        }
        if tolerance == (Tolerance { abs: None, rel: None }) {
            tolerance = Tolerance { abs: Some(Self::DEFAULT), rel: Some(Self::DEFAULT) };
        }
        Ok(tolerance)
    }

    fn accepts(self, expected: f64, actual: f64) -> bool {
        if expected.is_nan() || actual.is_nan() {
            return expected.is_nan() && actual.is_nan();
        }
        if expected.is_infinite() || actual.is_infinite() {
            return expected == actual;
        }
        let error = (actual - expected).abs();
        self.abs.is_some_and(|abs| error <= abs)
            || self.rel.is_some_and(|rel| error <= rel * expected.abs())
    }
}

impl Checker for Float {
    fn info() -> Info {
        Info::new(
            "float",
            "Tokens, numbers within an absolute or relative error",
            env!("CARGO_PKG_VERSION"),
        )
    }

    fn check(_input: &[u8], expected: &[u8], actual: &[u8], args: &[String]) -> Verdict {
        let tolerance = match Tolerance::from_args(args) {
            Ok(t) => t,
            Err(message) => return Verdict::Fail(message),
        };
        let (mut e, mut a) = (tokens(expected), tokens(actual));
        let mut index = 1usize;
        loop {
            match (e.next(), a.next()) {
                (None, None) => return Verdict::Accepted,
                (Some(x), None) => {
                    return Verdict::WrongAnswer(format!(
                        "output ends early: token {index} should be `{}`",
                        excerpt(x)
                    ));
                }
                (None, Some(y)) => {
                    return Verdict::WrongAnswer(format!(
                        "extra output: token {index} is `{}`",
                        excerpt(y)
                    ));
                }
                (Some(x), Some(y)) => {
                    if let Some(message) = compare(tolerance, x, y) {
                        return Verdict::WrongAnswer(format!("token {index}: {message}"));
                    }
                }
            }
            index += 1;
        }
    }
}

/// Why `actual` does not match `expected`, or `None` when it does.
fn compare(tolerance: Tolerance, expected: &[u8], actual: &[u8]) -> Option<String> {
    match (parse_float(expected), parse_float(actual)) {
        (Some(x), Some(y)) if tolerance.accepts(x, y) => None,
        (Some(x), Some(y)) => Some(format!("expected {x}, got {y} (error {:e})", (y - x).abs())),
        (Some(_), None) => Some(format!("expected a number, got `{}`", excerpt(actual))),
        _ if expected == actual => None,
        _ => Some(format!("expected `{}`, got `{}`", excerpt(expected), excerpt(actual))),
    }
}

gavel_sdk::export_checker!(Float);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expected: &str, actual: &str, args: &[&str]) -> Verdict {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Float::check(b"", expected.as_bytes(), actual.as_bytes(), &args)
    }

    #[test]
    fn numbers_within_the_error_pass() {
        assert_eq!(check("3.141593\n", "3.14159265", &[]), Verdict::Accepted);
        assert_eq!(check("1000000", "1000000.9", &[]), Verdict::Accepted); // relative
        assert_eq!(check("0", "-0.0000005", &[]), Verdict::Accepted); // absolute
        assert_eq!(check("1 x 2", "1.0000001  x\n2", &[]), Verdict::Accepted);
        assert_eq!(check("nan inf", "NaN inf", &[]), Verdict::Accepted);
    }

    #[test]
    fn numbers_outside_the_error_fail() {
        let Verdict::WrongAnswer(m) = check("3.141593", "3.15", &[]) else { panic!() };
        assert!(m.starts_with("token 1: expected 3.141593, got 3.15"), "{m}");
        assert!(matches!(check("1", "1.1", &["abs=0.01", "rel=0"]), Verdict::WrongAnswer(_)));
        assert_eq!(check("1", "1.1", &["abs=0.2"]), Verdict::Accepted);
        assert!(matches!(check("1", "one", &[]), Verdict::WrongAnswer(_)));
        assert!(matches!(check("yes", "no", &[]), Verdict::WrongAnswer(_)));
        assert!(matches!(check("nan", "1", &[]), Verdict::WrongAnswer(_)));
        assert!(matches!(check("inf", "-inf", &[]), Verdict::WrongAnswer(_)));
        assert!(matches!(check("1 2", "1", &[]), Verdict::WrongAnswer(_)));
    }

    #[test]
    fn an_absolute_bound_alone_is_only_absolute() {
        // Within the default relative error (5e-7), but not within abs=1e-6.
        assert!(matches!(
            check("1000000", "1000000.5", &["abs=1e-6"]),
            Verdict::WrongAnswer(m) if m.starts_with("token 1: expected 1000000, got 1000000.5")
        ));
        assert_eq!(check("1000000", "1000000.0000005", &["abs=1e-6"]), Verdict::Accepted);
        assert_eq!(check("0", "0.0000009", &["abs=1e-6"]), Verdict::Accepted);
    }

    #[test]
    fn a_relative_bound_alone_is_only_relative() {
        // Within the default absolute error (1e-6), but 0 allows no relative error.
        assert!(matches!(check("0", "0.0000005", &["rel=1e-6"]), Verdict::WrongAnswer(_)));
        assert!(matches!(check("1", "1.0000005", &["rel=1e-9"]), Verdict::WrongAnswer(_)));
        assert_eq!(check("1000000", "1000000.5", &["rel=1e-6"]), Verdict::Accepted);
        assert_eq!(check("0", "0", &["rel=1e-6"]), Verdict::Accepted);
    }

    #[test]
    fn both_bounds_given_pass_when_either_holds() {
        let both = ["abs=1e-3", "rel=1e-9"];
        assert_eq!(check("0", "0.0005", &both), Verdict::Accepted); // absolute holds
        assert_eq!(check("1e12", "1000000000000.5", &both), Verdict::Accepted); // absolute fails, relative holds
        assert!(matches!(check("1", "1.01", &both), Verdict::WrongAnswer(_))); // neither
    }

    #[test]
    fn no_bounds_means_both_one_in_a_million() {
        assert_eq!(check("1000000", "1000000.5", &[]), Verdict::Accepted); // relative
        assert_eq!(check("0", "0.000001", &[]), Verdict::Accepted); // absolute
        assert!(matches!(check("1", "1.000002", &[]), Verdict::WrongAnswer(_)));
        assert!(matches!(check("0", "0.0000011", &[]), Verdict::WrongAnswer(_)));
    }

    #[test]
    fn bad_arguments_are_the_checker_failing() {
        assert!(
            matches!(check("1", "1", &["eps=1"]), Verdict::Fail(m) if m.contains("unknown argument `eps`"))
        );
        assert!(matches!(check("1", "1", &["abs=-1"]), Verdict::Fail(_)));
        assert!(matches!(check("1", "1", &["rel=x"]), Verdict::Fail(_)));
    }
}
