//! Test fixture `fixture-checker`: a checker that misbehaves on request, so
//! tests can prove the host survives hostile checkers. Never shipped.
//!
//! The first argument picks the behaviour; without arguments it compares
//! bytes exactly:
//! `loop` (never returns), `trap` (executes `unreachable`), `panic`, `alloc`
//! (allocates without bound), `flood` (prints without bound), `fail`,
//! `pe`, `partial=SCORE`, `ok`.

use gavel_sdk::checker::{Checker, Info, Verdict};

struct FixtureChecker;

impl Checker for FixtureChecker {
    fn info() -> Info {
        Info::new("fixture-checker", "Misbehaving checker for tests", env!("CARGO_PKG_VERSION"))
    }

    fn check(_input: &[u8], expected: &[u8], actual: &[u8], args: &[String]) -> Verdict {
        let (behaviour, value) =
            args.first().map_or(("", ""), |a| a.split_once('=').unwrap_or((a, "")));
        match behaviour {
            "" if expected == actual => Verdict::Accepted,
            "" => Verdict::WrongAnswer("outputs differ".into()),
            "ok" => Verdict::Accepted,
            "pe" => Verdict::PresentationError("fixture says PE".into()),
            "fail" => Verdict::Fail("fixture fails on purpose".into()),
            "partial" => match value.parse() {
                Ok(score) => Verdict::Partial { score, message: format!("fixture gives {value}") },
                Err(_) => Verdict::Fail(format!("bad partial score `{value}`")),
            },
            "loop" => spin(),
            "trap" => trap(),
            "panic" => panic!("fixture checker panics on purpose"),
            "alloc" => hog(),
            "flood" => flood(),
            other => Verdict::Fail(format!("unknown fixture behaviour `{other}`")),
        }
    }
}

fn spin() -> ! {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

fn hog() -> ! {
    let mut chunks = Vec::new();
    loop {
        chunks.push(std::hint::black_box(vec![1u8; 1 << 20]));
    }
}

fn flood() -> ! {
    use std::io::Write;
    let line = [b'x'; 1024];
    loop {
        let _ = std::io::stdout().write_all(&line);
    }
}

gavel_sdk::export_checker!(FixtureChecker);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: &[&str]) -> Verdict {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        FixtureChecker::check(b"", b"1", b"2", &args)
    }

    #[test]
    fn the_harmless_behaviours_answer_as_named() {
        assert!(matches!(check(&[]), Verdict::WrongAnswer(_)));
        assert_eq!(check(&["ok"]), Verdict::Accepted);
        assert!(matches!(check(&["pe"]), Verdict::PresentationError(_)));
        assert!(matches!(check(&["fail"]), Verdict::Fail(_)));
        assert!(
            matches!(check(&["partial=0.25"]), Verdict::Partial { score, .. } if score == 0.25)
        );
        assert!(matches!(check(&["partial=x"]), Verdict::Fail(_)));
        assert!(matches!(check(&["dance"]), Verdict::Fail(_)));
    }
}
