//! The JSON bodies of Gavel's HTTP API (`/api/v1`, `docs/contract.md` §4–§5), shared by the
//! backend, runner hosts and client commands so the two ends cannot drift.
//!
//! [`runner`] is the pull protocol (register, heartbeat, long-poll, events,
//! complete); [`runs`] are free code runs (both sides); [`client`] is what problem setters and judge front-ends send and
//! read (submissions, problems, clients). Every error body is an
//! [`ErrorBody`]. [`normal_oj`] is Normal-OJ's runner dialect, served under
//! `/compat/normal-oj`. [`ops`] is what operators read about the runners
//! (`GET /runners`, the dashboard). [`config`] is the shared settings file's
//! layout.
//! Types only: no I/O, no async runtime.

pub mod client;
pub mod config;
pub mod normal_oj;
pub mod ops;
pub mod runner;
pub mod runs;

use serde::{Deserialize, Serialize};

/// The prefix of every API path.
pub const API_BASE: &str = "/api/v1";

/// How long the backend keeps a connection that is waiting for a request's
/// headers — also an idle keep-alive connection between two requests — before
/// it closes it (so slow senders cannot hold connections).
pub const IDLE_CONNECTION_CLOSE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long Gavel's own clients (runners, the CLI) keep an idle pooled
/// connection: well under [`IDLE_CONNECTION_CLOSE`], so they never send a
/// request on a connection the backend is closing (a race that fails the
/// request with "connection closed before message completed").
pub const CLIENT_POOL_IDLE: std::time::Duration = std::time::Duration::from_secs(4);

/// The body of every 4xx/5xx answer: a stable machine-readable `error` code
/// and a sentence for humans saying what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
    pub detail: String,
}

/// Whether `digest` looks like a blob address: 64 lowercase hex digits of a
/// SHA-256.
pub fn is_digest(digest: &str) -> bool {
    digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_64_lowercase_hex_digits() {
        assert!(is_digest(&"ab".repeat(32)));
        assert!(!is_digest(&"AB".repeat(32)));
        assert!(!is_digest(&"ab".repeat(31)));
        assert!(!is_digest(&format!("{}/x", "a".repeat(62))));
    }
}
