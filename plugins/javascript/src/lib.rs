//! Gavel's `javascript` language plugin: JavaScript on the boa engine.
//!
//! `compile` checks the syntax and passes the source through; `run` evaluates
//! it in a fresh boa context with the globals of V8's `d8` shell (`print`,
//! `readline`, …) and of Node (`console`, `process`, `require('fs')`,
//! `require('readline')`, …), reading the case from stdin and writing one
//! buffered stdout. See [`engine`] for the runtime and its speed fixes; this
//! file is only the WIT glue.

pub mod engine;

use gavel_sdk::language::{Info, Language};

/// Version of the JavaScript implementation, as reported by `info`.
pub const BOA_VERSION: &str = "0.22";

struct JavaScript;

impl Language for JavaScript {
    fn info() -> Info {
        Info {
            id: "javascript".to_owned(),
            name: format!("JavaScript (boa {BOA_VERSION})"),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            source_file: engine::SCRIPT_NAME.to_owned(),
            // The one calibration all Wasm languages shared before 0.2.0.
            fuel_per_ms: 5_000_000,
            fuel_per_cpu_ms: 5_000_000,
        }
    }

    fn compile(source: Vec<u8>) -> Result<Vec<u8>, String> {
        engine::compile(&source)?;
        Ok(source)
    }

    fn run(program: Vec<u8>, args: Vec<String>) -> u8 {
        engine::run(
            &program,
            &args,
            Box::new(std::io::stdin()),
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }
}

gavel_sdk::export_language!(JavaScript);
