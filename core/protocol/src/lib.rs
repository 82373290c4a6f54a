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
//!
//! The modules import in one direction: [`common`] (what several parts
//! name: a record's kind, a case's progress) is the floor; [`runs`] builds
//! on it; [`runner`] and [`client`] build on both and never on each other;
//! [`normal_oj`], [`ops`] and [`config`] stand alone. Paths other crates use stay
//! where they were (`client::RecordKind`, `runner::CaseProgress` are
//! re-exports). A test below keeps the direction.

pub mod client;
pub mod common;
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

    /// The modules of this crate each may name (`crate::…`): one direction.
    const MAY_IMPORT: [(&str, &str, &[&str]); 7] = [
        ("common", include_str!("common.rs"), &[]),
        ("runs", include_str!("runs.rs"), &["common"]),
        ("runner", include_str!("runner.rs"), &["common", "runs"]),
        ("client", include_str!("client.rs"), &["common", "runs"]),
        ("normal_oj", include_str!("normal_oj.rs"), &[]),
        ("config", include_str!("config.rs"), &[]),
        ("ops", include_str!("ops.rs"), &[]),
    ];

    #[test]
    fn modules_import_in_one_direction() {
        for line in include_str!("lib.rs").lines() {
            if let Some(module) = line.strip_prefix("pub mod ").and_then(|m| m.strip_suffix(';')) {
                assert!(
                    MAY_IMPORT.iter().any(|(name, ..)| *name == module),
                    "module {module} is missing from MAY_IMPORT"
                );
            }
        }
        for (module, source, allowed) in MAY_IMPORT {
            for (at, _) in source.match_indices("crate::") {
                let name: String = source[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(allowed.contains(&name.as_str()), "{module} imports crate::{name}");
            }
        }
    }
}
