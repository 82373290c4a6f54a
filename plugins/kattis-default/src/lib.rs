//! Builtin checker `kattis-default`: Kattis' default output validator, as
//! its problem package format documents it, for Kattis packages with
//! `validation: default`. Its arguments are the package's
//! `validator_flags`, split on whitespace.
//!
//! The output and the answer are compared token by token (tokens are
//! separated by whitespace):
//! - letters compare case-insensitively, unless `case_sensitive`;
//! - the amount and kind of whitespace do not matter, unless
//!   `space_change_sensitive`: then the whitespace before, between and
//!   after the tokens must be the same bytes;
//! - with `float_tolerance E` (both bounds `E`), `float_absolute_tolerance
//!   E` or `float_relative_tolerance E`, an answer token that is a number
//!   is compared as one: the output's token must be a number `x` with
//!   `|x - y| <= abs` or `|x - y| <= rel * |y|` (a bound not given does not
//!   hold), `y` being the answer's; `nan` matches only `nan` and an infinity
//!   only the same infinity. Without a tolerance, numbers compare as text.
//!
//! Every difference is a wrong answer (Kattis has no presentation error);
//! unknown flags are the checker failing.

use gavel_sdk::checker::{Checker, Info, Verdict};
use gavel_sdk::text::{excerpt, is_space, parse_float};

struct KattisDefault;

/// What the flags ask for.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Options {
    case_sensitive: bool,
    space_sensitive: bool,
    abs: Option<f64>,
    rel: Option<f64>,
}

impl Options {
    fn from_args(args: &[String]) -> Result<Self, String> {
        let mut options = Options::default();
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            match flag.as_str() {
                "case_sensitive" => options.case_sensitive = true,
                "space_change_sensitive" => options.space_sensitive = true,
                "float_tolerance" | "float_absolute_tolerance" | "float_relative_tolerance" => {
                    let value = args.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
                    let value = value
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| format!("`{flag}`: `{value}` is not a number ≥ 0"))?;
                    if flag != "float_relative_tolerance" {
                        options.abs = Some(value);
                    }
                    if flag != "float_absolute_tolerance" {
                        options.rel = Some(value);
                    }
                }
                other => {
                    return Err(format!(
                        "unknown flag `{other}`: expected case_sensitive, space_change_sensitive, \
                         float_tolerance E, float_absolute_tolerance E or float_relative_tolerance E"
                    ));
                }
            }
        }
        Ok(options)
    }

    /// Whether numbers compare with a tolerance.
    fn numeric(self) -> bool {
        self.abs.is_some() || self.rel.is_some()
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

/// The whitespace before a token and the token; the last piece holds the
/// trailing whitespace and no token.
fn pieces(text: &[u8]) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        let space = text.iter().take_while(|&&b| is_space(b)).count();
        let (before, text) = text.split_at(space);
        if text.is_empty() {
            rest = None;
            return Some((before, None));
        }
        let len = text.iter().take_while(|&&b| !is_space(b)).count();
        let (token, text) = text.split_at(len);
        rest = Some(text);
        Some((before, Some(token)))
    })
}

impl Checker for KattisDefault {
    fn info() -> Info {
        Info::new("kattis-default", "Kattis' default output validator", env!("CARGO_PKG_VERSION"))
    }

    fn check(_input: &[u8], expected: &[u8], actual: &[u8], args: &[String]) -> Verdict {
        match Options::from_args(args) {
            Ok(options) => match first_difference(options, expected, actual) {
                None => Verdict::Accepted,
                Some(message) => Verdict::WrongAnswer(message),
            },
            Err(message) => Verdict::Fail(message),
        }
    }
}

/// Why `actual` is not `expected`, or `None` when it matches.
fn first_difference(options: Options, expected: &[u8], actual: &[u8]) -> Option<String> {
    let (mut e, mut a) = (pieces(expected), pieces(actual));
    let mut index = 1usize;
    while let (Some((space_e, token_e)), Some((space_a, token_a))) = (e.next(), a.next()) {
        if options.space_sensitive && space_e != space_a {
            return Some(match token_e {
                Some(_) => format!("whitespace differs before token {index}"),
                None => "whitespace differs after the last token".into(),
            });
        }
        match (token_e, token_a) {
            (None, None) => return None,
            (Some(x), None) => {
                return Some(format!(
                    "output ends early: token {index} should be `{}`",
                    excerpt(x)
                ));
            }
            (None, Some(y)) => {
                return Some(format!("extra output: token {index} is `{}`", excerpt(y)));
            }
            (Some(x), Some(y)) => {
                if let Some(why) = compare(options, x, y) {
                    return Some(format!("token {index}: {why}"));
                }
            }
        }
        index += 1;
    }
    None
}

/// Why token `actual` does not match `expected`, or `None` when it does.
fn compare(options: Options, expected: &[u8], actual: &[u8]) -> Option<String> {
    if options.numeric()
        && let Some(x) = parse_float(expected)
    {
        return match parse_float(actual) {
            Some(y) if options.accepts(x, y) => None,
            Some(y) => Some(format!("expected {x}, got {y} (error {:e})", (y - x).abs())),
            None => Some(format!("expected a number, got `{}`", excerpt(actual))),
        };
    }
    let same = if options.case_sensitive {
        expected == actual
    } else {
        expected.eq_ignore_ascii_case(actual)
    };
    (!same).then(|| format!("expected `{}`, got `{}`", excerpt(expected), excerpt(actual)))
}

gavel_sdk::export_checker!(KattisDefault);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expected: &str, actual: &str, flags: &str) -> Verdict {
        let args: Vec<String> = flags.split_whitespace().map(str::to_string).collect();
        KattisDefault::check(b"", expected.as_bytes(), actual.as_bytes(), &args)
    }

    fn wrong(expected: &str, actual: &str, flags: &str) -> String {
        match check(expected, actual, flags) {
            Verdict::WrongAnswer(message) => message,
            other => panic!("{expected:?} vs {actual:?} with {flags:?}: {other:?}"),
        }
    }

    #[test]
    fn tokens_compare_ignoring_case_and_whitespace() {
        for actual in ["Yes 12\n", "yes\n12", "  YES\t12  \n\n", "yes 12"] {
            assert_eq!(check("yes 12\n", actual, ""), Verdict::Accepted, "{actual:?}");
        }
        assert_eq!(wrong("yes 12\n", "yes 13\n", ""), "token 2: expected `12`, got `13`");
        assert_eq!(wrong("a b", "a", ""), "output ends early: token 2 should be `b`");
        assert_eq!(wrong("a", "a b", ""), "extra output: token 2 is `b`");
        assert_eq!(check("", "\n", ""), Verdict::Accepted);
    }

    #[test]
    fn case_sensitive_compares_letters_exactly() {
        assert_eq!(wrong("Yes", "yes", "case_sensitive"), "token 1: expected `Yes`, got `yes`");
        assert_eq!(check("Yes", "Yes\n", "case_sensitive"), Verdict::Accepted);
    }

    #[test]
    fn space_change_sensitive_compares_whitespace_exactly() {
        let flags = "space_change_sensitive";
        assert_eq!(check("1 2\n", "1 2\n", flags), Verdict::Accepted);
        assert_eq!(wrong("1 2\n", "1  2\n", flags), "whitespace differs before token 2");
        assert_eq!(wrong("1 2\n", "1 2", flags), "whitespace differs after the last token");
        assert_eq!(wrong("1 2\n", " 1 2\n", flags), "whitespace differs before token 1");
        assert_eq!(check("A b\n", "a B\n", flags), Verdict::Accepted, "case still ignored");
    }

    #[test]
    fn numbers_compare_as_text_without_a_tolerance() {
        assert_eq!(wrong("1.0", "1", ""), "token 1: expected `1.0`, got `1`");
        assert_eq!(check("1E5", "1e5", ""), Verdict::Accepted);
    }

    #[test]
    fn float_tolerance_bounds_both_errors() {
        let flags = "float_tolerance 1e-6";
        assert_eq!(check("0.333333333", "0.3333333", flags), Verdict::Accepted);
        assert_eq!(check("1000000", "1000000.9", flags), Verdict::Accepted); // relative
        assert_eq!(check("0", "0.000001", flags), Verdict::Accepted); // absolute
        assert!(wrong("0.333333333", "0.33", flags).starts_with("token 1: expected 0.333333333"));
        assert_eq!(wrong("1.5", "one", flags), "token 1: expected a number, got `one`");
        assert_eq!(check("2 words", "2.0000001 WORDS", flags), Verdict::Accepted);
        assert_eq!(check("nan inf", "NaN inf", flags), Verdict::Accepted);
        assert!(matches!(check("inf", "-inf", flags), Verdict::WrongAnswer(_)));
    }

    #[test]
    fn one_sided_tolerances_are_one_sided() {
        let abs = "float_absolute_tolerance 1e-6";
        assert!(matches!(check("1000000", "1000000.5", abs), Verdict::WrongAnswer(_)));
        assert_eq!(check("0", "0.0000009", abs), Verdict::Accepted);
        let rel = "float_relative_tolerance 1e-6";
        assert_eq!(check("1000000", "1000000.5", rel), Verdict::Accepted);
        assert!(matches!(check("0", "0.0000005", rel), Verdict::WrongAnswer(_)));
        let both = "float_absolute_tolerance 1e-3 float_relative_tolerance 1e-9";
        assert_eq!(check("0", "0.0005", both), Verdict::Accepted);
        assert!(matches!(check("1", "1.01", both), Verdict::WrongAnswer(_)));
    }

    #[test]
    fn bad_flags_are_the_checker_failing() {
        let fail = |flags: &str| match check("1", "1", flags) {
            Verdict::Fail(message) => message,
            other => panic!("{flags}: {other:?}"),
        };
        assert!(fail("strict").starts_with("unknown flag `strict`"));
        assert_eq!(fail("float_tolerance"), "`float_tolerance` needs a value");
        assert_eq!(fail("float_tolerance -1"), "`float_tolerance`: `-1` is not a number ≥ 0");
    }
}
