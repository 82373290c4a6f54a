//! Plugin host benchmarks: `cargo bench -p plugin-host` (or `cargo xtask bench`).
//!
//! Prints, for each measurement, the median and mean over many iterations:
//! - a builtin checker call with a fresh store (small input);
//! - the `tokens` checker on two identical ~1.2 MB outputs and on outputs
//!   that differ only in layout (MB/s of one side);
//! - the start cost of a trivial JavaScript and Python run (one fresh store,
//!   instantiate, `run`), and the fuel such a run burns.
//!
//! Figures are recorded in `docs/BENCHMARKS.md`.

use std::time::{Duration, Instant};

use judge_core::{Checker, Compiled, Executor, RunLimits};
use plugin_host::{HostConfig, Plugin, PluginHost};

fn measure(name: &str, iterations: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..iterations.div_ceil(10) {
        f();
    }
    let mut samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    let median = samples[samples.len() / 2];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!("{name:<52} median {median:>11.3?}  mean {mean:>11.3?}  ({iterations} runs)");
    median
}

fn load(host: &PluginHost, id: &str) -> Plugin {
    let builtin = builtin_plugins::builtin(id).expect("a builtin");
    host.load(builtin.wasm).expect("builtin loads")
}

fn main() {
    let cache = std::env::temp_dir().join("gavel-bench-cache");
    let host =
        PluginHost::new(HostConfig { cache_dir: Some(cache), ..HostConfig::default() }).unwrap();
    plugin_host::on_big_stack(|| {
        let Plugin::Checker(tokens) = load(&host, "tokens") else { unreachable!() };
        let args: Vec<String> = Vec::new();
        measure("checker call, fresh store (tokens, tiny input)", 20_000, || {
            tokens.check(b"1 2\n", b"3\n", b"3\n", &args);
        });

        let mut big = String::new();
        for i in 0..120_000u64 {
            big.push_str(&(i * 7919 % 1_000_003).to_string());
            big.push(if i % 10 == 9 { '\n' } else { ' ' });
        }
        let relaid = big.replace('\n', " \n ");
        let Plugin::Checker(exact) = load(&host, "exact") else { unreachable!() };
        let mb = big.len() as f64 / 1e6;
        let t =
            measure(&format!("exact, identical outputs ({mb:.1} MB): transfer cost"), 200, || {
                exact.check(b"", big.as_bytes(), big.as_bytes(), &args);
            });
        println!("{:<52} {:.0} MB/s", "  throughput", mb / t.as_secs_f64());
        let t = measure(&format!("tokens, identical outputs ({mb:.1} MB)"), 200, || {
            tokens.check(b"", big.as_bytes(), big.as_bytes(), &args);
        });
        println!("{:<52} {:.0} MB/s", "  throughput", mb / t.as_secs_f64());
        let t = measure(&format!("tokens, same tokens, other layout ({mb:.1} MB)"), 100, || {
            tokens.check(b"", big.as_bytes(), relaid.as_bytes(), &args);
        });
        println!("{:<52} {:.0} MB/s", "  throughput", mb / t.as_secs_f64());

        let limits = RunLimits { time_ms: 10_000, memory_mb: 256, output_bytes: 1 << 20 };
        for (id, source, runs) in
            [("javascript", "console.log('hi')", 200), ("python", "print('hi')", 30)]
        {
            let Plugin::Language(lang) = load(&host, id) else { unreachable!() };
            let Ok(Compiled::Program(program)) = lang.compile(source.as_bytes()) else {
                panic!("{id}: compile failed")
            };
            let mut fuel = 0;
            measure(&format!("{id}: trivial run (fresh store + run)"), runs, || {
                fuel = program.run(b"", &limits).fuel.unwrap_or(0);
            });
            println!("{:<52} {fuel} fuel", "  fuel per trivial run");
        }
    });
}
