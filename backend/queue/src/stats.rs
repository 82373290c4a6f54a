//! The queue's counters and gauges, for `/metrics`, `GET /queue` and the
//! dashboard: queued and leased jobs, live runners, and the counters the
//! scripts keep (reclaims, completions, JE verdicts by reason) and the blob
//! sweep's (`blob_refs`).

use std::collections::BTreeMap;

use crate::{Queue, Result, keys, millis};

/// Counters and gauges for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub pending: u64,
    pub leased: u64,
    pub runners_alive: u64,
    pub reclaims: u64,
    pub completed: u64,
    /// JE verdicts by reason.
    pub judgement_errors: BTreeMap<String, u64>,
    /// Blob sweeps finished, by any instance.
    pub gc_runs: u64,
    /// Blobs, and their bytes, the sweeps removed.
    pub gc_swept_blobs: u64,
    pub gc_swept_bytes: u64,
    /// When the last sweep ended (ms since the epoch, Redis's clock; 0: never).
    pub gc_last_run_ms: u64,
}

impl Queue {
    pub async fn stats(&self) -> Result<Stats> {
        let now = self.server_time_ms().await?;
        let alive_since = now.saturating_sub(millis(self.config.heartbeat_interval * 2));
        let (pending, leased, runners_alive, counters): (u64, u64, u64, BTreeMap<String, u64>) =
            redis::pipe()
                .zcard(keys::pending(self.prefix()))
                .zcard(keys::leases(self.prefix()))
                .zcount(keys::runners(self.prefix()), alive_since, "+inf")
                .hgetall(keys::stats(self.prefix()))
                .query_async(&mut self.conn())
                .await?;
        let judgement_errors = counters
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("je:").map(|reason| (reason.to_string(), *v)))
            .collect();
        let counter = |name: &str| counters.get(name).copied().unwrap_or(0);
        Ok(Stats {
            pending,
            leased,
            runners_alive,
            reclaims: counters.get("reclaims").copied().unwrap_or(0),
            completed: counters.get("completed").copied().unwrap_or(0),
            judgement_errors,
            gc_runs: counter("gc_runs"),
            gc_swept_blobs: counter("gc_swept_blobs"),
            gc_swept_bytes: counter("gc_swept_bytes"),
            gc_last_run_ms: counter("gc_last_run_ms"),
        })
    }
}
