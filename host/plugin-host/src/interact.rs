//! Interactive cases: an interactor (a WASI program with testlib's
//! interactor contract) runs in its own store on its own thread, the
//! contestant's program runs on the caller's, and the two talk through the
//! host's [`Pipe`]s. The host owns both pipes, so a watchdog thread sees who
//! waits for whom and applies the idleness rules of
//! `judge_core::interactive`; whatever decides the case first stops the
//! rest (every blocked read wakes, every store traps at its next tick).
//!
//! The contestant is any [`Program`]: a Wasm language or a `c-wasm` program
//! gets the pipes as its WASI stdin and stdout (`contestant_io`); a Docker
//! program is bridged by `native` through the same [`Channel`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use judge_core::checker_program::{self, MESSAGE_BYTES};
use judge_core::interactive::{self, Interaction, InteractorEnd, Side, TOUT_DIR, Transcript};
use judge_core::{Channel, Program, Received, RunLimits, SharedChannel, Stopped};

use crate::BIG_STACK;

mod watchdog;

use crate::call::{CallIo, CallReport, Failure, Preopen};
use crate::duplex::{Pipe, Source, StopFlag, StreamInput};
use crate::language::FuelCalibration;
use crate::limits::CallLimits;
use crate::program::WasiProgram;
use watchdog::Budgets;

/// How long the case waits for a stopped side beyond its own limits.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Time since the link was made, in nanoseconds (0: never).
fn nanos_since(start: Instant) -> u64 {
    start.elapsed().as_nanos().max(1) as u64
}

/// Everything both sides and the watchdog share.
struct Link {
    start: Instant,
    to_contestant: Pipe,
    to_interactor: Pipe,
    stop: StopFlag,
    transcript: Mutex<Transcript>,
    /// When each side last showed activity (a tick, a read, a write).
    contestant_active: AtomicU64,
    interactor_active: AtomicU64,
    /// A Docker contestant's report: since when it has taken all its input.
    drained_since: AtomicU64,
    reported: AtomicBool,
    contestant_done: AtomicBool,
    interactor_done: AtomicBool,
    first: Mutex<Option<Side>>,
    /// Set by the watchdog: the case ends as TLE "idle" with this reason.
    idle: Mutex<Option<String>>,
    /// Set by the watchdog: the interactor made no progress.
    interactor_stalled: Mutex<Option<String>>,
}

impl Link {
    fn new() -> Link {
        Link {
            start: Instant::now(),
            to_contestant: Pipe::default(),
            to_interactor: Pipe::default(),
            stop: StopFlag::default(),
            transcript: Mutex::default(),
            contestant_active: AtomicU64::new(1),
            interactor_active: AtomicU64::new(1),
            drained_since: AtomicU64::new(0),
            reported: AtomicBool::new(false),
            contestant_done: AtomicBool::new(false),
            interactor_done: AtomicBool::new(false),
            first: Mutex::new(None),
            idle: Mutex::new(None),
            interactor_stalled: Mutex::new(None),
        }
    }

    fn instant(&self, nanos: u64) -> Instant {
        self.start + Duration::from_nanos(nanos)
    }

    fn mark(&self, side: &AtomicU64) {
        side.store(nanos_since(self.start), Ordering::Relaxed);
    }

    /// Stops the case: both stores trap at their next tick or pipe call.
    fn stop(&self, reason: &str) {
        self.stop.stop(reason);
        self.to_contestant.wake();
        self.to_interactor.wake();
    }

    fn record(&self, from: Side, bytes: &[u8]) {
        lock(&self.transcript).record(from, bytes);
    }

    /// One side ended: the other side's input ends, its output is dropped.
    fn finished(&self, side: Side) {
        let (done, out, input) = match side {
            Side::Contestant => (&self.contestant_done, &self.to_interactor, &self.to_contestant),
            Side::Interactor => (&self.interactor_done, &self.to_contestant, &self.to_interactor),
        };
        lock(&self.first).get_or_insert(side);
        done.store(true, Ordering::Release);
        out.close();
        input.reader_gone();
    }

    fn stopped(&self) -> Result<(), String> {
        match self.stop.get() {
            Some(Stopped(reason)) => Err(reason),
            None => Ok(()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The contestant's end of a [`Link`].
struct ContestantEnd(Arc<Link>);

impl Channel for ContestantEnd {
    fn receive(&self, max: usize, wait: Option<Duration>) -> Result<Received, Stopped> {
        let link = &self.0;
        let got = link.to_contestant.read(max, wait, &link.stop);
        if matches!(got, Ok(Received::Data(_))) {
            link.mark(&link.contestant_active);
        }
        got
    }

    fn send(&self, bytes: &[u8]) -> Result<(), Stopped> {
        let link = &self.0;
        if let Some(stopped) = link.stop.get() {
            return Err(stopped);
        }
        link.mark(&link.contestant_active);
        link.record(Side::Contestant, bytes);
        link.to_interactor.write(bytes);
        Ok(())
    }

    /// The contestant's run is over: it ended before the interactor, if
    /// the interactor is still running.
    fn close(&self) {
        self.0.finished(Side::Contestant);
    }

    fn ran(&self) {
        self.0.mark(&self.0.contestant_active);
    }

    fn drained(&self, drained: bool) {
        let link = &self.0;
        link.reported.store(true, Ordering::Relaxed);
        let since = link.drained_since.load(Ordering::Relaxed);
        match (drained, since) {
            (true, 0) => link.mark(&link.drained_since),
            (false, _) => link.drained_since.store(0, Ordering::Relaxed),
            (true, _) => {}
        }
    }

    fn stopped(&self) -> Option<Stopped> {
        self.0.stop.get()
    }
}

/// The interactor's stdin: what the contestant wrote.
struct InteractorInput(Arc<Link>);

impl Source for InteractorInput {
    fn receive(&self, max: usize, wait: Option<Duration>) -> Result<Received, Stopped> {
        let link = &self.0;
        let got = link.to_interactor.read(max, wait, &link.stop);
        link.mark(&link.interactor_active);
        got
    }
}

/// The WASI stdio of a contestant's store on `channel`: stdin read as the
/// interactor writes, stdout handed over as written, activity reported and
/// stops obeyed at every tick.
pub(crate) fn contestant_io(channel: SharedChannel) -> CallIo<'static> {
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

/// An interactor program with its calibration and its problem's settings:
/// judge-core's [`interactive::Interactor`].
#[derive(Debug, Clone)]
pub struct WasiInteractor {
    program: WasiProgram,
    calibration: FuelCalibration,
    spec: judge_core::problem::Interactor,
}

impl WasiInteractor {
    /// `program` as the interactor `spec` describes, its time measured with
    /// `calibration` (the one of the toolchain that built it).
    pub fn new(
        program: WasiProgram,
        calibration: FuelCalibration,
        spec: judge_core::problem::Interactor,
    ) -> Self {
        WasiInteractor { program, calibration, spec }
    }

    /// The interactor's budgets in a case with these limits.
    fn limits(&self, case: &RunLimits) -> CallLimits {
        let time_ms = self.spec.time_ms_for(case.time_ms);
        CallLimits {
            wall_ms: self.calibration.wall_backstop_ms(time_ms),
            fuel: self.calibration.fuel_for(time_ms),
            memory_bytes: self.spec.memory_mb() << 20,
            output_bytes: case.output_bytes,
        }
    }

    fn interact_here(
        &self,
        program: &dyn Program,
        input: &[u8],
        answer: &[u8],
        limits: &RunLimits,
    ) -> Result<Interaction, String> {
        let files = tempfile::tempdir().map_err(|e| format!("a folder for the case: {e}"))?;
        let tout = tempfile::tempdir().map_err(|e| format!("a folder for tout: {e}"))?;
        for (name, data) in [("input", input), ("answer", answer)] {
            std::fs::write(files.path().join(name), data)
                .map_err(|e| format!("writing {name}: {e}"))?;
        }
        let link = Arc::new(Link::new());
        let interactor_limits = self.limits(limits);
        let (done_tx, done_rx) = mpsc::channel();
        let thread = {
            let (link, program) = (link.clone(), self.program.clone());
            let preopens = vec![
                Preopen {
                    host: files.path().to_path_buf(),
                    guest: checker_program::FILES_DIR.into(),
                    writable: false,
                },
                Preopen { host: tout.path().to_path_buf(), guest: TOUT_DIR.into(), writable: true },
            ];
            let cancel = crate::cancel::current();
            std::thread::Builder::new()
                .name("gavel-interactor".into())
                .stack_size(BIG_STACK)
                .spawn(move || {
                    let run = || run_interactor(&program, &link, interactor_limits, &preopens);
                    let report = match &cancel {
                        Some(token) => crate::cancel::with_cancel(token, run),
                        None => run(),
                    };
                    let _ = done_tx.send(report);
                })
                .map_err(|e| format!("starting the interactor's thread: {e}"))?
        };
        let contestant_backstop = Duration::from_millis(limits.time_ms.saturating_mul(3));
        let budgets = Budgets {
            idle: interactive::idle_limit(limits.time_ms),
            interactor_idle: Duration::from_millis(interactor_limits.wall_ms),
            case: contestant_backstop
                + Duration::from_millis(interactor_limits.wall_ms)
                + STOP_GRACE,
        };
        // Watched while this lives (the watchdog holds it weakly).
        let _watched = watchdog::watch(link.clone(), budgets);
        let channel: SharedChannel = Arc::new(ContestantEnd(link.clone()));
        let contestant = program.interact(channel, limits);
        link.finished(Side::Contestant);
        let contestant_ok = matches!(contestant.end, judge_core::RunEnd::Exited { code: 0 });
        if *lock(&link.first) == Some(Side::Contestant) && !contestant_ok {
            link.stop("the program ended first");
        }
        let wait = Duration::from_millis(interactor_limits.wall_ms) + STOP_GRACE;
        let report = done_rx.recv_timeout(wait).ok();
        // The thread ends by itself once it has sent its report; one that
        // did not answer is left to end so: its store traps at its next
        // tick (the case is stopped).
        drop(thread);
        link.stop("the case is over");
        let interactor = match (report, lock(&link.interactor_stalled).take()) {
            (_, Some(reason)) => Some(InteractorEnd::Failed { reason }),
            (None, None) => Some(InteractorEnd::Failed {
                reason: format!("it did not end within {} ms of wall time", wait.as_millis()),
            }),
            (Some(report), None) => interactor_end(report),
        };
        let tout = read_tout(&tout.path().join("tout"), limits.output_bytes);
        let first = lock(&link.first).unwrap_or(Side::Contestant);
        let idle = lock(&link.idle).take();
        let transcript = std::mem::take(&mut *lock(&link.transcript));
        Ok(Interaction { contestant, interactor, first, idle, tout, transcript })
    }
}

/// Runs the interactor's store, then ends its side of the link; stops the
/// contestant when its verdict needs nothing more from it.
fn run_interactor(
    program: &WasiProgram,
    link: &Arc<Link>,
    limits: CallLimits,
    preopens: &[Preopen],
) -> (CallReport, bool) {
    let args = interactive::interactor_args();
    let (out, tick) = (link.clone(), link.clone());
    let io = CallIo {
        args: &args,
        preopens,
        stdin_stream: Some(StreamInput::new(Arc::new(InteractorInput(link.clone())))),
        forward: Some(Arc::new(move |bytes: &[u8]| {
            out.stopped()?;
            out.mark(&out.interactor_active);
            out.record(Side::Interactor, bytes);
            out.to_contestant.write(bytes);
            Ok(())
        })),
        on_tick: Some(Arc::new(move || {
            tick.mark(&tick.interactor_active);
            tick.stopped()
        })),
        ..CallIo::stdin(Bytes::new())
    };
    let report = program.run(limits, io);
    // Whether it ended on its own, before anything stopped the case.
    let own = link.stop.get().is_none();
    link.finished(Side::Interactor);
    let accepts = matches!(report.exit_code(), Some(0 | 7 | 16..=116));
    if own && !accepts {
        link.stop("the interactor ended with its verdict");
    }
    (report, own)
}

/// The interactor's ending for the verdict rule; `None` when the case was
/// stopped before it ended by itself.
fn interactor_end((report, own): (CallReport, bool)) -> Option<InteractorEnd> {
    if !own {
        return None;
    }
    match report.exit_code() {
        Some(code) => Some(InteractorEnd::Exited { code, stderr: report.stderr }),
        None => {
            let reason = report.failure.as_ref().map(Failure::reason).unwrap_or_default();
            let cut = &report.stderr[..report.stderr.len().min(MESSAGE_BYTES)];
            let stderr = String::from_utf8_lossy(cut);
            let reason = if stderr.trim().is_empty() {
                reason
            } else {
                format!("{reason} (stderr: {})", stderr.trim())
            };
            Some(InteractorEnd::Failed { reason })
        }
    }
}

/// What the interactor wrote to `tout`, at most `cap` bytes.
fn read_tout(path: &std::path::Path, cap: u64) -> Vec<u8> {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else { return Vec::new() };
    let mut data = Vec::new();
    // Capped by `take`.
    #[allow(clippy::disallowed_methods)]
    let _ = file.take(cap).read_to_end(&mut data);
    data
}

impl interactive::Interactor for WasiInteractor {
    fn interact(
        &self,
        program: &dyn Program,
        input: &[u8],
        answer: &[u8],
        limits: &RunLimits,
    ) -> Interaction {
        // The contestant's store runs on a big stack of its executor's; the
        // interactor's on its own thread.
        self.interact_here(program, input, answer, limits).unwrap_or_else(|reason| Interaction {
            contestant: judge_core::RunOutcome {
                end: judge_core::RunEnd::SystemError { reason: reason.clone() },
                stdout: Vec::new(),
                stderr: Vec::new(),
                time_ms: 0,
                memory_kb: 0,
                fuel: None,
                wall_ms: None,
            },
            interactor: Some(InteractorEnd::Failed { reason }),
            first: Side::Interactor,
            idle: None,
            tout: Vec::new(),
            transcript: Transcript::default(),
        })
    }
}
