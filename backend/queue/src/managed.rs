//! A `redis-server` child process that Gavel manages: `gavel up` runs one
//! with AOF persistence in its data dir, and tests run one per test on a free
//! loopback port. The process is killed when the handle drops.

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
        std::fs::create_dir_all(dir)?;
        let port = if port == 0 { free_port()? } else { port };
        let log = dir.join("redis.log");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--save", ""])
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(&log)
            .args(["--protected-mode", "yes", "--daemonize", "no"])
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
