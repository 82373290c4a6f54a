//! Gavel's shared state in Redis: the job queue with leases, the runner
//! registry, submissions with their event logs, problems and client tokens.
//!
//! Every change that must be atomic is one Lua script (`lua/*.lua`, loaded by
//! [`scripts`]); `lua/lib.lua` documents the key schema. All keys share one
//! hash tag (`{gavel}` by default), so the scripts run unchanged on a Redis
//! Cluster slot. Times are the Redis server's, so backend instances agree.
//!
//! The queue is fair across owners, with capability matching: each
//! owner's jobs wait in its own dispatch queue, FIFO; a claim leases a job
//! whose language, checker and labels the runner advertised, from the best
//! priority class with one (contest, practice, then the admin's rejudges)
//! and, within it, from the queue that has had the least runner time for
//! its weight (start-time fair queueing on each job's estimated cost,
//! cases × time limit), looking at a bounded window of jobs
//! (`lua/lib.lua`'s fair dispatch note). Creates are held to per-client
//! quotas ([`Quotas`]) in the script that stores them. A lease is a random fencing
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
//!
//! The crate is cut by concept, each an `impl Queue` block with its types:
//! `runners` (registration, tokens, heartbeats, the runner board), `jobs`
//! (claims, leases, events, completions, hand-backs, the reaper's sweep),
//! `records` (submissions and code runs: creating, reading, listing,
//! rejudging, cancelling), `problems`, `clients`, `webhooks` (owners'
//! webhooks and their deliveries), `stats`, `retention` (how long finished
//! records are kept), `schema` (the key schema's version, checked at
//! connect) and `blob_refs` (every blob the state refers to, for the blob
//! sweep). `keys` names every Redis key
//! the Rust side builds; `scripts` loads the Lua scripts and builds each
//! one's arguments in the order its header documents.

mod blob_refs;
mod clients;
mod jobs;
mod keys;
mod known_tokens;
mod listener;
pub mod managed;
mod problems;
mod records;
mod retention;
mod runners;
mod schema;
mod scripts;
mod stats;
pub mod topology;
mod waiters;
mod webhooks;

use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use clients::{
    ClientSettings, ClientUpdate, DEFAULT_QUOTAS, MAX_WEIGHT, OwnerCounts, PriorityClass,
    QUOTA_CEILING, Quotas, Refusal,
};
pub use jobs::{Abort, Claim, Fence, Idle, JobRecord, LeaseRef, Leased};
pub use listener::Listener;
pub use records::{
    Change, IDEMPOTENCY_TTL, Idempotency, LANGUAGE_MEMORY, Listing, NewRun, NewSubmission,
    RunRecord, SUMMARY_SCAN, SubmissionRecord, Submitted, SummaryRecord,
};
pub use retention::Retention;
pub use runners::{Capabilities, NewRunner, RunnerAuth};
pub use schema::SCHEMA_VERSION;
pub use stats::Stats;
pub use topology::{RedisTarget, Replication, Sentinels};
pub use waiters::{Need, Offer, Waiter, Waiters};
pub use webhooks::{Attempt, DueDelivery, RetryPolicy};

/// The dialect name of Normal-OJ's runners (a runner's `dialect`).
pub const DIALECT_NORMAL_OJ: &str = "normal-oj";

/// [`QueueConfig::redis_timeout`] unless set: long enough that no busy
/// Redis (fsyncing every write, on a loaded machine) reaches it, short
/// enough that a stalled one is answered with 503 before clients give up.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// The longest one call waits for Redis's answer before it fails (and
    /// the HTTP layer answers 503). A busy Redis only makes calls slower;
    /// this bounds how long a stalled one holds them (a timeout fails that
    /// call only; the connection stays).
    pub redis_timeout: Duration,
    /// The quotas of a client the admin set none on.
    pub quotas: Quotas,
    /// How many replicas must have a write before it is acknowledged.
    pub replication: Replication,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            prefix: "{gavel}:".into(),
            lease_ttl: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(10),
            max_attempts: 3,
            scan_window: 200,
            redis_timeout: DEFAULT_REDIS_TIMEOUT,
            quotas: DEFAULT_QUOTAS,
            replication: Replication::default(),
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
    /// Redis holds keys of a schema version this build does not know
    /// (written by a newer backend): nothing was changed.
    #[error(
        "Redis holds key schema version {found:?} ({key}), newer than version {supported}, \
         the newest this backend understands: refusing to start rather than corrupt it; \
         run a backend of that version (or newer), or use another Redis or key prefix"
    )]
    Schema { key: String, found: String, supported: u64 },
    /// An acknowledged write reached fewer replicas than required within
    /// the `WAIT` timeout. It is on the primary and may yet replicate, or
    /// be lost in a failover: it must not be reported as stored (a retry
    /// with the same `Idempotency-Key` finds it if it was kept).
    #[error("the write reached {acked} of the {wanted} replica(s) required within {timeout_ms} ms")]
    NotReplicated { acked: u32, wanted: u32, timeout_ms: u64 },
    /// The Sentinels could not name a primary (at start-up).
    #[error("finding the Redis primary: {0}")]
    Topology(#[from] topology::ResolveError),
}

impl QueueError {
    /// Whether Redis did not answer within [`QueueConfig::redis_timeout`]:
    /// stalled, not gone (the connection stays; the call may still take
    /// effect when Redis goes on).
    pub fn is_timeout(&self) -> bool {
        matches!(self, QueueError::Redis(e) if e.is_timeout())
    }

    /// Whether this is [`QueueError::NotReplicated`].
    pub fn is_not_replicated(&self) -> bool {
        matches!(self, QueueError::NotReplicated { .. })
    }
}

pub type Result<T, E = QueueError> = std::result::Result<T, E>;

/// The handle to Gavel's Redis state. Cheap to clone (one multiplexed
/// connection, reconnected on failure, plus one for acknowledged writes
/// when replicas are required; with Sentinels, both follow the primary).
#[derive(Clone)]
pub struct Queue {
    link: Arc<topology::Link>,
    config: std::sync::Arc<QueueConfig>,
    known_tokens: std::sync::Arc<known_tokens::KnownTokens>,
}

/// A list as the scripts store it: space-separated (see [`is_valid_word`]).
fn words(list: &[String]) -> String {
    list.join(" ")
}

/// A duration as the scripts take it: whole milliseconds.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Whether `id` can be stored in a space-separated list: a language,
/// checker or label id (`[A-Za-z0-9._:+-]`, 1..=64 characters).
pub fn is_valid_word(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:+-".contains(&b))
}

impl Queue {
    /// Connects to the Redis at `url` (see [`Queue::connect_to`]).
    pub async fn connect(url: &str, config: QueueConfig) -> Result<Queue> {
        Queue::connect_to(&RedisTarget::Url(url.to_string()), config).await
    }

    /// Connects (with Sentinels: to the primary they name, then follows
    /// it, see `topology`), checks the server answers and holds a key
    /// schema this build understands ([`QueueError::Schema`] if not; see
    /// `schema`), loads every script, and puts jobs an older backend queued
    /// in dispatch queues (`lua/adopt.lua`).
    pub async fn connect_to(target: &RedisTarget, config: QueueConfig) -> Result<Queue> {
        let policy = connection_policy(config.redis_timeout);
        let acknowledged = config.replication.min_replicas > 0;
        let (url, label) = match target {
            RedisTarget::Url(url) => (url.clone(), url.clone()),
            RedisTarget::Sentinel(sentinels) => {
                let addr = topology::resolve(sentinels).await?;
                (format!("redis://{addr}/"), addr.to_string())
            }
        };
        let node = topology::Node::open(&url, label, &policy, acknowledged).await?;
        let mut conn = node.conn.clone();
        schema::ensure(&mut conn, &config.prefix).await?;
        load_scripts(conn).await?;
        let link = topology::Link::new(target.clone(), config.replication, node);
        topology::Link::follow(&link, policy, |conn| Box::pin(load_scripts(conn)));
        let queue =
            Queue { link, config: std::sync::Arc::new(config), known_tokens: Default::default() };
        let adopted: u64 = queue.script(&scripts::Adopt).await?;
        if adopted > 0 {
            tracing::info!(adopted, "queued jobs of an older backend put in dispatch queues");
        }
        Ok(queue)
    }

    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// The key prefix, for [`keys`].
    fn prefix(&self) -> &str {
        &self.config.prefix
    }

    fn conn(&self) -> ConnectionManager {
        self.link.node().conn.clone()
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> bool {
        redis::cmd("PING").query_async::<String>(&mut self.conn()).await.is_ok()
    }

    /// Where the primary is, its role and its connected replicas (asked
    /// with `ROLE`; `unreachable` if it does not answer, see
    /// [`RedisStatus::answered`]), and the acknowledged-write rule's
    /// counters: what `/healthz` and `/metrics` show.
    pub async fn redis_status(&self) -> RedisStatus {
        let node = self.link.node();
        let role = redis::cmd("ROLE").query_async::<redis::Value>(&mut node.conn.clone()).await;
        let (role, replicas) = match role {
            Ok(value) => match topology::parse_role(&value) {
                topology::Role::Primary { replicas } => ("primary", Some(replicas)),
                topology::Role::Replica => ("replica", None),
                _ => ("unknown", None),
            },
            // An error reply (a server that refuses `ROLE`) still answered.
            Err(e)
                if matches!(
                    e.kind(),
                    redis::ErrorKind::Server(_) | redis::ErrorKind::Extension
                ) =>
            {
                ("unknown", None)
            }
            Err(_) => ("unreachable", None),
        };
        let counters = &self.link.counters;
        RedisStatus {
            primary: node.label.clone(),
            role,
            replicas,
            min_replicas: self.link.replication.min_replicas,
            sentinel: matches!(self.link.target, RedisTarget::Sentinel(_)),
            unreplicated_writes: counters.refused.load(Ordering::Relaxed),
            waits: counters.waits.load(Ordering::Relaxed),
            wait_seconds: counters.wait_micros.load(Ordering::Relaxed) as f64 / 1e6,
            failovers: counters.failovers.load(Ordering::Relaxed),
        }
    }

    /// Starts the pub/sub listener that wakes long-polls and SSE streams.
    pub fn listen(&self) -> Listener {
        Listener::spawn(self.link.watch(), self.config.prefix.clone())
    }

    /// Runs one script (see [`scripts::ScriptCall`]); an acknowledged one
    /// (a write someone is told about) through [`Queue::acknowledged`].
    async fn script<T: redis::FromRedisValue>(&self, call: &impl scripts::ScriptCall) -> Result<T> {
        let invocation = call.invocation(self.prefix());
        if call.acknowledged() {
            let mut pipe = redis::pipe();
            pipe.invoke_script(&invocation);
            return match self.acknowledged(&pipe).await {
                // Not loaded on this node (a new primary, a SCRIPT FLUSH):
                // nothing ran; load it and go again.
                Err(QueueError::Redis(e))
                    if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
                {
                    invocation.load_async(&mut self.link.node().ack.clone()).await?;
                    self.acknowledged(&pipe).await
                }
                other => other,
            };
        }
        let result = invocation.invoke_async(&mut self.conn()).await;
        if let Err(e) = &result {
            self.link.observe(e);
        }
        Ok(result?)
    }

    /// Returns once everything the primary holds now has reached the
    /// replicas an acknowledged write needs ([`QueueError::NotReplicated`]
    /// if not in time): for answers that repeat an earlier write (an
    /// idempotent replay) rather than make one.
    pub async fn replicated(&self) -> Result<()> {
        if self.link.replication.min_replicas == 0 {
            return Ok(());
        }
        let mut write = redis::pipe();
        write.cmd("PING");
        let _: String = self.acknowledged(&write).await?;
        Ok(())
    }

    /// Runs `write`, a pipeline of one answer (other commands `ignore()`d,
    /// not `atomic()`: wrap a transaction in `MULTI`/`EXEC` commands), as a
    /// write someone is told about: the one place the acknowledged-write
    /// rule is kept. With [`Replication::min_replicas`] > 0 it is followed
    /// by `WAIT`, in the same pipeline, so on the same connection (the
    /// replicas are awaited up to this client's last write), and its answer
    /// is returned only if enough replicas have it; otherwise
    /// [`QueueError::NotReplicated`]. While a `WAIT` has fallen short,
    /// writes are refused before they run when `ROLE` shows too few
    /// replicas connected, rather than each waiting out the timeout.
    pub(crate) async fn acknowledged<T: redis::FromRedisValue>(
        &self,
        write: &redis::Pipeline,
    ) -> Result<T> {
        let link = &self.link;
        let rule = link.replication;
        let node = link.node();
        let refused = |acked: u32| {
            link.counters.refused.fetch_add(1, Ordering::Relaxed);
            QueueError::NotReplicated {
                acked,
                wanted: rule.min_replicas,
                timeout_ms: millis(rule.timeout),
            }
        };
        if rule.min_replicas == 0 {
            let result = write.query_async::<(T,)>(&mut node.conn.clone()).await;
            if let Err(e) = &result {
                link.observe(e);
            }
            return Ok(result?.0);
        }
        if link.short.load(Ordering::Relaxed) {
            let role: redis::Value = redis::cmd("ROLE")
                .query_async(&mut node.conn.clone())
                .await
                .inspect_err(|e| link.observe(e))?;
            let connected = match topology::parse_role(&role) {
                topology::Role::Primary { replicas } => replicas,
                _ => 0,
            };
            if connected < rule.min_replicas {
                return Err(refused(connected));
            }
        }
        // The barrier makes this client's last write offset the primary's
        // offset now, so WAIT covers the write even if it changed nothing
        // (a replayed create, a repeated completion: the first may have
        // been written by another connection, still unreplicated).
        let mut pipe = write.clone();
        pipe.incr(keys::ack_barrier(self.prefix()), 1).ignore();
        pipe.cmd("WAIT").arg(rule.min_replicas).arg(millis(rule.timeout));
        let started = Instant::now();
        let (value, reported): (T, i64) =
            pipe.query_async(&mut node.ack.clone()).await.inspect_err(|e| link.observe(e))?;
        link.counters.waits.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        link.counters.wait_micros.fetch_add(micros, Ordering::Relaxed);
        match topology::check_wait(reported, rule.min_replicas) {
            Ok(()) => {
                link.short.store(false, Ordering::Relaxed);
                Ok(value)
            }
            Err((acked, _)) => {
                link.short.store(true, Ordering::Relaxed);
                tracing::warn!(
                    acked,
                    wanted = rule.min_replicas,
                    "a write was not replicated in time"
                );
                Err(refused(acked))
            }
        }
    }

    /// Now, by the Redis server's clock (the one every script reads).
    async fn server_time_ms(&self) -> Result<u64> {
        let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(&mut self.conn()).await?;
        Ok(secs * 1000 + micros / 1000)
    }
}

/// Loads every script on a node (at start-up, and on a new primary).
async fn load_scripts(mut conn: ConnectionManager) -> redis::RedisResult<()> {
    for script in scripts::all() {
        script.prepare_invoke().load_async(&mut conn).await?;
    }
    Ok(())
}

/// What `/healthz` tells about Redis ([`Queue::redis_status`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RedisStatus {
    /// The node calls go to (`host:port`, or the URL).
    pub primary: String,
    /// What it says it is: `primary`, `replica` (a failover is under way),
    /// `unknown`, or `unreachable`.
    pub role: &'static str,
    /// Replicas connected to it, if it is the primary.
    pub replicas: Option<u32>,
    /// Replicas an acknowledged write must reach.
    pub min_replicas: u32,
    /// Whether the primary is found through Sentinels.
    pub sentinel: bool,
    /// Writes refused for lack of replicas, since start.
    #[serde(skip)]
    pub unreplicated_writes: u64,
    /// `WAIT`s run and their total seconds, since start.
    #[serde(skip)]
    pub waits: u64,
    #[serde(skip)]
    pub wait_seconds: f64,
    /// Switches to a new primary, since start.
    #[serde(skip)]
    pub failovers: u64,
}

impl RedisStatus {
    /// Whether Redis answered (within `redis_timeout_ms`).
    pub fn answered(&self) -> bool {
        self.role != "unreachable"
    }
}

/// The most one attempt to (re)connect to Redis may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How the one multiplexed connection to Redis behaves.
///
/// - **A slow answer is waited for**, up to `redis_timeout`. redis-rs'
///   default is 500 ms, which a Redis fsyncing every write
///   (`appendfsync always`) on a loaded machine exceeds now and then: in a
///   burst of 10,000 creates, 8 failed with 503 although Redis was only
///   busy. A call that does time out fails alone: redis-rs counts a timeout
///   as retryable, not as a lost connection, so the connection stays, the
///   late answer is dropped when it comes, and later calls go on over it.
///   A create whose script Redis runs after its call timed out is stored
///   although the client got 503; its retry with the same `Idempotency-Key`
///   gets that record back (`lua/submit.lua` checks the key).
/// - **A lost connection is replaced at once**: it is retried twice, each
///   attempt within [`CONNECT_TIMEOUT`] (or `redis_timeout`, if shorter),
///   within about half a second of backoff in all. While Redis is gone
///   (connections refused) every call fails fast — the HTTP layer answers
///   503 and `/healthz` says `{"redis": false}` at once — instead of each
///   waiting out redis-rs' default backoff of six retries (about ten
///   seconds); the next call tries again.
fn connection_policy(redis_timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(redis_timeout))
        .set_connection_timeout(Some(CONNECT_TIMEOUT.min(redis_timeout)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(400))
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
