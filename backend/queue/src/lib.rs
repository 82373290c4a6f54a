//! Gavel's shared state in Redis: the job queue with leases, the runner
//! registry, submissions with their event logs, problems and client tokens.
//!
//! Every change that must be atomic is one Lua script (`lua/*.lua`, loaded by
//! [`scripts`]); `lua/lib.lua` documents the key schema. All keys share one
//! hash tag (`{gavel}` by default), so the scripts run unchanged on a Redis
//! Cluster slot. Times are the Redis server's, so backend instances agree.
//!
//! The queue is FIFO with capability matching: a claim leases the oldest
//! queued job whose language, checker and labels the runner advertised
//! (looking at a bounded window of the queue). A lease is a random fencing
//! token with a deadline; heartbeats renew it; an expired lease is reclaimed
//! by whichever script runs next (claims, heartbeats, completions and the
//! backend's reaper all sweep), so exactly one caller requeues it, and a job
//! claimed `max_attempts` times ends as JE with the reason.
//!
//! Runners speak one of two dialects over the same queue: Gavel's own
//! protocol, or Normal-OJ's ([`DIALECT_NORMAL_OJ`]), whose runners get only
//! jobs submitted with a Normal-OJ payload ([`NewSubmission::normal_oj`]),
//! do not echo leases (their identity fences their calls) and may hand a job
//! back ([`Queue::abort`]).
//!
//! [`Listener`] turns the pub/sub channels into in-process wake-ups for
//! long-polls (`wake`) and SSE streams (`events:*`).

mod known_tokens;
mod listener;
pub mod managed;
mod scripts;
mod waiters;

use std::collections::BTreeMap;
use std::time::Duration;

use judge_core::report::{JudgeReport, TaskReport};
use judge_core::verdict::Status;
use protocol::client::{
    DeliveryState, DeliveryView, RecordKind, SubmissionSummary, SubmissionView, Summary,
};
use protocol::runner::{ActiveJob, Job, JobResult, JobSpec, RunnerEvent};
use protocol::runs::{ArtifactInfo, RunReport, RunStatus, RunSummary, RunView};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use listener::Listener;
pub use waiters::{Need, Offer, Waiter, Waiters};

/// The dialect name of Normal-OJ's runners (a runner's `dialect`).
pub const DIALECT_NORMAL_OJ: &str = "normal-oj";

/// How the queue behaves; the same on every backend instance.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Key prefix, with the hash tag: `{gavel}:`.
    pub prefix: String,
    pub lease_ttl: Duration,
    pub heartbeat_interval: Duration,
    /// Claims of one job before it ends as JE.
    pub max_attempts: u32,
    /// Queued jobs a claim looks at to find one the runner can run.
    pub scan_window: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            prefix: "{gavel}:".into(),
            lease_ttl: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(10),
            max_attempts: 3,
            scan_window: 200,
        }
    }
}

impl QueueConfig {
    /// How long a runner that stopped calling stays registered: three missed
    /// heartbeats plus one lease.
    pub fn runner_ttl(&self) -> Duration {
        self.heartbeat_interval * 3 + self.lease_ttl
    }
}

/// Why a queue operation failed (the HTTP layer answers 503/500).
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = QueueError> = std::result::Result<T, E>;

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
    /// `""` for Gavel's protocol, or [`DIALECT_NORMAL_OJ`].
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

impl LeaseRef<'_> {
    fn as_arg(&self) -> &str {
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

/// Capability updates carried by a heartbeat.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    pub languages: Option<Vec<String>>,
    pub checkers: Option<Vec<String>>,
    pub plugins_json: Option<String>,
}

/// A submission about to be queued.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub id: String,
    pub job_id: String,
    pub problem_id: String,
    /// Digest of the problem's manifest blob.
    pub revision: String,
    /// Digest of the source blob.
    pub source: String,
    pub language: String,
    pub checker: Option<String>,
    pub labels: Vec<String>,
    pub owner: String,
    pub max_score: f64,
    pub spec: JobSpec,
    /// What Normal-OJ's runners need to run it (JSON), when they can.
    pub normal_oj: Option<String>,
    /// The client's idempotency key, if it sent one.
    pub idempotency: Option<Idempotency>,
}

/// A code run about to be queued.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub id: String,
    pub job_id: String,
    pub language: String,
    pub labels: Vec<String>,
    pub owner: String,
    /// A [`JobSpec::Run`].
    pub spec: JobSpec,
    /// The client's idempotency key, if it sent one.
    pub idempotency: Option<Idempotency>,
}

/// How long an idempotency key is remembered. A client retries a create
/// whose answer it lost within seconds or minutes (a backend killed or
/// restarted, a network cut, Redis restarted from its AOF); a day covers
/// any such outage and a retry the next morning, as Stripe's keys do, while
/// each key costs Redis only a small hash (about 200 bytes) until it
/// expires.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

/// A client's idempotency key on a create (`POST /submissions`, `POST
/// /runs`), scoped by the record's owner: the same key again is the same
/// create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// What the client sent (the HTTP layer checks its shape).
    pub key: String,
    /// Names the request (SHA-256 of its canonical form): the key with
    /// another fingerprint is a conflict, not a retry.
    pub fingerprint: String,
}

/// What a create did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Recorded and queued, under this id.
    Created(String),
    /// The owner's key was used before for the same request: nothing new;
    /// the id created then.
    Replayed(String),
    /// The owner's key was used before for another request (this id):
    /// nothing changed.
    Conflict(String),
    /// The problem is no longer at the submission's revision (replaced
    /// since its record was read), or gone: nothing changed.
    ProblemChanged,
    /// No runner offered the language within [`LANGUAGE_MEMORY`]: nothing
    /// changed.
    UnknownLanguage,
}

/// How recently a runner must have offered a language for a submission or
/// run in it to be accepted.
pub const LANGUAGE_MEMORY: Duration = Duration::from_secs(24 * 3600);

/// A stored code run, with its report once it has one.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub view: RunView,
    pub owner: String,
    pub report: Option<RunReport>,
}

/// The `kind` of a code run's record (a submission's is empty).
const RUN_KIND: &str = "run";

/// A stored submission.
#[derive(Debug, Clone)]
pub struct SubmissionRecord {
    pub view: SubmissionView,
    pub owner: String,
}

/// A submission's summary and its owner (who may see it).
#[derive(Debug, Clone)]
pub struct SummaryRecord {
    pub summary: Summary,
    pub owner: String,
}

/// Which listing [`Queue::recent_summaries`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Submissions,
    Runs,
}

/// How many of the newest submissions [`Queue::recent_summaries`] looks
/// through for one owner's, and how many per round trip.
pub const SUMMARY_SCAN: usize = 10_000;
const SUMMARY_PAGE: usize = 500;

/// The outcome of a rejudge or cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Done,
    UnknownSubmission,
    /// Cancel of a submission that already has its final verdict.
    AlreadyFinal,
}

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
}

/// A registered runner, for `GET /runners`.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RunnerInfo {
    pub runner_id: String,
    pub name: String,
    pub labels: Vec<String>,
    pub slots: u32,
    pub languages: Vec<String>,
    pub active_jobs: u64,
    pub last_seen_ms: u64,
}

/// A registered runner as the dashboard shows it ([`Queue::runner_board`]).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RunnerStatus {
    #[serde(flatten)]
    pub info: RunnerInfo,
    /// Seen within two heartbeat intervals (what `runners_alive` counts).
    pub alive: bool,
    /// The jobs it holds leases on now.
    pub jobs: Vec<HeldJob>,
}

/// A job a runner holds, and the submission it judges.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct HeldJob {
    pub job_id: String,
    pub submission_id: String,
}

/// The handle to Gavel's Redis state. Cheap to clone (one multiplexed
/// connection, reconnected on failure).
#[derive(Clone)]
pub struct Queue {
    conn: ConnectionManager,
    client: redis::Client,
    config: std::sync::Arc<QueueConfig>,
    known_tokens: std::sync::Arc<known_tokens::KnownTokens>,
}

fn words(list: &[String]) -> String {
    list.join(" ")
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `lua/submit.lua`'s answer.
fn submitted(outcome: &str, id: String) -> Result<Submitted> {
    match outcome {
        "created" => Ok(Submitted::Created(id)),
        "replayed" => Ok(Submitted::Replayed(id)),
        "conflict" => Ok(Submitted::Conflict(id)),
        "problem_changed" => Ok(Submitted::ProblemChanged),
        "unknown_language" => Ok(Submitted::UnknownLanguage),
        other => Err(QueueError::Corrupt(format!("submit.lua answered {other:?}"))),
    }
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

/// Whether `id` can be stored in a space-separated list: a language,
/// checker or label id (`[A-Za-z0-9._:+-]`, 1..=64 characters).
pub fn is_valid_word(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:+-".contains(&b))
}

impl Queue {
    /// Connects, checks the server answers, and loads every script.
    pub async fn connect(url: &str, config: QueueConfig) -> Result<Queue> {
        let client = redis::Client::open(url)?;
        let mut conn =
            ConnectionManager::new_with_config(client.clone(), reconnect_policy()).await?;
        for script in scripts::all() {
            script.prepare_invoke().load_async(&mut conn).await?;
        }
        Ok(Queue {
            conn,
            client,
            config: std::sync::Arc::new(config),
            known_tokens: Default::default(),
        })
    }

    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.config.prefix)
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> bool {
        redis::cmd("PING").query_async::<String>(&mut self.conn()).await.is_ok()
    }

    /// Starts the pub/sub listener that wakes long-polls and SSE streams.
    pub fn listen(&self) -> Listener {
        Listener::spawn(self.client.clone(), self.config.prefix.clone())
    }

    // ---- runners ----

    pub async fn register_runner(&self, runner: &NewRunner) -> Result<()> {
        let _: String = scripts::REGISTER
            .key(&self.config.prefix)
            .arg(&runner.id)
            .arg(&runner.token_hash)
            .arg(&runner.name)
            .arg(words(&runner.labels))
            .arg(runner.slots)
            .arg(words(&runner.languages))
            .arg(words(&runner.checkers))
            .arg(&runner.plugins_json)
            .arg(millis(runner.ttl))
            .arg(runner.dialect)
            .invoke_async(&mut self.conn())
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
                .get(self.key(&format!("runner-token:{token_hash}")))
                .cmd("HMGET")
                .arg(self.key(&format!("runner:{runner_id}")))
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
        Ok(self.conn().get(self.key(&format!("runner-token:{token_hash}"))).await?)
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
        let unchanged = || "-".to_string();
        let mut invocation = scripts::HEARTBEAT.key(&self.config.prefix);
        invocation
            .arg(runner_id)
            .arg(millis(self.config.lease_ttl))
            .arg(millis(self.config.runner_ttl()))
            .arg(self.config.max_attempts)
            .arg(capabilities.languages.as_deref().map_or_else(unchanged, words))
            .arg(capabilities.checkers.as_deref().map_or_else(unchanged, words))
            .arg(capabilities.plugins_json.clone().unwrap_or_else(unchanged));
        for (job_id, lease) in leases {
            invocation.arg(job_id).arg(lease.as_arg());
        }
        let mut reply: Vec<String> = invocation.invoke_async(&mut self.conn()).await?;
        if reply.first().map(String::as_str) != Some("ok") {
            return Ok(None);
        }
        reply.remove(0);
        Ok(Some(reply))
    }

    /// Leases the oldest queued job the runner can run. `woken_for`: the
    /// jobs whose wakes brought the caller here (a claim that finds nothing
    /// says which of them are still queued).
    pub async fn claim(&self, runner_id: &str, lease: &str, woken_for: &[String]) -> Result<Claim> {
        let reply: Vec<String> = scripts::CLAIM
            .key(&self.config.prefix)
            .arg(runner_id)
            .arg(lease)
            .arg(millis(self.config.lease_ttl))
            .arg(self.config.max_attempts)
            .arg(self.config.scan_window)
            .arg(woken_for)
            .invoke_async(&mut self.conn())
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
        let mut invocation = scripts::EVENTS.key(&self.config.prefix);
        invocation.arg(runner_id).arg(job_id).arg(lease).arg(self.config.max_attempts);
        for event in events {
            let json = serde_json::to_string(event)
                .map_err(|e| QueueError::Corrupt(format!("event: {e}")))?;
            invocation.arg(json);
        }
        let reply: String = invocation.invoke_async(&mut self.conn()).await?;
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
        let mut invocation = scripts::COMPLETE.key(&self.config.prefix);
        self.completion_args(&mut invocation, runner_id, job_id, lease, result)?;
        let reply: String = invocation.invoke_async(&mut self.conn()).await?;
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
        let mut invocation = scripts::COMPLETE_NEXT.key(&self.config.prefix);
        self.completion_args(&mut invocation, runner_id, job_id, LeaseRef::Token(lease), result)?;
        invocation.arg(next_lease).arg(millis(self.config.lease_ttl)).arg(self.config.scan_window);
        let reply: Vec<String> = invocation.invoke_async(&mut self.conn()).await?;
        match reply.as_slice() {
            [outcome, lease, claim @ ..] => {
                Ok((fence_of(outcome), Some(self.claimed(claim, lease)?)))
            }
            [outcome] => Ok((fence_of(outcome), None)),
            [] => Err(QueueError::Corrupt("complete_next answered nothing".into())),
        }
    }

    /// ARGV[1..9] of `complete.lua` (and `complete_next.lua`).
    fn completion_args(
        &self,
        invocation: &mut redis::ScriptInvocation<'_>,
        runner_id: &str,
        job_id: &str,
        lease: LeaseRef<'_>,
        result: &JobResult,
    ) -> Result<()> {
        let json = serde_json::to_string(result)
            .map_err(|e| QueueError::Corrupt(format!("result: {e}")))?;
        let (status, score, message, kind) = match result {
            JobResult::Judge(r) => (r.status.code(), r.score, &r.message, ""),
            JobResult::Run(r) => (r.status.code(), 0.0, &r.message, RUN_KIND),
        };
        invocation
            .arg(runner_id)
            .arg(job_id)
            .arg(lease.as_arg())
            .arg(self.config.max_attempts)
            .arg(status)
            .arg(score)
            .arg(json)
            .arg(message)
            .arg(kind);
        Ok(())
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
        let reply: String = scripts::ABORT
            .key(&self.config.prefix)
            .arg(runner_id)
            .arg(job_id)
            .arg(if counted { "1" } else { "0" })
            .arg(self.config.max_attempts)
            .arg(reason)
            .invoke_async(&mut self.conn())
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
            .arg(self.key(&format!("job:{job_id}")))
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
        let key = self.key(&format!("secret:{name}"));
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

    /// Removes a runner and requeues its jobs; `None` for an unknown runner.
    pub async fn deregister(&self, runner_id: &str) -> Result<Option<u64>> {
        let requeued: i64 = scripts::DEREGISTER
            .key(&self.config.prefix)
            .arg(runner_id)
            .invoke_async(&mut self.conn())
            .await?;
        self.known_tokens.forget_runner(runner_id);
        Ok(u64::try_from(requeued).ok())
    }

    /// The reaper's sweep: reclaims expired leases; returns how many, and
    /// how long until the next lease expires.
    pub async fn reclaim_expired(&self) -> Result<(u64, Option<Duration>)> {
        let (reclaimed, next_ms): (u64, i64) = scripts::RECLAIM
            .key(&self.config.prefix)
            .arg(self.config.max_attempts)
            .arg(1000)
            .invoke_async(&mut self.conn())
            .await?;
        let next = u64::try_from(next_ms).ok().map(Duration::from_millis);
        Ok((reclaimed, next))
    }

    /// Whether a runner may read a blob now (see `lua/blob_access.lua`).
    pub async fn runner_may_read(&self, runner_id: &str, digest: &str) -> Result<bool> {
        let allowed: i64 = scripts::BLOB_ACCESS
            .key(&self.config.prefix)
            .arg(runner_id)
            .arg(digest)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(allowed == 1)
    }

    /// Registered runners, most recently seen first (prunes expired ones).
    pub async fn runners(&self) -> Result<Vec<RunnerInfo>> {
        let mut conn = self.conn();
        let ids: Vec<String> = conn.zrevrange(self.key("runners"), 0, 999).await?;
        let mut out = Vec::new();
        for id in ids {
            let key = self.key(&format!("runner:{id}"));
            let fields: BTreeMap<String, String> = conn.hgetall(&key).await?;
            if fields.is_empty() {
                let _: () = conn.zrem(self.key("runners"), &id).await?;
                continue;
            }
            let active_jobs: u64 = conn.scard(format!("{key}:jobs")).await?;
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
            pipe.smembers(self.key(&format!("runner:{}:jobs", runner.runner_id)));
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
            pipe.hget(self.key(&format!("job:{job_id}")), "sub");
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
        Ok(self.conn().zrangebyscore(self.key("languages"), since, "+inf").await?)
    }

    async fn server_time_ms(&self) -> Result<u64> {
        let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(&mut self.conn()).await?;
        Ok(secs * 1000 + micros / 1000)
    }

    // ---- submissions ----

    /// Records a submission and queues its job, unless its idempotency key
    /// was used before, its problem is no longer at its revision, or no
    /// runner offers its language (then nothing changes).
    pub async fn submit(&self, submission: &NewSubmission) -> Result<Submitted> {
        let spec = serde_json::to_string(&submission.spec)
            .map_err(|e| QueueError::Corrupt(format!("spec: {e}")))?;
        let mut call = scripts::SUBMIT.key(&self.config.prefix);
        call.arg(&submission.id)
            .arg(&submission.job_id)
            .arg(&submission.problem_id)
            .arg(&submission.revision)
            .arg(&submission.source)
            .arg(&submission.language)
            .arg(submission.checker.as_deref().unwrap_or(""))
            .arg(words(&submission.labels))
            .arg(&submission.owner)
            .arg(submission.max_score)
            .arg(spec)
            .arg(submission.normal_oj.as_deref().unwrap_or(""))
            .arg("");
        self.create(call, submission.idempotency.as_ref()).await
    }

    /// Records a code run and queues its job (`spec` is a
    /// [`JobSpec::Run`]), unless its idempotency key was used before or no
    /// runner offers its language.
    pub async fn submit_run(&self, run: &NewRun) -> Result<Submitted> {
        let spec = serde_json::to_string(&run.spec)
            .map_err(|e| QueueError::Corrupt(format!("spec: {e}")))?;
        let mut call = scripts::SUBMIT.key(&self.config.prefix);
        call.arg(&run.id)
            .arg(&run.job_id)
            .arg("") // problem
            .arg("") // revision
            .arg("") // source
            .arg(&run.language)
            .arg("") // checker
            .arg(words(&run.labels))
            .arg(&run.owner)
            .arg(0) // max score
            .arg(spec)
            .arg("") // Normal-OJ payload: their runners do not run code
            .arg(RUN_KIND);
        self.create(call, run.idempotency.as_ref()).await
    }

    /// Runs `lua/submit.lua` with the record's arguments in `call` and the
    /// idempotency key's: the one path of both kinds of create.
    async fn create(
        &self,
        mut call: redis::ScriptInvocation<'_>,
        idempotency: Option<&Idempotency>,
    ) -> Result<Submitted> {
        match idempotency {
            Some(idempotency) => call
                .arg(&idempotency.key)
                .arg(&idempotency.fingerprint)
                .arg(millis(IDEMPOTENCY_TTL)),
            None => call.arg("").arg("").arg(0),
        };
        call.arg(millis(LANGUAGE_MEMORY));
        let (outcome, id): (String, String) = call.invoke_async(&mut self.conn()).await?;
        submitted(&outcome, id)
    }

    /// What an earlier create under `owner`'s key did, if there was one:
    /// [`Submitted::Replayed`] when it had the same fingerprint,
    /// [`Submitted::Conflict`] otherwise. A read only: [`submit`](Self::submit)
    /// decides again, atomically, so two racing requests still make one
    /// record; this lets a retry be answered before its request is checked
    /// again (the problem or language may be gone since).
    pub async fn earlier_create(
        &self,
        owner: &str,
        idempotency: &Idempotency,
    ) -> Result<Option<Submitted>> {
        // The key of `idempotency_key` in lua/lib.lua.
        let key = self.key(&format!("idem:{owner}:{}", idempotency.key));
        let (fingerprint, id): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(key)
            .arg("fingerprint")
            .arg("id")
            .query_async(&mut self.conn())
            .await?;
        Ok(id.map(|id| match fingerprint.as_deref() == Some(idempotency.fingerprint.as_str()) {
            true => Submitted::Replayed(id),
            false => Submitted::Conflict(id),
        }))
    }

    /// A stored code run (`None` for missing ids and submissions' ids).
    pub async fn run(&self, run_id: &str) -> Result<Option<RunRecord>> {
        let fields: BTreeMap<String, String> =
            self.conn().hgetall(self.key(&format!("sub:{run_id}"))).await?;
        if fields.get("kind").map(String::as_str) != Some(RUN_KIND) {
            return Ok(None);
        }
        run_record(run_id, &fields).map(Some)
    }

    /// Code run ids, newest first.
    pub async fn recent_runs(&self, count: usize) -> Result<Vec<String>> {
        let stop = isize::try_from(count).unwrap_or(isize::MAX) - 1;
        Ok(self.conn().zrevrange(self.key("runs"), 0, stop).await?)
    }

    /// Supersedes the submission's job with `new_job_id`.
    pub async fn rejudge(&self, submission_id: &str, new_job_id: &str) -> Result<Change> {
        let reply: String = scripts::REJUDGE
            .key(&self.config.prefix)
            .arg(submission_id)
            .arg(new_job_id)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(if reply == "ok" { Change::Done } else { Change::UnknownSubmission })
    }

    pub async fn cancel(&self, submission_id: &str) -> Result<Change> {
        let reply: String = scripts::CANCEL
            .key(&self.config.prefix)
            .arg(submission_id)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(match reply.as_str() {
            "ok" => Change::Done,
            "final" => Change::AlreadyFinal,
            _ => Change::UnknownSubmission,
        })
    }

    pub async fn submission(&self, submission_id: &str) -> Result<Option<SubmissionRecord>> {
        let fields: BTreeMap<String, String> =
            self.conn().hgetall(self.key(&format!("sub:{submission_id}"))).await?;
        if fields.is_empty() || fields.get("kind").is_some_and(|kind| kind == RUN_KIND) {
            return Ok(None);
        }
        submission_record(submission_id, &fields).map(Some)
    }

    /// Submission ids, newest first.
    pub async fn recent_submissions(&self, count: usize) -> Result<Vec<String>> {
        let stop = isize::try_from(count).unwrap_or(isize::MAX) - 1;
        Ok(self.conn().zrevrange(self.key("submissions"), 0, stop).await?)
    }

    /// Summaries of the newest submissions of `owner` (everyone's for
    /// `None`), newest first, at most `limit`. The index is global, so an
    /// owner's are looked for a page at a time among the newest
    /// [`SUMMARY_SCAN`] submissions: one `ZREVRANGE` and one pipelined round
    /// trip of `HMGET`s per page, never one call per submission.
    pub async fn recent_summaries(
        &self,
        listing: Listing,
        owner: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SummaryRecord>> {
        let index = self.key(match listing {
            Listing::Submissions => "submissions",
            Listing::Runs => "runs",
        });
        let page = if owner.is_some() { SUMMARY_PAGE } else { limit.max(1) };
        let mut found = Vec::new();
        let mut start = 0;
        while found.len() < limit && start < SUMMARY_SCAN {
            let stop = isize::try_from(start + page).unwrap_or(isize::MAX) - 1;
            let first = isize::try_from(start).unwrap_or(isize::MAX);
            let ids: Vec<String> = self.conn().zrevrange(&index, first, stop).await?;
            let exhausted = ids.len() < page;
            let records = self.summaries(&ids).await?;
            let visible = records.into_iter().filter(|r| owner.is_none_or(|o| r.owner == o));
            found.extend(visible.take(limit - found.len()));
            if exhausted {
                break;
            }
            start += page;
        }
        Ok(found)
    }

    /// Summaries of these submissions and runs, in order, with their
    /// owners, in one pipelined round trip; missing ones (and those with an
    /// unreadable status) are left out.
    pub async fn summaries(&self, ids: &[String]) -> Result<Vec<SummaryRecord>> {
        const FIELDS: [&str; 9] = [
            "kind",
            "owner",
            "problem",
            "language",
            "status",
            "score",
            "max_score",
            "created_at",
            "finished_at",
        ];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("HMGET").arg(self.key(&format!("sub:{id}"))).arg(&FIELDS);
        }
        let rows: Vec<Vec<Option<String>>> = pipe.query_async(&mut self.conn()).await?;
        let summaries = ids.iter().zip(rows).filter_map(|(id, row)| {
            let [kind, owner, problem, language, status, score, max_score, created, finished] =
                <[Option<String>; 9]>::try_from(row).ok()?;
            let number = |v: Option<String>| v.and_then(|v| v.parse::<f64>().ok());
            let int = |v: Option<String>| v.and_then(|v| v.parse::<u64>().ok());
            // `kind` is '' (or absent) for a submission, 'run' for a code run.
            if kind.as_deref() == Some(RUN_KIND) {
                return Some(SummaryRecord {
                    owner: owner?,
                    summary: Summary::Run(RunSummary {
                        kind: RecordKind::Run,
                        run_id: id.clone(),
                        language: language.unwrap_or_default(),
                        status: RunStatus::from_code(status.as_deref()?)?,
                        created_at_ms: int(created).unwrap_or(0),
                        finished_at_ms: int(finished),
                    }),
                });
            }
            Some(SummaryRecord {
                owner: owner?,
                summary: Summary::Submission(SubmissionSummary {
                    kind: RecordKind::Submission,
                    submission_id: id.clone(),
                    problem_id: problem.unwrap_or_default(),
                    language: language.unwrap_or_default(),
                    status: Status::from_code(status.as_deref()?)?,
                    score: number(score).unwrap_or(0.0),
                    max_score: number(max_score).unwrap_or(0.0),
                    created_at_ms: int(created).unwrap_or(0),
                    finished_at_ms: int(finished),
                }),
            })
        });
        Ok(summaries.collect())
    }

    /// The submission's event log from position `from` (0-based), as JSON
    /// [`protocol::client::SubmissionEvent`]s, and the log's length.
    pub async fn events(&self, submission_id: &str, from: usize) -> Result<(Vec<String>, usize)> {
        let key = self.key(&format!("sub:{submission_id}:events"));
        let start = isize::try_from(from).unwrap_or(isize::MAX);
        let (events, len): (Vec<String>, usize) =
            redis::pipe().lrange(&key, start, -1).llen(&key).query_async(&mut self.conn()).await?;
        Ok((events, len))
    }

    // ---- problems ----

    /// Stores a problem's record and its revision's blob set atomically;
    /// returns whether it replaced an existing problem.
    pub async fn put_problem(
        &self,
        id: &str,
        revision: &str,
        record_json: &str,
        digests: impl IntoIterator<Item = &str>,
    ) -> Result<bool> {
        let mut invocation = scripts::PUT_PROBLEM.key(&self.config.prefix);
        invocation.arg(id).arg(revision).arg(record_json);
        for digest in digests {
            invocation.arg(digest);
        }
        let reply: String = invocation.invoke_async(&mut self.conn()).await?;
        Ok(reply == "replaced")
    }

    pub async fn problem(&self, id: &str) -> Result<Option<String>> {
        Ok(self.conn().get(self.key(&format!("problem:{id}"))).await?)
    }

    pub async fn problem_ids(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = self.conn().smembers(self.key("problems")).await?;
        ids.sort();
        Ok(ids)
    }

    // ---- clients ----

    pub async fn create_client(&self, client_id: &str, name: &str, token_hash: &str) -> Result<()> {
        let _: () = redis::pipe()
            .atomic()
            .hset_multiple(self.key(&format!("client:{client_id}")), &[("name", name)])
            .set(self.key(&format!("client-token:{token_hash}")), client_id)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// The client a token (its SHA-256) belongs to.
    pub async fn client_for_token(&self, token_hash: &str) -> Result<Option<String>> {
        Ok(self.conn().get(self.key(&format!("client-token:{token_hash}"))).await?)
    }

    // ---- webhooks ----

    /// Sets `owner`'s webhook (replacing its URL and secret).
    pub async fn set_webhook(&self, owner: &str, url: &str, secret: &str) -> Result<()> {
        let key = self.key(&format!("webhook:{owner}"));
        let _: () = self.conn().hset_multiple(key, &[("url", url), ("secret", secret)]).await?;
        Ok(())
    }

    /// Removes `owner`'s webhook; whether it had one. Pending deliveries to
    /// it fail when they fall due.
    pub async fn delete_webhook(&self, owner: &str) -> Result<bool> {
        let removed: u64 = self.conn().del(self.key(&format!("webhook:{owner}"))).await?;
        Ok(removed > 0)
    }

    /// `owner`'s webhook URL and its newest deliveries, or `None`.
    pub async fn webhook(&self, owner: &str) -> Result<Option<(String, Vec<DeliveryView>)>> {
        let key = self.key(&format!("webhook:{owner}"));
        let (url, ids): (Option<String>, Vec<String>) = redis::pipe()
            .hget(&key, "url")
            .lrange(format!("{key}:deliveries"), 0, -1)
            .query_async(&mut self.conn())
            .await?;
        let Some(url) = url else { return Ok(None) };
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.hgetall(self.key(&format!("delivery:{id}")));
        }
        let records: Vec<BTreeMap<String, String>> = pipe.query_async(&mut self.conn()).await?;
        let deliveries =
            ids.into_iter().zip(records).filter_map(|(id, r)| delivery_view(id, &r)).collect();
        Ok(Some((url, deliveries)))
    }

    /// Deliveries that are due, hidden from other instances for `hide`.
    pub async fn take_deliveries(&self, limit: usize, hide: Duration) -> Result<Vec<DueDelivery>> {
        let flat: Vec<String> = scripts::WEBHOOK_TAKE
            .key(&self.config.prefix)
            .arg(limit)
            .arg(millis(hide))
            .invoke_async(&mut self.conn())
            .await?;
        Ok(flat
            .chunks_exact(4)
            .map(|c| DueDelivery {
                delivery_id: c[0].clone(),
                url: c[1].clone(),
                body: c[2].clone(),
                secret: c[3].clone(),
            })
            .collect())
    }

    /// Records one attempt at a delivery (see `lua/webhook_done.lua`).
    pub async fn delivery_attempted(
        &self,
        delivery_id: &str,
        attempt: &Attempt,
        policy: &RetryPolicy,
    ) -> Result<DeliveryState> {
        let reply: String = scripts::WEBHOOK_DONE
            .key(&self.config.prefix)
            .arg(delivery_id)
            .arg(if attempt.delivered { "1" } else { "0" })
            .arg(attempt.status_code.map(|c| c.to_string()).unwrap_or_default())
            .arg(&attempt.error)
            .arg(policy.max_attempts)
            .arg(millis(policy.first_backoff))
            .arg(millis(policy.max_backoff))
            .invoke_async(&mut self.conn())
            .await?;
        Ok(match reply.as_str() {
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        })
    }

    // ---- metrics ----

    pub async fn stats(&self) -> Result<Stats> {
        let now = self.server_time_ms().await?;
        let alive_since = now.saturating_sub(millis(self.config.heartbeat_interval * 2));
        let (pending, leased, runners_alive, counters): (u64, u64, u64, BTreeMap<String, u64>) =
            redis::pipe()
                .zcard(self.key("pending"))
                .zcard(self.key("leases"))
                .zcount(self.key("runners"), alive_since, "+inf")
                .hgetall(self.key("stats"))
                .query_async(&mut self.conn())
                .await?;
        let judgement_errors = counters
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("je:").map(|reason| (reason.to_string(), *v)))
            .collect();
        Ok(Stats {
            pending,
            leased,
            runners_alive,
            reclaims: counters.get("reclaims").copied().unwrap_or(0),
            completed: counters.get("completed").copied().unwrap_or(0),
            judgement_errors,
        })
    }
}

/// A delivery to attempt now.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub delivery_id: String,
    pub url: String,
    /// The JSON to post, exactly (the signature covers these bytes).
    pub body: String,
    pub secret: String,
}

/// How one attempt went.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    /// The receiver answered 2xx.
    pub delivered: bool,
    pub status_code: Option<u16>,
    pub error: String,
}

/// How failed deliveries are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    /// The wait after the first failure; it doubles after each one.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

fn delivery_view(id: String, r: &BTreeMap<String, String>) -> Option<DeliveryView> {
    let number = |name: &str| r.get(name).and_then(|v| v.parse::<f64>().ok()).map(|v| v as u64);
    let state = match r.get("state")?.as_str() {
        "delivered" => DeliveryState::Delivered,
        "failed" => DeliveryState::Failed,
        _ => DeliveryState::Pending,
    };
    Some(DeliveryView {
        delivery_id: id,
        submission_id: r.get("sub").cloned().unwrap_or_default(),
        state,
        attempts: number("attempts").map_or(0, |a| a as u32),
        last_status_code: number("last_code").and_then(|c| u16::try_from(c).ok()),
        last_error: r.get("last_error").cloned().unwrap_or_default(),
        created_at_ms: number("created_at").unwrap_or(0),
        next_attempt_at_ms: number("next_at"),
        delivered_at_ms: number("delivered_at"),
    })
}

/// How a lost Redis connection is retried: twice, within about half a
/// second. While Redis is down every call then fails fast (the HTTP layer
/// answers 503 and `/healthz` says `{"redis": false}` at once) instead of
/// each waiting out redis-rs' default backoff of six retries (about ten
/// seconds); the next call tries again.
fn reconnect_policy() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(400))
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn submission_record(id: &str, fields: &BTreeMap<String, String>) -> Result<SubmissionRecord> {
    let text = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let number = |name: &str| fields.get(name).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let int = |name: &str| fields.get(name).and_then(|v| v.parse::<u64>().ok());
    let status = Status::from_code(&text("status")).ok_or_else(|| {
        QueueError::Corrupt(format!("submission {id}: status {:?}", text("status")))
    })?;
    let report: Option<JudgeReport> = match fields.get("result").map(String::as_str) {
        None | Some("") => None,
        Some(json) => Some(
            serde_json::from_str(json)
                .map_err(|e| QueueError::Corrupt(format!("submission {id} result: {e}")))?,
        ),
    };
    let (time_ms, memory_kb, compile_message, tasks): (u64, u64, String, Vec<TaskReport>) =
        match report {
            Some(r) => (r.time_ms, r.memory_kb, r.compile_message, r.tasks),
            None => (0, 0, String::new(), Vec::new()),
        };
    Ok(SubmissionRecord {
        owner: text("owner"),
        view: SubmissionView {
            submission_id: id.to_string(),
            problem_id: text("problem"),
            language: text("language"),
            status,
            score: number("score"),
            max_score: number("max_score"),
            job_id: text("job"),
            attempt: int("attempt").and_then(|a| u32::try_from(a).ok()).unwrap_or(0),
            created_at_ms: int("created_at").unwrap_or(0),
            finished_at_ms: int("finished_at"),
            time_ms,
            memory_kb,
            compile_message,
            message: text("message"),
            tasks,
        },
    })
}

fn run_record(id: &str, fields: &BTreeMap<String, String>) -> Result<RunRecord> {
    let text = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let int = |name: &str| fields.get(name).and_then(|v| v.parse::<u64>().ok());
    let status = RunStatus::from_code(&text("status"))
        .ok_or_else(|| QueueError::Corrupt(format!("run {id}: status {:?}", text("status"))))?;
    let report: Option<RunReport> = match fields.get("result").map(String::as_str) {
        None | Some("") => None,
        Some(json) => Some(
            serde_json::from_str(json)
                .map_err(|e| QueueError::Corrupt(format!("run {id} result: {e}")))?,
        ),
    };
    let artifacts = report.as_ref().map_or_else(Vec::new, |r| {
        r.artifacts
            .iter()
            .map(|a| ArtifactInfo {
                name: a.name.clone(),
                // base64 without decoding: 3 bytes per 4 characters, less padding.
                size: (a.content_base64.len() / 4 * 3).saturating_sub(
                    a.content_base64.bytes().rev().take_while(|b| *b == b'=').count(),
                ) as u64,
            })
            .collect()
    });
    let view = RunView {
        run_id: id.to_string(),
        language: text("language"),
        status,
        exit_code: report.as_ref().and_then(|r| r.exit_code),
        time_ms: report.as_ref().map_or(0, |r| r.time_ms),
        memory_kb: report.as_ref().map_or(0, |r| r.memory_kb),
        message: text("message"),
        job_id: text("job"),
        attempt: int("attempt").and_then(|a| u32::try_from(a).ok()).unwrap_or(0),
        created_at_ms: int("created_at").unwrap_or(0),
        finished_at_ms: int("finished_at"),
        artifacts,
        artifacts_dropped: report.as_ref().map_or_else(Vec::new, |r| r.artifacts_dropped.clone()),
    };
    Ok(RunRecord { view, owner: text("owner"), report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_space_free_ids() {
        assert!(is_valid_word("javascript"));
        assert!(is_valid_word("c++17"));
        assert!(!is_valid_word("a b"));
        assert!(!is_valid_word(""));
        assert!(!is_valid_word(&"x".repeat(65)));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
