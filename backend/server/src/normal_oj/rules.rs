//! The dialect's rules, pure: which jobs Normal-OJ's runners can run (and
//! what they are told of them), how their results become Gavel's report,
//! and their checksum's JSON.

use judge_core::problem::{CheckerRef, Task as GavelTask};
use judge_core::report::{CaseReport, JudgeReport, TaskReport};
use judge_core::verdict::Status;
use protocol::client::ProblemView;
use protocol::normal_oj::{CaseResult, Meta, Task, language_code};
use serde::{Deserialize, Serialize};

/// The checker Normal-OJ's runners apply themselves (their comparison).
pub(super) const THEIR_CHECKER: &str = "lines";
/// Their zip names cases `TTCC`: at most 100 tasks of 100 cases.
const MAX_TWO_DIGITS: usize = 100;
/// Longest compile message kept from a CE case's stderr.
const MAX_COMPILE_MESSAGE: usize = 4096;
/// Longest case message kept from a failed case's stderr.
const MAX_CASE_MESSAGE: usize = 256;

/// What the queue keeps with a job their runners may claim: the payload's
/// fields, and the Gavel names of the cases (for the report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub problem_id: u64,
    pub language: u8,
    pub tasks: Vec<Task>,
    pub cases: Vec<Vec<String>>,
}

impl Payload {
    /// The payload a job carries (its stored JSON), if it is a valid one.
    pub fn of_job(stored: Option<&str>) -> Option<Payload> {
        serde_json::from_str(stored?).ok()
    }
}

/// The problem id as their runner reads it: a plain decimal number without
/// leading zeros (so `int()` of it leads back to the same problem).
pub fn numeric_id(id: &str) -> Option<u64> {
    let canonical = (1..=18).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_digit())
        && (id == "0" || !id.starts_with('0'));
    canonical.then(|| id.parse().ok()).flatten()
}

/// Their meta data of a problem, if their runners can judge it: a numeric
/// id, the `lines` checker without arguments (theirs), no interactor (their
/// runners have none), whole task scores summing to 100, at most 100 tasks
/// of at most 100 cases.
pub fn meta(problem: &ProblemView) -> Option<Meta> {
    numeric_id(&problem.id)?;
    if problem.interactor.is_some() {
        return None;
    }
    let checker_is_theirs = problem.checker.args.is_empty()
        && matches!(&problem.checker.plugin, CheckerRef::Builtin(id) if id == THEIR_CHECKER);
    if !checker_is_theirs || problem.tasks.is_empty() || problem.tasks.len() > MAX_TWO_DIGITS {
        return None;
    }
    let tasks = problem.tasks.iter().map(task).collect::<Option<Vec<_>>>()?;
    (tasks.iter().map(|t| t.task_score).sum::<u32>() == 100).then_some(Meta { tasks })
}

fn task(task: &GavelTask) -> Option<Task> {
    let whole = task.score.fract() == 0.0 && (0.0..=100.0).contains(&task.score);
    if !whole || task.cases.is_empty() || task.cases.len() > MAX_TWO_DIGITS {
        return None;
    }
    Some(Task {
        task_score: task.score as u32,
        memory_limit: task.limits.memory_mb * 1024,
        time_limit: task.limits.time_ms,
        case_count: task.cases.len() as u32,
    })
}

/// The payload of a submission their runners can judge, or `None`.
pub fn payload(problem: &ProblemView, language: &str) -> Option<Payload> {
    let language = language_code(language)?;
    let Meta { tasks } = meta(problem)?;
    Some(Payload {
        problem_id: numeric_id(&problem.id)?,
        language,
        tasks,
        cases: problem.tasks.iter().map(|t| t.cases.clone()).collect(),
    })
}

/// Their status string as a Gavel verdict; `None` for a string they do not
/// define (their code −3).
fn status(code: &str) -> Option<Status> {
    Some(match code {
        "AC" => Status::Accepted,
        "WA" => Status::WrongAnswer,
        "CE" => Status::CompileError,
        "TLE" => Status::TimeLimitExceeded,
        "MLE" => Status::MemoryLimitExceeded,
        "RE" => Status::RuntimeError,
        "OLE" => Status::OutputLimitExceeded,
        "JE" => Status::JudgementError,
        _ => return None,
    })
}

fn truncated(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Their completion as Gavel's report, by their rules: a case is its
/// status; a task takes its worst case and earns its score only when every
/// case is AC; the submission takes its worst task and the sum of scores.
/// A result whose shape is not the job's (task or case counts) is refused
/// with the reason. A status they do not define is kept as JE, saying so.
pub fn report(payload: &Payload, results: &[Vec<CaseResult>]) -> Result<JudgeReport, String> {
    if results.len() != payload.tasks.len() {
        return Err(format!(
            "tasks: {} lists, but the job has {} tasks",
            results.len(),
            payload.tasks.len()
        ));
    }
    let mut compile_message = None;
    let mut tasks = Vec::with_capacity(results.len());
    for (t, (cases, task)) in results.iter().zip(&payload.tasks).enumerate() {
        if cases.len() != task.case_count as usize {
            return Err(format!(
                "tasks[{t}]: {} cases, but the task has {}",
                cases.len(),
                task.case_count
            ));
        }
        let names = payload.cases.get(t).map(Vec::as_slice).unwrap_or_default();
        let cases = cases
            .iter()
            .enumerate()
            .map(|(c, case)| {
                let name = names.get(c).cloned().unwrap_or_else(|| format!("{t:02}{c:02}"));
                let report = case_report(name, case);
                if report.status == Status::CompileError && compile_message.is_none() {
                    compile_message = Some(truncated(&case.stderr, MAX_COMPILE_MESSAGE));
                }
                report
            })
            .collect();
        tasks.push(TaskReport::score(f64::from(task.task_score), cases));
    }
    Ok(JudgeReport::from_tasks(compile_message.unwrap_or_default(), tasks))
}

fn case_report(name: String, case: &CaseResult) -> CaseReport {
    let (status, message) = match status(&case.status) {
        Some(Status::Accepted) => (Status::Accepted, String::new()),
        Some(Status::CompileError) => (Status::CompileError, String::new()),
        Some(status) => {
            let first_line = case.stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            (status, truncated(first_line.trim(), MAX_CASE_MESSAGE))
        }
        None => (
            Status::JudgementError,
            format!(
                "the runner reported status {:?}, which Normal-OJ does not define",
                truncated(&case.status, 32)
            ),
        ),
    };
    CaseReport {
        name,
        status,
        score: if status == Status::Accepted { 1.0 } else { 0.0 },
        time_ms: u64::try_from(case.exec_time).unwrap_or(0),
        memory_kb: u64::try_from(case.memory_usage).unwrap_or(0),
        fuel: None,
        wall_ms: None,
        message,
        transcript: None,
    }
}

/// The meta data as Python's `json.dumps` writes it (`", "` and `": "`):
/// their runner stores what it fetched that way and hashes it into the
/// checksum, so ours must be the same bytes.
pub fn python_json(meta: &Meta) -> String {
    let tasks: Vec<String> = meta
        .tasks
        .iter()
        .map(|t| {
            format!(
                r#"{{"taskScore": {}, "memoryLimit": {}, "timeLimit": {}, "caseCount": {}}}"#,
                t.task_score, t.memory_limit, t.time_limit, t.case_count
            )
        })
        .collect();
    format!(r#"{{"tasks": [{}]}}"#, tasks.join(", "))
}

#[cfg(test)]
mod tests {
    use judge_core::problem::{CheckerSpec, Limits, PackageFormat};

    use super::*;

    fn problem(id: &str, scores: &[f64], checker: &str) -> ProblemView {
        let tasks = scores
            .iter()
            .enumerate()
            .map(|(t, score)| GavelTask {
                score: *score,
                limits: Limits { time_ms: 1000, memory_mb: 64, output_kb: 1024 },
                cases: vec![format!("{t}a"), format!("{t}b")],
                depends_on: vec![],
            })
            .collect();
        ProblemView {
            id: id.into(),
            title: id.into(),
            format: PackageFormat::Native,
            revision: "r".into(),
            max_score: scores.iter().sum(),
            checker: CheckerSpec { plugin: CheckerRef::Builtin(checker.into()), args: vec![] },
            interactor: None,
            tasks,
            case_paths: None,
            origins: Default::default(),
            files: 0,
            bytes: 0,
        }
    }

    fn case(status: &str, stderr: &str) -> CaseResult {
        CaseResult {
            stdout: String::new(),
            stderr: stderr.into(),
            exit_code: 0,
            exec_time: 12,
            memory_usage: 2048,
            status: status.into(),
        }
    }

    #[test]
    fn only_numeric_ids_without_leading_zeros_are_theirs() {
        assert_eq!(numeric_id("42"), Some(42));
        assert_eq!(numeric_id("0"), Some(0));
        assert_eq!(numeric_id("042"), None);
        assert_eq!(numeric_id("a-plus-b"), None);
        assert_eq!(numeric_id(""), None);
        assert_eq!(numeric_id(&"9".repeat(19)), None);
    }

    #[test]
    fn their_runners_get_numeric_lines_problems_scored_to_100_in_their_languages() {
        let p = payload(&problem("7", &[40.0, 60.0], "lines"), "python3").unwrap();
        assert_eq!((p.problem_id, p.language), (7, 2));
        assert_eq!(
            p.tasks[1],
            Task { task_score: 60, memory_limit: 65536, time_limit: 1000, case_count: 2 }
        );
        assert_eq!(p.cases[0], ["0a", "0b"]);
        assert!(payload(&problem("7", &[40.0, 60.0], "lines"), "javascript").is_none());
        assert!(payload(&problem("7", &[40.0, 60.0], "tokens"), "c").is_none());
        assert!(payload(&problem("7", &[40.0, 50.0], "lines"), "c").is_none());
        assert!(payload(&problem("7", &[40.5, 59.5], "lines"), "c").is_none());
        assert!(payload(&problem("seven", &[100.0], "lines"), "c").is_none());
        let mut interactive = problem("7", &[40.0, 60.0], "lines");
        interactive.interactor = Some(judge_core::problem::Interactor {
            path: "interactor.cpp".into(),
            time_ms: None,
            memory_mb: None,
            then_checker: true,
        });
        assert!(payload(&interactive, "c").is_none(), "their runners never get an interactive job");
    }

    #[test]
    fn a_task_scores_only_when_every_case_is_ac_and_the_worst_code_wins() {
        let p = payload(&problem("1", &[40.0, 60.0], "lines"), "c").unwrap();
        let r = report(
            &p,
            &[vec![case("AC", ""), case("AC", "")], vec![case("AC", ""), case("TLE", "")]],
        )
        .unwrap();
        assert_eq!((r.status, r.score, r.max_score), (Status::TimeLimitExceeded, 40.0, 100.0));
        assert_eq!(r.tasks[1].cases[1].name, "1b");
        assert_eq!((r.time_ms, r.memory_kb), (12, 2048));
        let r = report(
            &p,
            &[
                vec![case("WA", ""), case("OLE", "")],
                vec![case("RE", "boom\nmore"), case("AC", "")],
            ],
        )
        .unwrap();
        assert_eq!((r.status, r.score), (Status::OutputLimitExceeded, 0.0));
        assert_eq!(r.tasks[1].cases[0].message, "boom");
    }

    #[test]
    fn compile_errors_keep_the_message_and_unknown_statuses_are_je() {
        let p = payload(&problem("1", &[100.0], "lines"), "cpp").unwrap();
        let r = report(&p, &[vec![case("CE", "main.cpp:1: error"), case("CE", "x")]]).unwrap();
        assert_eq!(
            (r.status, r.compile_message.as_str()),
            (Status::CompileError, "main.cpp:1: error")
        );
        let r = report(&p, &[vec![case("AC", ""), case("SLEEPY", "")]]).unwrap();
        assert_eq!(r.status, Status::JudgementError);
        assert!(r.tasks[0].cases[1].message.contains("\"SLEEPY\""), "{:?}", r.tasks[0].cases[1]);
    }

    #[test]
    fn results_of_the_wrong_shape_are_refused_with_the_reason() {
        let p = payload(&problem("1", &[40.0, 60.0], "lines"), "c").unwrap();
        assert_eq!(
            report(&p, &[vec![case("AC", "")]]).unwrap_err(),
            "tasks: 1 lists, but the job has 2 tasks"
        );
        assert_eq!(
            report(&p, &[vec![case("AC", "")], vec![case("AC", ""), case("AC", "")]]).unwrap_err(),
            "tasks[0]: 1 cases, but the task has 2"
        );
    }

    #[test]
    fn meta_json_is_what_python_writes() {
        let meta = Meta {
            tasks: vec![
                Task { task_score: 40, memory_limit: 65536, time_limit: 1000, case_count: 2 },
                Task { task_score: 60, memory_limit: 1024, time_limit: 500, case_count: 1 },
            ],
        };
        assert_eq!(
            python_json(&meta),
            r#"{"tasks": [{"taskScore": 40, "memoryLimit": 65536, "timeLimit": 1000, "caseCount": 2}, {"taskScore": 60, "memoryLimit": 1024, "timeLimit": 500, "caseCount": 1}]}"#
        );
        // The same data as serde writes it, the order of keys included.
        let parsed: serde_json::Value = serde_json::from_str(&python_json(&meta)).unwrap();
        assert_eq!(parsed, serde_json::to_value(&meta).unwrap());
    }
}
