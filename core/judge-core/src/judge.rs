//! The judging loop: compile once, run every case under its task's limits
//! (an interactive problem's next to its interactor), let the checker
//! decide, score (task dependencies included). Executors, checkers and
//! interactors come in through the traits of [`crate::exec`] and
//! [`crate::interactive`], so this runs the same for Wasm plugins, Docker
//! containers and test fakes.

use crate::exec::{Checker, Compiled, Executor, Program, RunEnd, RunLimits, RunOutcome};
use crate::interactive::{self, Interactor, Ruling};
use crate::problem::{PackageFiles, Problem};
use crate::report::{CaseReport, JudgeReport, TaskReport, apply_dependencies};
use crate::verdict::Status;

/// What the loop reports while it works.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Compilation succeeded (the message may hold warnings).
    Compiled { message: String },
    /// One case is done (`task` is zero-based).
    Case { task: usize, case: CaseReport },
}

/// How much of a program's stderr goes into an RE message.
const STDERR_EXCERPT: usize = 200;

/// What decides a case: the checker, and for an interactive problem its
/// interactor (running it is the interactor's seam).
#[derive(Clone, Copy)]
pub struct Judges<'a> {
    pub checker: &'a dyn Checker,
    pub interactor: Option<&'a dyn Interactor>,
}

impl<'a> Judges<'a> {
    /// Only a checker (a problem that is not interactive).
    pub fn checker(checker: &'a dyn Checker) -> Self {
        Judges { checker, interactor: None }
    }
}

/// Judges `source` on every case of `problem`.
pub fn judge(
    problem: &Problem,
    files: &dyn PackageFiles,
    source: &[u8],
    executor: &dyn Executor,
    judges: Judges<'_>,
    on_progress: &mut dyn FnMut(&Progress),
) -> JudgeReport {
    let program = match executor.compile(source) {
        Ok(Compiled::Program(program)) => program,
        Ok(Compiled::Error(message)) => {
            return JudgeReport::all(problem, Status::CompileError, message, "compile error");
        }
        Err(reason) => {
            let message = format!("the compiler could not run: {reason}");
            return JudgeReport::all(problem, Status::JudgementError, String::new(), &message);
        }
    };
    on_progress(&Progress::Compiled { message: String::new() });
    let mut transcript_room = interactive::REPORT_TRANSCRIPT_BYTES;
    let mut tasks = problem
        .tasks
        .iter()
        .enumerate()
        .map(|(t, task)| {
            let cases = task
                .cases
                .iter()
                .map(|name| {
                    let mut case = judge_case(
                        problem,
                        files,
                        name,
                        program.as_ref(),
                        &task.limits.run_limits(),
                        judges,
                    );
                    case.transcript = case.transcript.map(|t| t.within(&mut transcript_room));
                    on_progress(&Progress::Case { task: t, case: case.clone() });
                    case
                })
                .collect();
            TaskReport::score(task.score, cases)
        })
        .collect::<Vec<_>>();
    let depends_on: Vec<Vec<usize>> = problem.tasks.iter().map(|t| t.depends_on.clone()).collect();
    apply_dependencies(&mut tasks, &depends_on);
    JudgeReport::from_tasks(String::new(), tasks)
}

fn judge_case(
    problem: &Problem,
    files: &dyn PackageFiles,
    name: &str,
    program: &dyn Program,
    limits: &RunLimits,
    judges: Judges<'_>,
) -> CaseReport {
    let (input_path, expected_path) = problem.case_files(name);
    let read = |path: &str| files.read(path).map_err(|e| format!("cannot read {path}: {e}"));
    let (input, expected) = match (read(&input_path), read(&expected_path)) {
        (Ok(i), Ok(e)) => (i, e),
        (Err(reason), _) | (_, Err(reason)) => {
            return CaseReport::failed(name, Status::JudgementError, reason);
        }
    };
    let check =
        |output: &[u8]| judges.checker.check(&input, &expected, output, &problem.checker.args);
    if let Some(spec) = &problem.interactor {
        let Some(interactor) = judges.interactor else {
            let reason = "the problem is interactive, and no interactor was given to judge it";
            return CaseReport::failed(name, Status::JudgementError, reason);
        };
        let interaction = interactor.interact(program, &input, &expected, limits);
        let base = CaseReport {
            transcript: Some(interaction.transcript.clone()),
            ..measured(name, &interaction.contestant)
        };
        return match interactive::decide(&interaction) {
            Ruling::Contestant(end) => ended(base, &end, &interaction.contestant),
            Ruling::Interactor(verdict) => base.with_verdict(verdict),
            Ruling::Accepted if spec.then_checker => base.with_verdict(check(&interaction.tout)),
            Ruling::Accepted => base.with_verdict(crate::exec::CheckVerdict::Accepted),
            Ruling::Idle(reason) => CaseReport {
                status: Status::TimeLimitExceeded,
                message: format!("idle: {reason}"),
                ..base
            },
        };
    }
    let outcome = program.run(&input, limits);
    let base = measured(name, &outcome);
    match &outcome.end {
        RunEnd::Exited { code: 0 } => base.with_verdict(check(&outcome.stdout)),
        end => ended(base, end, &outcome),
    }
}

/// A case's report with the run's measures, before any verdict.
fn measured(name: &str, outcome: &RunOutcome) -> CaseReport {
    CaseReport {
        name: name.to_string(),
        status: Status::Judging,
        score: 0.0,
        time_ms: outcome.time_ms,
        memory_kb: outcome.memory_kb,
        fuel: outcome.fuel,
        wall_ms: outcome.wall_ms,
        message: String::new(),
        transcript: None,
    }
}

/// The verdict of a run that did not end normally (or, `Exited { code: 0
/// }`, AC: only an interactive run gets here with it).
fn ended(base: CaseReport, end: &RunEnd, outcome: &RunOutcome) -> CaseReport {
    let (status, message) = match end {
        RunEnd::Exited { code: 0 } => (Status::Accepted, String::new()),
        RunEnd::Exited { code } => {
            (Status::RuntimeError, with_stderr(format!("exit code {code}"), outcome))
        }
        RunEnd::TimeLimit { reason } => (Status::TimeLimitExceeded, reason.clone()),
        RunEnd::MemoryLimit { reason } => (Status::MemoryLimitExceeded, reason.clone()),
        RunEnd::OutputLimit { reason } => (Status::OutputLimitExceeded, reason.clone()),
        RunEnd::Crashed { reason } => (Status::RuntimeError, with_stderr(reason.clone(), outcome)),
        RunEnd::SystemError { reason } => (Status::JudgementError, reason.clone()),
    };
    let score = if status == Status::Accepted { 1.0 } else { 0.0 };
    CaseReport { status, message, score, ..base }
}

/// `reason: first line(s) of stderr`, when the program said something; for
/// a Python traceback, the exception it ends with (see [`stderr_excerpt`]).
fn with_stderr(reason: String, outcome: &RunOutcome) -> String {
    let stderr = stderr_excerpt(&outcome.stderr);
    if stderr.is_empty() { reason } else { format!("{reason}: {stderr}") }
}

/// What of a program's stderr explains its failure: the start of it, except
/// after a Python traceback (`Traceback (most recent call last):`, both
/// Pythons print one for an uncaught exception), whose first line says
/// nothing: then the line naming the exception, the last unindented one
/// (`ZeroDivisionError: division by zero`).
fn stderr_excerpt(stderr: &[u8]) -> String {
    const TRACEBACK: &[u8] = b"Traceback (most recent call last):";
    let start = stderr.windows(TRACEBACK.len()).rposition(|w| w == TRACEBACK);
    let exception = start.and_then(|start| {
        stderr[start..]
            .split(|&b| b == b'\n')
            .skip(1)
            .filter(|line| line.first().is_some_and(|b| !b.is_ascii_whitespace()))
            .last()
    });
    let excerpt = exception.unwrap_or(stderr);
    String::from_utf8_lossy(&excerpt[..excerpt.len().min(STDERR_EXCERPT)]).trim().to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;
    use crate::exec::{CheckVerdict, RunLimits};
    use crate::problem::{CheckerRef, CheckerSpec, Limits, MemPackage, PackageFormat, Task};

    /// What the fake compiler does.
    #[derive(Clone)]
    enum FakeCompile {
        Program,
        Error(&'static str),
        Broken(&'static str),
    }

    /// Runs a "program" that is a table from input to outcome end + stdout.
    struct FakeExecutor {
        compile: FakeCompile,
        runs: BTreeMap<&'static str, (RunEnd, &'static str)>,
        seen_limits: Mutex<Vec<RunLimits>>,
    }

    impl Executor for FakeExecutor {
        fn language(&self) -> &str {
            "fake"
        }
        fn compile(&self, _source: &[u8]) -> Result<Compiled<'_>, String> {
            match self.compile {
                FakeCompile::Program => Ok(Compiled::Program(Box::new(self))),
                FakeCompile::Error(message) => Ok(Compiled::Error(message.into())),
                FakeCompile::Broken(reason) => Err(reason.into()),
            }
        }
    }

    impl Program for &FakeExecutor {
        fn run(&self, stdin: &[u8], limits: &RunLimits) -> RunOutcome {
            self.seen_limits.lock().unwrap().push(*limits);
            let (end, stdout) = self.runs[std::str::from_utf8(stdin).unwrap()].clone();
            RunOutcome {
                end,
                stdout: stdout.into(),
                stderr: b"oops".to_vec(),
                time_ms: 5,
                memory_kb: 10,
                fuel: Some(7),
                wall_ms: Some(9),
            }
        }
    }

    /// Accepts when actual == expected; `partial` output scores one half.
    struct FakeChecker;

    impl Checker for FakeChecker {
        fn check(
            &self,
            _i: &[u8],
            expected: &[u8],
            actual: &[u8],
            _args: &[String],
        ) -> CheckVerdict {
            match actual {
                a if a == expected => CheckVerdict::Accepted,
                b"partial" => CheckVerdict::Partial { score: 0.5, message: "half".into() },
                b"broken" => CheckVerdict::Fail { message: "checker broke".into() },
                _ => CheckVerdict::WrongAnswer { message: "differs".into() },
            }
        }
    }

    #[test]
    fn a_python_traceback_is_summed_up_by_its_exception() {
        let traceback = b"debug\nTraceback (most recent call last):\n  File \"main.py\", line 1, \
            in <module>\n    1 / 0\n    ~~^~~\nZeroDivisionError: division by zero\n";
        assert_eq!(stderr_excerpt(traceback), "ZeroDivisionError: division by zero");
        assert_eq!(stderr_excerpt(b"  oops\nmore\n"), "oops\nmore");
        assert_eq!(stderr_excerpt(&[b'x'; 500]).len(), STDERR_EXCERPT);
        // A traceback cut short names no exception: the start is kept.
        let cut = b"Traceback (most recent call last):\n  File \"main.py\"";
        assert_eq!(stderr_excerpt(cut), String::from_utf8_lossy(cut));
    }

    fn problem() -> (Problem, MemPackage) {
        let mut files = BTreeMap::new();
        for (case, input) in
            [("a", "ok"), ("b", "ok2"), ("c", "tle"), ("d", "half"), ("e", "crash")]
        {
            files.insert(format!("tests/{case}.in"), input.as_bytes().to_vec());
            files.insert(format!("tests/{case}.out"), b"right".to_vec());
        }
        let limits = Limits::default();
        let task = |score: f64, cases: &[&str], time_ms: u64| Task {
            score,
            limits: Limits { time_ms, ..limits },
            cases: cases.iter().map(|c| c.to_string()).collect(),
            depends_on: vec![],
        };
        let problem = Problem {
            id: "p".into(),
            title: "p".into(),
            format: PackageFormat::Native,
            checker: CheckerSpec { plugin: CheckerRef::Builtin("fake".into()), args: vec![] },
            interactor: None,
            tasks: vec![
                task(20.0, &["a", "b"], 1000),
                task(30.0, &["a", "d"], 2000),
                task(50.0, &["a", "c", "e"], 3000),
            ],
            case_paths: None,
            origins: Default::default(),
        };
        (problem, MemPackage(files))
    }

    fn executor(compile: FakeCompile) -> FakeExecutor {
        let runs = BTreeMap::from([
            ("ok", (RunEnd::Exited { code: 0 }, "right")),
            ("ok2", (RunEnd::Exited { code: 0 }, "right")),
            ("half", (RunEnd::Exited { code: 0 }, "partial")),
            ("tle", (RunEnd::TimeLimit { reason: "fuel".into() }, "")),
            ("crash", (RunEnd::Exited { code: 3 }, "right")),
        ]);
        FakeExecutor { compile, runs, seen_limits: Mutex::default() }
    }

    #[test]
    fn every_case_is_run_checked_and_scored() {
        let (problem, files) = problem();
        let exec = executor(FakeCompile::Program);
        let mut progress = Vec::new();
        let r = judge(&problem, &files, b"src", &exec, Judges::checker(&FakeChecker), &mut |p| {
            progress.push(p.clone())
        });
        let statuses: Vec<Vec<&str>> =
            r.tasks.iter().map(|t| t.cases.iter().map(|c| c.status.code()).collect()).collect();
        assert_eq!(statuses, [vec!["AC", "AC"], vec!["AC", "WA"], vec!["AC", "TLE", "RE"]]);
        assert_eq!(r.tasks.iter().map(|t| t.score).collect::<Vec<_>>(), [20.0, 15.0, 0.0]);
        assert_eq!((r.status, r.score), (Status::RuntimeError, 35.0));
        assert_eq!(r.tasks[2].cases[2].message, "exit code 3: oops");
        assert_eq!(r.tasks[2].cases[1].message, "fuel");
        assert_eq!(r.tasks[1].cases[1].message, "half");
        assert_eq!(progress.len(), 1 + 7);
        let times: Vec<u64> = exec.seen_limits.lock().unwrap().iter().map(|l| l.time_ms).collect();
        assert_eq!(times, [1000, 1000, 2000, 2000, 3000, 3000, 3000]);
    }

    #[test]
    fn a_task_whose_dependency_fails_earns_nothing() {
        let (mut problem, files) = problem();
        problem.tasks.push(Task { depends_on: vec![0], ..problem.tasks[0].clone() });
        problem.tasks.push(Task { depends_on: vec![1], ..problem.tasks[0].clone() });
        let exec = executor(FakeCompile::Program);
        let r = judge(&problem, &files, b"src", &exec, Judges::checker(&FakeChecker), &mut |_| {});
        let scores: Vec<f64> = r.tasks.iter().map(|t| t.score).collect();
        assert_eq!(scores, [20.0, 15.0, 0.0, 20.0, 0.0]);
        assert_eq!(r.tasks[4].message, "no points: it depends on task 2, not fully accepted");
        assert_eq!((r.score, r.max_score), (55.0, 140.0));
    }

    #[test]
    fn a_compile_error_makes_every_case_ce() {
        let (problem, files) = problem();
        let exec = executor(FakeCompile::Error("line 1: syntax"));
        let r = judge(&problem, &files, b"src", &exec, Judges::checker(&FakeChecker), &mut |_| {});
        assert_eq!(
            (r.status, r.score, r.compile_message.as_str()),
            (Status::CompileError, 0.0, "line 1: syntax")
        );
        assert!(r.tasks.iter().flat_map(|t| &t.cases).all(|c| c.status == Status::CompileError));
        assert!(exec.seen_limits.lock().unwrap().is_empty());
    }

    #[test]
    fn a_compiler_that_cannot_run_is_a_judgement_error() {
        let (problem, files) = problem();
        let r = judge(
            &problem,
            &files,
            b"src",
            &executor(FakeCompile::Broken("no engine")),
            Judges::checker(&FakeChecker),
            &mut |_| {},
        );
        assert_eq!(r.status, Status::JudgementError);
        assert!(r.tasks[0].cases[0].message.contains("no engine"));
    }

    #[test]
    fn unreadable_testdata_is_a_judgement_error_for_that_case() {
        let (problem, mut files) = problem();
        files.0.remove("tests/b.out");
        let r = judge(
            &problem,
            &files,
            b"src",
            &executor(FakeCompile::Program),
            Judges::checker(&FakeChecker),
            &mut |_| {},
        );
        assert_eq!(r.tasks[0].cases[1].status, Status::JudgementError);
        assert!(r.tasks[0].cases[1].message.contains("tests/b.out"));
    }
    /// Plays back an interaction per case input: (who ends first, the
    /// interactor's exit code, the contestant's end, idleness, tout).
    struct FakeInteractor;

    impl Interactor for FakeInteractor {
        fn interact(
            &self,
            _program: &dyn Program,
            input: &[u8],
            _answer: &[u8],
            _limits: &RunLimits,
        ) -> interactive::Interaction {
            use interactive::{InteractorEnd, Side};
            let (first, code, end, idle, tout): (_, _, _, Option<&str>, &str) = match input {
                b"ok" => (Side::Contestant, 0, RunEnd::Exited { code: 0 }, None, "right"),
                b"ok2" => (Side::Interactor, 0, RunEnd::Exited { code: 0 }, None, "wrong"),
                b"tle" => (Side::Interactor, 1, RunEnd::Exited { code: 0 }, Some("deadlock"), ""),
                b"half" => {
                    (Side::Interactor, 1, RunEnd::Crashed { reason: "EOF".into() }, None, "")
                }
                _ => (Side::Interactor, 0, RunEnd::Exited { code: 1 }, None, ""),
            };
            let mut transcript = interactive::Transcript::default();
            transcript.record(Side::Interactor, b"10\n");
            interactive::Interaction {
                contestant: RunOutcome {
                    end,
                    stdout: Vec::new(),
                    stderr: b"EOFError".to_vec(),
                    time_ms: 4,
                    memory_kb: 8,
                    fuel: None,
                    wall_ms: None,
                },
                interactor: Some(InteractorEnd::Exited {
                    code,
                    stderr: b"guess 2 is wrong".to_vec(),
                }),
                first,
                idle: idle.map(str::to_string),
                tout: tout.as_bytes().to_vec(),
                transcript,
            }
        }
    }

    #[test]
    fn interactive_cases_follow_the_interactors_ruling_then_the_checker_on_tout() {
        let (mut problem, files) = problem();
        problem.interactor = Some(crate::problem::Interactor {
            path: "i.cpp".into(),
            time_ms: None,
            memory_mb: None,
            then_checker: true,
        });
        let exec = executor(FakeCompile::Program);
        let judges = Judges { checker: &FakeChecker, interactor: Some(&FakeInteractor) };
        let r = judge(&problem, &files, b"src", &exec, judges, &mut |_| {});
        let cases: Vec<(&str, &str)> = r.tasks[2]
            .cases
            .iter()
            .chain(&r.tasks[0].cases)
            .chain(&r.tasks[1].cases[1..])
            .map(|c| (c.status.code(), c.message.as_str()))
            .collect();
        assert_eq!(
            cases,
            [
                ("AC", ""),
                ("TLE", "idle: deadlock"),
                ("RE", "exit code 1: EOFError"),
                ("AC", ""),
                ("WA", "differs"),
                ("WA", "guess 2 is wrong"),
            ]
        );
        let case = &r.tasks[0].cases[0];
        assert_eq!((case.time_ms, case.memory_kb), (4, 8), "the contestant's own measures");
        assert_eq!(case.transcript.as_ref().unwrap().entries[0].text, "10\n");
        assert!(exec.seen_limits.lock().unwrap().is_empty(), "never run without the interactor");

        let r = judge(&problem, &files, b"src", &exec, Judges::checker(&FakeChecker), &mut |_| {});
        assert_eq!(r.status, Status::JudgementError, "an interactive problem needs its interactor");
        problem.interactor.as_mut().unwrap().then_checker = false;
        let r = judge(&problem, &files, b"src", &exec, judges, &mut |_| {});
        assert_eq!(r.tasks[0].cases[1].status, Status::Accepted, "no checker: the interactor's AC");
    }
}
