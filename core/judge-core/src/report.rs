//! Results of judging, and the scoring rules: a case scores 1 (AC), the
//! checker's fraction (partial) or 0; a task earns `score × min(case score)`,
//! or nothing when a task it depends on was not fully accepted; a task's and
//! a submission's status is the worst case verdict.

use serde::{Deserialize, Serialize};

use crate::exec::CheckVerdict;
use crate::interactive::Transcript;
use crate::problem::Problem;
use crate::verdict::Status;

/// The result of one test case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseReport {
    pub name: String,
    pub status: Status,
    /// Fraction of the case earned, in `[0, 1]`.
    pub score: f64,
    pub time_ms: u64,
    pub memory_kb: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fuel: Option<u64>,
    /// The real wall time of the run as the runner measured it (a
    /// diagnostic: limits apply to `time_ms`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub wall_ms: Option<u64>,
    /// Why, for anything but a plain AC (checker message, limit, exit code).
    pub message: String,
    /// An interactive case's exchange with the interactor (its start).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transcript: Option<Transcript>,
}

/// The result of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskReport {
    pub status: Status,
    /// Points earned.
    pub score: f64,
    pub max_score: f64,
    pub cases: Vec<CaseReport>,
    /// Why the task earned less than its cases say (a dependency not met).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// The result of judging a submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JudgeReport {
    pub status: Status,
    pub score: f64,
    pub max_score: f64,
    /// The compiler's message (errors for CE; may hold warnings otherwise).
    pub compile_message: String,
    /// The longest case time.
    pub time_ms: u64,
    /// The largest case memory.
    pub memory_kb: u64,
    pub tasks: Vec<TaskReport>,
    /// Why judging ended without running the cases (a JE's reason).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl CaseReport {
    /// A case that ended before any checker looked at it.
    pub fn failed(name: &str, status: Status, message: impl Into<String>) -> Self {
        CaseReport {
            name: name.into(),
            status,
            score: 0.0,
            time_ms: 0,
            memory_kb: 0,
            fuel: None,
            wall_ms: None,
            message: message.into(),
            transcript: None,
        }
    }

    /// Applies a checker's verdict: status, score and message.
    pub fn with_verdict(mut self, verdict: CheckVerdict) -> Self {
        let (status, score, message) = match verdict {
            CheckVerdict::Accepted => (Status::Accepted, 1.0, String::new()),
            CheckVerdict::WrongAnswer { message } => (Status::WrongAnswer, 0.0, message),
            CheckVerdict::PresentationError { message } => {
                (Status::PresentationError, 0.0, message)
            }
            CheckVerdict::Partial { score, message } if score >= 1.0 => {
                (Status::Accepted, 1.0, message)
            }
            CheckVerdict::Partial { score, message } => {
                let score = if score.is_finite() { score.max(0.0) } else { 0.0 };
                (Status::WrongAnswer, score, message)
            }
            CheckVerdict::Fail { message } => (Status::JudgementError, 0.0, message),
        };
        self.status = status;
        self.score = score;
        self.message = message;
        self
    }
}

impl TaskReport {
    /// Scores a task from its cases.
    pub fn score(max_score: f64, cases: Vec<CaseReport>) -> Self {
        let status = cases.iter().fold(Status::Accepted, |worst, c| worst.worst(c.status));
        let min = cases.iter().map(|c| c.score).fold(1.0_f64, f64::min);
        let score = if cases.is_empty() { 0.0 } else { max_score * min };
        TaskReport { status, score, max_score, cases, message: String::new() }
    }

    /// Whether every case was accepted (a task without cases never is).
    fn all_accepted(&self) -> bool {
        !self.cases.is_empty() && self.cases.iter().all(|c| c.status == Status::Accepted)
    }
}

/// Applies task dependencies (`depends_on[t]`: the tasks task `t` needs):
/// a task earns nothing, and says why, unless every task it depends on was
/// fully accepted — all its cases accepted and its own dependencies met.
/// Dependencies on later tasks (which loading refuses) are never met.
pub fn apply_dependencies(tasks: &mut [TaskReport], depends_on: &[Vec<usize>]) {
    let mut met: Vec<bool> = Vec::with_capacity(tasks.len());
    for (t, task) in tasks.iter_mut().enumerate() {
        let unmet: Vec<usize> = depends_on
            .get(t)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&d| !met.get(d).copied().unwrap_or(false))
            .collect();
        if !unmet.is_empty() {
            let named: Vec<String> = unmet.iter().map(|d| (d + 1).to_string()).collect();
            let plural = if unmet.len() == 1 { "" } else { "s" };
            task.score = 0.0;
            task.message = format!(
                "no points: it depends on task{plural} {}, not fully accepted",
                named.join(", ")
            );
        }
        met.push(unmet.is_empty() && task.all_accepted());
    }
}

impl JudgeReport {
    /// Scores a submission from its tasks.
    pub fn from_tasks(compile_message: String, tasks: Vec<TaskReport>) -> Self {
        let status = tasks.iter().fold(Status::Accepted, |worst, t| worst.worst(t.status));
        let cases = || tasks.iter().flat_map(|t| &t.cases);
        JudgeReport {
            status,
            score: tasks.iter().map(|t| t.score).sum(),
            max_score: tasks.iter().map(|t| t.max_score).sum(),
            compile_message,
            time_ms: cases().map(|c| c.time_ms).max().unwrap_or(0),
            memory_kb: cases().map(|c| c.memory_kb).max().unwrap_or(0),
            tasks,
            message: String::new(),
        }
    }

    /// Judging could not start (the problem or a plugin is unusable): JE
    /// with the reason, and no cases.
    pub fn judgement_error(message: impl Into<String>) -> Self {
        JudgeReport {
            status: Status::JudgementError,
            score: 0.0,
            max_score: 0.0,
            compile_message: String::new(),
            time_ms: 0,
            memory_kb: 0,
            tasks: Vec::new(),
            message: message.into(),
        }
    }

    /// Every case of `problem` ended with `status` before running (CE, JE).
    pub fn all(
        problem: &Problem,
        status: Status,
        compile_message: String,
        case_message: &str,
    ) -> Self {
        let tasks = problem
            .tasks
            .iter()
            .map(|t| {
                let cases =
                    t.cases.iter().map(|c| CaseReport::failed(c, status, case_message)).collect();
                TaskReport::score(t.score, cases)
            })
            .collect();
        JudgeReport::from_tasks(compile_message, tasks)
    }

    /// Normal-OJ's numeric status of the submission.
    pub fn normal_oj_status(&self) -> i32 {
        self.status.normal_oj_code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(status: Status, score: f64) -> CaseReport {
        CaseReport {
            name: "c".into(),
            status,
            score,
            time_ms: 1,
            memory_kb: 2,
            fuel: None,
            wall_ms: None,
            message: String::new(),
            transcript: None,
        }
    }

    #[test]
    fn a_task_earns_its_score_times_the_smallest_case_score() {
        let t = TaskReport::score(
            40.0,
            vec![case(Status::Accepted, 1.0), case(Status::WrongAnswer, 0.5)],
        );
        assert_eq!((t.status, t.score), (Status::WrongAnswer, 20.0));
        let t =
            TaskReport::score(40.0, vec![case(Status::Accepted, 1.0), case(Status::Accepted, 1.0)]);
        assert_eq!((t.status, t.score), (Status::Accepted, 40.0));
        let t = TaskReport::score(
            40.0,
            vec![case(Status::Accepted, 1.0), case(Status::TimeLimitExceeded, 0.0)],
        );
        assert_eq!((t.status, t.score), (Status::TimeLimitExceeded, 0.0));
    }

    #[test]
    fn the_submission_takes_the_worst_task_and_the_sum_of_scores() {
        let tasks = vec![
            TaskReport::score(30.0, vec![case(Status::Accepted, 1.0)]),
            TaskReport::score(70.0, vec![case(Status::PresentationError, 0.0)]),
        ];
        let r = JudgeReport::from_tasks(String::new(), tasks);
        assert_eq!((r.status, r.score, r.max_score), (Status::PresentationError, 30.0, 100.0));
        assert_eq!(r.normal_oj_status(), 1);
    }

    #[test]
    fn checker_verdicts_become_case_results() {
        let base = || CaseReport::failed("c", Status::Judging, "");
        assert_eq!(base().with_verdict(CheckVerdict::Accepted).status, Status::Accepted);
        let partial =
            base().with_verdict(CheckVerdict::Partial { score: 0.25, message: "quarter".into() });
        assert_eq!(
            (partial.status, partial.score, partial.message.as_str()),
            (Status::WrongAnswer, 0.25, "quarter")
        );
        let full =
            base().with_verdict(CheckVerdict::Partial { score: 1.0, message: String::new() });
        assert_eq!((full.status, full.score), (Status::Accepted, 1.0));
        let je = base().with_verdict(CheckVerdict::Fail { message: "bad".into() });
        assert_eq!((je.status, je.score), (Status::JudgementError, 0.0));
    }

    fn task(score: f64, statuses: &[Status]) -> TaskReport {
        let cases = statuses
            .iter()
            .map(|&s| case(s, if s == Status::Accepted { 1.0 } else { 0.0 }))
            .collect();
        TaskReport::score(score, cases)
    }

    #[test]
    fn a_task_earns_nothing_unless_its_dependencies_are_fully_accepted() {
        use Status::{Accepted as AC, WrongAnswer as WA};
        let mut tasks = vec![
            task(10.0, &[AC, WA]),
            task(20.0, &[AC]),
            task(30.0, &[AC, AC]),
            task(40.0, &[AC]),
            task(50.0, &[AC]),
        ];
        // 2 needs 0 (failed); 3 needs 1 (accepted); 4 needs 2, whose own
        // dependency failed although its cases passed.
        let depends_on = [vec![], vec![], vec![0], vec![1], vec![2, 1]];
        apply_dependencies(&mut tasks, &depends_on);
        let scores: Vec<f64> = tasks.iter().map(|t| t.score).collect();
        assert_eq!(scores, [0.0, 20.0, 0.0, 40.0, 0.0]);
        assert_eq!(tasks[2].message, "no points: it depends on task 1, not fully accepted");
        assert_eq!(tasks[4].message, "no points: it depends on task 3, not fully accepted");
        assert_eq!(tasks[2].status, AC, "the status stays the cases' own");
        assert!(tasks[3].message.is_empty());
        let r = JudgeReport::from_tasks(String::new(), tasks);
        assert_eq!((r.status, r.score, r.max_score), (WA, 60.0, 150.0));
    }

    #[test]
    fn partial_cases_and_broken_dependencies_are_not_met() {
        let mut tasks = vec![
            TaskReport::score(10.0, vec![case(Status::WrongAnswer, 0.5)]),
            task(20.0, &[Status::Accepted]),
            task(30.0, &[Status::Accepted]),
        ];
        apply_dependencies(&mut tasks, &[vec![], vec![0], vec![2, 0]]);
        assert_eq!(tasks.iter().map(|t| t.score).collect::<Vec<_>>(), [5.0, 0.0, 0.0]);
        assert_eq!(tasks[2].message, "no points: it depends on tasks 3, 1, not fully accepted");
    }

    #[test]
    fn reports_serialise_statuses_as_codes() {
        let r = JudgeReport::from_tasks(
            String::new(),
            vec![TaskReport::score(100.0, vec![case(Status::Accepted, 1.0)])],
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["status"], "AC");
        assert_eq!(json["tasks"][0]["cases"][0]["status"], "AC");
        assert_eq!(serde_json::from_value::<JudgeReport>(json).unwrap(), r);
    }
}
