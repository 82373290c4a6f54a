//! Real runner hosts for end-to-end tests: [`RunnerProcess`] is one
//! `gavel runner` process with a temp data dir of its own (identity, outbox,
//! blob cache) and the shared compiled-plugin cache ([`crate::cache_dir`]),
//! so Wasm compilation is paid once for every test. It can be killed with
//! SIGKILL, stopped with SIGTERM and restarted on the same data dir; its log
//! (every run of it) is kept beside the data dir. [`GavelUp`] is a whole
//! `gavel up` stack as one process.
//!
//! Every process is killed when its handle drops, also when the test
//! panics; a failing test prints the tail of each runner's log.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Once, mpsc};
use std::time::{Duration, Instant};

use serde::Deserialize;

use protocol::ops::RunnerInfo;

use crate::api::Client;
use crate::stack::REGISTRATION_TOKEN;
use crate::{cache_dir, gavel_bin};

/// How a runner is started.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// `--name`: how the backend lists it (unique within a test).
    pub name: String,
    /// `--slots`.
    pub slots: u32,
    /// `--grace-s`: how long running jobs get on SIGTERM.
    pub grace_s: u64,
    /// gavel's global `--plugins DIR`.
    pub plugins: Option<PathBuf>,
    /// `--native`: whether it offers what needs Docker (when Docker is here).
    pub native: bool,
    /// `--ca-cert`: a PEM CA it trusts, for an `https://` backend.
    pub ca_cert: Option<PathBuf>,
}

impl RunnerOptions {
    /// One slot, a 5 s grace period, no plugins folder.
    pub fn new(name: &str) -> RunnerOptions {
        RunnerOptions {
            name: name.to_string(),
            slots: 1,
            grace_s: 5,
            plugins: None,
            native: true,
            ca_cert: None,
        }
    }

    /// A runner that offers nothing that needs Docker (`--native false`).
    pub fn without_docker(mut self) -> RunnerOptions {
        self.native = false;
        self
    }

    pub fn slots(mut self, slots: u32) -> RunnerOptions {
        self.slots = slots;
        self
    }

    pub fn grace_s(mut self, grace_s: u64) -> RunnerOptions {
        self.grace_s = grace_s;
        self
    }

    pub fn ca_cert(mut self, path: &Path) -> RunnerOptions {
        self.ca_cert = Some(path.to_path_buf());
        self
    }

    pub fn plugins(mut self, dir: &Path) -> RunnerOptions {
        self.plugins = Some(dir.to_path_buf());
        self
    }
}

/// `GET /runners` (admin): each runner as it registered and last called
/// (the answer's `alive` and `jobs` are not read here).
#[track_caller]
pub fn listed_runners(admin: &Client) -> Vec<RunnerInfo> {
    admin.get("/runners").expect(200).json()
}

/// One `gavel runner` process and its files.
pub struct RunnerProcess {
    child: Option<Child>,
    backend: String,
    options: RunnerOptions,
    dir: tempfile::TempDir,
}

/// Compiles every builtin plugin and the plugins tests drop into folders
/// into the shared cache, once per test binary, so no runner's first job
/// pays for a compilation.
pub fn warm_plugin_cache() {
    static WARM: Once = Once::new();
    WARM.call_once(|| {
        let limit = Duration::from_secs(600);
        let out = crate::gavel(&["plugins", "list"], limit);
        assert!(
            out.status.success(),
            "gavel plugins list: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for fixture in ["custom_checker", "fixture_checker"] {
            let path = builtin_plugins::fixture_path(fixture);
            let out = crate::gavel(&["plugins", "check", path.to_str().unwrap()], limit);
            assert!(
                out.status.success(),
                "gavel plugins check {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    });
}

impl RunnerProcess {
    /// Starts a runner for the backend at `backend` (`http://127.0.0.1:PORT`)
    /// with a fresh data dir. It registers by itself (with retries); see
    /// [`RunnerProcess::wait_listed`].
    pub fn start(backend: &str, options: RunnerOptions) -> RunnerProcess {
        warm_plugin_cache();
        let dir = tempfile::Builder::new().prefix("gavel-e2e-runner").tempdir().expect("temp dir");
        let mut runner = RunnerProcess { child: None, backend: backend.to_string(), options, dir };
        runner.spawn();
        runner
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "runner {} is already running", self.options.name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("opening the runner log");
        let mut command = Command::new(gavel_bin());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("GAVEL_") {
                command.env_remove(name);
            }
        }
        command.arg("--cache-dir").arg(cache_dir());
        if let Some(plugins) = &self.options.plugins {
            command.arg("--plugins").arg(plugins);
        }
        command
            .arg("runner")
            .args(["--backend", &self.backend, "--registration-token", REGISTRATION_TOKEN])
            .args(["--name", &self.options.name])
            .args(["--slots", &self.options.slots.to_string()])
            .args(["--grace-s", &self.options.grace_s.to_string()])
            .args(["--cache-mb", "256"])
            .args(["--native", if self.options.native { "true" } else { "false" }])
            .arg("--data-dir")
            .arg(self.data_dir());
        if let Some(ca) = &self.options.ca_cert {
            command.arg("--ca-cert").arg(ca);
        }
        let child = command
            .env("GAVEL_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", gavel_bin().display()));
        self.child = Some(child);
    }

    /// `--name`.
    pub fn name(&self) -> &str {
        &self.options.name
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `--data-dir`: identity, outbox, blob cache.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The results waiting in the outbox (`<data-dir>/outbox/*.json`).
    pub fn outbox(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.data_dir().join("outbox"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("runner.log")
    }

    /// Everything the runner logged, every run of it (colour codes removed).
    pub fn log(&self) -> String {
        strip_ansi(&std::fs::read_to_string(self.log_path()).unwrap_or_default())
    }

    /// How many log lines contain `needle`.
    pub fn log_count(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Waits until `count` log lines contain `needle`; panics with the log
    /// after `limit`.
    #[track_caller]
    pub fn wait_for_log(&self, needle: &str, count: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.log_count(needle) < count {
            assert!(
                Instant::now() < deadline,
                "runner {} did not log {needle:?} {count} time(s) within {limit:?}:\n{}",
                self.options.name,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines of the log.
    pub fn log_tail(&self) -> String {
        let text = self.log();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// Waits until the backend lists a runner with this name; returns it.
    #[track_caller]
    pub fn wait_listed(&self, admin: &Client, limit: Duration) -> RunnerInfo {
        self.wait_until_listed(admin, limit, |_| true)
    }

    /// Waits until the backend lists a runner with this name for which
    /// `accept` holds; returns it.
    #[track_caller]
    pub fn wait_until_listed(
        &self,
        admin: &Client,
        limit: Duration,
        accept: impl Fn(&RunnerInfo) -> bool,
    ) -> RunnerInfo {
        let deadline = Instant::now() + limit;
        loop {
            let listed = listed_runners(admin);
            if let Some(found) = listed.iter().find(|r| r.name == self.options.name && accept(r)) {
                return found.clone();
            }
            assert!(
                Instant::now() < deadline,
                "runner {} not listed as expected within {limit:?}: {listed:?}\n{}",
                self.options.name,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` (`"KILL"`, `"TERM"`, `"STOP"`, …) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.pid().expect("a running runner");
        send_signal(pid, signal);
    }

    /// Kills the runner with SIGKILL (a crash: no grace, no flush, no
    /// deregistration) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits up to `limit` for the runner to exit;
    /// returns its exit status and how long it took.
    #[track_caller]
    pub fn terminate(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let asked = Instant::now();
        self.signal("TERM");
        let mut child = self.child.take().expect("a running runner");
        loop {
            if let Some(status) = child.try_wait().expect("waiting for the runner") {
                return (status, asked.elapsed());
            }
            if asked.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "runner {} did not exit within {limit:?} of SIGTERM\n{}",
                    self.options.name,
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the runner again on the same data dir (after
    /// [`kill`](Self::kill) or [`terminate`](Self::terminate)).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }
}

impl Drop for RunnerProcess {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- gavel runner {} log (last lines) ----\n{}\n----",
                self.options.name,
                self.log_tail()
            );
        }
    }
}

/// `kill -SIGNAL PID`.
#[track_caller]
pub fn send_signal(pid: u32, signal: &str) {
    let sent = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status();
    assert!(sent.as_ref().is_ok_and(|s| s.success()), "kill -{signal} {pid} failed: {sent:?}");
}

/// Removes terminal colour sequences (`ESC [ … letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What `gavel up --json` prints first.
#[derive(Debug, Clone, Deserialize)]
pub struct UpInfo {
    pub url: String,
    pub redis_url: String,
    pub admin_token: String,
    pub registration_token: String,
    pub runners: u32,
}

/// A `gavel up` process: Redis, the backend and its runners.
pub struct GavelUp {
    child: Option<Child>,
    pub info: UpInfo,
    dir: tempfile::TempDir,
}

impl GavelUp {
    /// Starts `gavel up --json --listen 127.0.0.1:0 --data-dir TMP EXTRA…`
    /// and waits (up to `limit`) for its first stdout line.
    pub fn start(extra: &[&str], limit: Duration) -> GavelUp {
        warm_plugin_cache();
        let dir = tempfile::Builder::new().prefix("gavel-e2e-up").tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("up.log")).expect("the up log");
        let mut command = Command::new(gavel_bin());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("GAVEL_") {
                command.env_remove(name);
            }
        }
        let mut child = command
            .arg("--cache-dir")
            .arg(cache_dir())
            .args(["up", "--json", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(extra)
            .env("GAVEL_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", gavel_bin().display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Reads every line, so gavel up never blocks on a full pipe.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(limit);
        let mut up = GavelUp {
            child: Some(child),
            info: UpInfo {
                url: String::new(),
                redis_url: String::new(),
                admin_token: String::new(),
                registration_token: String::new(),
                runners: 0,
            },
            dir,
        };
        match line {
            Ok(line) => {
                up.info = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("gavel up printed {line:?}, not its JSON: {e}"));
            }
            Err(e) => panic!("gavel up printed nothing within {limit:?} ({e})\n{}", up.log()),
        }
        up
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The port of its managed Redis.
    pub fn redis_port(&self) -> u16 {
        let rest = self.info.redis_url.trim_start_matches("redis://");
        let host_port = rest.split('/').next().unwrap_or_default();
        host_port.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| {
            panic!("no port in the Redis URL {:?}", self.info.redis_url);
        })
    }

    /// Its stderr (colour codes removed).
    pub fn log(&self) -> String {
        strip_ansi(&std::fs::read_to_string(self.dir.path().join("up.log")).unwrap_or_default())
    }

    /// Sends SIGTERM and waits up to `limit` for it to exit; returns its
    /// exit status and how long it took.
    #[track_caller]
    pub fn terminate(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("a running gavel up");
        let asked = Instant::now();
        send_signal(child.id(), "TERM");
        loop {
            if let Some(status) = child.try_wait().expect("waiting for gavel up") {
                return (status, asked.elapsed());
            }
            if asked.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!("gavel up did not exit within {limit:?} of SIGTERM\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for GavelUp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM first, so gavel up stops its Redis child itself.
            send_signal_quietly(child.id(), "TERM");
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if child.try_wait().ok().flatten().is_none() {
                let _ = child.kill();
                let _ = child.wait();
                // A SIGKILL leaves its Redis running: stop that too.
                if !self.info.redis_url.is_empty()
                    && let Ok(mut redis) = TcpStream::connect(("127.0.0.1", self.redis_port()))
                {
                    let _ = redis.write_all(b"SHUTDOWN NOSAVE\r\n");
                }
            }
        }
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(80)..].join("\n");
            eprintln!("---- gavel up log (last lines) ----\n{tail}\n----");
        }
    }
}

fn send_signal_quietly(pid: u32, signal: &str) {
    let _ = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status();
}
