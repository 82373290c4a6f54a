//! The contracts of checker programs, as pure rules: what a testlib checker
//! or a Kattis output validator is given, and how its exit status and
//! messages become a [`CheckVerdict`]. The host runs the program (a WASI
//! module, `plugin-host`) and hands the facts here.

use crate::exec::CheckVerdict;

/// Which contract a checker program follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    /// testlib: `checker <input> <output> <answer>`, verdict by exit code,
    /// message on stderr.
    Testlib,
    /// Kattis: `validator <input> <answer> <feedback_dir> [args] < output`,
    /// exit 42 accepts, 43 rejects, messages in `judgemessage.txt`.
    Kattis,
}

/// Where a checker program finds its files: one read-only folder holding
/// the three files, and (Kattis) a writable feedback folder.
pub const FILES_DIR: &str = "/judge";
pub const INPUT: &str = "/judge/input";
pub const OUTPUT: &str = "/judge/output";
pub const ANSWER: &str = "/judge/answer";
pub const FEEDBACK_DIR: &str = "/feedback";

/// What a runner that can compile checker programs (it has Docker and the
/// sandbox image) advertises among its checkers, and what a job whose
/// problem ships a checker as C/C++ source needs: only such runners claim
/// it. (A prebuilt `.wasm` program needs nothing: every runner runs it.)
pub const COMPILER_CAPABILITY: &str = "clang-wasm";

/// A language every runner that compiles checker programs also offers (the
/// same toolchain): the backend knows such a runner is there by it.
pub const COMPILING_RUNNERS_OFFER: &str = "cpp-wasm";

/// The checker a runner must offer to judge a problem whose checker is
/// `reference`: a builtin's id, [`COMPILER_CAPABILITY`] for program source,
/// nothing for what the package itself carries ready to run.
pub fn runner_needs(reference: &crate::problem::CheckerRef) -> Option<&str> {
    use crate::problem::CheckerRef;
    match reference {
        CheckerRef::Builtin(id) => Some(id),
        CheckerRef::Package(_) => None,
        CheckerRef::Testlib(path) | CheckerRef::KattisValidator(path) => {
            (!path.ends_with(".wasm")).then_some(COMPILER_CAPABILITY)
        }
    }
}

/// What a runner must offer to judge a problem with this checker and
/// interactor: [`runner_needs`] of the checker, except that an interactor
/// in C/C++ source needs a runner that compiles it ([`COMPILER_CAPABILITY`]:
/// interactors are compiled where they run, never shared).
pub fn problem_runner_needs<'a>(
    checker: &'a crate::problem::CheckerRef,
    interactor: Option<&crate::problem::Interactor>,
) -> Option<&'a str> {
    match interactor {
        Some(i) if !i.path.ends_with(".wasm") => Some(COMPILER_CAPABILITY),
        _ => runner_needs(checker),
    }
}

/// Whether judging `problem` needs a program compiled from C/C++ source (in
/// the sandbox image: Docker): its checker or its interactor.
pub fn problem_needs_compiling(problem: &crate::problem::Problem) -> bool {
    problem_runner_needs(&problem.checker.plugin, problem.interactor.as_ref())
        == Some(COMPILER_CAPABILITY)
}

/// Whether judging with this checker needs it compiled from C/C++ source
/// (in the sandbox image: Docker) — unless a compiled module is at hand.
pub fn needs_compiling(reference: &crate::problem::CheckerRef) -> bool {
    runner_needs(reference) == Some(COMPILER_CAPABILITY)
}

/// The most of a program's message a verdict keeps.
pub const MESSAGE_BYTES: usize = 1024;

/// The most a Kattis validator may write into its feedback folder, in bytes
/// over all its files: far more than `judgemessage.txt` and `score.txt`
/// need, and small enough that a validator writing without end fills no
/// runner's disk. More is a checker failure (a judge error).
pub const FEEDBACK_BYTES: u64 = 1 << 20;

/// The most files and folders a Kattis validator may create in its
/// feedback folder.
pub const FEEDBACK_ENTRIES: usize = 64;

impl Contract {
    /// The program's arguments (after its name).
    pub fn args(self, extra: &[String]) -> Vec<String> {
        let mut args: Vec<String> = match self {
            Contract::Testlib => [INPUT, OUTPUT, ANSWER],
            Contract::Kattis => [INPUT, ANSWER, "/feedback/"],
        }
        .map(str::to_string)
        .to_vec();
        if self == Contract::Kattis {
            args.extend(extra.iter().cloned());
        }
        args
    }

    /// Whether the contestant's output is the program's stdin (Kattis)
    /// rather than a file (testlib).
    pub fn output_on_stdin(self) -> bool {
        self == Contract::Kattis
    }
}

/// What a finished checker program left: its exit status and its messages
/// (stderr; for Kattis also `judgemessage.txt` and `score.txt`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgramFacts {
    pub exit_code: i32,
    pub stderr: Vec<u8>,
    pub judge_message: Option<Vec<u8>>,
    pub score: Option<Vec<u8>>,
}

/// The verdict a testlib checker's exit status means: 0 accepted, 1 wrong
/// answer, 2 presentation error, 3 the checker failed (→ JE), 4 "dirt"
/// (wrong answer), 7 points (`points P` leads stderr; `P` is the case's
/// fraction, clamped to 0..=1), 16 + k partial (`k` percent).
pub fn testlib_verdict(facts: &ProgramFacts) -> CheckVerdict {
    testlib_verdict_of("checker", facts)
}

/// [`testlib_verdict`] for any program with testlib's exit codes (an
/// interactor too); `who` names it in failure messages.
pub fn testlib_verdict_of(who: &str, facts: &ProgramFacts) -> CheckVerdict {
    let message = text(&facts.stderr);
    match facts.exit_code {
        0 => CheckVerdict::Accepted,
        1 | 4 => CheckVerdict::WrongAnswer { message },
        2 => CheckVerdict::PresentationError { message },
        3 => CheckVerdict::Fail { message: format!("the {who} failed: {message}") },
        7 => match points(&message) {
            Some((score, rest)) => partial(score, rest.to_string()),
            None => CheckVerdict::Fail {
                message: format!("the {who} exited 7 (points) without `points P` first: {message}"),
            },
        },
        code @ 16..=116 => partial(f64::from(code - 16) / 100.0, message),
        code => CheckVerdict::Fail {
            message: format!(
                "the {who} exited with status {code}, which testlib does not define: {message}"
            ),
        },
    }
}

/// The verdict a Kattis output validator's exit status means: 42 accepted
/// (a `score.txt` makes it that fraction of the case, clamped to 0..=1),
/// 43 wrong answer (with `judgemessage.txt`), anything else a failure.
pub fn kattis_verdict(facts: &ProgramFacts) -> CheckVerdict {
    let message = facts.judge_message.as_deref().map(text).unwrap_or_default();
    match facts.exit_code {
        42 => match facts.score.as_deref().map(text) {
            None => CheckVerdict::Accepted,
            Some(score) => match score.trim().parse::<f64>() {
                Ok(value) if value.is_finite() => partial(value, message),
                _ => CheckVerdict::Fail {
                    message: format!("the validator's score.txt is not a number: {score:?}"),
                },
            },
        },
        43 => CheckVerdict::WrongAnswer { message },
        code => CheckVerdict::Fail {
            message: format!(
                "the validator exited with status {code} (42 accepts, 43 rejects): {}",
                if message.is_empty() { text(&facts.stderr) } else { message }
            ),
        },
    }
}

/// `points P rest` → `(P, rest)`.
fn points(message: &str) -> Option<(f64, &str)> {
    let rest = message.strip_prefix("points ")?;
    let (value, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let value: f64 = value.parse().ok().filter(|v: &f64| v.is_finite())?;
    Some((value, rest.trim_start()))
}

/// A case's fraction: full is accepted, anything less partial.
fn partial(score: f64, message: String) -> CheckVerdict {
    let score = score.clamp(0.0, 1.0);
    if score >= 1.0 { CheckVerdict::Accepted } else { CheckVerdict::Partial { score, message } }
}

/// A message as text: lossy UTF-8, trimmed, at most [`MESSAGE_BYTES`].
fn text(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(MESSAGE_BYTES)];
    String::from_utf8_lossy(cut).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testlib(code: i32, stderr: &str) -> CheckVerdict {
        testlib_verdict(&ProgramFacts {
            exit_code: code,
            stderr: stderr.into(),
            ..Default::default()
        })
    }

    fn kattis(code: i32, message: Option<&str>, score: Option<&str>) -> CheckVerdict {
        kattis_verdict(&ProgramFacts {
            exit_code: code,
            stderr: b"stderr".to_vec(),
            judge_message: message.map(|m| m.into()),
            score: score.map(|s| s.into()),
        })
    }

    #[test]
    fn testlib_exit_codes_are_its_verdicts() {
        assert_eq!(testlib(0, "ok 3 numbers"), CheckVerdict::Accepted);
        let wa = "wrong answer 2nd numbers differ - expected: '3', found: '4'";
        assert_eq!(testlib(1, wa), CheckVerdict::WrongAnswer { message: wa.into() });
        assert!(matches!(
            testlib(2, "wrong output format"),
            CheckVerdict::PresentationError { .. }
        ));
        let CheckVerdict::Fail { message } = testlib(3, "answer is broken") else { panic!() };
        assert!(message.contains("the checker failed: answer is broken"), "{message}");
        assert!(matches!(testlib(4, "dirt"), CheckVerdict::WrongAnswer { .. }));
        assert_eq!(
            testlib(7, "points 0.25 one of four"),
            CheckVerdict::Partial { score: 0.25, message: "one of four".into() }
        );
        assert_eq!(testlib(7, "points 1"), CheckVerdict::Accepted);
        assert!(matches!(testlib(7, "no points here"), CheckVerdict::Fail { .. }));
        assert_eq!(
            testlib(16 + 40, "partly"),
            CheckVerdict::Partial { score: 0.4, message: "partly".into() }
        );
        let CheckVerdict::Fail { message } = testlib(9, "?") else { panic!() };
        assert!(message.contains("status 9"), "{message}");
    }

    #[test]
    fn kattis_exit_codes_and_feedback_files_are_its_verdicts() {
        assert_eq!(kattis(42, None, None), CheckVerdict::Accepted);
        assert_eq!(
            kattis(43, Some("expected 3, got 4\n"), None),
            CheckVerdict::WrongAnswer { message: "expected 3, got 4".into() }
        );
        assert_eq!(
            kattis(42, Some("half"), Some("0.5\n")),
            CheckVerdict::Partial { score: 0.5, message: "half".into() }
        );
        assert!(matches!(kattis(42, None, Some("lots")), CheckVerdict::Fail { .. }));
        let CheckVerdict::Fail { message } = kattis(1, None, None) else { panic!() };
        assert!(message.contains("status 1 (42 accepts, 43 rejects): stderr"), "{message}");
    }

    #[test]
    fn arguments_follow_each_contract() {
        assert_eq!(Contract::Testlib.args(&["x".into()]), [INPUT, OUTPUT, ANSWER]);
        assert_eq!(
            Contract::Kattis.args(&["case_sensitive".into()]),
            [INPUT, ANSWER, "/feedback/", "case_sensitive"]
        );
        assert!(Contract::Kattis.output_on_stdin() && !Contract::Testlib.output_on_stdin());
    }

    #[test]
    fn a_problem_with_checker_source_needs_a_runner_that_compiles() {
        use crate::problem::CheckerRef;
        assert_eq!(runner_needs(&CheckerRef::Builtin("tokens".into())), Some("tokens"));
        assert_eq!(runner_needs(&CheckerRef::Package("c.wasm".into())), None);
        for source in ["files/check.cpp", "v/validate.c"] {
            assert_eq!(
                runner_needs(&CheckerRef::Testlib(source.into())),
                Some(COMPILER_CAPABILITY)
            );
            let kattis = CheckerRef::KattisValidator(source.into());
            assert_eq!(runner_needs(&kattis), Some(COMPILER_CAPABILITY));
        }
        assert_eq!(runner_needs(&CheckerRef::Testlib("check.wasm".into())), None);
        let interactor = |path: &str| crate::problem::Interactor {
            path: path.into(),
            time_ms: None,
            memory_mb: None,
            then_checker: false,
        };
        let tokens = CheckerRef::Builtin("tokens".into());
        assert_eq!(
            problem_runner_needs(&tokens, Some(&interactor("i.cpp"))),
            Some(COMPILER_CAPABILITY)
        );
        assert_eq!(problem_runner_needs(&tokens, Some(&interactor("i.wasm"))), Some("tokens"));
        assert_eq!(problem_runner_needs(&tokens, None), Some("tokens"));
    }

    #[test]
    fn long_messages_are_cut() {
        let CheckVerdict::WrongAnswer { message } = testlib(1, &"x".repeat(5000)) else { panic!() };
        assert_eq!(message.len(), MESSAGE_BYTES);
    }
}
