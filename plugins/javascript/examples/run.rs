//! Runs a JavaScript file natively, like the plugin would: stdin in, stdout
//! and stderr out, exit status out; the elapsed time goes to stderr.
//!
//! Run: `cargo run --release -p javascript --example run --target x86_64-unknown-linux-gnu -- main.js < input`

use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: run FILE.js [ARGS...] < INPUT");
        std::process::exit(2);
    };
    let args: Vec<String> = std::env::args().skip(2).collect();
    let source = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2);
    });
    let start = Instant::now();
    if let Err(e) = javascript::engine::compile(&source) {
        eprintln!("compile error: {e}");
        std::process::exit(2);
    }
    let compiled = start.elapsed();
    let status = javascript::engine::run(
        &source,
        &args,
        Box::new(std::io::stdin()),
        Box::new(std::io::stdout()),
        Box::new(std::io::stderr()),
    );
    eprintln!(
        "[status {status}; compile {:.3} ms, run {:.3} ms]",
        compiled.as_secs_f64() * 1e3,
        (start.elapsed() - compiled).as_secs_f64() * 1e3
    );
    std::process::exit(i32::from(status));
}
