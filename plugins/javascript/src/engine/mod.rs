//! The JavaScript engine behind the plugin, independent of the WIT glue so it
//! runs (and is tested) natively.
//!
//! A run is: a fresh boa [`Context`], the globals contestants expect from
//! Codeforces' V8 `d8` shell and from Node (see [`globals`]), the program, then
//! a small event loop (promise jobs, timers, Node-style stdin events), then
//! one flush of the buffered output.
//!
//! **Invariant:** nothing here panics on any program or input; every failure
//! of the program is an exit status plus a message on its stderr.

mod globals;
mod host;
mod inspect;
pub mod io;
pub mod sort;
pub mod strings;
#[cfg(test)]
mod tests;
mod utf8;

use std::{cell::RefCell, io::Read, io::Write, path::Path, rc::Rc};

use boa_engine::{
    Context, JsError, JsResult, JsValue, Source,
    ast::scope::Scope,
    builtins::promise::PromiseState,
    context::{ContextBuilder, HostHooks},
    error::{EngineError, RuntimeLimitError},
    interner::Interner,
    job::SimpleJobExecutor,
    object::builtins::JsPromise,
    parser::Parser,
};

use host::{Host, SharedHost};
use io::{Input, Output};

pub use host::SCRIPT_NAME;

/// Stdout is handed to the host in chunks of this size.
const STDOUT_CHUNK: usize = 64 * 1024;
/// Stderr is flushed sooner so diagnostics survive a later trap.
const STDERR_CHUNK: usize = 4 * 1024;

/// Nested calls allowed (JS frames plus native re-entries such as callbacks
/// of `Array.prototype.map`). Node allows roughly 10 800 simple frames.
pub const RECURSION_LIMIT: usize = 20_000;
/// Values on boa's operand stack (registers and arguments of all frames).
pub const STACK_SIZE_LIMIT: usize = 2 << 20;

/// Checks that `source` is a well-formed script; the error says where it is not.
pub fn compile(source: &[u8]) -> Result<(), String> {
    std::str::from_utf8(source).map_err(|e| {
        let line = source[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        format!("{SCRIPT_NAME}: invalid UTF-8 on line {line} (byte {})", e.valid_up_to())
    })?;
    let mut interner = Interner::default();
    let scope = Scope::new_global();
    Parser::new(Source::from_bytes(source))
        .parse_script(&scope, &mut interner)
        .map(drop)
        .map_err(|e| format!("{SCRIPT_NAME}: SyntaxError: {e}"))
}

/// Tracks unhandled promise rejections for the end-of-turn check.
#[derive(Debug, Default)]
struct Hooks;

impl HostHooks for Hooks {
    fn promise_rejection_tracker(
        &self,
        promise: &boa_engine::JsObject<boa_engine::builtins::promise::Promise>,
        operation: boa_engine::builtins::promise::OperationType,
        context: &mut Context,
    ) {
        use boa_engine::builtins::promise::OperationType;
        let Some(host) = context.get_data::<SharedHost>().cloned() else { return };
        let promise = promise.clone().upcast();
        let mut host = host.borrow_mut();
        match operation {
            OperationType::Reject => host.unhandled.push(promise),
            OperationType::Handle => host.unhandled.retain(|p| p != &promise),
        }
    }
}

/// Runs `program` (a script accepted by [`compile`]) with `args` after the
/// script name in `process.argv`; returns its exit status.
pub fn run(
    program: &[u8],
    args: &[String],
    stdin: Box<dyn Read>,
    stdout: Box<dyn Write>,
    stderr: Box<dyn Write>,
) -> u8 {
    let host = Rc::new(RefCell::new(Host {
        input: Input::new(stdin),
        stdout: Output::new(stdout, STDOUT_CHUNK),
        stderr: Output::new(stderr, STDERR_CHUNK),
        exit: None,
        timers: Default::default(),
        timer_seq: 0,
        now: 0,
        support: None,
        unhandled: Vec::new(),
    }));
    let status = match new_context(&host, args) {
        Ok(mut ctx) => execute(&mut ctx, &host, program),
        Err(e) => {
            host.borrow_mut()
                .stderr
                .write(format!("internal error: cannot set up the runtime: {e}\n").as_bytes());
            1
        }
    };
    let mut h = host.borrow_mut();
    h.stdout.flush();
    h.stderr.flush();
    status
}

/// A fresh context with the plugin's limits and globals.
fn new_context(host: &SharedHost, args: &[String]) -> JsResult<Context> {
    let executor = Rc::new(SimpleJobExecutor::new());
    let mut ctx =
        ContextBuilder::new().host_hooks(Rc::new(Hooks)).job_executor(executor).build()?;
    let limits = ctx.runtime_limits_mut();
    limits.set_recursion_limit(RECURSION_LIMIT);
    limits.set_stack_size_limit(STACK_SIZE_LIMIT);
    limits.disable_loop_iteration_limit();
    ctx.insert_data(host.clone());
    strings::install(&mut ctx)?;
    sort::install(&mut ctx)?;
    globals::install(&mut ctx, args)?;
    Ok(ctx)
}

/// Why a run stopped early.
enum Stop {
    /// An exception nobody caught (`in_promise`: a rejection nobody handled).
    Uncaught { error: JsError, in_promise: bool },
}

/// Evaluates the program and runs the event loop; returns the exit status.
fn execute(ctx: &mut Context, host: &SharedHost, program: &[u8]) -> u8 {
    let source = Source::from_bytes(program).with_path(Path::new(SCRIPT_NAME));
    let outcome = match ctx.eval(source) {
        Ok(_) => event_loop(ctx, host),
        Err(error) => Err(Stop::Uncaught { error, in_promise: false }),
    };
    if let Some(code) = host.borrow().exit {
        return exit_status(code);
    }
    match outcome {
        Ok(()) => exit_status(globals::exit_code(ctx)),
        Err(Stop::Uncaught { error, in_promise }) => {
            let mut text =
                String::from(if in_promise { "Uncaught (in promise) " } else { "Uncaught " });
            text.push_str(&describe_error(ctx, error));
            if !text.ends_with('\n') {
                text.push('\n');
            }
            host.borrow_mut().stderr.write(text.as_bytes());
            1
        }
    }
}

/// The low byte of a status, as a shell sees it (`process.exit(256)` is 0).
fn exit_status(code: i32) -> u8 {
    (code & 0xff) as u8
}

/// Promise jobs, timers and stdin events until nothing is left to do.
fn event_loop(ctx: &mut Context, host: &SharedHost) -> Result<(), Stop> {
    let uncaught = |error| Stop::Uncaught { error, in_promise: false };
    loop {
        ctx.run_jobs().map_err(uncaught)?;
        let rejected = std::mem::take(&mut host.borrow_mut().unhandled);
        if let Some(promise) = rejected.into_iter().next() {
            let reason = match JsPromise::from_object(promise).map(|p| p.state()) {
                Ok(PromiseState::Rejected(reason)) => reason,
                _ => JsValue::undefined(),
            };
            return Err(Stop::Uncaught { error: JsError::from_opaque(reason), in_promise: true });
        }
        if globals::run_next_timer(ctx, host).map_err(uncaught)? {
            continue;
        }
        if globals::drive_stdin_events(ctx, host).map_err(uncaught)? {
            continue;
        }
        return Ok(());
    }
}

/// `Name: message` and the stack of an uncaught error (or the inspected value
/// when something other than an Error was thrown).
fn describe_error(ctx: &mut Context, error: JsError) -> String {
    if let Some(engine) = error.as_engine() {
        return match engine {
            EngineError::RuntimeLimit(
                RuntimeLimitError::Recursion | RuntimeLimitError::StackSize,
            ) => "RangeError: Maximum call stack size exceeded".to_owned(),
            other => format!("InternalError: {other}"),
        };
    }
    let value = match error.into_opaque(ctx) {
        Ok(value) => value,
        Err(e) => return format!("InternalError: {e}"),
    };
    match value.as_object() {
        Some(object) if object.is::<boa_engine::builtins::error::Error>() => {
            inspect::error_text(ctx, &object)
                .unwrap_or_else(|e| format!("Error (unprintable: {e})"))
        }
        _ => inspect::inspect(ctx, &value),
    }
}
