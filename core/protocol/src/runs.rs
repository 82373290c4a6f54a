//! Free code runs (`docs/contract.md` §5, `/runs`): what a client asks for, what a runner
//! receives and reports, and what the client reads back.
//!
//! A run is one program run once, with no problem and no checker. Its output
//! is text: bytes that are not UTF-8 are shown as U+FFFD (binary results
//! belong in artifacts, which travel as base64).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::common::RecordKind;

/// Default and largest CPU time of a run, in ms.
pub const DEFAULT_TIME_MS: u64 = 5_000;
pub const MAX_TIME_MS: u64 = 30_000;
/// Default and largest memory of a run, in MiB.
pub const DEFAULT_MEMORY_MB: u64 = 256;
pub const MAX_MEMORY_MB: u64 = 1_024;
/// Default and largest output (stdout and stderr together), in KiB.
pub const DEFAULT_OUTPUT_KB: u64 = 256;
pub const MAX_OUTPUT_KB: u64 = 1_024;
/// Files the program leaves in its work dir that come back: at most this
/// many, of at most this many bytes together.
pub const MAX_ARTIFACTS: usize = 16;
pub const MAX_ARTIFACT_BYTES: u64 = 1 << 20;
/// The largest stdin of a run.
pub const MAX_STDIN_BYTES: usize = 1 << 20;

/// `POST /runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    pub language: String,
    /// Plain file names (no directories) → their text.
    pub files: BTreeMap<String, String>,
    /// The file to compile or interpret; may be left out when there is one
    /// file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    #[serde(default)]
    pub stdin: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// Added to the sandbox's fixed environment; nothing of any host's
    /// environment is passed.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub limits: RunLimitsRequest,
    /// Labels a runner must carry to take the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// A run's limits; each left out takes its default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunLimitsRequest {
    /// CPU time (Docker languages) or metered time (Wasm), default 5000, at
    /// most 30000; the wall-clock backstop is the executor's (3× for Docker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<u64>,
    /// Default 256, at most 1024.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    /// stdout and stderr together, default 256, at most 1024.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_kb: Option<u64>,
}

/// `201` answer to `POST /runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunCreated {
    pub run_id: String,
}

/// Where a run stands, or how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum RunStatus {
    /// Queued, waiting for a runner.
    #[serde(rename = "PENDING")]
    Pending,
    /// A runner took it.
    #[serde(rename = "RUNNING")]
    Running,
    /// The program exited with status 0.
    #[serde(rename = "OK")]
    Ok,
    /// It exited with another status, or crashed (a signal, a trap).
    #[serde(rename = "RE")]
    RuntimeError,
    /// The entry did not compile; nothing ran.
    #[serde(rename = "CE")]
    CompileError,
    #[serde(rename = "TLE")]
    TimeLimit,
    #[serde(rename = "MLE")]
    MemoryLimit,
    #[serde(rename = "OLE")]
    OutputLimit,
    /// Gavel failed, not the program (the message says how).
    #[serde(rename = "JE")]
    SystemError,
    #[serde(rename = "CANCELLED")]
    Cancelled,
}

impl RunStatus {
    const CODES: [(RunStatus, &'static str); 10] = [
        (RunStatus::Pending, "PENDING"),
        (RunStatus::Running, "RUNNING"),
        (RunStatus::Ok, "OK"),
        (RunStatus::RuntimeError, "RE"),
        (RunStatus::CompileError, "CE"),
        (RunStatus::TimeLimit, "TLE"),
        (RunStatus::MemoryLimit, "MLE"),
        (RunStatus::OutputLimit, "OLE"),
        (RunStatus::SystemError, "JE"),
        (RunStatus::Cancelled, "CANCELLED"),
    ];

    /// The JSON spelling, e.g. `"TLE"`.
    pub fn code(self) -> &'static str {
        Self::CODES.iter().find(|(s, _)| *s == self).map_or("JE", |(_, c)| c)
    }

    /// The status a stored code stands for. The queue's generic states
    /// (`JUDGING` while a runner holds the job) map onto a run's.
    pub fn from_code(code: &str) -> Option<RunStatus> {
        if code == "JUDGING" {
            return Some(RunStatus::Running);
        }
        Self::CODES.iter().find(|(_, c)| *c == code).map(|(s, _)| *s)
    }

    /// Whether the run has ended.
    pub fn is_final(self) -> bool {
        !matches!(self, RunStatus::Pending | RunStatus::Running)
    }
}

/// A file the program left in its work dir: `GET /runs/{id}/artifacts/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ArtifactInfo {
    pub name: String,
    pub size: u64,
}

/// `GET /runs/{id}`: the current state, final once `status` is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunView {
    pub run_id: String,
    pub language: String,
    pub status: RunStatus,
    /// The program's exit status, when it exited on its own.
    pub exit_code: Option<i32>,
    /// CPU time (metered time for Wasm) and peak memory.
    pub time_ms: u64,
    pub memory_kb: u64,
    /// Why it ended as it did (the compiler's message for CE, the limit hit,
    /// the JE reason).
    pub message: String,
    pub job_id: String,
    pub attempt: u32,
    pub created_at_ms: u64,
    pub finished_at_ms: Option<u64>,
    pub artifacts: Vec<ArtifactInfo>,
    /// Files left out by the artifact caps (names only).
    pub artifacts_dropped: Vec<String>,
}

/// One line of `GET /runs` and of the live stream's `run` events: what a
/// list shows; `GET /runs/{id}` has the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunSummary {
    /// Always `run`.
    pub kind: RecordKind,
    pub run_id: String,
    pub language: String,
    pub status: RunStatus,
    pub created_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at_ms: Option<u64>,
}

/// A job's output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputStream {
    Stdout,
    Stderr,
}

impl OutputStream {
    pub fn name(self) -> &'static str {
        match self {
            OutputStream::Stdout => "stdout",
            OutputStream::Stderr => "stderr",
        }
    }
}

/// A piece of a run's output, in the order it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutputChunk {
    pub stream: OutputStream,
    pub data: String,
}

/// What a runner receives for a run (the job's `spec`, `kind = "run"`):
/// the request with its defaults and caps applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunJob {
    pub language: String,
    pub files: BTreeMap<String, String>,
    pub entry: String,
    pub stdin: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub time_ms: u64,
    pub memory_mb: u64,
    pub output_bytes: u64,
    pub max_artifacts: usize,
    pub max_artifact_bytes: u64,
}

/// A file the program left, as the runner reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactData {
    pub name: String,
    /// The bytes, base64 (standard alphabet, padded).
    pub content_base64: String,
}

/// A run's result, as a runner completes it (`PUT …/complete` `result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunReport {
    pub status: RunStatus,
    pub exit_code: Option<i32>,
    pub time_ms: u64,
    pub memory_kb: u64,
    #[serde(default)]
    pub message: String,
    /// Everything written, interleaved as it was written (adjacent pieces of
    /// one stream merged).
    pub output: Vec<OutputChunk>,
    #[serde(default)]
    pub artifacts: Vec<ArtifactData>,
    #[serde(default)]
    pub artifacts_dropped: Vec<String>,
}

impl RunReport {
    /// A report of Gavel's own failure.
    pub fn system_error(message: impl Into<String>) -> RunReport {
        RunReport {
            status: RunStatus::SystemError,
            exit_code: None,
            time_ms: 0,
            memory_kb: 0,
            message: message.into(),
            output: Vec::new(),
            artifacts: Vec::new(),
            artifacts_dropped: Vec::new(),
        }
    }

    /// The output of one stream, or of both interleaved (`None`).
    pub fn text(&self, stream: Option<OutputStream>) -> String {
        self.output
            .iter()
            .filter(|chunk| stream.is_none_or(|s| s == chunk.stream))
            .map(|chunk| chunk.data.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_codes() {
        for (status, code) in RunStatus::CODES {
            assert_eq!(status.code(), code);
            assert_eq!(RunStatus::from_code(code), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), code);
        }
        assert_eq!(RunStatus::from_code("JUDGING"), Some(RunStatus::Running));
        assert_eq!(RunStatus::from_code("AC"), None);
        assert!(RunStatus::TimeLimit.is_final() && !RunStatus::Running.is_final());
    }

    #[test]
    fn a_minimal_request_takes_its_defaults() {
        let request: RunRequest =
            serde_json::from_str(r#"{"language":"python3","files":{"a.py":"print(1)"}}"#).unwrap();
        assert_eq!(request.entry, None);
        assert_eq!(request.limits, RunLimitsRequest::default());
        assert!(
            serde_json::from_str::<RunRequest>(r#"{"language":"c","files":{},"x":1}"#).is_err()
        );
    }

    #[test]
    fn text_joins_one_stream_or_both_in_order() {
        let chunk = |stream, data: &str| OutputChunk { stream, data: data.into() };
        let mut report = RunReport::system_error("");
        report.output = vec![
            chunk(OutputStream::Stdout, "a"),
            chunk(OutputStream::Stderr, "b"),
            chunk(OutputStream::Stdout, "c"),
        ];
        assert_eq!(report.text(None), "abc");
        assert_eq!(report.text(Some(OutputStream::Stdout)), "ac");
        assert_eq!(report.text(Some(OutputStream::Stderr)), "b");
    }
}
