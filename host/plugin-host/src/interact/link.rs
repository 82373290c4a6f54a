//! What both sides of an interactive case and the watchdog share: the
//! [`Link`] (the two pipes, the stop flag, the transcript, each side's
//! activity and ending), the contestant's end of it as judge-core's
//! [`Channel`], and the interactor's stdin.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use judge_core::interactive::{Side, Transcript};
use judge_core::{Channel, Received, Stopped};

use crate::duplex::{Pipe, Source, StopFlag};

/// Time since the link was made, in nanoseconds (0: never).
fn nanos_since(start: Instant) -> u64 {
    start.elapsed().as_nanos().max(1) as u64
}

/// Everything both sides and the watchdog share.
pub(super) struct Link {
    pub(super) start: Instant,
    pub(super) to_contestant: Pipe,
    pub(super) to_interactor: Pipe,
    pub(super) stop: StopFlag,
    pub(super) transcript: Mutex<Transcript>,
    /// When each side last showed activity (a tick, a read, a write).
    pub(super) contestant_active: AtomicU64,
    pub(super) interactor_active: AtomicU64,
    /// A Docker contestant's report: since when it has taken all its input.
    pub(super) drained_since: AtomicU64,
    pub(super) reported: AtomicBool,
    pub(super) contestant_done: AtomicBool,
    pub(super) interactor_done: AtomicBool,
    pub(super) first: Mutex<Option<Side>>,
    /// Set by the watchdog: the case ends as TLE "idle" with this reason.
    pub(super) idle: Mutex<Option<String>>,
    /// Set by the watchdog: the interactor made no progress.
    pub(super) interactor_stalled: Mutex<Option<String>>,
}

impl Link {
    pub(super) fn new() -> Link {
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

    pub(super) fn instant(&self, nanos: u64) -> Instant {
        self.start + Duration::from_nanos(nanos)
    }

    pub(super) fn mark(&self, side: &AtomicU64) {
        side.store(nanos_since(self.start), Ordering::Relaxed);
    }

    /// Stops the case: both stores trap at their next tick or pipe call.
    pub(super) fn stop(&self, reason: &str) {
        self.stop.stop(reason);
        self.to_contestant.wake();
        self.to_interactor.wake();
    }

    pub(super) fn record(&self, from: Side, bytes: &[u8]) {
        lock(&self.transcript).record(from, bytes);
    }

    /// One side ended: the other side's input ends, its output is dropped.
    pub(super) fn finished(&self, side: Side) {
        let (done, out, input) = match side {
            Side::Contestant => (&self.contestant_done, &self.to_interactor, &self.to_contestant),
            Side::Interactor => (&self.interactor_done, &self.to_contestant, &self.to_interactor),
        };
        lock(&self.first).get_or_insert(side);
        done.store(true, Ordering::Release);
        out.close();
        input.reader_gone();
    }

    pub(super) fn stopped(&self) -> Result<(), String> {
        match self.stop.get() {
            Some(Stopped(reason)) => Err(reason),
            None => Ok(()),
        }
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The contestant's end of a [`Link`].
pub(super) struct ContestantEnd(pub(super) Arc<Link>);

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
pub(super) struct InteractorInput(pub(super) Arc<Link>);

impl Source for InteractorInput {
    fn receive(&self, max: usize, wait: Option<Duration>) -> Result<Received, Stopped> {
        let link = &self.0;
        let got = link.to_interactor.read(max, wait, &link.stop);
        link.mark(&link.interactor_active);
        got
    }
}
