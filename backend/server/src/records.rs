//! What submissions and code runs share: both are records in one queue
//! (same jobs, leases and event log; a run's record has `kind = run`), so
//! their handlers build on the same steps here — the start of an
//! idempotent create, the label check, the answer for a language no runner
//! offers, the 429 of a create over its client's quota, a job's estimated
//! cost (what fair dispatch charges), cancelling, following a record's
//! event log, and checking the result a runner reports for a record's job
//! before it is stored.

use axum::response::Response;
use axum::response::sse::Event;
use base64::Engine as _;
use protocol::runner::JobResult;
use protocol::runs::{self, RunReport};
use queue::{Change, Idempotency};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::idempotency;
use crate::state::AppState;

/// How a create starts.
pub enum Start {
    /// The caller sent this create before under its `Idempotency-Key`:
    /// the first answer again (or the conflict).
    Answered(Response),
    /// A new create, under the caller's key if it sent one.
    New(Option<Idempotency>),
}

/// Reads the caller's `Idempotency-Key` for `request` (of `kind`:
/// `submission`, `run`) and answers a create made before under it, before
/// anything else is checked again (so a retry gets its first answer even
/// if the problem or language has gone since). `created` makes the 201's
/// body from the record's id.
pub async fn start_create<B: serde::Serialize>(
    state: &AppState,
    caller: &Caller,
    headers: &axum::http::HeaderMap,
    kind: &str,
    request: &impl serde::Serialize,
    created: impl FnOnce(String) -> B,
) -> ApiResult<Start> {
    let key = idempotency::from_request(headers, kind, request)?;
    match idempotency::earlier(&state.queue, caller.owner(), key.as_ref(), created).await? {
        Some(earlier) => Ok(Start::Answered(earlier)),
        None => Ok(Start::New(key)),
    }
}

/// Refuses labels that are not ids (400): a runner must carry each.
pub fn check_labels(labels: &[String]) -> ApiResult<()> {
    match labels.iter().find(|l| !queue::is_valid_word(l)) {
        Some(bad) => {
            Err(ApiError::bad_request("invalid_field", format!("labels: {bad:?} is not an id")))
        }
        None => Ok(()),
    }
}

/// The 422 answer for a language no runner offers, naming those that are.
pub async fn unknown_language(state: &AppState, language: &str) -> ApiError {
    match state.queue.languages(queue::LANGUAGE_MEMORY).await {
        Ok(languages) => ApiError::unprocessable(
            "unknown_language",
            format!(
                "language {language:?} is not offered by any runner (known: {})",
                languages.join(", ")
            ),
        ),
        Err(e) => e.into(),
    }
}

/// The 429 answer for a create refused by a quota (`Retry-After` says
/// when a retry may pass).
pub fn over_quota(refusal: queue::Refusal) -> ApiError {
    let why = match refusal.reason {
        "queue_full" => {
            "this client has as many submissions and runs queued as its max_queued quota allows"
        }
        _ => {
            "this client made as many creates in the last 60 s as its creates_per_minute quota allows"
        }
    };
    let seconds = crate::error::retry_after_seconds(refusal.retry_after);
    ApiError::too_many(
        refusal.reason,
        format!("{why}; nothing was created: retry after {seconds} s"),
        refusal.retry_after,
    )
}

/// A submission's estimated runner time (ms), what fair dispatch charges
/// its owner: every case at its task's time limit; at least 1.
pub fn judge_cost(tasks: &[judge_core::problem::Task]) -> u64 {
    let cost =
        tasks.iter().map(|task| (task.cases.len() as u64).saturating_mul(task.limits.time_ms));
    cost.fold(0u64, u64::saturating_add).max(1)
}

/// Refuses a create (429) if its owner is over a quota now: asked before
/// anything is stored outside Redis for it (a large source's blob), so a
/// refused create leaves nothing behind. The create checks again.
pub async fn check_quota(state: &AppState, caller: &Caller) -> ApiResult<()> {
    match state.queue.over_quota(caller.owner()).await? {
        Some(refusal) => Err(over_quota(refusal)),
        None => Ok(()),
    }
}

/// Cancels submission or run `id` (`noun` names which, for messages): `409
/// already_final` once it ended, `404` when it is gone.
pub async fn cancel_record(state: &AppState, noun: &str, id: &str) -> ApiResult<()> {
    match state.queue.cancel(id).await? {
        Change::Done => {
            tracing::info!(id, "{noun} cancelled");
            Ok(())
        }
        Change::AlreadyFinal => {
            Err(ApiError::conflict("already_final", format!("{noun} {id} has already ended")))
        }
        Change::UnknownSubmission => Err(ApiError::not_found(format!("no {noun} {id}"))),
    }
}

/// Checks the result a runner reports for a job before it is stored: a
/// judge job's verdict must be final, a run's report within its caps
/// (400 otherwise). Its status code, for the log.
pub fn check_result(result: &JobResult) -> ApiResult<&'static str> {
    match result {
        JobResult::Judge(report) if !report.status.is_final_verdict() => {
            Err(ApiError::bad_request(
                "invalid_field",
                format!("result.status: {} is not a final verdict", report.status.code()),
            ))
        }
        JobResult::Judge(report) => Ok(report.status.code()),
        JobResult::Run(report) => {
            check_report(report)?;
            Ok(report.status.code())
        }
    }
}

/// Checks a run's report from a runner before it is stored: a final status,
/// artifacts within the caps with safe names and valid base64, output no
/// larger than any run may write.
fn check_report(report: &RunReport) -> ApiResult<()> {
    let invalid = |detail: String| ApiError::bad_request("invalid_field", detail);
    if !report.status.is_final() {
        return Err(invalid(format!("result.status: {} is not final", report.status.code())));
    }
    if report.artifacts.len() > runs::MAX_ARTIFACTS {
        return Err(invalid(format!("result.artifacts: at most {}", runs::MAX_ARTIFACTS)));
    }
    let mut bytes = 0u64;
    for artifact in &report.artifacts {
        let safe = artifact.name.len() <= 1024
            && artifact
                .name
                .split('/')
                .all(|part| judge_core::code_run::check_file_name(part).is_ok());
        if !safe {
            return Err(invalid(format!(
                "result.artifacts: {:?} is not a safe path",
                artifact.name
            )));
        }
        let data = base64::engine::general_purpose::STANDARD
            .decode(&artifact.content_base64)
            .map_err(|e| invalid(format!("result.artifacts: {}: {e}", artifact.name)))?;
        bytes += data.len() as u64;
    }
    if bytes > runs::MAX_ARTIFACT_BYTES {
        return Err(invalid(format!(
            "result.artifacts: {bytes} bytes, at most {}",
            runs::MAX_ARTIFACT_BYTES
        )));
    }
    // Bytes that are not UTF-8 become U+FFFD (3 bytes each) in the text.
    let output: usize = report.output.iter().map(|chunk| chunk.data.len()).sum();
    if output as u64 > 3 * runs::MAX_OUTPUT_KB * 1024 {
        return Err(invalid("result.output: more than any run may write".into()));
    }
    Ok(())
}

/// One event of a submission's (or run's) log, as [`follow`] reads it.
pub struct Logged {
    /// Its `type`.
    pub kind: String,
    pub seq: u64,
    /// The whole event, JSON.
    pub json: String,
}

impl Logged {
    /// The SSE event: named by its type, with its seq as the id.
    pub fn into_event(self) -> Event {
        Event::default().event(self.kind).id(self.seq.to_string()).data(self.json)
    }
}

/// Sends the log of submission (or run) `id` to `tx` from the start, then
/// each new event as pub/sub says the log grew, until `finished` or the
/// client leaves.
pub async fn follow(state: AppState, id: String, tx: tokio::sync::mpsc::Sender<Logged>) {
    // Subscribed before the first read, so nothing appended in between is missed.
    let mut grew = state.listener.events();
    let mut shutdown = state.shutdown.clone();
    let (mut next_index, mut last_seq) = (0usize, 0u64);
    loop {
        // Reads from the last event sent, to check it is still there: a
        // rejudge replaces the log with a new one (whose seqs are all newer),
        // which may already be as long as the old one; then it is read from
        // the start.
        let from = next_index.saturating_sub(1);
        let (events, _) = match state.queue.events(&id, from).await {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(submission_id = id, error = %e, "reading events failed");
                return;
            }
        };
        let seq_of =
            |json: &String| serde_json::from_str::<serde_json::Value>(json).ok()?["seq"].as_u64();
        if next_index > 0 && events.first().and_then(seq_of) != Some(last_seq) {
            next_index = 0;
            continue;
        }
        let mut finished = false;
        next_index = from + events.len();
        for json in events {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&json) else { continue };
            let seq = value["seq"].as_u64().unwrap_or(0);
            if seq <= last_seq {
                continue;
            }
            last_seq = seq;
            let kind = value["type"].as_str().unwrap_or("message").to_string();
            finished = kind == "finished";
            if tx.send(Logged { kind, seq, json }).await.is_err() {
                return; // the client left
            }
        }
        if finished {
            return;
        }
        loop {
            tokio::select! {
                message = grew.recv() => match message {
                    Ok(sid) if *sid == *id || &*sid == "*" => break,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return,
                },
                () = tx.closed() => return,
                _ = shutdown.wait_for(|stopping| *stopping) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_with_unsafe_artifacts_are_refused() {
        let check_report = |report: &RunReport| check_result(&JobResult::Run(report.clone()));
        let mut report = RunReport::system_error("x");
        report.artifacts.push(protocol::runs::ArtifactData {
            name: "../escape".into(),
            content_base64: String::new(),
        });
        assert!(check_report(&report).is_err());
        report.artifacts[0].name = "out/result.txt".into();
        report.artifacts[0].content_base64 = "aGk=".into();
        assert!(check_report(&report).is_ok());
        report.artifacts[0].content_base64 = "not base64!".into();
        assert!(check_report(&report).is_err());
        report.status = protocol::runs::RunStatus::Running;
        report.artifacts.clear();
        assert!(check_report(&report).is_err());
    }

    #[test]
    fn a_submission_costs_each_case_at_its_tasks_time_limit() {
        use judge_core::problem::{Limits, Task};
        let task = |cases: usize, time_ms: u64| Task {
            score: 1.0,
            limits: Limits { time_ms, ..Limits::default() },
            cases: (0..cases).map(|n| n.to_string()).collect(),
            depends_on: Vec::new(),
        };
        assert_eq!(judge_cost(&[task(1, 1000)]), 1000);
        assert_eq!(judge_cost(&[task(10, 2000), task(3, 500)]), 21_500);
        assert_eq!(judge_cost(&[]), 1, "never free");
        assert_eq!(judge_cost(&[task(2, u64::MAX)]), u64::MAX);
    }

    #[test]
    fn a_quota_refusal_is_429_naming_the_quota_and_when_to_retry() {
        use std::time::Duration;
        let refusal =
            queue::Refusal { reason: "rate_limited", retry_after: Duration::from_millis(1500) };
        let error = over_quota(refusal);
        assert_eq!((error.status.as_u16(), error.code), (429, "rate_limited"));
        assert!(error.detail.contains("creates_per_minute"), "{}", error.detail);
        assert!(error.detail.ends_with("retry after 2 s"), "{}", error.detail);
        assert_eq!(error.retry_after, Some(Duration::from_millis(1500)));
        let full = over_quota(queue::Refusal { reason: "queue_full", ..refusal });
        assert!(full.detail.contains("max_queued"), "{}", full.detail);
    }

    #[test]
    fn judge_results_must_be_final_verdicts() {
        let mut report = judge_core::report::JudgeReport::from_tasks(String::new(), Vec::new());
        report.status = judge_core::verdict::Status::Judging;
        let error = check_result(&JobResult::Judge(report)).unwrap_err();
        assert_eq!(
            (error.code, error.detail.as_str()),
            ("invalid_field", "result.status: JUDGING is not a final verdict")
        );
    }
}
