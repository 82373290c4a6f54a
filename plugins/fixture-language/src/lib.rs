//! Test fixture `fixture-language`: a language whose "programs" are lists of
//! commands, one per line, so tests can make a submission misbehave in every
//! way on purpose. Never shipped. Source file: `main.fix`.
//!
//! A source whose first line is `compile-error MESSAGE` fails to compile.
//! Commands, run in order:
//! `echo` (copy stdin to stdout), `print TEXT`, `stderr TEXT`, `exit N`,
//! `loop` (never ends), `alloc` (allocates until refused, then exits 3),
//! `flood` (writes stdout without end), `trap` (`unreachable`), `panic`,
//! `preinit` (prints whether this run started from the host's snapshot taken
//! after `init`).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use gavel_sdk::language::{Info, Language};

struct FixtureLanguage;

/// Every command a program may use.
const COMMANDS: &[&str] =
    &["preinit", "echo", "print", "stderr", "exit", "loop", "alloc", "flood", "trap", "panic"];

/// Set by `init`: true in every run that starts from the host's snapshot.
static INITIALISED: AtomicBool = AtomicBool::new(false);

impl Language for FixtureLanguage {
    fn info() -> Info {
        Info {
            id: "fixture-language".into(),
            name: "Fixture language for tests".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            source_file: "main.fix".into(),
            // Not calibrated against anything: a round figure tests rely on
            // (a time limit of 1 ms is 5 M fuel).
            fuel_per_ms: 5_000_000,
            fuel_per_cpu_ms: 5_000_000,
        }
    }

    fn compile(source: Vec<u8>) -> Result<Vec<u8>, String> {
        let text = String::from_utf8(source).map_err(|_| "main.fix: not UTF-8".to_string())?;
        if let Some(message) = text.lines().next().and_then(|l| l.strip_prefix("compile-error")) {
            return Err(format!("main.fix:1: {}", message.trim()));
        }
        for (number, line) in text.lines().enumerate() {
            let command = line.split_whitespace().next().unwrap_or("");
            if !command.is_empty() && !COMMANDS.contains(&command) {
                return Err(format!("main.fix:{}: unknown command `{command}`", number + 1));
            }
        }
        Ok(text.into_bytes())
    }

    fn init() {
        INITIALISED.store(true, Ordering::Relaxed);
    }

    fn run(program: Vec<u8>, _args: Vec<String>) -> u8 {
        let text = String::from_utf8_lossy(&program);
        let mut out = std::io::stdout().lock();
        for line in text.lines() {
            let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
            match command {
                "echo" if std::io::copy(&mut std::io::stdin().lock(), &mut out).is_err() => {
                    return 2;
                }
                "preinit" => {
                    let state =
                        if INITIALISED.load(Ordering::Relaxed) { "snapshot" } else { "cold" };
                    let _ = writeln!(out, "{state}");
                }
                "print" => {
                    let _ = writeln!(out, "{rest}");
                }
                "stderr" => {
                    let _ = writeln!(std::io::stderr(), "{rest}");
                }
                "exit" => {
                    let _ = out.flush();
                    return rest.trim().parse().unwrap_or(1);
                }
                "loop" => spin(),
                "alloc" => return hog(),
                "flood" => flood(&mut out),
                "trap" => trap(),
                "panic" => panic!("fixture program panics on purpose"),
                _ => {}
            }
        }
        let _ = out.flush();
        0
    }
}

fn spin() -> ! {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

/// Allocates (and touches) 1 MiB at a time until the allocator says no.
fn hog() -> u8 {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = Vec::new();
        if chunk.try_reserve_exact(1 << 20).is_err() || chunks.try_reserve(1).is_err() {
            return 3;
        }
        chunk.resize(1 << 20, 1);
        chunks.push(std::hint::black_box(chunk));
    }
}

fn flood(out: &mut impl Write) -> ! {
    let line = [b'y'; 1024];
    loop {
        let _ = out.write_all(&line);
    }
}

fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

gavel_sdk::export_language!(FixtureLanguage, preinit);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_rejects_what_it_should() {
        let err =
            FixtureLanguage::compile(b"compile-error missing semicolon\n".to_vec()).unwrap_err();
        assert_eq!(err, "main.fix:1: missing semicolon");
        let err = FixtureLanguage::compile(b"print hi\ndance\n".to_vec()).unwrap_err();
        assert_eq!(err, "main.fix:2: unknown command `dance`");
        assert!(FixtureLanguage::compile(b"echo\nexit 4\n".to_vec()).is_ok());
    }
}
