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
mod waiters;
mod webhooks;

use std::time::Duration;

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
}

impl QueueError {
    /// Whether Redis did not answer within [`QueueConfig::redis_timeout`]:
    /// stalled, not gone (the connection stays; the call may still take
    /// effect when Redis goes on).
    pub fn is_timeout(&self) -> bool {
        matches!(self, QueueError::Redis(e) if e.is_timeout())
    }
}

pub type Result<T, E = QueueError> = std::result::Result<T, E>;

/// The handle to Gavel's Redis state. Cheap to clone (one multiplexed
/// connection, reconnected on failure).
#[derive(Clone)]
pub struct Queue {
    conn: ConnectionManager,
    client: redis::Client,
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
    /// Connects, checks the server answers and holds a key schema this
    /// build understands ([`QueueError::Schema`] if not; see `schema`),
    /// loads every script, and puts jobs an older backend queued in
    /// dispatch queues (`lua/adopt.lua`).
    pub async fn connect(url: &str, config: QueueConfig) -> Result<Queue> {
        let client = redis::Client::open(url)?;
        let policy = connection_policy(config.redis_timeout);
        let mut conn = ConnectionManager::new_with_config(client.clone(), policy).await?;
        schema::ensure(&mut conn, &config.prefix).await?;
        for script in scripts::all() {
            script.prepare_invoke().load_async(&mut conn).await?;
        }
        let queue = Queue {
            conn,
            client,
            config: std::sync::Arc::new(config),
            known_tokens: Default::default(),
        };
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

    /// Runs one script (see [`scripts::ScriptCall`]).
    async fn script<T: redis::FromRedisValue>(&self, call: &impl scripts::ScriptCall) -> Result<T> {
        Ok(call.invocation(self.prefix()).invoke_async(&mut self.conn()).await?)
    }

    /// Now, by the Redis server's clock (the one every script reads).
    async fn server_time_ms(&self) -> Result<u64> {
        let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(&mut self.conn()).await?;
        Ok(secs * 1000 + micros / 1000)
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
