//! Jobs and their leases: a claim leases a queued job a runner can run,
//! chosen fairly across owners (`claim_job` in `lua/lib.lua`); progress
//! events and completions are fenced by the lease (or, for runners that do
//! not echo leases, by the runner's identity); a runner may hand a job
//! back; the reaper's sweep requeues jobs whose lease expired.
//! Also what a runner may read while it holds a lease, and the secrets
//! backend instances share to sign a job's download URLs.

use std::time::Duration;

use protocol::runner::{Job, JobResult, JobSpec, RunnerEvent};

use crate::records::RUN_KIND;
use crate::{DIALECT_NORMAL_OJ, Offer, Queue, QueueError, Result, keys, scripts};

/// A leased job.
#[derive(Debug, Clone)]
pub struct Leased {
    pub job: Job,
    /// What Normal-OJ's runners need of it (JSON), when they can run it.
    pub normal_oj: Option<String>,
}

/// The answer to a claim.
#[derive(Debug, Clone)]
pub enum Claim {
    Job(Box<Leased>),
    /// Nothing this runner can run is queued.
    Nothing(Idle),
    /// The runner already holds as many leases as it has slots.
    SlotsFull,
    UnknownRunner,
}

/// What a claim that found nothing learnt on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idle {
    /// What the runner offers.
    pub offer: Offer,
    /// Those of the jobs the claim was woken for that are still queued.
    pub still_queued: Vec<String>,
}

/// The answer to a fenced call (`events`, `complete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fence {
    Accepted,
    /// The same completion again: nothing changes, the answer is still 200.
    Repeated,
    /// The job ended without a result (rejudged, cancelled) while this
    /// runner held it: nothing changes. (`complete` only.)
    Dropped,
    /// No such job (never, or ended over a day ago). (`complete` only.)
    Unknown,
    /// The lease is no longer the job's (expired, reclaimed, rejudged,
    /// cancelled): nothing changes.
    Stale,
    /// A verdict for a run, or a run's report for a submission: nothing
    /// changes. (`complete` only.)
    WrongKind,
}

/// Which lease a fenced call names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseRef<'a> {
    /// The fencing token the runner echoes (Gavel's protocol).
    Token(&'a str),
    /// Whichever lease the runner holds: runners that do not echo leases
    /// (Normal-OJ's) are fenced by their identity.
    Held,
}

impl<'a> LeaseRef<'a> {
    /// The scripts' form: a lease `''` stands for the one the runner holds.
    pub(crate) fn as_arg(self) -> &'a str {
        match self {
            LeaseRef::Token(lease) => lease,
            LeaseRef::Held => "",
        }
    }
}

/// The answer to [`Queue::abort`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abort {
    /// Back at the queue's tail.
    Requeued,
    /// That was its last attempt: the submission is JE with the reason.
    Failed,
    /// No such job, or this runner already completed it.
    Unknown,
    /// Not held by this runner.
    Stale,
}

/// A job as the Normal-OJ dialect's code download sees it.
#[derive(Debug, Clone)]
pub struct JobRecord {
    /// The lease a runner holds on it now, if any.
    pub lease: Option<String>,
    pub spec: JobSpec,
    /// The Normal-OJ payload (JSON), if any.
    pub normal_oj: Option<String>,
}

/// `lua/complete.lua`'s answer.
fn fence_of(outcome: &str) -> Fence {
    match outcome {
        "ok" => Fence::Accepted,
        "repeat" => Fence::Repeated,
        "dropped" => Fence::Dropped,
        "unknown" => Fence::Unknown,
        "wrong_kind" => Fence::WrongKind,
        _ => Fence::Stale,
    }
}

impl Queue {
    /// Leases the next queued job the runner can run (fair dispatch). `woken_for`: the
    /// jobs whose wakes brought the caller here (a claim that finds nothing
    /// says which of them are still queued).
    pub async fn claim(&self, runner_id: &str, lease: &str, woken_for: &[String]) -> Result<Claim> {
        let reply: Vec<String> = self
            .script(&scripts::Claim {
                runner_id,
                lease,
                lease_ttl: self.config.lease_ttl,
                max_attempts: self.config.max_attempts,
                scan_window: self.config.scan_window,
                woken_for,
            })
            .await?;
        self.claimed(&reply, lease)
    }

    /// `claim_job`'s answer (lib.lua) as a [`Claim`] under `lease`.
    fn claimed(&self, reply: &[String], lease: &str) -> Result<Claim> {
        match reply {
            [ok, job_id, submission_id, attempt, spec, normal_oj] if ok == "ok" => {
                let spec: JobSpec = serde_json::from_str(spec)
                    .map_err(|e| QueueError::Corrupt(format!("job {job_id} spec: {e}")))?;
                let job = Job {
                    job_id: job_id.clone(),
                    submission_id: submission_id.clone(),
                    attempt: attempt.parse().unwrap_or(0),
                    lease: lease.to_string(),
                    lease_ttl_s: self.config.lease_ttl.as_secs(),
                    spec,
                };
                let normal_oj = Some(normal_oj.clone()).filter(|p| !p.is_empty());
                Ok(Claim::Job(Box::new(Leased { job, normal_oj })))
            }
            [none, languages, checkers, labels, dialect, still_queued @ ..] if none == "none" => {
                let set = |list: &str| list.split_whitespace().map(str::to_string).collect();
                let offer = Offer {
                    languages: set(languages),
                    checkers: set(checkers),
                    labels: set(labels),
                    normal_oj: dialect == DIALECT_NORMAL_OJ,
                };
                Ok(Claim::Nothing(Idle { offer, still_queued: still_queued.to_vec() }))
            }
            [s] if s == "slots_full" => Ok(Claim::SlotsFull),
            [s] if s == "unknown_runner" => Ok(Claim::UnknownRunner),
            other => Err(QueueError::Corrupt(format!("claim answered {other:?}"))),
        }
    }

    /// Appends progress events of a job whose lease the runner holds.
    pub async fn post_events(
        &self,
        runner_id: &str,
        job_id: &str,
        lease: &str,
        events: &[RunnerEvent],
    ) -> Result<Fence> {
        let events = events
            .iter()
            .map(|event| {
                serde_json::to_string(event).map_err(|e| QueueError::Corrupt(format!("event: {e}")))
            })
            .collect::<Result<_>>()?;
        let call = scripts::Events {
            runner_id,
            job_id,
            lease,
            max_attempts: self.config.max_attempts,
            events,
        };
        let reply: String = self.script(&call).await?;
        Ok(if reply == "ok" { Fence::Accepted } else { Fence::Stale })
    }

    /// Records a job's result if the lease is still the job's.
    pub async fn complete(
        &self,
        runner_id: &str,
        job_id: &str,
        lease: LeaseRef<'_>,
        result: &JobResult,
    ) -> Result<Fence> {
        let reply: String =
            self.script(&self.completion(runner_id, job_id, lease, result)?).await?;
        Ok(fence_of(&reply))
    }

    /// [`Queue::complete`], then, if the result was accepted (or repeated),
    /// [`Queue::claim`] for the same runner under `next_lease`, in one step
    /// and one round trip: a busy runner's next job comes with the answer to
    /// its last one's result. A repeat gets the job the first call handed
    /// out, if the runner still holds it. The claim is `None` when the
    /// result did not count.
    pub async fn complete_then_claim(
        &self,
        runner_id: &str,
        job_id: &str,
        lease: &str,
        result: &JobResult,
        next_lease: &str,
    ) -> Result<(Fence, Option<Claim>)> {
        let reply: Vec<String> = self
            .script(&scripts::CompleteNext {
                complete: self.completion(runner_id, job_id, LeaseRef::Token(lease), result)?,
                next_lease,
                lease_ttl: self.config.lease_ttl,
                scan_window: self.config.scan_window,
            })
            .await?;
        match reply.as_slice() {
            [outcome, lease, claim @ ..] => {
                Ok((fence_of(outcome), Some(self.claimed(claim, lease)?)))
            }
            [outcome] => Ok((fence_of(outcome), None)),
            [] => Err(QueueError::Corrupt("complete_next answered nothing".into())),
        }
    }

    /// `complete.lua`'s arguments (also the first of `complete_next.lua`'s).
    fn completion<'a>(
        &self,
        runner_id: &'a str,
        job_id: &'a str,
        lease: LeaseRef<'a>,
        result: &'a JobResult,
    ) -> Result<scripts::Complete<'a>> {
        let result_json = serde_json::to_string(result)
            .map_err(|e| QueueError::Corrupt(format!("result: {e}")))?;
        let (status, score, message, kind) = match result {
            JobResult::Judge(r) => (r.status.code(), r.score, &r.message, ""),
            JobResult::Run(r) => (r.status.code(), 0.0, &r.message, RUN_KIND),
        };
        Ok(scripts::Complete {
            runner_id,
            job_id,
            lease: lease.as_arg(),
            max_attempts: self.config.max_attempts,
            status,
            score,
            result_json,
            message,
            kind,
        })
    }

    /// A runner hands back a job it holds (see `lua/abort.lua`); `counted`
    /// says whether the attempt it used is spent.
    pub async fn abort(
        &self,
        runner_id: &str,
        job_id: &str,
        counted: bool,
        reason: &str,
    ) -> Result<Abort> {
        let reply: String = self
            .script(&scripts::Abort {
                runner_id,
                job_id,
                counted,
                max_attempts: self.config.max_attempts,
                reason,
            })
            .await?;
        Ok(match reply.as_str() {
            "requeued" => Abort::Requeued,
            "failed" => Abort::Failed,
            "unknown" => Abort::Unknown,
            _ => Abort::Stale,
        })
    }

    /// A job's spec, dialect payload and current lease; `None` if there is
    /// no such job.
    pub async fn job(&self, job_id: &str) -> Result<Option<JobRecord>> {
        type Fields = (Option<String>, Option<String>, Option<String>, Option<String>);
        let (state, spec, normal_oj, lease): Fields = redis::cmd("HMGET")
            .arg(keys::job(self.prefix(), job_id))
            .arg(&["state", "spec", "noj", "lease"])
            .query_async(&mut self.conn())
            .await?;
        let (Some(state), Some(spec)) = (state, spec) else { return Ok(None) };
        let spec = serde_json::from_str(&spec)
            .map_err(|e| QueueError::Corrupt(format!("job {job_id} spec: {e}")))?;
        Ok(Some(JobRecord {
            lease: lease.filter(|_| state == "leased"),
            spec,
            normal_oj: normal_oj.filter(|p| !p.is_empty()),
        }))
    }

    /// A random secret shared by every backend instance on this Redis,
    /// made by the first one that asks (e.g. the key that signs URLs).
    pub async fn shared_secret(&self, name: &str) -> Result<Vec<u8>> {
        let key = keys::secret(self.prefix(), name);
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh)
            .map_err(|e| QueueError::Corrupt(format!("the OS random source failed: {e}")))?;
        let (secret,): (Vec<u8>,) = redis::pipe()
            .cmd("SET")
            .arg(&key)
            .arg(&fresh[..])
            .arg("NX")
            .ignore()
            .get(&key)
            .query_async(&mut self.conn())
            .await?;
        Ok(secret)
    }

    /// The reaper's sweep: reclaims expired leases; returns how many, and
    /// how long until the next lease expires.
    pub async fn reclaim_expired(&self) -> Result<(u64, Option<Duration>)> {
        let sweep = scripts::Reclaim { max_attempts: self.config.max_attempts, limit: 1000 };
        let (reclaimed, next_ms): (u64, i64) = self.script(&sweep).await?;
        let next = u64::try_from(next_ms).ok().map(Duration::from_millis);
        Ok((reclaimed, next))
    }

    /// Whether a runner may read a blob now (see `lua/blob_access.lua`).
    pub async fn runner_may_read(&self, runner_id: &str, digest: &str) -> Result<bool> {
        let allowed: i64 = self.script(&scripts::BlobAccess { runner_id, digest }).await?;
        Ok(allowed == 1)
    }
}
