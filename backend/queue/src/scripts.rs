//! The Lua scripts, loaded in one place, and their arguments, built in one
//! place. Each script is `lua/lib.lua` (shared helpers and the key schema)
//! followed by the script's own file, whose header documents its KEYS and
//! ARGV. Each has a struct here ([`Register`], [`Submit`], …) whose
//! [`ScriptCall::invocation`] pushes KEYS and ARGV in that documented order:
//! the order is written once, next to the file it mirrors, and the rest of
//! the crate fills in named fields. The scripts themselves are private to
//! this module, so no call can bypass its struct.

use std::sync::LazyLock;
use std::time::Duration;

use redis::{Script, ScriptInvocation};

use crate::{Idempotency, Quotas, millis, words};

macro_rules! script {
    ($name:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("../lua/lib.lua"),
                "\n",
                include_str!(concat!("../lua/", $name, ".lua"))
            ))
        })
    };
}

static REGISTER: LazyLock<Script> = script!("register");
static HEARTBEAT: LazyLock<Script> = script!("heartbeat");
static CLAIM: LazyLock<Script> = script!("claim");
static EVENTS: LazyLock<Script> = script!("events");
static COMPLETE: LazyLock<Script> = script!("complete");
static COMPLETE_NEXT: LazyLock<Script> = script!("complete_next");
static DEREGISTER: LazyLock<Script> = script!("deregister");
static RECLAIM: LazyLock<Script> = script!("reclaim");
static SUBMIT: LazyLock<Script> = script!("submit");
static REJUDGE: LazyLock<Script> = script!("rejudge");
static CANCEL: LazyLock<Script> = script!("cancel");
static BLOB_ACCESS: LazyLock<Script> = script!("blob_access");
static PUT_PROBLEM: LazyLock<Script> = script!("put_problem");
static ABORT: LazyLock<Script> = script!("abort");
static WEBHOOK_TAKE: LazyLock<Script> = script!("webhook_take");
static WEBHOOK_DONE: LazyLock<Script> = script!("webhook_done");
static CLIENT_SET: LazyLock<Script> = script!("client_set");
static CLIENT_STATS: LazyLock<Script> = script!("client_stats");
static QUOTA: LazyLock<Script> = script!("quota");
static ADOPT: LazyLock<Script> = script!("adopt");
static RETENTION: LazyLock<Script> = script!("retention");

/// Every script, for loading them all at start-up (a syntax error shows
/// there, not on first use).
pub(crate) fn all() -> [&'static Script; 21] {
    [
        &REGISTER,
        &HEARTBEAT,
        &CLAIM,
        &EVENTS,
        &COMPLETE,
        &COMPLETE_NEXT,
        &DEREGISTER,
        &RECLAIM,
        &SUBMIT,
        &REJUDGE,
        &CANCEL,
        &BLOB_ACCESS,
        &PUT_PROBLEM,
        &ABORT,
        &WEBHOOK_TAKE,
        &WEBHOOK_DONE,
        &CLIENT_SET,
        &CLIENT_STATS,
        &QUOTA,
        &ADOPT,
        &RETENTION,
    ]
}

/// One call of one script: which script, and its KEYS and ARGV.
pub(crate) trait ScriptCall {
    /// The invocation, KEYS[1] being the key `prefix` (every script's) and
    /// ARGV in the order the script's header documents.
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static>;

    /// Whether its change is one someone is told about and relies on (a
    /// create answered 201, a completion after which the runner forgets
    /// its result, an upload, an admin's change): such calls go through
    /// `Queue::acknowledged`, which holds the answer until enough replicas
    /// have the write. Bookkeeping a failover may roll back harmlessly
    /// (heartbeats, claims — a lost lease fences its runner out —, progress
    /// events, sweeps) is not.
    fn acknowledged(&self) -> bool {
        false
    }
}

/// `'1'` or `'0'`, the scripts' booleans.
fn flag(on: bool) -> &'static str {
    if on { "1" } else { "0" }
}

/// `lua/register.lua`: records a new runner and its token's hash.
pub(crate) struct Register<'a> {
    pub runner_id: &'a str,
    pub token_hash: &'a str,
    pub name: &'a str,
    pub labels: &'a [String],
    pub slots: u32,
    pub languages: &'a [String],
    pub checkers: &'a [String],
    pub plugins_json: &'a str,
    pub ttl: Duration,
    pub dialect: &'a str,
}

impl ScriptCall for Register<'_> {
    fn acknowledged(&self) -> bool {
        true
    }

    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = REGISTER.key(prefix);
        call.arg(self.runner_id)
            .arg(self.token_hash)
            .arg(self.name)
            .arg(words(self.labels))
            .arg(self.slots)
            .arg(words(self.languages))
            .arg(words(self.checkers))
            .arg(self.plugins_json)
            .arg(millis(self.ttl))
            .arg(self.dialect);
        call
    }
}

/// `lua/heartbeat.lua`: renews a runner and the leases it names.
pub(crate) struct Heartbeat<'a> {
    pub runner_id: &'a str,
    pub lease_ttl: Duration,
    pub runner_ttl: Duration,
    pub max_attempts: u32,
    /// `None`: unchanged (`'-'`).
    pub languages: Option<&'a [String]>,
    pub checkers: Option<&'a [String]>,
    pub plugins_json: Option<&'a str>,
    /// `(job id, lease)`; a lease `""` stands for the one the runner holds.
    pub leases: Vec<(&'a str, &'a str)>,
}

impl ScriptCall for Heartbeat<'_> {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        const UNCHANGED: &str = "-";
        let mut call = HEARTBEAT.key(prefix);
        call.arg(self.runner_id)
            .arg(millis(self.lease_ttl))
            .arg(millis(self.runner_ttl))
            .arg(self.max_attempts)
            .arg(self.languages.map_or_else(|| UNCHANGED.to_string(), words))
            .arg(self.checkers.map_or_else(|| UNCHANGED.to_string(), words))
            .arg(self.plugins_json.unwrap_or(UNCHANGED));
        for (job_id, lease) in &self.leases {
            call.arg(*job_id).arg(*lease);
        }
        call
    }
}

/// `lua/claim.lua`: leases the next queued job the runner can run.
pub(crate) struct Claim<'a> {
    pub runner_id: &'a str,
    pub lease: &'a str,
    pub lease_ttl: Duration,
    pub max_attempts: u32,
    pub scan_window: usize,
    /// The jobs whose wakes brought the caller here.
    pub woken_for: &'a [String],
}

impl ScriptCall for Claim<'_> {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = CLAIM.key(prefix);
        call.arg(self.runner_id)
            .arg(self.lease)
            .arg(millis(self.lease_ttl))
            .arg(self.max_attempts)
            .arg(self.scan_window)
            .arg(self.woken_for);
        call
    }
}

/// `lua/events.lua`: appends a running job's progress events.
pub(crate) struct Events<'a> {
    pub runner_id: &'a str,
    pub job_id: &'a str,
    pub lease: &'a str,
    pub max_attempts: u32,
    /// Each a JSON object with its `type`.
    pub events: Vec<String>,
}

impl ScriptCall for Events<'_> {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = EVENTS.key(prefix);
        call.arg(self.runner_id).arg(self.job_id).arg(self.lease).arg(self.max_attempts);
        for event in &self.events {
            call.arg(event);
        }
        call
    }
}

/// `lua/complete.lua`: records a job's result if the lease is still the
/// job's. Also ARGV[1..9] of [`CompleteNext`].
pub(crate) struct Complete<'a> {
    pub runner_id: &'a str,
    pub job_id: &'a str,
    /// `""` stands for the lease the runner holds.
    pub lease: &'a str,
    pub max_attempts: u32,
    pub status: &'a str,
    pub score: f64,
    pub result_json: String,
    pub message: &'a str,
    /// `""` (a verdict) or `"run"` (a run's report).
    pub kind: &'a str,
}

impl Complete<'_> {
    fn push(&self, call: &mut ScriptInvocation<'static>) {
        call.arg(self.runner_id)
            .arg(self.job_id)
            .arg(self.lease)
            .arg(self.max_attempts)
            .arg(self.status)
            .arg(self.score)
            .arg(&self.result_json)
            .arg(self.message)
            .arg(self.kind);
    }
}

impl ScriptCall for Complete<'_> {
    fn acknowledged(&self) -> bool {
        true
    }

    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = COMPLETE.key(prefix);
        self.push(&mut call);
        call
    }
}

/// `lua/complete_next.lua`: [`Complete`], then a claim for the same runner.
pub(crate) struct CompleteNext<'a> {
    pub complete: Complete<'a>,
    pub next_lease: &'a str,
    pub lease_ttl: Duration,
    pub scan_window: usize,
}

impl ScriptCall for CompleteNext<'_> {
    fn acknowledged(&self) -> bool {
        true
    }

    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = COMPLETE_NEXT.key(prefix);
        self.complete.push(&mut call);
        call.arg(self.next_lease).arg(millis(self.lease_ttl)).arg(self.scan_window);
        call
    }
}

/// `lua/deregister.lua`: removes a runner and requeues its jobs.
pub(crate) struct Deregister<'a> {
    pub runner_id: &'a str,
}

impl ScriptCall for Deregister<'_> {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = DEREGISTER.key(prefix);
        call.arg(self.runner_id);
        call
    }
}

/// `lua/reclaim.lua`: the reaper's sweep.
pub(crate) struct Reclaim {
    pub max_attempts: u32,
    /// How many leases to reclaim at most.
    pub limit: usize,
}

impl ScriptCall for Reclaim {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = RECLAIM.key(prefix);
        call.arg(self.max_attempts).arg(self.limit);
        call
    }
}

/// `lua/submit.lua`: records a submission or code run and queues its job.
/// A code run has no problem, revision, source, checker, max score or
/// Normal-OJ payload (`""`, `None`).
pub(crate) struct Submit<'a> {
    pub id: &'a str,
    pub job_id: &'a str,
    pub problem_id: &'a str,
    pub revision: &'a str,
    pub source: &'a str,
    pub language: &'a str,
    pub checker: &'a str,
    pub labels: &'a [String],
    pub owner: &'a str,
    /// `None` for a code run (stored as `0`).
    pub max_score: Option<f64>,
    pub spec_json: String,
    pub normal_oj: &'a str,
    /// `""` for a submission, `"run"` for a code run.
    pub kind: &'a str,
    /// The client's idempotency key, if it sent one.
    pub idempotency: Option<&'a Idempotency>,
    /// How long an idempotency key is remembered.
    pub idempotency_ttl: Duration,
    /// How recently a runner must have offered the language.
    pub language_memory: Duration,
    /// The job's estimated runner time (ms): what fair dispatch charges.
    pub cost: u64,
    /// The quotas of a client the admin set none on.
    pub default_quotas: Quotas,
}

impl ScriptCall for Submit<'_> {
    fn acknowledged(&self) -> bool {
        true
    }

    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = SUBMIT.key(prefix);
        call.arg(self.id)
            .arg(self.job_id)
            .arg(self.problem_id)
            .arg(self.revision)
            .arg(self.source)
            .arg(self.language)
            .arg(self.checker)
            .arg(words(self.labels))
            .arg(self.owner);
        match self.max_score {
            Some(score) => call.arg(score),
            None => call.arg(0),
        };
        call.arg(&self.spec_json).arg(self.normal_oj).arg(self.kind);
        match self.idempotency {
            Some(idempotency) => call
                .arg(&idempotency.key)
                .arg(&idempotency.fingerprint)
                .arg(millis(self.idempotency_ttl)),
            None => call.arg("").arg("").arg(0),
        };
        call.arg(millis(self.language_memory))
            .arg(self.cost.max(1))
            .arg(self.default_quotas.creates_per_minute)
            .arg(self.default_quotas.max_queued);
        call
    }
}

/// `lua/rejudge.lua`: supersedes a submission's job with a new one.
pub(crate) struct Rejudge<'a> {
    pub submission_id: &'a str,
    pub new_job_id: &'a str,
    /// The admin's rejudge: queued behind every live job.
    pub behind_live: bool,
}

impl ScriptCall for Rejudge<'_> {
    fn acknowledged(&self) -> bool {
        true
    }

    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = REJUDGE.key(prefix);
        call.arg(self.submission_id).arg(self.new_job_id).arg(flag(self.behind_live));
        call
    }
}

/// `lua/cancel.lua`: stops a submission that has no final verdict yet.
pub(crate) struct Cancel<'a> {
    pub submission_id: &'a str,
}

impl ScriptCall for Cancel<'_> {
    fn acknowledged(&self) -> bool {
        true
    }

    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = CANCEL.key(prefix);
        call.arg(self.submission_id);
        call
    }
}

/// `lua/blob_access.lua`: whether a runner may read a blob now.
pub(crate) struct BlobAccess<'a> {
    pub runner_id: &'a str,
    pub digest: &'a str,
}

impl ScriptCall for BlobAccess<'_> {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = BLOB_ACCESS.key(prefix);
        call.arg(self.runner_id).arg(self.digest);
        call
    }
}

/// `lua/put_problem.lua`: stores a problem and its revision's blob set.
pub(crate) struct PutProblem<'a> {
    pub id: &'a str,
    pub revision: &'a str,
    pub record_json: &'a str,
    /// The blob digests of the revision's files.
    pub digests: Vec<&'a str>,
}

impl ScriptCall for PutProblem<'_> {
    fn acknowledged(&self) -> bool {
        true
    }

    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = PUT_PROBLEM.key(prefix);
        call.arg(self.id).arg(self.revision).arg(self.record_json);
        for digest in &self.digests {
            call.arg(*digest);
        }
        call
    }
}

/// `lua/abort.lua`: a runner hands back a job it holds.
pub(crate) struct Abort<'a> {
    pub runner_id: &'a str,
    pub job_id: &'a str,
    /// Whether the attempt the claim used is spent.
    pub counted: bool,
    pub max_attempts: u32,
    pub reason: &'a str,
}

impl ScriptCall for Abort<'_> {
    fn acknowledged(&self) -> bool {
        true
    }

    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = ABORT.key(prefix);
        call.arg(self.runner_id)
            .arg(self.job_id)
            .arg(flag(self.counted))
            .arg(self.max_attempts)
            .arg(self.reason);
        call
    }
}

/// `lua/webhook_take.lua`: the deliveries that are due, hidden for a while.
pub(crate) struct WebhookTake {
    pub limit: usize,
    pub hide: Duration,
}

impl ScriptCall for WebhookTake {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = WEBHOOK_TAKE.key(prefix);
        call.arg(self.limit).arg(millis(self.hide));
        call
    }
}

/// `lua/webhook_done.lua`: records one attempt at a delivery.
pub(crate) struct WebhookDone<'a> {
    pub delivery_id: &'a str,
    pub delivered: bool,
    pub status_code: Option<u16>,
    pub error: &'a str,
    pub max_attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl ScriptCall for WebhookDone<'_> {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = WEBHOOK_DONE.key(prefix);
        call.arg(self.delivery_id)
            .arg(flag(self.delivered))
            .arg(self.status_code.map(|c| c.to_string()).unwrap_or_default())
            .arg(self.error)
            .arg(self.max_attempts)
            .arg(millis(self.first_backoff))
            .arg(millis(self.max_backoff));
        call
    }
}

/// `lua/client_set.lua`: sets a client's class, weight and quotas.
pub(crate) struct ClientSet<'a> {
    pub client_id: &'a str,
    /// `(field, value)`; a value `""` clears the field (the default again).
    pub fields: Vec<(&'static str, String)>,
}

impl ScriptCall for ClientSet<'_> {
    fn acknowledged(&self) -> bool {
        true
    }

    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = CLIENT_SET.key(prefix);
        call.arg(self.client_id);
        for (field, value) in &self.fields {
            call.arg(*field).arg(value);
        }
        call
    }
}

/// `lua/client_stats.lua`: each owner's queued and leased jobs.
pub(crate) struct ClientStats;

impl ScriptCall for ClientStats {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        CLIENT_STATS.key(prefix)
    }
}

/// `lua/quota.lua`: whether an owner is over a quota for one more create.
pub(crate) struct Quota<'a> {
    pub owner: &'a str,
    pub default_quotas: Quotas,
}

impl ScriptCall for Quota<'_> {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = QUOTA.key(prefix);
        call.arg(self.owner)
            .arg(self.default_quotas.creates_per_minute)
            .arg(self.default_quotas.max_queued);
        call
    }
}

/// `lua/adopt.lua`: puts jobs an older backend queued in dispatch queues.
pub(crate) struct Adopt;

impl ScriptCall for Adopt {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        ADOPT.key(prefix)
    }
}

/// `lua/retention.lua`: records the retention and applies it to one page of
/// old code runs.
pub(crate) struct Retention {
    pub runs: Duration,
    pub event_logs: Duration,
    pub first: u64,
    pub page: u64,
}

impl ScriptCall for Retention {
    fn invocation(&self, prefix: &str) -> ScriptInvocation<'static> {
        let mut call = RETENTION.key(prefix);
        call.arg(millis(self.runs)).arg(millis(self.event_logs)).arg(self.first).arg(self.page);
        call
    }
}
