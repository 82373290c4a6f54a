//! A `redis-server` child process that Gavel manages: `gavel up` runs one
//! with AOF persistence in its data dir, and tests run one per test on a free
//! loopback port. The process is killed when the handle drops.
//!
//! [`ReplicaSet`] is the replicated topology for tests: a primary, replicas
//! and three Sentinels, each a [`ManagedRedis`] on 127.0.0.1 (bound to it
//! and announcing it), with short failure-detection timeouts.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server` we started.
#[derive(Debug)]
pub struct ManagedRedis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// Why a managed Redis could not start.
#[derive(Debug, thiserror::Error)]
pub enum ManagedRedisError {
    #[error(
        "`redis-server` was not found on PATH; run `cargo xtask setup` (it installs it) or pass --redis-url"
    )]
    NotInstalled,
    #[error("starting redis-server: {0}")]
    Io(#[from] std::io::Error),
    #[error("redis-server did not accept connections on port {port} within {secs} s (see {log})")]
    NotReady { port: u16, secs: u64, log: String },
}

impl ManagedRedis {
    /// Starts `redis-server` on `127.0.0.1:port` (0: a free port) with its
    /// files (AOF, log) in `dir`, and waits until it accepts connections.
    pub fn start(dir: &Path, port: u16) -> Result<ManagedRedis, ManagedRedisError> {
        ManagedRedis::start_node(dir, port, &[])
    }

    /// [`start`](Self::start) with more `redis-server` arguments
    /// (`--replicaof 127.0.0.1 PORT`, …).
    pub fn start_node(
        dir: &Path,
        port: u16,
        extra: &[String],
    ) -> Result<ManagedRedis, ManagedRedisError> {
        std::fs::create_dir_all(dir)?;
        let port = if port == 0 { free_port()? } else { port };
        let log = dir.join("redis.log");
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--save", ""])
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(&log)
            .args(["--protected-mode", "yes", "--daemonize", "no"])
            .args(extra);
        ManagedRedis::spawn(command, dir, port, &log)
    }

    /// A Sentinel on `127.0.0.1:port` (0: a free port) watching the primary
    /// at `127.0.0.1:primary_port` as `master_name` with `quorum`; its
    /// config file (which it rewrites) and log in `dir`.
    pub fn start_sentinel(
        dir: &Path,
        port: u16,
        primary_port: u16,
        master_name: &str,
        quorum: u32,
        timing: SentinelTiming,
    ) -> Result<ManagedRedis, ManagedRedisError> {
        std::fs::create_dir_all(dir)?;
        let port = if port == 0 { free_port()? } else { port };
        let log = dir.join("sentinel.log");
        let conf = dir.join("sentinel.conf");
        let text = format!(
            "port {port}\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\n\
             dir {dir}\nlogfile {log}\nsentinel announce-ip 127.0.0.1\n\
             sentinel monitor {master_name} 127.0.0.1 {primary_port} {quorum}\n\
             sentinel down-after-milliseconds {master_name} {down}\n\
             sentinel failover-timeout {master_name} {failover}\n\
             sentinel parallel-syncs {master_name} 1\n",
            dir = dir.display(),
            log = log.display(),
            down = timing.down_after.as_millis(),
            failover = timing.failover_timeout.as_millis(),
        );
        std::fs::write(&conf, text)?;
        let mut command = Command::new("redis-server");
        command.arg(&conf).arg("--sentinel");
        ManagedRedis::spawn(command, dir, port, &log)
    }

    fn spawn(
        mut command: Command,
        dir: &Path,
        port: u16,
        log: &Path,
    ) -> Result<ManagedRedis, ManagedRedisError> {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => ManagedRedisError::NotInstalled,
                _ => ManagedRedisError::Io(e),
            })?;
        let mut redis = ManagedRedis { child, port, dir: dir.to_path_buf() };
        let limit = Duration::from_secs(10);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > limit || redis.child.try_wait()?.is_some() {
                return Err(ManagedRedisError::NotReady {
                    port,
                    secs: limit.as_secs(),
                    log: log.display().to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(redis)
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stalls the server (SIGSTOP): it keeps its connections but answers
    /// nothing until [`resume`](Self::resume) — a Redis that is busy, not
    /// gone. Tests use it; a stopped server is still killed on drop.
    pub fn pause(&self) -> std::io::Result<()> {
        self.signal("STOP")
    }

    /// Lets a [paused](Self::pause) server go on (SIGCONT): it answers
    /// everything sent meanwhile, in order.
    pub fn resume(&self) -> std::io::Result<()> {
        self.signal("CONT")
    }

    fn signal(&self, name: &str) -> std::io::Result<()> {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        match status.success() {
            true => Ok(()),
            false => Err(std::io::Error::other(format!("kill -{name} failed: {status}"))),
        }
    }

    /// Stops the server now (SIGKILL; tests use it to simulate a crash). AOF
    /// with `appendfsync always` has every acknowledged write on disk, so a
    /// restart loses no accepted submission.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ManagedRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP port free on loopback right now.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// How fast Sentinels act on a primary that stopped answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentinelTiming {
    /// `down-after-milliseconds`: silence before a sentinel thinks the
    /// primary is down.
    pub down_after: Duration,
    /// `failover-timeout`: how long one failover attempt may take before
    /// another sentinel may try.
    pub failover_timeout: Duration,
}

impl SentinelTiming {
    /// Short enough for tests to see a failover within seconds (production
    /// values are in docs/deploy.md).
    pub const TEST: SentinelTiming = SentinelTiming {
        down_after: Duration::from_millis(1000),
        failover_timeout: Duration::from_millis(3000),
    };
}

/// A replicated Redis for tests: a primary, `replicas` replicas and three
/// Sentinels (quorum 2) watching it as [`ReplicaSet::MASTER_NAME`], all on
/// 127.0.0.1 in one directory, all killed on drop. Nodes are known by
/// port; which one is the primary changes with failovers.
#[derive(Debug)]
pub struct ReplicaSet {
    /// Port → the node (`None` while killed) with its directory and
    /// arguments, to restart it as it was.
    nodes: Vec<(u16, PathBuf, Vec<String>, Option<ManagedRedis>)>,
    sentinels: Vec<ManagedRedis>,
}

impl ReplicaSet {
    /// The name the sentinels know the primary by.
    pub const MASTER_NAME: &'static str = "gavel";

    /// Starts the primary, its replicas (each synced), then the sentinels,
    /// and waits until every sentinel knows the replicas and the other
    /// sentinels (so a failover can be voted on).
    pub fn start(
        dir: &Path,
        replicas: usize,
        timing: SentinelTiming,
    ) -> Result<ReplicaSet, ManagedRedisError> {
        let primary_dir = dir.join("node-0");
        let primary = ManagedRedis::start(&primary_dir, 0)?;
        let primary_port = primary.port();
        let mut set = ReplicaSet {
            nodes: vec![(primary_port, primary_dir, Vec::new(), Some(primary))],
            sentinels: Vec::new(),
        };
        for i in 1..=replicas {
            let node_dir = dir.join(format!("node-{i}"));
            let args: Vec<String> = ["--replicaof", "127.0.0.1", &primary_port.to_string()]
                .into_iter()
                .chain(["--replica-announce-ip", "127.0.0.1"])
                .map(String::from)
                .collect();
            let node = ManagedRedis::start_node(&node_dir, 0, &args)?;
            set.nodes.push((node.port(), node_dir, args, Some(node)));
        }
        for i in 0..3 {
            set.sentinels.push(ManagedRedis::start_sentinel(
                &dir.join(format!("sentinel-{i}")),
                0,
                primary_port,
                Self::MASTER_NAME,
                2,
                timing,
            )?);
        }
        set.wait_until(Duration::from_secs(30), |set| {
            set.nodes.iter().skip(1).all(|(port, ..)| linked(*port))
                && set.sentinels.iter().all(|s| sentinel_sees(s.port(), replicas, 2))
        })?;
        Ok(set)
    }

    /// The sentinels' `127.0.0.1:PORT` addresses.
    pub fn sentinel_addrs(&self) -> Vec<String> {
        self.sentinels.iter().map(|s| format!("127.0.0.1:{}", s.port())).collect()
    }

    /// Every node's port, the first primary's first.
    pub fn node_ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|(port, ..)| *port).collect()
    }

    /// The port of the primary most sentinels name now.
    pub fn primary_port(&self) -> Option<u16> {
        let mut votes: Vec<u16> = self
            .sentinels
            .iter()
            .filter_map(|s| {
                let mut conn = connect(s.port())?;
                let (_, port): (String, u16) = redis::cmd("SENTINEL")
                    .arg("get-master-addr-by-name")
                    .arg(Self::MASTER_NAME)
                    .query(&mut conn)
                    .ok()?;
                Some(port)
            })
            .collect();
        votes.sort_unstable();
        let mut best = None;
        for chunk in votes.chunk_by(|a, b| a == b) {
            if best.is_none_or(|(_, n)| chunk.len() > n) {
                best = Some((chunk[0], chunk.len()));
            }
        }
        best.map(|(port, _)| port)
    }

    /// Kills the node on `port` (SIGKILL: a crash).
    pub fn kill_node(&mut self, port: u16) {
        if let Some((.., node)) = self.nodes.iter_mut().find(|(p, ..)| *p == port)
            && let Some(mut node) = node.take()
        {
            node.kill();
        }
    }

    /// Stalls the node on `port` (SIGSTOP) or lets it go on (SIGCONT).
    pub fn pause_node(&self, port: u16, paused: bool) -> std::io::Result<()> {
        let node = self.nodes.iter().find(|(p, ..)| *p == port).and_then(|(.., n)| n.as_ref());
        match (node, paused) {
            (Some(node), true) => node.pause(),
            (Some(node), false) => node.resume(),
            (None, _) => Err(std::io::Error::other(format!("no running node on port {port}"))),
        }
    }

    /// Starts a killed node again as it was (its AOF, its port); the
    /// sentinels make it a replica of whichever node is the primary now.
    pub fn restart_node(&mut self, port: u16) -> Result<(), ManagedRedisError> {
        if let Some((port, dir, args, node)) = self.nodes.iter_mut().find(|(p, ..)| *p == port)
            && node.is_none()
        {
            *node = Some(ManagedRedis::start_node(dir, *port, args)?);
        }
        Ok(())
    }

    /// Waits (polling) until `ready` holds, at most `limit`.
    pub fn wait_until(
        &self,
        limit: Duration,
        ready: impl Fn(&ReplicaSet) -> bool,
    ) -> Result<(), ManagedRedisError> {
        let started = Instant::now();
        while !ready(self) {
            if started.elapsed() > limit {
                return Err(ManagedRedisError::Io(std::io::Error::other(format!(
                    "the replica set was not ready within {} s (logs under {})",
                    limit.as_secs(),
                    self.sentinels.first().map_or("?".into(), |s| s.dir().display().to_string())
                ))));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

/// A blocking connection to `127.0.0.1:port`, if it answers within 500 ms.
fn connect(port: u16) -> Option<redis::Connection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).ok()?;
    client.get_connection_with_timeout(Duration::from_millis(500)).ok()
}

/// Whether the replica on `port` has a live link to its primary.
fn linked(port: u16) -> bool {
    let Some(mut conn) = connect(port) else { return false };
    let info: String = redis::cmd("INFO").arg("replication").query(&mut conn).unwrap_or_default();
    info.contains("master_link_status:up")
}

/// Whether the sentinel on `port` knows `replicas` replicas of the primary
/// and `others` other sentinels.
fn sentinel_sees(port: u16, replicas: usize, others: usize) -> bool {
    let Some(mut conn) = connect(port) else { return false };
    let fields: std::collections::HashMap<String, String> = redis::cmd("SENTINEL")
        .arg("master")
        .arg(ReplicaSet::MASTER_NAME)
        .query(&mut conn)
        .unwrap_or_default();
    let count = |name: &str| fields.get(name).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    count("num-slaves") >= replicas && count("num-other-sentinels") >= others
}
