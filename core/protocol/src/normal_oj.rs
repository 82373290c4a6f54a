//! Normal-OJ's runner dialect (`/compat/normal-oj`, `docs/normal-oj.md`):
//! the bodies their runner sends and reads, field for field. Register and
//! next-job answers are read at the top level; the testdata channel wraps
//! its answers in their `{status, message, data}` [`Envelope`].

use serde::{Deserialize, Serialize};

/// The path prefix the dialect is served under.
pub const BASE: &str = "/compat/normal-oj";

/// Their runner's languages, by the number it reads: `0` C11 (`main.c`),
/// `1` C++17 (`main.cpp`), `2` Python 3 (`main.py`); with Gavel's language
/// id and the source's extension.
pub const LANGUAGES: [(u8, &str, &str); 3] =
    [(0, "c", "c"), (1, "cpp", "cpp"), (2, "python3", "py")];

/// The dialect's number of a Gavel language id.
pub fn language_code(language: &str) -> Option<u8> {
    LANGUAGES.iter().find(|(_, id, _)| *id == language).map(|(code, ..)| *code)
}

/// The source file extension of a Gavel language id (`main.<ext>`).
pub fn language_extension(language: &str) -> Option<&'static str> {
    LANGUAGES.iter().find(|(_, id, _)| *id == language).map(|(.., ext)| *ext)
}

/// `POST /runners/register` (no `Authorization` header: the secret is here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegisterRequest {
    pub registration_token: String,
    pub name: String,
}

/// `201` answer to a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegisterResponse {
    /// `rn_<ULID>`.
    pub runner_id: String,
    /// `rk_` and 43 url-safe characters.
    pub token: String,
    pub config: RunnerConfig,
}

/// The settings a registered runner follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunnerConfig {
    pub heartbeat_interval_sec: u64,
    pub poll_interval_sec: u64,
    pub max_concurrent_jobs: u32,
}

/// `POST /runners/{rn}/heartbeat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeartbeatRequest {
    #[serde(default)]
    pub active_job_ids: Vec<String>,
}

/// One task of a job, as their meta data has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub task_score: u32,
    /// KB.
    pub memory_limit: u64,
    /// Milliseconds.
    pub time_limit: u64,
    pub case_count: u32,
}

/// `GET /runners/{rn}/next-job` → `200`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    pub job_id: String,
    pub submission_id: String,
    /// Numeric: their runner calls `int()` on it.
    pub problem_id: u64,
    /// See [`LANGUAGES`].
    pub language: u8,
    /// Absolute, credential included: fetched without any auth header.
    pub code_url: String,
    pub tasks: Vec<Task>,
}

/// One case's result in a completion: exactly their keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i64,
    /// Milliseconds.
    pub exec_time: i64,
    /// KB.
    pub memory_usage: i64,
    /// `AC WA CE TLE MLE RE OLE JE`.
    pub status: String,
}

/// `PUT /runners/{rn}/jobs/{jb}/complete`: one list per task, one result per
/// case, in the job's order. No score: the backend scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompleteRequest {
    pub tasks: Vec<Vec<CaseResult>>,
}

/// Why a runner hands a job back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AbortReason {
    /// The runner is shutting down: not the job's fault, no attempt counted.
    Drain,
    /// Fetching the code or the testdata failed: an attempt is counted.
    PrepFailed,
    /// The runner refused the job: an attempt is counted.
    Rejected,
}

impl AbortReason {
    /// Whether the hand-back uses up one of the job's attempts.
    pub fn counts_attempt(self) -> bool {
        !matches!(self, AbortReason::Drain)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AbortReason::Drain => "drain",
            AbortReason::PrepFailed => "prep_failed",
            AbortReason::Rejected => "rejected",
        }
    }
}

/// `PUT /runners/{rn}/jobs/{jb}/abort`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AbortRequest {
    pub reason: AbortReason,
}

/// The testdata channel's meta data: `{"tasks": [..]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Meta {
    pub tasks: Vec<Task>,
}

/// Their `{status, message, data}` answer of the testdata channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Envelope<T> {
    /// `"ok"` or `"err"`.
    pub status: String,
    pub message: String,
    pub data: T,
}

impl<T> Envelope<T> {
    pub fn ok(data: T) -> Self {
        Envelope { status: "ok".into(), message: String::new(), data }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_map_to_their_numbers_and_files() {
        assert_eq!(language_code("c"), Some(0));
        assert_eq!(language_code("cpp"), Some(1));
        assert_eq!(language_code("python3"), Some(2));
        assert_eq!(language_code("javascript"), None);
        assert_eq!(language_extension("python3"), Some("py"));
    }

    #[test]
    fn fields_have_their_casing() {
        let task = Task { task_score: 100, memory_limit: 65536, time_limit: 1000, case_count: 2 };
        assert_eq!(
            serde_json::to_string(&task).unwrap(),
            r#"{"taskScore":100,"memoryLimit":65536,"timeLimit":1000,"caseCount":2}"#
        );
        let case: CaseResult = serde_json::from_str(
            r#"{"stdout":"","stderr":"","exitCode":0,"execTime":3,"memoryUsage":1024,"status":"AC"}"#,
        )
        .unwrap();
        assert_eq!((case.exec_time, case.memory_usage), (3, 1024));
        let abort: AbortRequest = serde_json::from_str(r#"{"reason":"prep_failed"}"#).unwrap();
        assert!(abort.reason.counts_attempt());
        assert!(serde_json::from_str::<AbortRequest>(r#"{"reason":"tired"}"#).is_err());
    }
}
