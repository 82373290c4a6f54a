//! Interactive cases: an interactor (a WASI program with testlib's
//! interactor contract) runs in its own store on its own thread, the
//! contestant's program runs on the caller's, and the two talk through the
//! host's pipes (`crate::duplex`). The host owns both pipes, so a watchdog thread sees who
//! waits for whom and applies the idleness rules of
//! `judge_core::interactive`; whatever decides the case first stops the
//! rest (every blocked read wakes, every store traps at its next tick).
//!
//! The contestant is any [`Program`]: a Wasm language or a `c-wasm` program
//! gets the pipes as its WASI stdin and stdout (`CallIo::interactive`); a Docker
//! program is bridged by `native` through the same [`Channel`].

use std::sync::{Arc, mpsc};
use std::time::Duration;

use bytes::Bytes;
use judge_core::checker_program::{self, MESSAGE_BYTES};
use judge_core::interactive::{self, Interaction, InteractorEnd, Side, TOUT_DIR, Transcript};
use judge_core::{Program, RunLimits, SharedChannel};

use crate::call::{CallIo, CallReport, Failure, Preopen};
use crate::duplex::StreamInput;
use crate::language::FuelCalibration;
use crate::limits::CallLimits;
use crate::program::WasiProgram;
mod link;
mod watchdog;
mod workers;

use link::{ContestantEnd, InteractorInput, Link, lock};
use watchdog::Budgets;

/// How long the case waits for a stopped side beyond its own limits.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// The wall time a case may take beyond both sides' budgets before the
/// watchdog ends it: room for the exchange itself (10⁶ queries with a
/// Docker contestant take minutes of waiting that count against neither
/// side). The idleness rules end every case that stops making progress
/// long before; this only catches what they cannot.
const CASE_SLACK: Duration = Duration::from_secs(300);

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
        let files = case_files(input, answer)?;
        let tout = scratch_dir(true).map_err(|e| format!("a folder for tout: {e}"))?;
        let link = Arc::new(Link::new());
        let interactor_limits = self.limits(limits);
        let (done_tx, done_rx) = mpsc::channel();
        {
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
            workers::run(Box::new(move || {
                let run = || run_interactor(&program, &link, interactor_limits, &preopens);
                let report = match &cancel {
                    Some(token) => crate::cancel::with_cancel(token, run),
                    None => run(),
                };
                let _ = done_tx.send(report);
            }))
            .map_err(|e| format!("starting the interactor's thread: {e}"))?;
        }
        let contestant_backstop = Duration::from_millis(limits.time_ms.saturating_mul(3));
        let budgets = Budgets {
            idle: interactive::idle_limit(limits.time_ms),
            interactor_idle: Duration::from_millis(interactor_limits.wall_ms),
            case: contestant_backstop
                + Duration::from_millis(interactor_limits.wall_ms)
                + STOP_GRACE
                + CASE_SLACK,
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
        // A store that did not answer is left to end by itself: it traps at
        // its next tick (the case is stopped), and its worker is free again.
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

/// Small files of a case go to memory (`/dev/shm`): creating and removing
/// folders on a disk busy with other work took milliseconds a case.
const IN_MEMORY_BYTES: usize = 8 << 20;

/// A fresh folder for a case's files: in `/dev/shm` when `small` and there
/// is one, else in the temp dir.
fn scratch_dir(small: bool) -> std::io::Result<tempfile::TempDir> {
    let shm = std::path::Path::new("/dev/shm");
    if small
        && shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new().prefix("gavel-case-").tempdir_in(shm)
    {
        return Ok(dir);
    }
    tempfile::tempdir()
}

/// The interactor's read-only files, `input` and `answer`, in a fresh
/// folder (on disk when memory has no room for them).
fn case_files(input: &[u8], answer: &[u8]) -> Result<tempfile::TempDir, String> {
    let write = |dir: tempfile::TempDir| -> std::io::Result<tempfile::TempDir> {
        std::fs::write(dir.path().join("input"), input)?;
        std::fs::write(dir.path().join("answer"), answer)?;
        Ok(dir)
    };
    let small = input.len() + answer.len() <= IN_MEMORY_BYTES;
    scratch_dir(small)
        .and_then(write)
        .or_else(|_| tempfile::tempdir().and_then(write))
        .map_err(|e| format!("writing the case's files for the interactor: {e}"))
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
            contestant: judge_core::RunOutcome::system_error(reason.clone()),
            interactor: Some(InteractorEnd::Failed { reason }),
            first: Side::Interactor,
            idle: None,
            tout: Vec::new(),
            transcript: Transcript::default(),
        })
    }
}
