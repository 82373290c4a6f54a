//! Test support: an S3-protocol server on loopback for the tests of the
//! `s3://` store (this crate's, and the end-to-end ones), as the queue's
//! `managed` module is for Redis.
//!
//! The server is moto's (PyPI `moto[server]`, pinned at [`MOTO`]),
//! installed into a virtual environment under the build's target dir
//! (`<target>/s3-server/venv`) by [`install`] — `cargo xtask setup` and
//! `cargo xtask test` call it, and [`S3Server::start`] does when it is
//! missing. A small launcher starts it on `127.0.0.1` and a free port,
//! creates the buckets asked for, prints the port, and exits when its
//! standard input closes: the server dies with the process that started
//! it, even one killed without running its destructors.
//!
//! Clients of the server get the variables of [`S3Server::env`]: the
//! endpoint, a region, static credentials and
//! `AWS_EC2_METADATA_DISABLED=true`, so no credential chain ever reaches
//! past loopback.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

/// The moto release the tests run against.
pub const MOTO: &str = "moto[server]==5.2.6";

/// The static credentials the test server is used with (moto checks none).
pub const ACCESS_KEY: &str = "gavel-test";
pub const SECRET_KEY: &str = "gavel-test-secret";

/// Starts moto on a free loopback port, creates the buckets named in
/// `argv[1:]`, prints the port, and lives until stdin closes.
const LAUNCHER: &str = r#"
import os, sys, urllib.request
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
port = server.get_host_and_port()[1]
for bucket in sys.argv[1:]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{bucket}", method="PUT")
    urllib.request.urlopen(request, timeout=30).read()
print(port, flush=True)
sys.stdin.read()
os._exit(0)
"#;

/// A running S3 test server; killed when dropped.
#[derive(Debug)]
pub struct S3Server {
    child: Child,
    /// Held open: the server exits when it closes.
    _stdin: ChildStdin,
    port: u16,
}

/// The build's target dir: the nearest ancestor of this executable that
/// cargo marked with `CACHEDIR.TAG`.
pub fn target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors().find(|dir| dir.join("CACHEDIR.TAG").is_file()).map(Path::to_path_buf)
}

/// The virtual environment moto lives in, under `target`.
pub fn venv(target: &Path) -> PathBuf {
    target.join("s3-server").join("venv")
}

/// Installs [`MOTO`] into [`venv`]`(target)` unless it is there (`python3
/// -m venv` and pip, from PyPI); returns whether it installed. Concurrent
/// callers take turns on a lock file.
pub fn install(target: &Path) -> Result<bool, String> {
    let venv = venv(target);
    let python = venv.join("bin").join("python");
    let marker = venv.join("gavel-installed");
    let installed = || std::fs::read_to_string(&marker).is_ok_and(|m| m == MOTO);
    if installed() {
        return Ok(false);
    }
    std::fs::create_dir_all(target.join("s3-server")).map_err(|e| e.to_string())?;
    let lock = std::fs::File::create(target.join("s3-server").join("install.lock"))
        .map_err(|e| format!("the install lock: {e}"))?;
    lock.lock().map_err(|e| format!("taking the install lock: {e}"))?;
    if installed() {
        return Ok(false);
    }
    let run = |command: &mut Command| {
        let shown = format!("{command:?}");
        match command.status() {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("{shown} failed ({status})")),
            Err(e) => Err(format!("{shown}: {e}")),
        }
    };
    run(Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv))
        .map_err(|e| format!("{e} (Debian: `apt-get install python3-venv`)"))?;
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        MOTO,
    ]))?;
    std::fs::write(&marker, MOTO).map_err(|e| e.to_string())?;
    Ok(true)
}

impl S3Server {
    /// Starts a server with `buckets` created, installing moto first when
    /// it is missing; its log goes to `log`.
    pub fn start(buckets: &[&str], log: &Path) -> Result<S3Server, String> {
        let target = target_dir().ok_or("no target dir (CACHEDIR.TAG) above this executable")?;
        install(&target)?;
        let python = venv(&target).join("bin").join("python");
        let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = Command::new(&python)
            .arg("-c")
            .arg(LAUNCHER)
            .args(buckets)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", python.display()))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let Ok(port) = line.trim().parse() else {
            let _ = child.kill();
            let _ = child.wait();
            let said = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("the S3 test server did not start: {said}"));
        };
        Ok(S3Server { child, _stdin: stdin, port })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The variables a client of this server runs with.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
