//! The seams between the judging rules and whatever runs code: a language
//! [`Executor`] (Wasm plugin or Docker container) and a [`Checker`].
//!
//! An interactive run talks to an interactor through a [`Channel`].
//!
//! Implementations live in other crates (`plugin-host` for Wasm plugins,
//! `native` for Docker); this module only says what they must report.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Limits for one run of a program on one test case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLimits {
    /// Time the program may use: CPU time (native), or fuel-metered time
    /// (Wasm: a fuel budget of `time_ms × fuel_per_ms`). The wall deadline
    /// each executor adds is only a backstop.
    pub time_ms: u64,
    /// Memory the program may use, in MiB.
    pub memory_mb: u64,
    /// Bytes the program may write to stdout and stderr together.
    pub output_bytes: u64,
}

/// How a run ended, before any checker looked at the output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunEnd {
    /// The program exited on its own with this status (0 = success).
    Exited { code: i32 },
    /// The time limit was hit: the fuel budget (Wasm), the CPU limit
    /// (native), or the executor's wall backstop.
    TimeLimit { reason: String },
    /// The memory cap was hit (even if the program then caught the failure).
    MemoryLimit { reason: String },
    /// The output cap was hit.
    OutputLimit { reason: String },
    /// The program crashed: a trap, a signal, a panic.
    Crashed { reason: String },
    /// The executor itself failed (not the program's fault): ends as JE.
    SystemError { reason: String },
}

/// What one run of a program produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    pub end: RunEnd,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Time used in milliseconds: CPU time (native), or the fuel burnt ÷
    /// fuel per ms (Wasm: deterministic, never the wall time).
    pub time_ms: u64,
    /// Peak memory in KiB.
    pub memory_kb: u64,
    /// Wasm instructions' fuel consumed, when metered.
    pub fuel: Option<u64>,
    /// The real wall time of the run, when the executor measured it: a
    /// diagnostic (benchmarks compare it with native tools), never what a
    /// limit applies to.
    pub wall_ms: Option<u64>,
}

impl RunOutcome {
    /// A run the executor could not carry out (→ JE), with nothing measured.
    pub fn system_error(reason: impl Into<String>) -> Self {
        Self {
            end: RunEnd::SystemError { reason: reason.into() },
            stdout: Vec::new(),
            stderr: Vec::new(),
            time_ms: 0,
            memory_kb: 0,
            fuel: None,
            wall_ms: None,
        }
    }
}

/// The result of compiling a submission.
pub enum Compiled<'a> {
    /// A program ready to run on each case.
    Program(Box<dyn Program + Send + 'a>),
    /// A compile error with the message for the contestant (→ CE).
    Error(String),
}

impl std::fmt::Debug for Compiled<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Compiled::Program(_) => f.write_str("Program(..)"),
            Compiled::Error(message) => f.debug_tuple("Error").field(message).finish(),
        }
    }
}

/// Runs submissions of one language.
pub trait Executor {
    /// The language id (`javascript`, `c`, …).
    fn language(&self) -> &str;
    /// Compiles (or syntax-checks) a submission. `Err` is a system failure
    /// (→ JE), not a compile error.
    fn compile(&self, source: &[u8]) -> Result<Compiled<'_>, String>;
}

/// One compiled submission. It may hold resources for all of its cases (a
/// warm container); dropping it releases them.
pub trait Program {
    /// Runs the program once on `stdin`.
    fn run(&self, stdin: &[u8], limits: &RunLimits) -> RunOutcome;

    /// Runs the program once with its stdin and stdout connected to an
    /// interactor through `channel` (`crate::interactive`): what the
    /// interactor writes is its input as it comes, what it writes and
    /// flushes goes to the interactor at once. The outcome's `stdout` is
    /// left empty. An executor that cannot do this reports a system error.
    fn interact(&self, channel: SharedChannel, limits: &RunLimits) -> RunOutcome {
        let _ = (channel, limits);
        RunOutcome::system_error("this language cannot run interactive problems")
    }
}

/// What a contestant's [`Channel::receive`] got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Bytes the interactor wrote.
    Data(Vec<u8>),
    /// Nothing within the wait given.
    Nothing,
    /// The interactor's output is closed (it ended): end of input.
    End,
}

/// The host ended the run (the case is decided): why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped(pub String);

/// The contestant's end of the pipes to an interactor, as the host running
/// the interactor offers it to an executor's [`Program::interact`].
pub trait Channel: Send + Sync {
    /// Takes at most `max` bytes the interactor wrote, waiting for some up to
    /// `wait` (`None`: until there are some, the end, or a stop).
    fn receive(&self, max: usize, wait: Option<Duration>) -> Result<Received, Stopped>;
    /// Hands bytes the contestant wrote (and flushed) to the interactor;
    /// never blocks. After the interactor has ended they are discarded.
    fn send(&self, bytes: &[u8]) -> Result<(), Stopped>;
    /// The contestant has ended (called as soon as its run is over, before
    /// its outcome is reported: who ends first decides verdicts).
    fn close(&self);
    /// The contestant is using CPU now (a Wasm store's tick, or a Docker
    /// program whose CPU time grew): it is not idle.
    fn ran(&self);
    /// For a contestant whose reads the host cannot see (Docker): whether it
    /// has taken everything given to it so far. Drained and using no CPU
    /// is waiting for input.
    fn drained(&self, drained: bool);
    /// Why the host ended the run, once it has.
    fn stopped(&self) -> Option<Stopped>;
}

/// A shared channel.
pub type SharedChannel = std::sync::Arc<dyn Channel>;

/// A checker's decision about one case (mirrors the WIT `verdict`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckVerdict {
    Accepted,
    WrongAnswer {
        message: String,
    },
    PresentationError {
        message: String,
    },
    /// `score` in `[0, 1]`.
    Partial {
        score: f64,
        message: String,
    },
    /// The checker failed (its own fault or a limit it hit): → JE.
    Fail {
        message: String,
    },
}

/// Decides whether an output is right.
pub trait Checker {
    fn check(&self, input: &[u8], expected: &[u8], actual: &[u8], args: &[String]) -> CheckVerdict;
}
