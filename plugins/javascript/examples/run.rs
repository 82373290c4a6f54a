//! Runs a JavaScript file natively, as the plugin would: stdin in, stdout
//! and stderr out, the exit status out.
//!
//! Run: `cargo run --release -p javascript --example run --target x86_64-unknown-linux-gnu -- main.js < input`

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
    if let Err(e) = javascript::engine::compile(&source) {
        eprintln!("compile error: {e}");
        std::process::exit(2);
    }
    let status = match javascript::engine::Engine::new() {
        Ok(engine) => engine.run(
            &source,
            &args,
            Box::new(std::io::stdin()),
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        ),
        Err(e) => {
            eprintln!("{e}");
            2
        }
    };
    std::process::exit(status.into());
}
