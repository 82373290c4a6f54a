//! One backend stack per test: a `redis-server` of its own
//! ([`queue::managed::ManagedRedis`], AOF in a temp dir), the real
//! `gavel backend` process on a free loopback port, and a temp data dir.
//!
//! Everything is killed when the [`Stack`] drops, also when the test panics;
//! a failing test prints the tail of the backend's log. The backend can be
//! killed with SIGKILL and restarted on the same address, Redis and data dir
//! ([`Stack::restart_backend`]), and Redis can be killed
//! ([`Stack::kill_redis`]) or stalled for a while ([`Stack::pause_redis`]).
//!
//! [`Stack::start_replicated`] runs Redis as a primary with replicas and
//! three Sentinels instead ([`queue::managed::ReplicaSet`]); the backend
//! finds the primary through the Sentinels and follows failovers
//! ([`Stack::replica_set`] kills and restarts its nodes).
//!
//! [`Stack::start_on_s3`] keeps the blobs in an S3-protocol server on
//! loopback instead (`blobstore::testing`, started with the stack), shared
//! by every instance of the stack, as a deployment of several backends
//! shares one; otherwise each instance has a `file://` store in its own
//! data dir.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use blobstore::testing::S3Server;
use queue::managed::{ManagedRedis, ReplicaSet, SentinelTiming};

use crate::api::{Client, Http};
use crate::gavel_bin;

/// The admin token every test backend is started with.
pub const ADMIN_TOKEN: &str = "e2e-admin-token";
/// The runner registration token every test backend is started with.
pub const REGISTRATION_TOKEN: &str = "e2e-registration-token";

/// How long a backend may take to start listening.
const START_LIMIT: Duration = Duration::from_secs(15);

/// Flags of a test backend besides the address, Redis, data dir and tokens:
/// short leases, so reclaims happen within seconds. [`Stack::start_with`]
/// overrides or adds flags. No webhook allowlist: like a real backend, a
/// test backend refuses webhooks at loopback, so the tests that post to a
/// loopback receiver add `--webhook-allow` (`tests/webhooks.rs`).
const DEFAULT_FLAGS: [(&str, &str); 2] = [("--lease-ttl-s", "2"), ("--heartbeat-interval-s", "1")];

/// Another backend instance: its process (while it runs), address and
/// data dir.
struct Other {
    child: Option<Child>,
    addr: SocketAddr,
    data_dir: PathBuf,
}

/// Redis, the backend and their files, for one test.
pub struct Stack {
    backend: Option<Child>,
    /// More instances on the same Redis ([`Stack::start_another_backend`]).
    others: Vec<Other>,
    addr: SocketAddr,
    flags: BTreeMap<String, String>,
    /// The PEM CA certificate clients trust, for a backend with
    /// `--tls-cert` ([`Stack::start_tls`]).
    ca: Option<Vec<u8>>,
    http: Http,
    redis: Redis,
    /// The S3 server every instance keeps its blobs in, for a stack
    /// started with [`Stack::start_on_s3`].
    s3: Option<S3Server>,
    dir: tempfile::TempDir,
}

/// The stack's Redis: one server, or a replica set behind Sentinels.
enum Redis {
    One(ManagedRedis),
    Replicated(ReplicaSet),
}

/// The bucket and prefix of a [`Stack::start_on_s3`] stack's blobs.
const S3_BUCKET: &str = "gavel-e2e";
const S3_BLOB_STORE: &str = "s3://gavel-e2e/blobs";

impl Stack {
    /// Redis and a backend with the default flags.
    pub fn start() -> Stack {
        Stack::start_with(&[])
    }

    /// Redis and a backend whose flags are the defaults overridden by
    /// `flags` (`[("--max-attempts", "2")]`).
    pub fn start_with(flags: &[(&str, &str)]) -> Stack {
        Stack::start_serving(flags, None)
    }

    /// Redis and a backend serving HTTPS with the PEM certificate and key
    /// at `cert` and `key`; the stack's clients trust the PEM CA
    /// certificate `ca`.
    pub fn start_tls(cert: &Path, key: &Path, ca: &[u8]) -> Stack {
        let (cert, key) = (cert.to_str().expect("a UTF-8 path"), key.to_str().expect("UTF-8"));
        Stack::start_serving(&[("--tls-cert", cert), ("--tls-key", key)], Some(ca.to_vec()))
    }

    /// Redis, an S3-protocol server on loopback and a backend keeping its
    /// blobs there (`--blob-store s3://…`, the endpoint and static
    /// credentials in `AWS_*`), with the default flags overridden by
    /// `flags`. Every instance of the stack shares the store.
    pub fn start_on_s3(flags: &[(&str, &str)]) -> Stack {
        let dir = tempfile::Builder::new().prefix("gavel-e2e-backend").tempdir().expect("temp dir");
        let s3 = S3Server::start(&[S3_BUCKET], &dir.path().join("s3.log"))
            .unwrap_or_else(|e| panic!("starting the S3 test server: {e}"));
        let mut all = flags.to_vec();
        all.push(("--blob-store", S3_BLOB_STORE));
        Stack::start_in(dir, &all, None, Some(s3), None)
    }

    /// A primary with `replicas` replicas and three Sentinels (short
    /// failure detection, [`SentinelTiming::TEST`]), and a backend that
    /// finds the primary through them (`--redis-sentinel`; by default an
    /// acknowledged write then waits for one replica), with the default
    /// flags overridden by `flags`.
    pub fn start_replicated(replicas: usize, flags: &[(&str, &str)]) -> Stack {
        let dir = tempfile::Builder::new().prefix("gavel-e2e-backend").tempdir().expect("temp dir");
        let set = ReplicaSet::start(&dir.path().join("redis"), replicas, SentinelTiming::TEST)
            .unwrap_or_else(|e| panic!("starting the replica set: {e}"));
        Stack::start_in(dir, flags, None, None, Some(set))
    }

    /// [`Stack::start_replicated`] with the blobs in an S3-protocol server,
    /// as [`Stack::start_on_s3`].
    pub fn start_replicated_on_s3(replicas: usize, flags: &[(&str, &str)]) -> Stack {
        let dir = tempfile::Builder::new().prefix("gavel-e2e-backend").tempdir().expect("temp dir");
        let s3 = S3Server::start(&[S3_BUCKET], &dir.path().join("s3.log"))
            .unwrap_or_else(|e| panic!("starting the S3 test server: {e}"));
        let set = ReplicaSet::start(&dir.path().join("redis"), replicas, SentinelTiming::TEST)
            .unwrap_or_else(|e| panic!("starting the replica set: {e}"));
        let mut all = flags.to_vec();
        all.push(("--blob-store", S3_BLOB_STORE));
        Stack::start_in(dir, &all, None, Some(s3), Some(set))
    }

    fn start_serving(flags: &[(&str, &str)], ca: Option<Vec<u8>>) -> Stack {
        let dir = tempfile::Builder::new().prefix("gavel-e2e-backend").tempdir().expect("temp dir");
        Stack::start_in(dir, flags, ca, None, None)
    }

    fn start_in(
        dir: tempfile::TempDir,
        flags: &[(&str, &str)],
        ca: Option<Vec<u8>>,
        s3: Option<S3Server>,
        replicated: Option<ReplicaSet>,
    ) -> Stack {
        let redis = match replicated {
            Some(set) => Redis::Replicated(set),
            None => Redis::One(start_redis(&dir.path().join("redis"))),
        };
        let mut all: BTreeMap<String, String> =
            DEFAULT_FLAGS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        all.extend(flags.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let unbound: SocketAddr = ([127, 0, 0, 1], 0).into();
        let mut stack = Stack {
            backend: None,
            others: Vec::new(),
            addr: unbound,
            flags: all,
            ca,
            http: Http::new("http://127.0.0.1:0"),
            redis,
            s3,
            dir,
        };
        stack.spawn_backend(unbound);
        stack
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS): the backend's
    /// address (the same after a restart).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme(), self.addr)
    }

    fn scheme(&self) -> &'static str {
        if self.flags.contains_key("--tls-cert") { "https" } else { "http" }
    }

    /// `redis://127.0.0.1:PORT/`: the stack's Redis (the same after a
    /// restart); of a replicated stack, the primary the Sentinels name now.
    pub fn redis_url(&self) -> String {
        match &self.redis {
            Redis::One(redis) => redis.url(),
            Redis::Replicated(set) => {
                let port = set.primary_port().expect("the sentinels name a primary");
                format!("redis://127.0.0.1:{port}/")
            }
        }
    }

    /// The one Redis server of a stack that is not replicated.
    fn one_redis(&mut self) -> &mut ManagedRedis {
        match &mut self.redis {
            Redis::One(redis) => redis,
            Redis::Replicated(_) => panic!("this stack's Redis is a replica set"),
        }
    }

    fn the_redis(&self) -> &ManagedRedis {
        match &self.redis {
            Redis::One(redis) => redis,
            Redis::Replicated(_) => panic!("this stack's Redis is a replica set"),
        }
    }

    /// The replica set of a [`Stack::start_replicated`] stack.
    pub fn replica_set(&mut self) -> &mut ReplicaSet {
        match &mut self.redis {
            Redis::Replicated(set) => set,
            Redis::One(_) => panic!("this stack's Redis is one server"),
        }
    }

    /// A blocking HTTP client for this backend.
    pub fn http(&self) -> Http {
        self.http.clone()
    }

    /// The admin, as an API client.
    pub fn admin(&self) -> Client {
        Client::new(self.http(), ADMIN_TOKEN)
    }

    /// The process id of the `n`th other instance, while it runs.
    pub fn another_backend_pid(&self, n: usize) -> Option<u32> {
        self.others[n].child.as_ref().map(Child::id)
    }

    /// The backend process's id, while it runs.
    pub fn backend_pid(&self) -> Option<u32> {
        self.backend.as_ref().map(Child::id)
    }

    /// The backend's data dir (blobs, uploads).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("backend.log")
    }

    /// Starts `gavel backend` on `listen` and waits until it says where it
    /// listens. A restart on a fixed port retries while the port is still
    /// taken.
    fn spawn_backend(&mut self, listen: SocketAddr) {
        let (child, addr) = self.spawn_at(listen, &self.data_dir());
        self.backend = Some(child);
        self.addr = addr;
        self.http = Http::with_ca(&self.url(), self.ca.as_deref());
    }

    /// Starts `gavel backend` on `listen` with `data_dir`, retrying while a
    /// fixed port is still taken; panics with the log when it cannot.
    fn spawn_at(&self, listen: SocketAddr, data_dir: &Path) -> (Child, SocketAddr) {
        let started = Instant::now();
        loop {
            match self.try_spawn_backend(listen, data_dir) {
                Ok(spawned) => return spawned,
                Err(why) if started.elapsed() < START_LIMIT && listen.port() != 0 => {
                    eprintln!("backend did not start ({why}); retrying");
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(why) => panic!("gavel backend did not start: {why}\n{}", self.log_tail()),
            }
        }
    }

    fn try_spawn_backend(
        &self,
        listen: SocketAddr,
        data_dir: &Path,
    ) -> Result<(Child, SocketAddr), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| format!("opening the backend log: {e}"))?;
        let mut command = Command::new(gavel_bin());
        for (name, _) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if name_text.starts_with("GAVEL_") || name_text.starts_with("AWS_") {
                command.env_remove(name);
            }
        }
        if let Some(s3) = &self.s3 {
            command.envs(s3.env());
        }
        command
            .arg("backend")
            .arg("--listen")
            .arg(listen.to_string())
            .args(match &self.redis {
                Redis::One(redis) => vec!["--redis-url".to_string(), redis.url()],
                Redis::Replicated(set) => vec![
                    "--redis-sentinel".to_string(),
                    set.sentinel_addrs().join(","),
                    "--redis-master-name".to_string(),
                    ReplicaSet::MASTER_NAME.to_string(),
                ],
            })
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--admin-token", ADMIN_TOKEN, "--registration-token", REGISTRATION_TOKEN]);
        for (flag, value) in &self.flags {
            command.arg(flag).arg(value);
        }
        let mut child = command
            .env("GAVEL_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", gavel_bin().display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Reads every line, so the backend never blocks on a full pipe.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let url = line.split("listening on http://").nth(1);
                if let Some(url) = url.or_else(|| line.split("listening on https://").nth(1)) {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let deadline = Instant::now() + START_LIMIT;
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(addr) => {
                    let addr = addr.parse().map_err(|e| format!("bad address {addr:?}: {e}"))?;
                    return Ok((child, addr));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {}
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("it exited with {status}"));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("it did not listen within {START_LIMIT:?}"));
            }
        }
    }

    /// Starts one more backend instance on the same Redis, with the same
    /// flags and a data dir of its own, and returns a client for it. It
    /// shares the blob store of a [`Stack::start_on_s3`] stack; otherwise
    /// it has a `file://` store of its own (one process owns a directory).
    /// It is killed with the stack.
    pub fn start_another_backend(&mut self) -> Http {
        let data_dir = self.dir.path().join(format!("data-{}", self.others.len() + 2));
        let unbound: SocketAddr = ([127, 0, 0, 1], 0).into();
        match self.try_spawn_backend(unbound, &data_dir) {
            Ok((child, addr)) => {
                self.others.push(Other { child: Some(child), addr, data_dir });
                Http::with_ca(&format!("{}://{addr}", self.scheme()), self.ca.as_deref())
            }
            Err(why) => panic!("another gavel backend did not start: {why}\n{}", self.log_tail()),
        }
    }

    /// Kills the `n`th other instance (0: the first
    /// [`start_another_backend`](Self::start_another_backend)) with SIGKILL.
    pub fn kill_another_backend(&mut self, n: usize) {
        if let Some(mut child) = self.others[n].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the `n`th other instance again on its address and data dir,
    /// after [`kill_another_backend`](Self::kill_another_backend).
    pub fn start_another_backend_again(&mut self, n: usize) {
        assert!(self.others[n].child.is_none(), "backend instance {n} is still running");
        let (child, _) = self.spawn_at(self.others[n].addr, &self.others[n].data_dir);
        self.others[n].child = Some(child);
    }

    /// Asks the backend to stop (SIGTERM) and waits up to `limit` for it to
    /// exit; returns its exit status and how long it took.
    pub fn terminate_backend(&mut self, limit: Duration) -> (std::process::ExitStatus, Duration) {
        let mut child = self.backend.take().expect("a running backend");
        let asked = Instant::now();
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        assert!(sent.as_ref().is_ok_and(|s| s.success()), "kill -TERM failed: {sent:?}");
        loop {
            if let Some(status) = child.try_wait().expect("waiting for the backend") {
                return (status, asked.elapsed());
            }
            if asked.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the backend did not exit within {limit:?} of SIGTERM\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the backend with SIGKILL (a crash: nothing is flushed or
    /// closed gracefully).
    pub fn kill_backend(&mut self) {
        if let Some(mut child) = self.backend.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the backend again on the same address, Redis and data dir,
    /// after [`kill_backend`](Self::kill_backend) (a backend that was down
    /// for a while).
    pub fn start_backend_again(&mut self) {
        assert!(self.backend.is_none(), "the backend is still running");
        self.spawn_backend(self.addr);
    }

    /// Kills the backend (SIGKILL) and starts a new one on the same address,
    /// Redis and data dir.
    pub fn restart_backend(&mut self) {
        self.kill_backend();
        self.spawn_backend(self.addr);
    }

    /// Kills Redis (SIGKILL); the backend keeps running.
    pub fn kill_redis(&mut self) {
        self.one_redis().kill();
    }

    /// Stalls Redis (SIGSTOP): it keeps every connection and answers
    /// nothing until [`resume_redis`](Self::resume_redis) — busy, not gone.
    pub fn pause_redis(&self) {
        self.the_redis().pause().expect("pausing redis-server");
    }

    /// Lets a [paused](Self::pause_redis) Redis go on (SIGCONT).
    pub fn resume_redis(&self) {
        self.the_redis().resume().expect("resuming redis-server");
    }

    /// Kills Redis (SIGKILL) and starts it again on the same port and dir:
    /// it reloads its AOF, which has every acknowledged write. The backend
    /// keeps running and must reconnect by itself.
    pub fn restart_redis(&mut self) {
        let redis = self.one_redis();
        let (dir, port) = (redis.dir().to_path_buf(), redis.port());
        redis.kill();
        let started = Instant::now();
        self.redis = loop {
            match ManagedRedis::start(&dir, port) {
                Ok(redis) => break Redis::One(redis),
                Err(e) if started.elapsed() < START_LIMIT => {
                    eprintln!("redis-server did not restart ({e}); retrying");
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("redis-server did not restart on port {port}: {e}"),
            }
        };
    }

    /// The last lines of the backend's log (every run of it).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.kill_backend();
        for n in 0..self.others.len() {
            self.kill_another_backend(n);
        }
        // A replica set's nodes and sentinels are killed as it drops.
        if let Redis::One(redis) = &mut self.redis {
            redis.kill();
        }
        if std::thread::panicking() {
            eprintln!("---- gavel backend log (last lines) ----\n{}\n----", self.log_tail());
        }
    }
}

/// A fresh `redis-server` on a free port, answering PING. `free_port` can
/// race with another test taking the same port, so a server that does not
/// turn out to be ours is replaced.
fn start_redis(dir: &Path) -> ManagedRedis {
    let mut last_error = String::new();
    for _ in 0..5 {
        match ManagedRedis::start(dir, 0) {
            Ok(redis) if answers_ping(redis.port()) => return redis,
            Ok(redis) => last_error = format!("port {} answered, but not as Redis", redis.port()),
            Err(e) => last_error = e.to_string(),
        }
    }
    panic!("could not start redis-server: {last_error}");
}

/// Whether a Redis server answers `PING` on `port`.
fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}
