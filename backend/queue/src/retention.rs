//! Retention: how long finished records are kept, and the sweep that keeps
//! the listing of code runs free of expired ones.
//!
//! Expiry itself is Redis's: when a submission or run finishes, `finish` in
//! `lua/lib.lua` gives a code run's hash (its record, artifacts inline) and
//! event log, and a submission's event log, an expiry read from
//! `P..'retention'`, which every backend writes ([`Queue::sweep_retention`]
//! at start and then periodically). Submission records themselves are kept.
//! Listings skip ids whose record is gone; the sweep also drops them from
//! `P..'runs'`, and gives runs that finished before retention was set their
//! expiry.

use std::time::Duration;

use crate::{Queue, Result, scripts};

/// How long finished records are kept; [`Duration::ZERO`] keeps them forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// A finished code run: its record, artifacts and event log.
    pub runs: Duration,
    /// A finished submission's event log (the record stays).
    pub event_logs: Duration,
}

impl Default for Retention {
    /// Runs for 7 days, submissions' event logs for 30.
    fn default() -> Self {
        Retention { runs: DAY * 7, event_logs: DAY * 30 }
    }
}

const DAY: Duration = Duration::from_secs(24 * 3600);

/// Old runs one call of `retention.lua` looks at.
const SWEEP_PAGE: u64 = 500;

impl Queue {
    /// Records `retention` for the scripts (it applies to records that
    /// finish from now on) and drops expired code runs from their listing,
    /// giving finished runs without an expiry theirs. Returns how many ids
    /// left the listing.
    pub async fn sweep_retention(&self, retention: Retention) -> Result<u64> {
        let mut dropped = 0;
        let mut first = 0;
        loop {
            let call = scripts::Retention {
                runs: retention.runs,
                event_logs: retention.event_logs,
                first,
                page: SWEEP_PAGE,
            };
            let (gone, next): (u64, i64) = self.script(&call).await?;
            dropped += gone;
            match u64::try_from(next) {
                Ok(next) => first = next,
                Err(_) => return Ok(dropped),
            }
        }
    }
}
