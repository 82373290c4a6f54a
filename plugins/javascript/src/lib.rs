//! Gavel's `javascript` language plugin: JavaScript on QuickJS-NG, through
//! the `rquickjs` crate.
//!
//! `compile` checks the syntax and passes the source through; `run` evaluates
//! it with the globals of V8's shell (`print`, `readline`) and of Node
//! (`console`, `process`, `require('fs' | 'readline' | …)`), reading the case
//! from stdin and writing buffered stdout. The runtime and its globals are
//! made in `init`, before the snapshot every run starts from. See [`engine`]
//! for the runtime; this file is only the WIT glue.

pub mod engine;
pub mod io;
#[cfg(test)]
mod tests;

use std::cell::RefCell;

use gavel_sdk::language::{Info, Language};

/// The QuickJS-NG version rquickjs bundles, e.g. `0.16.2`.
pub fn quickjs_version() -> String {
    // SAFETY: JS_GetVersion returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(rquickjs::qjs::JS_GetVersion()) };
    version.to_string_lossy().into_owned()
}

/// The rquickjs version the plugin is built with (pinned in Cargo.toml).
pub const RQUICKJS_VERSION: &str = "0.14";

thread_local! {
    /// The runtime `init` made (taken by the one run of this instance).
    static READY: RefCell<Option<engine::Engine>> = const { RefCell::new(None) };
}

struct JavaScript;

impl Language for JavaScript {
    fn info() -> Info {
        let version = quickjs_version();
        Info {
            id: "javascript".to_owned(),
            name: format!("JavaScript (QuickJS-NG {version} via rquickjs {RQUICKJS_VERSION})"),
            version,
            source_file: engine::SCRIPT_NAME.to_owned(),
            fuel_per_ms: FUEL_PER_MS,
            fuel_per_cpu_ms: FUEL_PER_CPU_MS,
        }
    }

    fn compile(source: Vec<u8>) -> Result<Vec<u8>, String> {
        engine::compile(&source)?;
        Ok(source)
    }

    fn init() {
        let engine = engine::Engine::new().ok();
        READY.with(|r| *r.borrow_mut() = engine);
    }

    fn run(program: Vec<u8>, args: Vec<String>) -> u8 {
        let engine =
            match READY.with(|r| r.borrow_mut().take()).map_or_else(engine::Engine::new, Ok) {
                Ok(engine) => engine,
                Err(e) => {
                    eprintln!("internal error: {e}");
                    return 1;
                }
            };
        engine.run(
            &program,
            &args,
            Box::new(std::io::stdin()),
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }
}

/// Fuel that counts as one millisecond, fitted to node's CPU time on the
/// input parsing and sorting workloads of `cargo xtask bench languages`
/// (9.8–16.8 M fuel per node ms since the faster `'line'` events): 13.5 M
/// puts all six within ±35 % (0.73–1.24), so a time limit set for node
/// means about the same here (docs/BENCHMARKS.md).
pub const FUEL_PER_MS: u64 = 13_500_000;
/// Fuel QuickJS-NG burns per millisecond of real CPU (a 10⁷-step loop:
/// 15.2 G fuel in 1.06 s): sizes the host's wall-clock backstop.
pub const FUEL_PER_CPU_MS: u64 = 14_000_000;

gavel_sdk::export_language!(JavaScript, preinit);
