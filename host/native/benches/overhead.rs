//! `cargo bench -p native`: what the native executor costs.
//!
//! - per case: a trivial C program run through a warm container's
//!   supervisor (request, fork/exec under limits, wait4, reply) against a
//!   bare fork/exec + wait of the same program on the host;
//! - per submission: starting a sandbox (create, attach, start, first
//!   answer) and removing it, and compiling a trivial C program in it.
//!
//! Needs a Docker engine and the image (`cargo xtask images`).

use std::process::Command;
use std::time::{Duration, Instant};

use judge_core::{Compiled, Executor, RunEnd, RunLimits};

const TRIVIAL_C: &str = "int main(void) { return 0; }\n";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(what: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let p50 = percentile(&samples, 0.5);
    println!(
        "{what:<58} p50 {:>8.3} ms  p90 {:>8.3} ms  p99 {:>8.3} ms  (n={})",
        p50.as_secs_f64() * 1e3,
        percentile(&samples, 0.9).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.len()
    );
    p50
}

fn main() {
    let native = native::Native::connect("bench").unwrap_or_else(|e| panic!("{e}"));
    let runs = 300;

    // Bare fork/exec of the same program on the host, built by the host's gcc.
    let dir = tempfile::tempdir().unwrap();
    let (source, binary) = (dir.path().join("main.c"), dir.path().join("main"));
    std::fs::write(&source, TRIVIAL_C).unwrap();
    let gcc = Command::new("gcc").args(["-O2", "-o"]).arg(&binary).arg(&source).status();
    assert!(gcc.is_ok_and(|s| s.success()), "the host needs gcc for the baseline");
    let bare: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(&binary).status().unwrap();
            assert!(status.success());
            started.elapsed()
        })
        .collect();
    let bare = report("bare fork/exec + wait on the host", bare);

    let executor = native.executor("c").unwrap();
    let Ok(Compiled::Program(program)) = executor.compile(TRIVIAL_C.as_bytes()) else {
        panic!("compiling the trivial program failed")
    };
    let limits = RunLimits { time_ms: 1000, memory_mb: 256, output_bytes: 1 << 20 };
    let _ = program.run(b"", &limits); // the memory limit is set on the first run
    let warm: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let outcome = program.run(b"", &limits);
            assert_eq!(outcome.end, RunEnd::Exited { code: 0 });
            started.elapsed()
        })
        .collect();
    let warm = report("one case in a warm container (supervisor round trip)", warm);
    drop(program);
    println!(
        "{:<58} {:>8.3} ms   (target <= 2 ms)",
        "  per-case overhead over bare fork/exec (p50)",
        (warm.as_secs_f64() - bare.as_secs_f64()) * 1e3
    );

    let probes: Vec<native::Probe> = (0..10).map(|_| native.probe().unwrap()).collect();
    report(
        "sandbox start (create, attach, start, first answer)",
        probes.iter().map(|p| p.start).collect(),
    );
    report("sandbox removal", probes.iter().map(|p| p.remove).collect());
    let compiles: Vec<Duration> = (0..10)
        .map(|_| {
            let started = Instant::now();
            let compiled = executor.compile(TRIVIAL_C.as_bytes()).unwrap();
            assert!(matches!(compiled, Compiled::Program(_)));
            drop(compiled);
            started.elapsed()
        })
        .collect();
    report("per submission: start + gcc -O2 of a trivial C file + removal", compiles);
}
