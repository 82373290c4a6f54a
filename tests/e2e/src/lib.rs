//! Helpers for Gavel's end-to-end tests: find the `gavel` binary the
//! workspace build produced, run it with a bounded time, read its output.
//!
//! The backend tests (`tests/backend.rs`) use the modules: [`stack`] starts a
//! `redis-server` and the real `gavel backend` per test and tears them down;
//! [`api`] is a blocking HTTP client with bounded waits (and SSE);
//! [`runner`] is a scripted runner speaking the protocol crate's types;
//! [`package`] builds problem archives, hostile ones included.
//!
//! The runner tests (`tests/runner.rs`) add [`fleet`]: real `gavel runner`
//! processes (killed, stopped, restarted on their data dirs) and a whole
//! `gavel up` stack.
//!
//! The dashboard test (`tests/dashboard.rs`) adds [`browser`]: a headless
//! Chromium driven over WebDriver.
//!
//! [`chaos`] runs a whole deployment (Redis, two backends, three runners)
//! under injected faults and checks that nothing accepted is lost or judged
//! twice (`tests/chaos.rs`, and `cargo xtask chaos` through `src/bin/chaos.rs`).
//! [`burst`] sends a burst of submissions to eight real runners and measures
//! throughput, latency and the backend's memory (`tests/burst.rs`, and
//! `cargo xtask burst` through `src/bin/burst.rs`).

pub mod api;
pub mod browser;
pub mod burst;
pub mod chaos;
pub mod docker;
pub mod fleet;
pub mod package;
pub mod runner;
pub mod stack;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// The `gavel` binary of the same build as this executable: beside a test
/// executable's `deps/` folder (`cargo test --workspace` builds it, because
/// `bin/gavel` has integration tests of its own), or beside a binary of
/// this crate (`target/<profile>/chaos`).
pub fn gavel_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().expect("target/<profile>[/deps]");
    let dir = if dir.ends_with("deps") { dir.parent().expect("target/<profile>") } else { dir };
    let bin = dir.join("gavel");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo test --workspace` (or `cargo build -p gavel`)",
        bin.display()
    );
    bin
}

/// The build's target dir (`CARGO_TARGET_DIR`, else `target/`), found from
/// this test executable (`<target>/<profile>/deps/…`): where tests keep
/// artifacts such as screenshots.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.ancestors().nth(3).expect("<target>/<profile>/deps/<test>").to_path_buf()
}

/// A shared compiled-plugin cache for every test process.
pub fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("gavel-e2e-cache")
}

/// Runs `gavel ARGS…`, killing it after `limit`.
pub fn gavel(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(gavel_bin())
        .args(args)
        .env("GAVEL_CACHE_DIR", cache_dir())
        .env_remove("GAVEL_PLUGINS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting gavel");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waiting for gavel").is_some() {
            return child.wait_with_output().expect("reading gavel's output");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("reading gavel's output");
            panic!(
                "gavel {args:?} ran over {limit:?}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `gavel judge [--json] PROBLEM SOURCE EXTRA…`; its stdout, or why it failed.
fn judge(problem: &Path, source: &Path, json: bool, extra: &[&str]) -> Result<String, String> {
    let mut args = vec!["judge", problem.to_str().unwrap(), source.to_str().unwrap()];
    if json {
        args.push("--json");
    }
    args.extend_from_slice(extra);
    let out = gavel(&args, Duration::from_secs(180));
    if !out.status.success() {
        return Err(format!("gavel {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `gavel judge --json` on a problem and a source; the parsed report.
pub fn judge_json(
    problem: &Path,
    source: &Path,
    extra: &[&str],
) -> Result<serde_json::Value, String> {
    let stdout = judge(problem, source, true, extra)?;
    serde_json::from_str(&stdout).map_err(|e| format!("gavel printed no JSON ({e}): {stdout}"))
}

/// `gavel judge` (table mode) on a problem and a source; its stdout.
pub fn judge_table(problem: &Path, source: &Path, extra: &[&str]) -> Result<String, String> {
    judge(problem, source, false, extra)
}

/// `"STATUS SCORE"` of a report, the score rounded to 3 decimals.
pub fn status_and_score(report: &serde_json::Value) -> String {
    let score = report["score"].as_f64().expect("a numeric score");
    format!(
        "{} {}",
        report["status"].as_str().expect("a status"),
        (score * 1000.0).round() / 1000.0
    )
}

/// Every file under `dir`, by path relative to it.
pub fn files_under(dir: &Path) -> std::collections::BTreeSet<String> {
    fn walk(dir: &Path, root: &Path, out: &mut std::collections::BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if let Ok(relative) = path.strip_prefix(root) {
                out.insert(relative.display().to_string());
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}
