//! The builtin languages' time is calibrated fuel: deterministic whatever
//! the machine is doing, and never cut short by the wall-clock backstop
//! while the run stays within its fuel, even with every core busy.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use catalog::{Catalog, Kind};
use judge_core::{Compiled, Executor, RunEnd, RunLimits, RunOutcome};
use plugin_host::HostConfig;

/// A CPU-bound program printing a sum, per builtin language.
fn busy_program(language: &str) -> &'static str {
    match language {
        "python" => "s = 0\nfor i in range(400000):\n    s += i * i % 7\nprint(s)\n",
        "javascript" => {
            "let s = 0;\nfor (let i = 0; i < 3000000; i++) s += i * i % 7;\nconsole.log(s);\n"
        }
        other => panic!("no busy program for the builtin language `{other}`"),
    }
}

/// Keeps every core busy until dropped.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start() -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = (0..cores)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                    }
                })
            })
            .collect();
        Load { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn run(language: &dyn Executor, source: &str, time_ms: u64) -> RunOutcome {
    let limits = RunLimits { time_ms, memory_mb: 256, output_bytes: 1 << 20 };
    match language.compile(source.as_bytes()) {
        Ok(Compiled::Program(program)) => program.run(b"", &limits),
        Ok(Compiled::Error(message)) => panic!("compile error: {message}"),
        Err(e) => panic!("compiling: {e}"),
    }
}

#[test]
fn a_run_within_its_fuel_reports_the_same_time_and_is_never_cut_short_under_load() {
    let cache = std::env::temp_dir().join("gavel-test-cache");
    let catalog =
        Catalog::new(HostConfig { cache_dir: Some(cache), ..HostConfig::default() }, None).unwrap();
    for id in catalog.known(Kind::Language) {
        let language = catalog.language(&id).unwrap();
        let source = busy_program(&id);
        // Measured on an idle machine with room to spare.
        let free = run(&language, source, 20_000);
        assert_eq!(free.end, RunEnd::Exited { code: 0 }, "{id}: {free:?}");
        let fuel = free.fuel.expect("Wasm runs are metered");

        // A limit the program uses 95 % of, with every core busy.
        let calibration = language.calibration();
        let limit_ms = (fuel as f64 / 0.95 / calibration.fuel_per_ms as f64).ceil() as u64;
        assert!(
            fuel * 100 >= calibration.fuel_for(limit_ms) * 94,
            "{id}: the program must use ~95 %"
        );
        let load = Load::start();
        let loaded = [run(&language, source, limit_ms), run(&language, source, limit_ms)];
        drop(load);
        for outcome in &loaded {
            assert_eq!(
                outcome.end,
                RunEnd::Exited { code: 0 },
                "{id}: a run using 95 % of its {limit_ms} ms must finish under load \
                 (took {:?} ms of wall time)",
                outcome.wall_ms
            );
            assert_eq!(outcome.fuel, Some(fuel), "{id}: fuel is deterministic");
            assert_eq!(outcome.time_ms, free.time_ms, "{id}: reported time is deterministic");
            assert_eq!(outcome.stdout, free.stdout, "{id}");
        }
    }
}
