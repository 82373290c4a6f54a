//! Following a submission on a backend to its verdict, for `gavel submit`
//! and `gavel watch`: its events (`GET /submissions/{id}/events`, SSE) drive
//! a live progress line on stderr ([`crate::output::LiveLine`]); once the
//! submission has ended, its record (`GET /submissions/{id}`) is printed as
//! the same verdict table, or the same JSON object, as `gavel judge` prints.
//!
//! Only the current job's events count: a submission rejudged while it is
//! followed keeps being followed until its record says it has ended (a
//! final verdict, or cancelled). The record is read again whenever the
//! stream ends, so a dropped connection or a replaced event log cannot
//! leave the command waiting on events that will not come.
//!
//! Exit codes: 0 once judged, whatever the verdict; 1 for a cancelled
//! submission, a backend that fails, or `--wait-s` running out.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use judge_core::Status;
use judge_core::problem::CheckerRef;
use judge_core::report::JudgeReport;
use protocol::client::{EventKind, ProblemView, SubmissionEvent, SubmissionView};

use crate::client::{Api, SseEvent};
use crate::output::{self, CasePrinter, LiveLine};

/// How a followed submission is shown: the flags `submit` and `watch`
/// share.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Show {
    /// How long to wait for the verdict, in seconds (queueing included).
    #[arg(long = "wait-s", value_name = "SECONDS", default_value_t = 600)]
    pub wait_s: u64,
    /// Print one JSON object (as `gavel judge --json` does, plus
    /// `submission_id`) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Follows submission `view` (as just read, created or rejudged) until it
/// ends, then prints it; the exit code.
pub fn follow(api: &Api, view: SubmissionView, show: Show) -> anyhow::Result<ExitCode> {
    let id = view.submission_id.clone();
    // The problem names the checker and counts the cases; a client may read
    // it, but a missing one must not stop us showing the verdict.
    let problem = api
        .get::<ProblemView>(&format!("/problems/{}", view.problem_id))
        .inspect_err(|e| tracing::warn!(error = %format!("{e:#}"), "reading the problem"))
        .ok();
    let view = if ended(view.status) {
        view
    } else {
        let deadline = Instant::now() + Duration::from_secs(show.wait_s);
        let mut progress = Progress::new(&view, problem.as_ref());
        let mut live = LiveLine::new();
        live.show(&progress.line_for_start(view.status));
        let read_view = || api.get::<SubmissionView>(&format!("/submissions/{id}"));
        let mut on = |event: &SseEvent| -> anyhow::Result<Option<SubmissionView>> {
            let Ok(event) = serde_json::from_str::<SubmissionEvent>(&event.data) else {
                return Ok(None); // a kind of event this client does not know
            };
            let Some(line) = progress.line(&event) else { return Ok(None) };
            live.show(&line);
            if !matches!(event.kind, EventKind::Finished { .. }) {
                return Ok(None);
            }
            let view = read_view()?;
            Ok(ended(view.status).then_some(view))
        };
        let mut done = || -> anyhow::Result<Option<SubmissionView>> {
            read_view().map(|view| ended(view.status).then_some(view))
        };
        let view = api.follow(&format!("/submissions/{id}/events"), deadline, &mut on, &mut done);
        drop(live);
        view.map_err(|e| e.context(format!("submission {id}")))?
    };
    print(&view, problem.as_ref(), show.json)?;
    if view.status == Status::Cancelled {
        eprintln!("gavel: submission {id} was cancelled");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a submission has ended: a final verdict, or cancelled.
fn ended(status: Status) -> bool {
    status.is_final_verdict() || status == Status::Cancelled
}

/// Prints an ended submission as `gavel judge` prints a report.
fn print(view: &SubmissionView, problem: Option<&ProblemView>, json: bool) -> anyhow::Result<()> {
    let checker =
        problem.map_or_else(|| "unknown".to_string(), |p| checker_name(&p.checker.plugin));
    let report = JudgeReport {
        status: view.status,
        score: view.score,
        max_score: view.max_score,
        compile_message: view.compile_message.clone(),
        time_ms: view.time_ms,
        memory_kb: view.memory_kb,
        tasks: view.tasks.clone(),
        message: view.message.clone(),
    };
    if json {
        let mut json = output::report_json(&view.problem_id, &view.language, &checker, &report);
        json["submission_id"] = view.submission_id.clone().into();
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        println!("submission {}", view.submission_id);
        CasePrinter::new(true).table(&view.problem_id, &view.language, &checker, &report);
    }
    Ok(())
}

/// A checker as the table names it: a builtin's id, or the component's
/// path in the package.
fn checker_name(checker: &CheckerRef) -> String {
    match checker {
        CheckerRef::Builtin(id) => id.clone(),
        CheckerRef::Package(path)
        | CheckerRef::Testlib(path)
        | CheckerRef::KattisValidator(path) => path.clone(),
    }
}

/// What the progress line says, event by event (pure).
struct Progress {
    submission_id: String,
    job_id: String,
    total_cases: Option<usize>,
    cases_done: usize,
}

impl Progress {
    fn new(view: &SubmissionView, problem: Option<&ProblemView>) -> Progress {
        Progress {
            submission_id: view.submission_id.clone(),
            job_id: view.job_id.clone(),
            total_cases: problem.map(|p| p.tasks.iter().map(|t| t.cases.len()).sum()),
            cases_done: 0,
        }
    }

    fn line_for_start(&self, status: Status) -> String {
        format!("{}: {}", self.submission_id, status.code())
    }

    /// The line for an event of the followed job; `None` for another job's.
    fn line(&mut self, event: &SubmissionEvent) -> Option<String> {
        if event.job_id != self.job_id {
            return None;
        }
        let what = match &event.kind {
            EventKind::Queued { attempt: 0 } => "queued".to_string(),
            EventKind::Queued { attempt } => format!("queued again after attempt {attempt}"),
            EventKind::Started { runner_id, .. } => format!("judging on runner {runner_id}"),
            EventKind::Compiled { message } if message.trim().is_empty() => "compiled".into(),
            EventKind::Compiled { .. } => "compiled (with messages)".into(),
            EventKind::Case(case) => {
                self.cases_done += 1;
                let of = self.total_cases.map(|n| format!("/{n}")).unwrap_or_default();
                format!(
                    "case {}{of} · task {} {} {} {} ms",
                    self.cases_done,
                    case.task + 1,
                    case.case,
                    case.status.code(),
                    case.time_ms
                )
            }
            EventKind::Finished { status, score, .. } => {
                format!("finished: {} {}", status.code(), output::fmt_score(*score))
            }
        };
        Some(format!("{}: {what}", self.submission_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::runner::CaseProgress;

    fn view() -> SubmissionView {
        SubmissionView {
            submission_id: "sb_1".into(),
            problem_id: "p".into(),
            language: "javascript".into(),
            status: Status::Pending,
            score: 0.0,
            max_score: 100.0,
            job_id: "jb_2".into(),
            attempt: 0,
            created_at_ms: 0,
            finished_at_ms: None,
            time_ms: 0,
            memory_kb: 0,
            compile_message: String::new(),
            message: String::new(),
            tasks: Vec::new(),
        }
    }

    fn event(job_id: &str, kind: EventKind) -> SubmissionEvent {
        SubmissionEvent { seq: 1, job_id: job_id.into(), kind }
    }

    #[test]
    fn progress_counts_the_followed_jobs_cases() {
        let mut progress = Progress::new(&view(), None);
        progress.total_cases = Some(3);
        let case = |name: &str, status| {
            EventKind::Case(CaseProgress {
                task: 0,
                case: name.into(),
                status,
                score: 0.0,
                time_ms: 7,
                memory_kb: 0,
                message: String::new(),
            })
        };
        let lines: Vec<_> = [
            event("jb_2", EventKind::Queued { attempt: 0 }),
            event("jb_2", EventKind::Started { attempt: 1, runner_id: "rn_9".into() }),
            event("jb_2", EventKind::Compiled { message: String::new() }),
            event("jb_1", case("00", Status::Accepted)),
            event("jb_2", case("01", Status::Accepted)),
            event("jb_2", case("02", Status::WrongAnswer)),
            event("jb_2", EventKind::Queued { attempt: 1 }),
            event(
                "jb_2",
                EventKind::Finished {
                    status: Status::WrongAnswer,
                    score: 50.0,
                    message: String::new(),
                },
            ),
        ]
        .iter()
        .filter_map(|e| progress.line(e))
        .collect();
        assert_eq!(
            lines,
            [
                "sb_1: queued",
                "sb_1: judging on runner rn_9",
                "sb_1: compiled",
                "sb_1: case 1/3 · task 1 01 AC 7 ms",
                "sb_1: case 2/3 · task 1 02 WA 7 ms",
                "sb_1: queued again after attempt 1",
                "sb_1: finished: WA 50",
            ]
        );
    }

    #[test]
    fn a_submission_ends_with_a_verdict_or_a_cancel() {
        assert!(ended(Status::WrongAnswer) && ended(Status::JudgementError));
        assert!(ended(Status::Cancelled));
        assert!(!ended(Status::Pending) && !ended(Status::Judging));
        assert_eq!(checker_name(&CheckerRef::Builtin("tokens".into())), "tokens");
        assert_eq!(checker_name(&CheckerRef::Package("checker.wasm".into())), "checker.wasm");
    }
}
