//! One plugin call: a fresh store with its budgets, and what ended it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, Trap};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxView, WasiView};

use crate::duplex::StreamInput;
use crate::engine::ticks_for;
use crate::limits::{CallLimits, MemoryLimiter};
use crate::pipes::{CappedOutput, Forward};

/// The host state of one store: WASI with nothing ambient, and the limiter.
pub struct CallState {
    wasi: Wasi,
    limiter: MemoryLimiter,
}

/// WASI for a component (preview 2) or a core module (preview 1).
enum Wasi {
    P2 { ctx: Box<WasiCtx>, table: ResourceTable },
    P1(Box<WasiP1Ctx>),
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        match &mut self.wasi {
            Wasi::P2 { ctx, table } => WasiCtxView { ctx, table },
            Wasi::P1(p1) => p1.ctx(),
        }
    }
}

impl CallState {
    /// The preview-1 context of a store made by [`Call::with_io`] for a
    /// core module.
    ///
    /// # Panics
    /// On a component's store: the two linkers never share a store.
    pub fn p1(&mut self) -> &mut WasiP1Ctx {
        match &mut self.wasi {
            Wasi::P1(p1) => p1,
            Wasi::P2 { .. } => unreachable!("a component's store given to a core module"),
        }
    }
}

/// A host directory a guest sees at `guest` (WASI programs' files).
#[derive(Debug, Clone)]
pub struct Preopen {
    pub host: std::path::PathBuf,
    pub guest: String,
    pub writable: bool,
}

/// A store prepared for one call, with its pipes.
pub struct Call {
    pub store: Store<CallState>,
    output: CappedOutput,
    limits: CallLimits,
    started: Instant,
}

impl Call {
    /// A fresh store: no preopened directory, no environment variable, no
    /// reachable network, `stdin` as the only input, capped in-memory output.
    pub fn new(engine: &Engine, limits: CallLimits, stdin: Bytes, args: &[String]) -> Call {
        Self::with_io(engine, limits, CallIo { args, ..CallIo::stdin(stdin) })
            .expect("a call without preopened directories cannot fail to start")
    }

    /// A fresh store as [`Call::new`], with the given environment variables
    /// (only those), directories (only those), and output also shown to a
    /// tap as it is written. Fails only when a directory cannot be opened.
    pub fn with_io(engine: &Engine, limits: CallLimits, io: CallIo<'_>) -> anyhow::Result<Call> {
        let output = CappedOutput::tapped(limits.output_bytes, io.tap).forwarding(io.forward);
        let mut wasi = WasiCtx::builder();
        for dir in io.preopens {
            let perms = if dir.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            wasi.preopened_dir(&dir.host, &dir.guest, perms)?;
        }
        match io.stdin_stream {
            Some(stream) => wasi.stdin(stream),
            None => wasi.stdin(MemoryInputPipe::new(io.stdin)),
        };
        wasi.stdout(output.stdout())
            .stderr(output.stderr())
            .arg("main")
            .args(io.args)
            .envs(io.env)
            // `wasi:sockets` is linked, with nothing it can reach: no TCP, no
            // UDP, no name lookup, and every address refused.
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }));
        let wasi = if io.core_module {
            Wasi::P1(Box::new(wasi.build_p1()))
        } else {
            Wasi::P2 { ctx: Box::new(wasi.build()), table: ResourceTable::new() }
        };
        let state = CallState { wasi, limiter: MemoryLimiter::new(limits.memory_bytes) };
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_fuel(limits.fuel).expect("fuel is enabled on Gavel's engine");
        let ticks = ticks_for(limits.wall_ms);
        let token = crate::cancel::current();
        match (token, io.on_tick) {
            (None, None) => {
                store.set_epoch_deadline(ticks);
                store.epoch_deadline_trap();
            }
            // Checked at every tick the guest runs: the job's token, the
            // tick hook, the wall deadline (counted in ticks run, so time
            // blocked in the host does not count).
            (token, on_tick) => {
                let mut ticks_left = ticks;
                let cancelled = token.as_ref().is_some_and(|t| t.is_cancelled());
                store.set_epoch_deadline(if cancelled { 0 } else { 1 });
                store.epoch_deadline_callback(move |_| {
                    ticks_left = ticks_left.saturating_sub(1);
                    if token.as_ref().is_some_and(|t| t.is_cancelled()) {
                        return Err(crate::cancel::Cancelled.into());
                    }
                    if let Some(Err(reason)) = on_tick.as_ref().map(|hook| hook()) {
                        return Err(wasmtime::format_err!("stopped: {reason}"));
                    }
                    if ticks_left == 0 {
                        Err(Trap::Interrupt.into())
                    } else {
                        Ok(wasmtime::UpdateDeadline::Continue(1))
                    }
                });
            }
        }
        Ok(Call { store, output, limits, started: Instant::now() })
    }

    /// Ends the call: measures it and classifies `error`, if any.
    pub fn finish(self, error: Option<wasmtime::Error>) -> CallReport {
        let elapsed = self.started.elapsed();
        let fuel_left = self.store.get_fuel().unwrap_or(0);
        let limiter = &self.store.data().limiter;
        let failure = error.map(|e| classify(&e, limiter, &self.output, &self.limits));
        // A guest may survive a refused allocation (e.g. as a caught
        // exception); hitting the cap is still a memory-limit failure.
        let failure = failure.or_else(|| memory_failure(limiter, &self.limits));
        let (stdout, stderr) = self.output.take();
        CallReport {
            failure,
            elapsed,
            fuel_used: self.limits.fuel.saturating_sub(fuel_left),
            peak_memory: limiter.peak(),
            stdout,
            stderr,
        }
    }
}

/// Called at every epoch tick a guest runs; `Err(reason)` stops it.
pub type TickHook = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// What a call's guest sees besides its arguments: stdin, argv, environment,
/// and where its output goes live.
pub struct CallIo<'a> {
    pub stdin: Bytes,
    /// A stdin read as it comes (an interactive run's), instead of `stdin`.
    pub stdin_stream: Option<StreamInput>,
    /// Where stdout goes as it is written instead of memory (interactive).
    pub forward: Option<Forward>,
    /// Looked at every tick the guest runs (interactive: activity, stops).
    pub on_tick: Option<TickHook>,
    pub args: &'a [String],
    pub env: &'a [(String, String)],
    pub tap: Option<judge_core::OutputTap>,
    /// Directories the guest may open (nothing else exists for it).
    pub preopens: &'a [Preopen],
    /// Whether the guest is a core module (WASI preview 1) rather than a
    /// component (`WasiProgram::run` sets it).
    pub core_module: bool,
}

impl CallIo<'static> {
    /// The WASI stdio of a contestant's store on `channel` (an interactive
    /// case): stdin read as the interactor writes, stdout handed over as
    /// written, activity reported and stops obeyed at every tick.
    pub(crate) fn interactive(channel: judge_core::SharedChannel) -> Self {
        let (send, tick) = (channel.clone(), channel.clone());
        CallIo {
            stdin_stream: Some(StreamInput::new(Arc::new(channel))),
            forward: Some(Arc::new(move |bytes: &[u8]| send.send(bytes).map_err(|s| s.0))),
            on_tick: Some(Arc::new(move || {
                tick.ran();
                tick.stopped().map_or(Ok(()), |s| Err(s.0))
            })),
            ..CallIo::stdin(Bytes::new())
        }
    }
}

impl CallIo<'_> {
    /// Only `stdin`: no argument, environment variable, tap or directory.
    pub fn stdin(stdin: Bytes) -> Self {
        CallIo {
            stdin,
            stdin_stream: None,
            forward: None,
            on_tick: None,
            args: &[],
            env: &[],
            tap: None,
            preopens: &[],
            core_module: false,
        }
    }
}

/// What a finished call produced and used.
#[derive(Debug)]
pub struct CallReport {
    pub failure: Option<Failure>,
    pub elapsed: Duration,
    pub fuel_used: u64,
    pub peak_memory: u64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl CallReport {
    /// A call that never started: the host failed to prepare it.
    pub(crate) fn refused(reason: String) -> CallReport {
        CallReport {
            failure: Some(Failure::Host(reason)),
            elapsed: Duration::ZERO,
            fuel_used: 0,
            peak_memory: 0,
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }

    /// The exit status of a WASI program: `exit(n)`, or 0 when `_start`
    /// returned; `None` when a limit or a fault ended it.
    pub fn exit_code(&self) -> Option<i32> {
        match &self.failure {
            None => Some(0),
            Some(Failure::Exit(code)) => Some(*code),
            Some(_) => None,
        }
    }
}

/// Why a call did not return normally.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The guest called `exit` (WASI) with this status.
    Exit(i32),
    Time(String),
    Memory(String),
    Output(String),
    /// A trap or another guest fault.
    Crash(String),
    /// The host could not run the guest at all (not its fault).
    Host(String),
}

impl Failure {
    /// A one-line description for messages.
    pub fn reason(&self) -> String {
        match self {
            Failure::Exit(code) => format!("exited with status {code}"),
            Failure::Time(r)
            | Failure::Memory(r)
            | Failure::Output(r)
            | Failure::Crash(r)
            | Failure::Host(r) => r.clone(),
        }
    }
}

fn memory_failure(limiter: &MemoryLimiter, limits: &CallLimits) -> Option<Failure> {
    limiter.refused_at().map(|wanted| {
        Failure::Memory(format!(
            "memory limit of {} MiB exceeded (asked for {} MiB)",
            limits.memory_bytes >> 20,
            wanted.div_ceil(1 << 20)
        ))
    })
}

/// Maps an error out of a call to its cause. The host's own records (the
/// limiter, the output budget) win over whatever the trap says.
fn classify(
    error: &wasmtime::Error,
    limiter: &MemoryLimiter,
    output: &CappedOutput,
    limits: &CallLimits,
) -> Failure {
    if let Some(f) = memory_failure(limiter, limits) {
        return f;
    }
    if output.exceeded() {
        return Failure::Output(format!("output limit of {} bytes exceeded", limits.output_bytes));
    }
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return Failure::Exit(exit.0);
    }
    if error.is::<crate::cancel::Cancelled>() {
        return Failure::Crash("cancelled by the runner".into());
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => {
            Failure::Time(format!("instruction budget of {} fuel exhausted", limits.fuel))
        }
        Some(Trap::Interrupt) => {
            Failure::Time(format!("wall-clock limit of {} ms exceeded", limits.wall_ms))
        }
        Some(Trap::StackOverflow) => Failure::Crash("recursion too deep (stack overflow)".into()),
        Some(trap) => Failure::Crash(format!("trap: {trap}")),
        None => Failure::Crash(format!("{error:#}")),
    }
}
