//! Where the Redis primary is, and when a write counts as kept.
//!
//! Two topologies ([`RedisTarget`]): one server at a URL (the default,
//! `gavel up`'s managed Redis), or a primary with replicas watched by Redis
//! Sentinels. With Sentinels the backend asks them which node is the
//! primary (`SENTINEL get-master-addr-by-name`, the address most of the
//! answering sentinels name), checks that node says `role:master`
//! (`ROLE`), and keeps asking: a background task re-resolves every
//! [`POLL`], and at once when a call fails in a way a failover explains
//! ([`calls_for_resolve`]: the connection dropped or was refused, or the
//! node answered `READONLY`, being a replica now). When the primary
//! changed it connects to the new one, loads the scripts there, and swaps
//! the connections every call takes (`Link`); the pub/sub listener follows
//! the swap.
//!
//! [`Replication`] is the acknowledged-write rule: with `min_replicas` > 0
//! a write someone is told about is followed on the same connection by
//! `WAIT min_replicas timeout`, and counts only if that many replicas have
//! it ([`check_wait`]); otherwise the caller gets
//! [`QueueError::NotReplicated`](crate::QueueError::NotReplicated) and the
//! HTTP layer answers 503 (the write stays on the primary; a retry with the
//! same `Idempotency-Key` finds it).
//!
//! The rules (parsing the settings, electing the answer, reading `ROLE`,
//! classifying errors, judging `WAIT`) are pure functions, tested below;
//! the I/O is [`resolve`] and `Link`'s task.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, ServerErrorKind, Value};
use tokio::sync::{Notify, watch};

/// How often the Sentinels are asked where the primary is, besides at once
/// after a call failed the way a failover makes calls fail.
pub const POLL: Duration = Duration::from_millis(500);

/// The port a sentinel listens on unless its address names one.
pub const SENTINEL_PORT: u16 = 26379;

/// The most one question to a sentinel or a candidate primary may take.
const ASK_TIMEOUT: Duration = Duration::from_millis(500);

/// A `host:port` of a Redis node or sentinel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeAddr {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host.contains(':') {
            true => write!(f, "[{}]:{}", self.host, self.port),
            false => write!(f, "{}:{}", self.host, self.port),
        }
    }
}

impl NodeAddr {
    /// `host:port`, `[v6]:port`, or a bare host (port `default_port`).
    pub fn parse(text: &str, default_port: u16) -> Result<NodeAddr, String> {
        let text = text.trim();
        let bad = || format!("{text:?} is not a sentinel address (host:port, e.g. 10.0.0.5:26379)");
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(bad)?;
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':').ok_or_else(bad)?)),
            }
        } else {
            match text.rsplit_once(':') {
                Some((host, _)) if host.contains(':') => return Err(bad()),
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            }
        };
        if host.is_empty() || host.contains(['/', ' ', '@']) {
            return Err(bad());
        }
        let port = match port {
            None => default_port,
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?,
        };
        Ok(NodeAddr { host: host.to_string(), port })
    }

    fn url(&self) -> String {
        format!("redis://{self}/")
    }
}

/// The Sentinels watching Gavel's primary, and the name they know it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentinels {
    pub addrs: Vec<NodeAddr>,
    pub master_name: String,
}

impl Sentinels {
    /// From the settings: addresses (comma-separated or repeated) and the
    /// master name the sentinels monitor.
    pub fn parse(list: &[String], master_name: &str) -> Result<Sentinels, String> {
        let mut addrs = Vec::new();
        for item in list.iter().flat_map(|s| s.split(',')).filter(|s| !s.trim().is_empty()) {
            let addr = NodeAddr::parse(item, SENTINEL_PORT)?;
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        if addrs.is_empty() {
            return Err("redis_sentinel names no sentinel".into());
        }
        if master_name.is_empty() || !master_name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("redis_master_name {master_name:?} must be a non-empty word"));
        }
        Ok(Sentinels { addrs, master_name: master_name.to_string() })
    }
}

/// Where the backend's Redis is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One server, at this URL (`redis://host:port/db`).
    Url(String),
    /// Whichever node the Sentinels name as the primary.
    Sentinel(Sentinels),
}

impl fmt::Display for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedisTarget::Url(url) => f.write_str(url),
            RedisTarget::Sentinel(s) => {
                let addrs: Vec<String> = s.addrs.iter().map(ToString::to_string).collect();
                write!(f, "primary {:?} of sentinels {}", s.master_name, addrs.join(","))
            }
        }
    }
}

/// The acknowledged-write rule: how many replicas must have a write before
/// anyone is told it is stored, and how long to wait for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replication {
    /// 0: acknowledge on the primary's answer alone (no `WAIT`).
    pub min_replicas: u32,
    /// `WAIT`'s timeout: the longest a write waits for its replicas.
    pub timeout: Duration,
}

/// [`Replication::timeout`] unless set.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(1);

impl Default for Replication {
    fn default() -> Self {
        Replication { min_replicas: 0, timeout: DEFAULT_WAIT_TIMEOUT }
    }
}

/// Whether `WAIT` reported enough replicas: `Err((acked, wanted))` if not.
pub fn check_wait(reported: i64, wanted: u32) -> Result<(), (u32, u32)> {
    let acked = u32::try_from(reported.max(0)).unwrap_or(u32::MAX);
    if acked >= wanted { Ok(()) } else { Err((acked, wanted)) }
}

/// The address most answering sentinels name as the primary (ties: the one
/// the earliest sentinel in the list named); `None` if none answered.
pub fn elect(answers: &[Option<NodeAddr>]) -> Option<NodeAddr> {
    let mut votes: HashMap<&NodeAddr, (usize, usize)> = HashMap::new();
    for (i, addr) in answers.iter().enumerate() {
        if let Some(addr) = addr {
            votes.entry(addr).or_insert((0, i)).0 += 1;
        }
    }
    votes
        .into_iter()
        .max_by(|(_, (n1, i1)), (_, (n2, i2))| n1.cmp(n2).then(i2.cmp(i1)))
        .map(|(addr, _)| addr.clone())
}

/// What a node says it is (`ROLE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A primary with this many connected replicas.
    Primary {
        replicas: u32,
    },
    Replica,
    Sentinel,
    Unknown,
}

/// Reads a `ROLE` reply: `["master", offset, [[ip, port, offset], …]]`,
/// `["slave", …]`, `["sentinel", …]`.
pub fn parse_role(reply: &Value) -> Role {
    let Value::Array(items) = reply else { return Role::Unknown };
    let name = match items.first() {
        Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(Value::SimpleString(s)) => s.clone(),
        _ => return Role::Unknown,
    };
    match name.as_str() {
        "master" => {
            let replicas = match items.get(2) {
                Some(Value::Array(list)) => u32::try_from(list.len()).unwrap_or(u32::MAX),
                _ => 0,
            };
            Role::Primary { replicas }
        }
        "slave" | "replica" => Role::Replica,
        "sentinel" => Role::Sentinel,
        _ => Role::Unknown,
    }
}

/// Whether `error` is what a failover does to calls: the connection
/// dropped, was refused or broke, or the node is a replica now
/// (`READONLY`), or has no primary yet (`MASTERDOWN`), or is loading its
/// data. Timeouts are not: a stalled primary is still the primary.
pub fn calls_for_resolve(error: &RedisError) -> bool {
    if error.is_timeout() {
        return false;
    }
    error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_io_error()
        || matches!(
            error.kind(),
            ErrorKind::Server(
                ServerErrorKind::ReadOnly
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::BusyLoading
            )
        )
}

/// Asks one sentinel where the primary `master_name` is.
async fn ask_sentinel(sentinel: &NodeAddr, master_name: &str) -> Option<NodeAddr> {
    let ask = async {
        let client = redis::Client::open(sentinel.url()).ok()?;
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        let reply: Option<(String, u16)> = redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(master_name)
            .query_async(&mut conn)
            .await
            .ok()?;
        reply.map(|(host, port)| NodeAddr { host, port })
    };
    tokio::time::timeout(ASK_TIMEOUT, ask).await.ok().flatten()
}

/// Why the primary could not be found.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("no sentinel of {0} answered where the primary is")]
    NoAnswer(String),
    #[error("the sentinels name {addr} as the primary, but it says it is {role:?}")]
    NotPrimary { addr: NodeAddr, role: Role },
    #[error("the sentinels name {addr} as the primary, but it does not answer: {reason}")]
    Unreachable { addr: NodeAddr, reason: String },
}

/// The primary the sentinels name, checked to say `role:master`.
pub async fn resolve(sentinels: &Sentinels) -> Result<NodeAddr, ResolveError> {
    let asks = sentinels.addrs.iter().map(|s| ask_sentinel(s, &sentinels.master_name));
    let answers = futures_util::future::join_all(asks).await;
    let addr = elect(&answers).ok_or_else(|| {
        let list: Vec<String> = sentinels.addrs.iter().map(ToString::to_string).collect();
        ResolveError::NoAnswer(list.join(","))
    })?;
    let role = async {
        let client = redis::Client::open(addr.url())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("ROLE").query_async::<Value>(&mut conn).await
    };
    let unreachable = |reason: String| ResolveError::Unreachable { addr: addr.clone(), reason };
    let reply = tokio::time::timeout(ASK_TIMEOUT, role)
        .await
        .map_err(|_| unreachable("no answer to ROLE in time".into()))?
        .map_err(|e| unreachable(e.to_string()))?;
    match parse_role(&reply) {
        Role::Primary { .. } => Ok(addr),
        role => Err(ResolveError::NotPrimary { addr, role }),
    }
}

/// The connections to the current primary.
pub(crate) struct Node {
    /// Where it is (the URL in single-server mode).
    pub label: String,
    /// For pub/sub.
    pub client: redis::Client,
    /// Every call but acknowledged writes.
    pub conn: ConnectionManager,
    /// Acknowledged writes and their `WAIT`, which blocks the connection
    /// it runs on until the replicas answer: on a connection of their own
    /// so a slow replica stalls only other acknowledged writes.
    pub ack: ConnectionManager,
}

impl Node {
    pub async fn open(
        url: &str,
        label: String,
        policy: &ConnectionManagerConfig,
        acknowledged: bool,
    ) -> redis::RedisResult<Node> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new_with_config(client.clone(), policy.clone()).await?;
        let ack = match acknowledged {
            true => ConnectionManager::new_with_config(client.clone(), policy.clone()).await?,
            false => conn.clone(),
        };
        Ok(Node { label, client, conn, ack })
    }
}

/// Counters of the acknowledged-write rule, for `/metrics`.
#[derive(Debug, Default)]
pub struct ReplicationCounters {
    /// Writes that were refused (503) for lack of replicas.
    pub refused: AtomicU64,
    /// `WAIT`s run, and their total time in microseconds.
    pub waits: AtomicU64,
    pub wait_micros: AtomicU64,
    /// Times the backend switched to a new primary.
    pub failovers: AtomicU64,
}

/// The current primary's connections, swapped when the Sentinels name
/// another; shared by every clone of the queue.
pub(crate) struct Link {
    pub target: RedisTarget,
    pub replication: Replication,
    node: watch::Sender<Arc<Node>>,
    nudge: Notify,
    /// A `WAIT` fell short; until one succeeds, writes first check that
    /// enough replicas are connected (`ROLE`) and are refused at once if
    /// not, instead of each waiting out the timeout.
    pub short: AtomicBool,
    pub counters: ReplicationCounters,
}

impl Link {
    pub fn new(target: RedisTarget, replication: Replication, node: Node) -> Arc<Link> {
        Arc::new(Link {
            target,
            replication,
            node: watch::Sender::new(Arc::new(node)),
            nudge: Notify::new(),
            short: AtomicBool::new(false),
            counters: ReplicationCounters::default(),
        })
    }

    pub fn node(&self) -> Arc<Node> {
        self.node.borrow().clone()
    }

    /// Follows the swaps (the listener resubscribes on each).
    pub fn watch(&self) -> watch::Receiver<Arc<Node>> {
        self.node.subscribe()
    }

    /// A call failed; if a failover explains it, look for the primary now.
    pub fn observe(&self, error: &RedisError) {
        if matches!(self.target, RedisTarget::Sentinel(_)) && calls_for_resolve(error) {
            self.nudge.notify_one();
        }
    }

    /// With Sentinels: re-resolves every [`POLL`] and when nudged, and
    /// swaps to a new primary (opened with `policy`, `prepare` run on it
    /// first: the scripts loaded). Ends when the last queue is dropped.
    pub fn follow<F>(link: &Arc<Link>, policy: ConnectionManagerConfig, prepare: F)
    where
        F: Fn(
                ConnectionManager,
            ) -> futures_util::future::BoxFuture<'static, redis::RedisResult<()>>
            + Send
            + Sync
            + 'static,
    {
        let RedisTarget::Sentinel(sentinels) = link.target.clone() else { return };
        let weak: Weak<Link> = Arc::downgrade(link);
        tokio::spawn(async move {
            loop {
                {
                    let Some(link) = weak.upgrade() else { return };
                    let _ = tokio::time::timeout(POLL, link.nudge.notified()).await;
                }
                let Some(link) = weak.upgrade() else { return };
                let addr = match resolve(&sentinels).await {
                    Ok(addr) => addr,
                    Err(e) => {
                        tracing::debug!(error = %e, "looking for the Redis primary");
                        continue;
                    }
                };
                if addr.to_string() == link.node().label {
                    continue;
                }
                let started = Instant::now();
                let acknowledged = link.replication.min_replicas > 0;
                let opened = async {
                    let node =
                        Node::open(&addr.url(), addr.to_string(), &policy, acknowledged).await?;
                    prepare(node.conn.clone()).await?;
                    redis::RedisResult::Ok(node)
                };
                match opened.await {
                    Ok(node) => {
                        let old = link.node().label.clone();
                        link.node.send_replace(Arc::new(node));
                        link.short.store(false, Ordering::Relaxed);
                        link.counters.failovers.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(
                            from = %old,
                            to = %addr,
                            took_ms = started.elapsed().as_millis() as u64,
                            "the Sentinels name a new Redis primary; switched to it"
                        );
                    }
                    Err(e) => {
                        tracing::warn!(primary = %addr, error = %e, "connecting to the new primary")
                    }
                }
                // Not more than a few tries a second while things settle.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(host: &str, port: u16) -> NodeAddr {
        NodeAddr { host: host.into(), port }
    }

    #[test]
    fn addresses_take_a_port_or_the_sentinel_default() {
        assert_eq!(NodeAddr::parse("127.0.0.1:26380", 26379), Ok(addr("127.0.0.1", 26380)));
        assert_eq!(NodeAddr::parse(" sentinel-a ", 26379), Ok(addr("sentinel-a", 26379)));
        assert_eq!(NodeAddr::parse("[::1]:5000", 26379), Ok(addr("::1", 5000)));
        assert_eq!(NodeAddr::parse("[::1]", 26379), Ok(addr("::1", 26379)));
        for bad in ["", ":1", "h:0", "h:x", "h:70000", "::1:5", "redis://h:1", "[::1]x", "a b:1"] {
            assert!(NodeAddr::parse(bad, 26379).is_err(), "{bad}");
        }
        assert_eq!(addr("::1", 5).to_string(), "[::1]:5");
        assert_eq!(addr("h", 5).to_string(), "h:5");
    }

    #[test]
    fn sentinels_are_a_list_and_a_name() {
        let list = vec!["127.0.0.1:1,127.0.0.1:2".to_string(), "127.0.0.1:1".into(), "h".into()];
        let s = Sentinels::parse(&list, "gavel").unwrap();
        assert_eq!(s.addrs, vec![addr("127.0.0.1", 1), addr("127.0.0.1", 2), addr("h", 26379)]);
        assert!(Sentinels::parse(&[], "gavel").is_err());
        assert!(Sentinels::parse(&[" , ".into()], "gavel").is_err());
        assert!(Sentinels::parse(&list, "").is_err());
        assert!(Sentinels::parse(&list, "two words").is_err());
    }

    #[test]
    fn the_primary_is_the_address_most_sentinels_name() {
        let (a, b) = (addr("10.0.0.1", 6379), addr("10.0.0.2", 6379));
        assert_eq!(elect(&[None, None]), None);
        assert_eq!(elect(&[None, Some(a.clone())]), Some(a.clone()));
        // One sentinel has not seen the failover yet.
        assert_eq!(elect(&[Some(a.clone()), Some(b.clone()), Some(b.clone())]), Some(b.clone()));
        // A tie goes to the earliest sentinel's answer.
        assert_eq!(elect(&[Some(b.clone()), Some(a.clone()), None]), Some(b.clone()));
        assert_eq!(elect(&[Some(a.clone()), Some(b.clone())]), Some(a));
    }

    #[test]
    fn role_replies_are_read() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let replica = Value::Array(vec![bulk("127.0.0.1"), bulk("7001"), bulk("120")]);
        let master =
            Value::Array(vec![bulk("master"), Value::Int(120), Value::Array(vec![replica])]);
        assert_eq!(parse_role(&master), Role::Primary { replicas: 1 });
        let alone = Value::Array(vec![bulk("master"), Value::Int(0), Value::Array(vec![])]);
        assert_eq!(parse_role(&alone), Role::Primary { replicas: 0 });
        let slave = Value::Array(vec![bulk("slave"), bulk("127.0.0.1"), Value::Int(7000)]);
        assert_eq!(parse_role(&slave), Role::Replica);
        assert_eq!(parse_role(&Value::Array(vec![bulk("sentinel")])), Role::Sentinel);
        assert_eq!(parse_role(&Value::Nil), Role::Unknown);
    }

    #[test]
    fn a_write_counts_when_enough_replicas_have_it() {
        assert_eq!(check_wait(0, 0), Ok(()));
        assert_eq!(check_wait(1, 1), Ok(()));
        assert_eq!(check_wait(2, 1), Ok(()));
        assert_eq!(check_wait(0, 1), Err((0, 1)));
        assert_eq!(check_wait(1, 2), Err((1, 2)));
        assert_eq!(check_wait(-1, 1), Err((0, 1)));
    }

    #[test]
    fn failover_errors_call_for_a_new_primary_but_timeouts_do_not() {
        let readonly = RedisError::from((
            ErrorKind::Server(ServerErrorKind::ReadOnly),
            "You can't write against a read only replica.",
        ));
        assert!(calls_for_resolve(&readonly));
        let refused = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(calls_for_resolve(&refused));
        let timeout = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert!(!calls_for_resolve(&timeout));
        let script = RedisError::from((ErrorKind::Server(ServerErrorKind::ResponseError), "ERR x"));
        assert!(!calls_for_resolve(&script));
    }
}
