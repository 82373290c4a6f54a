//! What more than one part of the API names: the floor of this crate's
//! modules. `runs` builds on it; `runner` and `client` build on both (and
//! re-export what they show of it), so the modules import in one
//! direction: `client`, `runner` → `runs` → `common`.

use judge_core::verdict::Status;
use serde::{Deserialize, Serialize};

/// What a listed record is: the listings and the live stream (`GET
/// /events`) carry both kinds, told apart by `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Submission,
    /// A free code run (`POST /runs`).
    Run,
}

/// One case's result, as a runner reports it and clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseProgress {
    /// Index of the task in the problem (0-based).
    pub task: usize,
    pub case: String,
    pub status: Status,
    pub score: f64,
    pub time_ms: u64,
    pub memory_kb: u64,
    #[serde(default)]
    pub message: String,
}
