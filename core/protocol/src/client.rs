//! The client API (`docs/contract.md` §5): problems, submissions and their live events,
//! client tokens.

use std::collections::BTreeMap;

use judge_core::problem::{CasePaths, CheckerSpec, Interactor, PackageFormat, Task};
use judge_core::report::TaskReport;
use judge_core::verdict::Status;

use serde::{Deserialize, Serialize};

use crate::common::CaseProgress;
pub use crate::common::RecordKind;

/// `POST /submissions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    pub problem_id: String,
    pub language: String,
    /// The program text.
    pub source: String,
    /// Labels a runner must carry to judge it (e.g. a machine class).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// `201` answer to a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubmitResponse {
    pub submission_id: String,
}

/// `GET /submissions/{id}`: the current state, final once `status` is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubmissionView {
    pub submission_id: String,
    pub problem_id: String,
    pub language: String,
    pub status: Status,
    pub score: f64,
    pub max_score: f64,
    /// The job judging (or that judged) this submission; a rejudge replaces it.
    pub job_id: String,
    /// Claims of the current job so far (reclaims add one each).
    pub attempt: u32,
    pub created_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at_ms: Option<u64>,
    /// Longest case time and largest case memory.
    pub time_ms: u64,
    pub memory_kb: u64,
    pub compile_message: String,
    /// Why the submission ended as it did when no case says so (JE reason,
    /// cancellation).
    pub message: String,
    pub tasks: Vec<TaskReport>,
}

/// A submission's progress, as `GET /submissions/{id}/events` streams it (the
/// SSE `event:` is the `type`, the `id:` is `seq`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubmissionEvent {
    /// Position in the submission's event log, from 1.
    pub seq: u64,
    pub job_id: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// The job entered the queue (submitted, rejudged or reclaimed).
    Queued { attempt: u32 },
    /// A runner claimed the job.
    Started { attempt: u32, runner_id: String },
    /// The source compiled, or did not (`message` holds the compiler's words).
    Compiled {
        #[serde(default)]
        message: String,
    },
    /// One case's result.
    Case(CaseProgress),
    /// The final verdict: the stream ends here.
    Finished {
        status: Status,
        score: f64,
        #[serde(default)]
        message: String,
    },
}

impl EventKind {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Queued { .. } => "queued",
            EventKind::Started { .. } => "started",
            EventKind::Compiled { .. } => "compiled",
            EventKind::Case(_) => "case",
            EventKind::Finished { .. } => "finished",
        }
    }
}

/// `GET /problems/{id}` and the answer to `PUT /problems/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProblemView {
    pub id: String,
    pub title: String,
    pub format: PackageFormat,
    /// SHA-256 of the stored manifest: changes whenever a file does.
    pub revision: String,
    pub checker: CheckerSpec,
    /// The interactor, for an interactive problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactor: Option<Interactor>,
    pub tasks: Vec<Task>,
    /// Where case files are, when the package's format does not fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_paths: Option<CasePaths>,
    /// Where each part came from in the package (`limits`, `checker`,
    /// `tests`, `scoring`), for formats converted on import.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub origins: BTreeMap<String, String>,
    pub max_score: f64,
    pub files: usize,
    pub bytes: u64,
}

/// `POST /clients` (admin): issue a client token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    pub name: String,
}

/// `201` answer: the token is shown once; the backend keeps its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateClientResponse {
    /// `cl_<ULID>`.
    pub client_id: String,
    /// `ck_<random>`.
    pub token: String,
}

/// A client's priority class (set by the admin): runners take queued
/// `contest` jobs before any `practice` job. The admin's rejudges go after
/// both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PriorityClass {
    Contest,
    #[default]
    Practice,
}

impl PriorityClass {
    /// The name on the wire and in Redis.
    pub fn as_str(self) -> &'static str {
        match self {
            PriorityClass::Contest => "contest",
            PriorityClass::Practice => "practice",
        }
    }
}

/// `GET`/`PATCH /clients/{id}` (admin): a client and what applies to it
/// now (the defaults where the admin set nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub class: PriorityClass,
    /// Its share of runner time against other clients of its class with
    /// work queued (1 to 1000; default 1).
    pub weight: u32,
    /// Creates (submissions and runs) it may make in any 60 s.
    pub creates_per_minute: u32,
    /// Submissions and runs it may have queued (not yet leased) at once.
    pub max_queued: u32,
}

/// `PATCH /clients/{id}` (admin): what to change; absent fields stay.
/// Takes effect at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<PriorityClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creates_per_minute: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queued: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_flat_with_their_type() {
        let event = SubmissionEvent {
            seq: 3,
            job_id: "jb_1".into(),
            kind: EventKind::Finished {
                status: Status::Accepted,
                score: 100.0,
                message: "".into(),
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "finished");
        assert_eq!(json["status"], "AC");
        assert_eq!(json["seq"], 3);
        let back: SubmissionEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}

/// `PUT /webhook`: where the caller's final verdicts are posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// `http://` or `https://`, at most 2048 characters.
    pub url: String,
}

/// `200` answer to `PUT /webhook`: the signing secret, shown once (each
/// `PUT` makes a new one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookCreated {
    pub url: String,
    /// `whsec_…`: the HMAC-SHA256 key of the `Gavel-Signature` header.
    pub secret: String,
}

/// What became of one notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet; retried with backoff.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed.
    Failed,
}

/// One notification and its attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub delivery_id: String,
    pub submission_id: String,
    pub state: DeliveryState,
    pub attempts: u32,
    /// The receiver's last HTTP status, if it answered.
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed (empty once delivered).
    pub last_error: String,
    pub created_at_ms: u64,
    pub next_attempt_at_ms: Option<u64>,
    pub delivered_at_ms: Option<u64>,
}

/// `GET /webhook`: the caller's webhook and its latest deliveries (newest
/// first, at most 100).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub url: String,
    pub deliveries: Vec<DeliveryView>,
}

/// The body posted to a webhook when a submission gets its final verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookEvent {
    /// `submission.finished`.
    #[serde(rename = "type")]
    pub kind: String,
    pub delivery_id: String,
    pub submission_id: String,
    pub problem_id: String,
    pub language: String,
    pub status: Status,
    pub score: f64,
    pub max_score: f64,
    pub message: String,
    pub finished_at_ms: u64,
}

/// A listed record of either kind, as the live stream sends it (its event
/// name is its `kind`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Summary {
    Submission(SubmissionSummary),
    Run(crate::runs::RunSummary),
}

impl Summary {
    pub fn kind(&self) -> RecordKind {
        match self {
            Summary::Submission(_) => RecordKind::Submission,
            Summary::Run(_) => RecordKind::Run,
        }
    }
}

/// One line of `GET /submissions` and of the live stream's `submission`
/// events: what a list shows; `GET /submissions/{id}` has the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubmissionSummary {
    /// Always `submission`.
    pub kind: RecordKind,
    pub submission_id: String,
    pub problem_id: String,
    pub language: String,
    pub status: Status,
    pub score: f64,
    pub max_score: f64,
    pub created_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at_ms: Option<u64>,
}
