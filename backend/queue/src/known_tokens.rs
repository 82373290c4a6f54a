//! Runner tokens this backend instance found valid a moment ago, so a busy
//! runner's calls (long-poll, complete, events) do not each pay a Redis round
//! trip to authenticate.
//!
//! Safe to remember: a token is random and never reissued, so the runner it
//! names never changes; only the runner itself can go away (deregistered,
//! expired). Every runner call then runs a script that checks the runner,
//! or its lease, still exists, so a remembered token of a runner that is
//! gone still changes nothing. The memory is short ([`MEMORY`]), and an
//! instance forgets a runner it deregisters at once, so such a token is soon
//! refused as unknown again ("register again").

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::RunnerAuth;

/// How long a token found valid is believed without asking Redis.
pub(crate) const MEMORY: Duration = Duration::from_secs(1);

/// Most tokens remembered at once (runners of one backend instance).
const CAPACITY: usize = 16_384;

struct Known {
    runner_id: String,
    dialect: String,
    checked_at: Instant,
}

/// Token hash → the runner it belongs to, as checked lately.
#[derive(Default)]
pub(crate) struct KnownTokens(Mutex<HashMap<String, Known>>);

impl KnownTokens {
    /// What a remembered check says of `token_hash` on `runner_id`'s path
    /// in `dialect`, or `None` when it must be asked of Redis.
    pub(crate) fn check(
        &self,
        runner_id: &str,
        token_hash: &str,
        dialect: &str,
    ) -> Option<RunnerAuth> {
        let known = self.lock();
        let entry = known.get(token_hash).filter(|k| k.checked_at.elapsed() < MEMORY)?;
        Some(if entry.runner_id == runner_id && entry.dialect == dialect {
            RunnerAuth::Valid
        } else {
            RunnerAuth::Foreign
        })
    }

    /// Remembers that `token_hash` is `runner_id`'s, registered in `dialect`.
    pub(crate) fn remember(&self, token_hash: &str, runner_id: &str, dialect: &str) {
        let mut known = self.lock();
        if known.len() >= CAPACITY {
            known.retain(|_, k| k.checked_at.elapsed() < MEMORY);
            if known.len() >= CAPACITY {
                known.clear();
            }
        }
        let entry = Known {
            runner_id: runner_id.to_string(),
            dialect: dialect.to_string(),
            checked_at: Instant::now(),
        };
        known.insert(token_hash.to_string(), entry);
    }

    /// Forgets the tokens of a runner that is gone.
    pub(crate) fn forget_runner(&self, runner_id: &str) {
        self.lock().retain(|_, k| k.runner_id != runner_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Known>> {
        // A map of hints: consistent after any panic (single inserts/removes).
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_token_is_valid_for_its_runner_and_dialect_only() {
        let known = KnownTokens::default();
        assert_eq!(known.check("rn_a", "h1", ""), None, "nothing remembered yet");
        known.remember("h1", "rn_a", "");
        assert_eq!(known.check("rn_a", "h1", ""), Some(RunnerAuth::Valid));
        assert_eq!(known.check("rn_b", "h1", ""), Some(RunnerAuth::Foreign));
        assert_eq!(known.check("rn_a", "h1", "normal-oj"), Some(RunnerAuth::Foreign));
        assert_eq!(known.check("rn_a", "h2", ""), None);
    }

    #[test]
    fn a_token_is_asked_again_after_the_memory_and_once_its_runner_is_forgotten() {
        let known = KnownTokens::default();
        known.remember("h1", "rn_a", "");
        known.remember("h2", "rn_b", "");
        known.forget_runner("rn_a");
        assert_eq!(known.check("rn_a", "h1", ""), None);
        assert_eq!(known.check("rn_b", "h2", ""), Some(RunnerAuth::Valid));
        known.lock().get_mut("h2").unwrap().checked_at -= MEMORY;
        assert_eq!(known.check("rn_b", "h2", ""), None);
    }
}
