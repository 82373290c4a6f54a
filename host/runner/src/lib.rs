//! Gavel's runner host (`docs/contract.md` §3, §4, §9): it registers with a
//! backend, long-polls for jobs while it has a free slot, judges each
//! exactly as `gavel judge` does (Wasm language plugins, or the Docker
//! executor for the native languages), runs free code runs, and delivers
//! every result through a durable outbox.
//!
//! `agent` is the runner's life (loops and shutdown), `client` the HTTP
//! calls, `execute` one job, `code_run` a code run's transcript, `cache` the
//! blob cache, `outbox` the durable results, `config` the settings.

pub mod agent;
pub mod cache;
pub mod client;
pub mod code_run;
pub mod config;
pub mod execute;
pub mod outbox;

pub use agent::run;
pub use config::{RunnerArgs, RunnerConfig};
