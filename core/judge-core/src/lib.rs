//! Gavel's judging rules, free of I/O runtimes.
//!
//! This crate knows what a problem is ([`problem`]), what limits apply, how
//! verdicts rank ([`verdict`]), how a submission is scored ([`report`]), how
//! a submission is judged case by case ([`judge`]) and which language a
//! source file is in ([`language`]). It never starts a process, touches
//! Wasm, Docker or Redis, or spawns an async task: executors
//! and checkers reach it through the small traits in [`exec`]. The only I/O
//! is [`problem::DirPackage`], which reads a problem folder.

pub mod checker_program;
pub mod code_run;
pub mod exec;
pub mod interactive;
pub mod judge;
pub mod language;
pub mod problem;
pub mod report;
pub mod verdict;

pub use code_run::{CodeRun, CodeRunOutcome, CodeRunner, OutputTap, Stream};
pub use exec::{
    Channel, CheckVerdict, Checker, Compiled, Executor, Program, Received, RunEnd, RunLimits,
    RunOutcome, SharedChannel, Stopped,
};
pub use verdict::Status;
