//! Interactive judging benchmarks: `cargo bench -p catalog --bench
//! interactive` (or `cargo xtask bench`). Figures go to docs/BENCHMARKS.md.
//!
//! - the query round trip between an interactor and a contestant that are
//!   both WASI programs (an echo of a few bytes, 20 000 queries; no
//!   language runtime in the way: the host's pipes and thread wake-ups);
//! - the same with the `python` contestant (`print(..., flush=True)` then
//!   `input()`), which adds CPython's own cost per query;
//! - the same with a Docker contestant (C++, `std::endl` then `std::cin`),
//!   through the supervisor's bridge, when Docker and the image are here;
//! - the cost of one interactive case over a plain run of the same program
//!   (a program that exits at once, an interactor that reads to the end).

use std::time::{Duration, Instant};

use catalog::Catalog;
use catalog::resolve::{self, Language};
use judge_core::interactive::{Interactor, Ruling, decide};
use judge_core::{Compiled, Program, RunLimits};
use plugin_host::{FuelCalibration, HostConfig, PluginHost, WasiInteractor, WasiProgram};

/// A WASI command whose `_start` is `body`, with `$write` (fd, ptr, len),
/// `$read` (fd → bytes read into 256..1256) and `$exit`, and `data` at 16.
fn program(data: &str, body: &str) -> Vec<u8> {
    let text = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{data}")
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $read (param $fd i32) (result i32)
    (i32.store (i32.const 0) (i32.const 256))
    (i32.store (i32.const 4) (i32.const 1000))
    (drop (call $fd_read (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.load (i32.const 8)))
  (func (export "_start") (local $i i32) {body}))"#
    );
    wat::parse_str(text).expect("valid WAT")
}

/// The interactor of the round trips: `queries` times, read a query and
/// answer `=\n`; then accept.
fn echo_interactor(queries: u32) -> Vec<u8> {
    program(
        "=\\0a",
        &format!(
            "(block $done (loop $next
               (br_if $done (i32.ge_u (local.get $i) (i32.const {queries})))
               (br_if $done (i32.eqz (call $read (i32.const 0))))
               (call $write (i32.const 1) (i32.const 16) (i32.const 2))
               (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br $next)))
             (call $exit (i32.const 0))"
        ),
    )
}

/// A contestant asking `queries` times and reading each answer.
fn echo_contestant(queries: u32) -> Vec<u8> {
    program(
        "? 1\\0a",
        &format!(
            "(loop $next
               (call $write (i32.const 1) (i32.const 16) (i32.const 4))
               (drop (call $read (i32.const 0)))
               (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br_if $next (i32.lt_u (local.get $i) (i32.const {queries}))))"
        ),
    )
}

fn calibration() -> FuelCalibration {
    FuelCalibration::new(6_000_000, 2_000_000).unwrap()
}

fn interactor(host: &PluginHost, wasm: &[u8]) -> WasiInteractor {
    let spec = judge_core::problem::Interactor {
        path: "interactor.wasm".into(),
        time_ms: Some(60_000),
        memory_mb: Some(64),
        then_checker: false,
    };
    WasiInteractor::new(host.load_program(wasm).unwrap(), calibration(), spec)
}

const LIMITS: RunLimits = RunLimits { time_ms: 30_000, memory_mb: 256, output_bytes: 64 << 20 };

/// One interactive case of `program` against `interactor`: its wall time.
fn case(interactor: &WasiInteractor, program: &dyn Program) -> Duration {
    let started = Instant::now();
    let interaction = interactor.interact(program, b"", b"", &LIMITS);
    let elapsed = started.elapsed();
    let ruling = decide(&interaction);
    assert_eq!(ruling, Ruling::Accepted, "{:?}", interaction.contestant);
    elapsed
}

/// The median of `runs` runs of `f`, printed.
fn median(name: &str, runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut samples: Vec<Duration> = (0..runs).map(|_| f()).collect();
    samples.sort();
    let median = samples[runs / 2];
    println!("{name:<64} median {median:>10.3?}  ({runs} runs)");
    median
}

fn round_trip(name: &str, queries: u32, interactor: &WasiInteractor, program: &dyn Program) {
    let total = median(&format!("{name}: {queries} queries"), 5, || case(interactor, program));
    let each = total / queries;
    println!("{:<64} {each:>10.3?}", format!("{name}: per query round trip"));
}

fn main() {
    let cache = std::env::temp_dir().join("gavel-bench-cache");
    let config = HostConfig { cache_dir: Some(cache), ..HostConfig::default() };
    let catalog = Catalog::new(config, None).unwrap();
    let host = catalog.host.clone();
    plugin_host::on_big_stack(|| {
        let queries = 20_000;
        let echo = interactor(&host, &echo_interactor(queries));
        let wasm: WasiProgram = host.load_program(&echo_contestant(queries)).unwrap();
        round_trip("Wasm <-> Wasm (WASI programs)", queries, &echo, &wasm.judged(calibration()));

        let python = catalog.language("python").unwrap();
        let source =
            format!("for _ in range({queries}):\n    print('? 1', flush=True)\n    input()\n");
        let Ok(Compiled::Program(py)) = judge_core::Executor::compile(&python, source.as_bytes())
        else {
            panic!("the python program compiles")
        };
        round_trip("Wasm <-> python contestant", queries, &echo, py.as_ref());

        // Per case: an interactive case against a plain run of the same
        // program (one that exits at once).
        let quiet = host.load_program(&program("", "")).unwrap().judged(calibration());
        let reader = interactor(&host, &echo_interactor(0));
        let plain = median("plain run of a program that exits at once", 200, || {
            let started = Instant::now();
            quiet.run(b"", &LIMITS);
            started.elapsed()
        });
        let interactive =
            median("interactive case of the same program", 200, || case(&reader, &quiet));
        println!(
            "{:<64} {:>10.3?}",
            "per-case overhead of an interactive case",
            interactive.saturating_sub(plain)
        );

        docker(&catalog, &echo, queries / 4);
    });
}

/// The Docker contestant's round trip, when Docker and the image are here.
fn docker(catalog: &Catalog, _echo: &WasiInteractor, queries: u32) {
    let native = match native::Native::connect("gavel-bench") {
        Ok(native) => native,
        Err(e) => {
            println!("Docker contestant: skipped ({e})");
            return;
        }
    };
    let echo = interactor(&catalog.host, &echo_interactor(queries));
    let Language::Native(cpp) = resolve::language(catalog, Some(&native), "cpp").unwrap() else {
        panic!("cpp runs in Docker")
    };
    let source = format!(
        "#include <iostream>\n#include <string>\nint main() {{ std::string r; for (int i = 0; i < {queries}; i++) {{ std::cout << \"? 1\" << std::endl; std::cin >> r; }} }}\n"
    );
    let Ok(Compiled::Program(program)) = judge_core::Executor::compile(&cpp, source.as_bytes())
    else {
        panic!("the C++ program compiles")
    };
    round_trip("Wasm interactor <-> Docker contestant (cpp)", queries, &echo, program.as_ref());
}
