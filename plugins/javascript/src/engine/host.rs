//! What a run's native globals share: the program's name, and the per-run
//! host state (standard streams, exit status, timers, pending rejections)
//! kept in the context's host data.

use std::{cell::RefCell, rc::Rc};

use boa_engine::{JsObject, JsValue};

use super::io::{Input, Output};

/// The name programs see for themselves in stack traces and `process.argv`.
pub const SCRIPT_NAME: &str = "main.js";

/// Per-run state shared by the native globals (through the context's host data).
pub(crate) struct Host {
    pub input: Input,
    pub stdout: Output,
    pub stderr: Output,
    /// Set by `process.exit`: the run unwinds with an uncatchable error and
    /// returns this status.
    pub exit: Option<i32>,
    /// Pending timers: `(due, sequence)` → callback and arguments.
    pub timers: std::collections::BTreeMap<(u64, u64), Timer>,
    pub timer_seq: u64,
    /// Virtual time of the timer queue (ms); timers never wait for real.
    pub now: u64,
    /// The lazily loaded `support.js` exports.
    pub support: Option<JsObject>,
    /// Rejected promises without a handler (Node ends the program on them).
    pub unhandled: Vec<JsObject>,
}

pub(crate) struct Timer {
    pub id: u64,
    pub callback: JsObject,
    pub args: Vec<JsValue>,
    /// `Some(ms)` for `setInterval`.
    pub repeat: Option<u64>,
}

pub(crate) type SharedHost = Rc<RefCell<Host>>;
