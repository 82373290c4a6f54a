//! The runner protocol (`docs/contract.md` §4): register, heartbeat, long-poll for a job,
//! report progress, complete with the lease (the fencing token).

use std::collections::BTreeMap;

use judge_core::report::JudgeReport;
use serde::{Deserialize, Serialize};

pub use crate::common::CaseProgress;
use crate::runs::{OutputChunk, RunJob, RunReport};

/// What kind of plugin a runner advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    Checker,
    Language,
}

/// A plugin a runner can load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PluginRef {
    pub id: String,
    pub kind: PluginKind,
    /// SHA-256 of the component, hex.
    pub digest: String,
}

/// `POST /runners/register`, with the registration token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub name: String,
    #[serde(default)]
    pub labels: Vec<String>,
    /// How many jobs the runner runs at once.
    pub slots: u32,
    /// Language ids the runner can compile and run.
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub plugins: Vec<PluginRef>,
}

/// `201` answer to a registration. The token is shown once: the backend keeps
/// only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegisterResponse {
    /// `rn_<ULID>`.
    pub runner_id: String,
    /// `rk_<random>`: the runner's bearer token from now on.
    pub token: String,
    pub heartbeat_interval_s: u64,
    pub lease_ttl_s: u64,
}

/// A job a runner holds, named in a heartbeat to renew its lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActiveJob {
    pub job_id: String,
    pub lease: String,
}

/// `POST /runners/{rid}/heartbeat`. `languages`/`plugins`, when present,
/// replace the advertised capabilities (a plugin was added or removed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatRequest {
    #[serde(default)]
    pub active_jobs: Vec<ActiveJob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugins: Option<Vec<PluginRef>>,
}

/// The heartbeat's answer: jobs the runner must stop (rejudged, cancelled,
/// reclaimed) and not report, and the interval the next heartbeats keep (so
/// a runner restarted on a saved identity learns it without registering).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeartbeatResponse {
    pub cancel: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval_s: Option<u64>,
}

/// A blob by address, with its size so a runner can check before it fetches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlobRef {
    /// SHA-256 of the contents, hex: `GET /blobs/{digest}`.
    pub digest: String,
    pub size: u64,
}

/// A problem as a job names it: the blob of its [`ProblemManifest`], whose
/// digest is the problem's revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProblemRef {
    pub id: String,
    pub manifest: BlobRef,
}

/// A stored problem revision: its package files by path (the layout
/// `judge_core::problem::load` reads), each a blob. Stored as a JSON blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProblemManifest {
    pub id: String,
    pub files: BTreeMap<String, BlobRef>,
}

/// What a job asks the runner to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// Judge a submission's source on a problem.
    Judge {
        language: String,
        /// The program text's digest and size (`GET /blobs/{digest}` when it
        /// is not inline).
        source: BlobRef,
        /// The program text itself, for sources up to 64 KiB: no blob is
        /// stored or fetched for them (the Redis record holds the text).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_text: Option<String>,
        problem: ProblemRef,
        /// The problem's checker program as a runner compiled it (for a
        /// checker shipped as C/C++ source), once one has: a runner without
        /// Docker runs it instead of compiling.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        compiled_checker: Option<BlobRef>,
    },
    /// Run a program once (a free code run, `POST /runs`).
    Run(RunJob),
}

/// What a runner must be able to do to take a job (matched against what it
/// advertised).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Requirements {
    pub language: String,
    /// A builtin or plugins-folder checker id; `None` when the checker ships
    /// in the problem package (fetched by digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checker: Option<String>,
    /// Labels the runner must carry (all of them).
    #[serde(default)]
    pub labels: Vec<String>,
}

/// `200` answer of `GET /runners/{rid}/jobs/next`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    pub job_id: String,
    pub submission_id: String,
    /// 1 for the first claim, 2 after one reclaim, ….
    pub attempt: u32,
    /// The fencing token `events` and `complete` echo.
    pub lease: String,
    pub lease_ttl_s: u64,
    pub spec: JobSpec,
}

/// One progress report of a running job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunnerEvent {
    /// The source compiled (or failed to: then `complete` follows with CE).
    Compiled {
        #[serde(default)]
        message: String,
    },
    /// One case's result.
    Case(CaseProgress),
    /// A piece of a run's output, sent as it is produced.
    Output(OutputChunk),
}

/// `POST /runners/{rid}/jobs/{jid}/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsRequest {
    pub lease: String,
    pub events: Vec<RunnerEvent>,
}

/// `PUT /runners/{rid}/jobs/{jid}/complete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    pub lease: String,
    pub result: JobResult,
    /// Also lease the runner's next job, in the same step as the result is
    /// accepted: the answer carries it (see [`CompleteResponse`]), saving a
    /// busy runner the round trip of a `jobs/next`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub next: bool,
}

/// `200` answer of `PUT /runners/{rid}/jobs/{jid}/complete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, Default)]
pub struct CompleteResponse {
    /// The job leased to the runner in the same step, when it asked
    /// (`next: true`), its result was accepted (or repeated) and a job it
    /// can run was queued. The runner holds it exactly as one from
    /// `jobs/next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Job>,
}

/// A job's result: a verdict for a judge job, a [`RunReport`] for a run.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum JobResult {
    Judge(JudgeReport),
    Run(RunReport),
}

impl From<JudgeReport> for JobResult {
    fn from(report: JudgeReport) -> Self {
        JobResult::Judge(report)
    }
}

impl From<RunReport> for JobResult {
    fn from(report: RunReport) -> Self {
        JobResult::Run(report)
    }
}

impl<'de> Deserialize<'de> for JobResult {
    /// A run's report is told apart by its `output` field, so a malformed
    /// body gets the error of the shape it meant (serde's untagged enums
    /// only say that nothing matched).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(deserializer)?;
        if value.get("output").is_some() {
            RunReport::deserialize(value).map(JobResult::Run).map_err(D::Error::custom)
        } else {
            JudgeReport::deserialize(value).map(JobResult::Judge).map_err(D::Error::custom)
        }
    }
}
