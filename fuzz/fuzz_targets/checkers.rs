//! The builtin checkers (`plugins/*/src/lib.rs`, included by path and built
//! for the host against the real SDK, see `sdk-shim/`) on arbitrary expected
//! and actual outputs and arguments: a verdict, never a panic; a score in
//! `[0, 1]`; and the expected output always accepted as the actual one
//! (unless the checker fails on its arguments). `float` and
//! `kattis-default` also get arbitrary arguments.
#![no_main]

use gavel_sdk::checker::{Info, Verdict};

#[path = "../../plugins/exact/src/lib.rs"]
mod exact;
#[path = "../../plugins/float/src/lib.rs"]
mod float;
#[path = "../../plugins/kattis-default/src/lib.rs"]
mod kattis_default;
#[path = "../../plugins/lines/src/lib.rs"]
mod lines;
#[path = "../../plugins/tokens/src/lib.rs"]
mod tokens;
#[path = "../../plugins/unordered/src/lib.rs"]
mod unordered;

type CheckFn = fn(&[u8], &[u8], &[u8], &[String]) -> Verdict;

const CHECKERS: [(fn() -> Info, CheckFn); 6] = [
    (exact::info, exact::check),
    (lines::info, lines::check),
    (tokens::info, tokens::check),
    (unordered::info, unordered::check),
    (float::info, float::check),
    (kattis_default::info, kattis_default::check),
];

fn judge(info: fn() -> Info, check: CheckFn, expected: &[u8], actual: &[u8], args: &[String]) {
    let verdict = check(b"", expected, actual, args);
    if let Verdict::Partial { score, .. } = verdict {
        assert!((0.0..=1.0).contains(&score), "{}: score {score}", info().id);
    }
    let same = check(b"", expected, expected, args);
    assert!(
        matches!(same, Verdict::Accepted | Verdict::Fail(_)),
        "{} refuses the expected output: {same:?}",
        info().id
    );
}

libfuzzer_sys::fuzz_target!(|input: (&[u8], &[u8], Vec<String>)| {
    let (expected, actual, args) = input;
    for (info, check) in CHECKERS {
        judge(info, check, expected, actual, &[]);
    }
    judge(float::info, float::check, expected, actual, &args);
    judge(kattis_default::info, kattis_default::check, expected, actual, &args);
});
