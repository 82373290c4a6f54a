//! The runner registry: registration, token checks, heartbeats (liveness,
//! lease renewals, capability updates, the jobs to stop), deregistration,
//! and the listings of runners (`GET /runners`, the dashboard's board) and of
//! the languages they offer.

use std::collections::BTreeMap;
use std::time::Duration;

use protocol::ops::{HeldJob, RunnerInfo, RunnerStatus};
use protocol::runner::ActiveJob;
use redis::AsyncCommands;

use crate::jobs::LeaseRef;
use crate::{Queue, Result, constant_time_eq, keys, millis, scripts};

/// A runner about to be registered.
#[derive(Debug, Clone)]
pub struct NewRunner {
    pub id: String,
    pub token_hash: String,
    pub name: String,
    pub labels: Vec<String>,
    pub slots: u32,
    pub languages: Vec<String>,
    pub checkers: Vec<String>,
    /// The advertised plugins, as JSON.
    pub plugins_json: String,
    /// `""` for Gavel's protocol, or [`DIALECT_NORMAL_OJ`](crate::DIALECT_NORMAL_OJ).
    pub dialect: &'static str,
    /// How long the runner stays registered without a call.
    pub ttl: Duration,
}

/// What a token says about the runner id in a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerAuth {
    /// The token is this runner's.
    Valid,
    /// No runner has this token (never issued, expired, deregistered).
    UnknownToken,
    /// The token is another runner's.
    Foreign,
}

/// Capability updates carried by a heartbeat.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    pub languages: Option<Vec<String>>,
    pub checkers: Option<Vec<String>>,
    pub plugins_json: Option<String>,
}

impl Queue {
    pub async fn register_runner(&self, runner: &NewRunner) -> Result<()> {
        let _: String = self
            .script(&scripts::Register {
                runner_id: &runner.id,
                token_hash: &runner.token_hash,
                name: &runner.name,
                labels: &runner.labels,
                slots: runner.slots,
                languages: &runner.languages,
                checkers: &runner.checkers,
                plugins_json: &runner.plugins_json,
                ttl: runner.ttl,
                dialect: runner.dialect,
            })
            .await?;
        Ok(())
    }

    /// Checks a runner token (its SHA-256, hex) against the runner id in a
    /// path, for a call in `dialect` (`""` for Gavel's protocol): a runner
    /// registered in another dialect counts as another runner. The stored
    /// hash is compared in constant time. A token found valid is believed
    /// for a moment without asking again (see `known_tokens.rs`).
    pub async fn authenticate_runner(
        &self,
        runner_id: &str,
        token_hash: &str,
        dialect: &str,
    ) -> Result<RunnerAuth> {
        if let Some(auth) = self.known_tokens.check(runner_id, token_hash, dialect) {
            return Ok(auth);
        }
        let (owner, (stored, registered_in)): (Option<String>, (Option<String>, Option<String>)) =
            redis::pipe()
                .get(keys::runner_token(self.prefix(), token_hash))
                .cmd("HMGET")
                .arg(keys::runner(self.prefix(), runner_id))
                .arg(&["token_hash", "dialect"])
                .query_async(&mut self.conn())
                .await?;
        Ok(match (owner, stored) {
            (None, _) => RunnerAuth::UnknownToken,
            (Some(owner), Some(stored))
                if owner == runner_id
                    && registered_in.as_deref().unwrap_or("") == dialect
                    && constant_time_eq(stored.as_bytes(), token_hash.as_bytes()) =>
            {
                self.known_tokens.remember(token_hash, runner_id, dialect);
                RunnerAuth::Valid
            }
            (Some(_), _) => RunnerAuth::Foreign,
        })
    }

    /// The runner a token (its SHA-256, hex) belongs to.
    pub async fn runner_for_token(&self, token_hash: &str) -> Result<Option<String>> {
        Ok(self.conn().get(keys::runner_token(self.prefix(), token_hash)).await?)
    }

    /// Renews a runner's liveness and the leases it names; returns the jobs
    /// it must stop, or `None` for an unknown runner.
    pub async fn heartbeat(
        &self,
        runner_id: &str,
        active_jobs: &[ActiveJob],
        capabilities: &Capabilities,
    ) -> Result<Option<Vec<String>>> {
        let leases = active_jobs.iter().map(|j| (j.job_id.as_str(), LeaseRef::Token(&j.lease)));
        self.renew(runner_id, leases, capabilities).await
    }

    /// [`Queue::heartbeat`] for runners that name only job ids: renews the
    /// leases the runner holds on them.
    pub async fn heartbeat_held(
        &self,
        runner_id: &str,
        job_ids: &[String],
    ) -> Result<Option<Vec<String>>> {
        let leases = job_ids.iter().map(|id| (id.as_str(), LeaseRef::Held));
        self.renew(runner_id, leases, &Capabilities::default()).await
    }

    async fn renew<'a>(
        &self,
        runner_id: &str,
        leases: impl Iterator<Item = (&'a str, LeaseRef<'a>)>,
        capabilities: &Capabilities,
    ) -> Result<Option<Vec<String>>> {
        let mut reply: Vec<String> = self
            .script(&scripts::Heartbeat {
                runner_id,
                lease_ttl: self.config.lease_ttl,
                runner_ttl: self.config.runner_ttl(),
                max_attempts: self.config.max_attempts,
                languages: capabilities.languages.as_deref(),
                checkers: capabilities.checkers.as_deref(),
                plugins_json: capabilities.plugins_json.as_deref(),
                leases: leases.map(|(job_id, lease)| (job_id, lease.as_arg())).collect(),
            })
            .await?;
        if reply.first().map(String::as_str) != Some("ok") {
            return Ok(None);
        }
        reply.remove(0);
        Ok(Some(reply))
    }

    /// Removes a runner and requeues its jobs; `None` for an unknown runner.
    pub async fn deregister(&self, runner_id: &str) -> Result<Option<u64>> {
        let requeued: i64 = self.script(&scripts::Deregister { runner_id }).await?;
        self.known_tokens.forget_runner(runner_id);
        Ok(u64::try_from(requeued).ok())
    }

    /// Registered runners, most recently seen first (prunes expired ones).
    pub async fn runners(&self) -> Result<Vec<RunnerInfo>> {
        let mut conn = self.conn();
        let ids: Vec<String> = conn.zrevrange(keys::runners(self.prefix()), 0, 999).await?;
        let mut out = Vec::new();
        for id in ids {
            let fields: BTreeMap<String, String> =
                conn.hgetall(keys::runner(self.prefix(), &id)).await?;
            if fields.is_empty() {
                let _: () = conn.zrem(keys::runners(self.prefix()), &id).await?;
                continue;
            }
            let active_jobs: u64 = conn.scard(keys::runner_jobs(self.prefix(), &id)).await?;
            let list = |name: &str| {
                fields.get(name).map(|v| v.split_whitespace().map(String::from).collect())
            };
            out.push(RunnerInfo {
                runner_id: id,
                name: fields.get("name").cloned().unwrap_or_default(),
                labels: list("labels").unwrap_or_default(),
                slots: fields.get("slots").and_then(|s| s.parse().ok()).unwrap_or(0),
                languages: list("languages").unwrap_or_default(),
                active_jobs,
                last_seen_ms: fields.get("last_seen").and_then(|s| s.parse().ok()).unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// [`Queue::runners`], each with whether it is alive (by Redis's clock)
    /// and the jobs it holds with their submissions: two pipelined round
    /// trips beyond the listing.
    pub async fn runner_board(&self) -> Result<Vec<RunnerStatus>> {
        let runners = self.runners().await?;
        let mut pipe = redis::pipe();
        pipe.cmd("TIME");
        for runner in &runners {
            pipe.smembers(keys::runner_jobs(self.prefix(), &runner.runner_id));
        }
        // TIME answers [seconds, microseconds], also as a list of strings.
        let mut replies: Vec<Vec<String>> = pipe.query_async(&mut self.conn()).await?;
        let mut held = replies.split_off(1);
        held.iter_mut().for_each(|ids| ids.sort());
        let time = |i: usize| replies[0].get(i).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
        let alive_since = (time(0) * 1000 + time(1) / 1000)
            .saturating_sub(millis(self.config.heartbeat_interval * 2));
        let mut pipe = redis::pipe();
        for job_id in held.iter().flatten() {
            pipe.hget(keys::job(self.prefix(), job_id), "sub");
        }
        let submissions: Vec<Option<String>> = match held.iter().all(Vec::is_empty) {
            true => Vec::new(),
            false => pipe.query_async(&mut self.conn()).await?,
        };
        let mut submissions = submissions.into_iter();
        Ok(runners
            .into_iter()
            .zip(held)
            .map(|(info, job_ids)| {
                let jobs = job_ids
                    .into_iter()
                    .map(|job_id| HeldJob {
                        job_id,
                        submission_id: submissions.next().flatten().unwrap_or_default(),
                    })
                    .collect();
                RunnerStatus { alive: info.last_seen_ms >= alive_since, info, jobs }
            })
            .collect())
    }

    /// Languages some runner advertised within `within`.
    pub async fn languages(&self, within: Duration) -> Result<Vec<String>> {
        let now = self.server_time_ms().await?;
        let since = now.saturating_sub(millis(within));
        Ok(self.conn().zrangebyscore(keys::languages(self.prefix()), since, "+inf").await?)
    }
}
