//! The host-owned pipes between an interactor and a contestant: one
//! in-memory [`Pipe`] each way, written without ever blocking and read
//! blocking until bytes come, the writer closes, or the case is stopped;
//! and the WASI streams over them ([`StreamInput`], given as a store's
//! stdin). A pipe remembers since when its reader has been waiting, which is
//! how the session tells a deadlock (both sides waiting) from work.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use judge_core::{Received, Stopped};
use wasmtime_wasi::cli::{IsTerminal, StdinStream};
use wasmtime_wasi::p2::{InputStream, Pollable, StreamError};

/// The most a read takes from a pipe at once.
pub const READ_CHUNK: usize = 64 << 10;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why a case was stopped, shared by everything that waits in it.
#[derive(Debug, Default)]
pub struct StopFlag {
    reason: Mutex<Option<String>>,
    set: std::sync::atomic::AtomicBool,
}

impl StopFlag {
    /// Stops the case (the first reason stays).
    pub fn stop(&self, reason: &str) {
        let mut slot = lock(&self.reason);
        if slot.is_none() {
            *slot = Some(reason.to_string());
        }
        self.set.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Why the case was stopped, if it was (cheap when it was not).
    pub fn get(&self) -> Option<Stopped> {
        if !self.set.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        lock(&self.reason).clone().map(Stopped)
    }
}

#[derive(Debug, Default)]
struct PipeState {
    data: BytesMut,
    /// The writer ended: after `data`, the end of input.
    closed: bool,
    /// The reader ended: what is written is dropped.
    reader_gone: bool,
    /// Since when the reader has been blocked on an empty pipe.
    waiting_since: Option<Instant>,
    /// Readers waiting on the condition variable (a write wakes only them).
    waiters: usize,
}

/// One direction of the exchange.
#[derive(Debug, Default)]
pub struct Pipe {
    state: Mutex<PipeState>,
    changed: Condvar,
}

impl Pipe {
    /// Appends `bytes` (dropped once the reader has gone).
    pub fn write(&self, bytes: &[u8]) {
        let mut state = lock(&self.state);
        if state.reader_gone || state.closed {
            return;
        }
        state.data.extend_from_slice(bytes);
        let waiters = state.waiters;
        drop(state);
        if waiters > 0 {
            self.changed.notify_all();
        }
    }

    /// The writer is done: the reader gets the end of input after the data.
    pub fn close(&self) {
        lock(&self.state).closed = true;
        self.changed.notify_all();
    }

    /// The reader is done: later writes are dropped.
    pub fn reader_gone(&self) {
        let mut state = lock(&self.state);
        state.reader_gone = true;
        state.data.clear();
    }

    /// Wakes every waiting reader (to look at the stop flag).
    pub fn wake(&self) {
        let _guard = lock(&self.state);
        self.changed.notify_all();
    }

    /// Since when the reader has been waiting on an empty pipe, if it is.
    pub fn waiting_since(&self) -> Option<Instant> {
        lock(&self.state).waiting_since
    }

    /// Whether nothing is waiting to be read.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        lock(&self.state).data.is_empty()
    }

    /// Takes at most `max` bytes, waiting up to `wait` for some (`None`:
    /// until bytes, the end or a stop); a blocking reader (`wait` of
    /// `None`) is recorded as waiting while it waits.
    pub fn read(
        &self,
        max: usize,
        wait: Option<Duration>,
        stop: &StopFlag,
    ) -> Result<Received, Stopped> {
        let deadline = wait.map(|w| Instant::now() + w);
        let mut state = lock(&self.state);
        loop {
            if let Some(stopped) = stop.get() {
                state.waiting_since = None;
                return Err(stopped);
            }
            if !state.data.is_empty() {
                let n = state.data.len().min(max.max(1));
                let taken = state.data.split_to(n).to_vec();
                state.waiting_since = None;
                return Ok(Received::Data(taken));
            }
            if state.closed {
                state.waiting_since = None;
                return Ok(Received::End);
            }
            match deadline {
                None => {
                    state.waiting_since.get_or_insert_with(Instant::now);
                    state.waiters += 1;
                    state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
                    state.waiters -= 1;
                }
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(Received::Nothing);
                    }
                    state.waiters += 1;
                    state =
                        self.changed.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
                    state.waiters -= 1;
                }
            }
        }
    }
}

/// Where a WASI stdin reads from: a [`Pipe`] end of the host's, or the
/// [`judge_core::Channel`] an interactor's host offers a contestant.
pub trait Source: Send + Sync {
    fn receive(&self, max: usize, wait: Option<Duration>) -> Result<Received, Stopped>;
}

impl Source for judge_core::SharedChannel {
    fn receive(&self, max: usize, wait: Option<Duration>) -> Result<Received, Stopped> {
        judge_core::Channel::receive(self.as_ref(), max, wait)
    }
}

/// What a stdin over a [`Source`] has taken and not yet handed out.
#[derive(Debug, Default)]
struct Taken {
    buffered: Bytes,
    ended: bool,
    stopped: Option<String>,
}

/// A store's stdin reading from a [`Source`]: blocking reads wait for the
/// other side; all handles the guest opens share what was taken.
#[derive(Clone)]
pub struct StreamInput {
    source: Arc<dyn Source>,
    taken: Arc<Mutex<Taken>>,
}

impl std::fmt::Debug for StreamInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamInput").finish_non_exhaustive()
    }
}

impl StreamInput {
    pub fn new(source: Arc<dyn Source>) -> Self {
        StreamInput { source, taken: Arc::default() }
    }

    /// Fills the buffer from the source, waiting as `wait` says.
    fn fill(&self, taken: &mut Taken, wait: Option<Duration>) {
        if !taken.buffered.is_empty() || taken.ended || taken.stopped.is_some() {
            return;
        }
        match self.source.receive(READ_CHUNK, wait) {
            Ok(Received::Data(data)) => taken.buffered = data.into(),
            Ok(Received::Nothing) => {}
            Ok(Received::End) => taken.ended = true,
            Err(Stopped(reason)) => taken.stopped = Some(reason),
        }
    }
}

impl IsTerminal for StreamInput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for StreamInput {
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncRead + Send + Sync> {
        // Only WASIp3 guests use this path; Gavel links WASIp2 and p1 alone.
        Box::new(tokio::io::empty())
    }
}

#[async_trait::async_trait]
impl Pollable for StreamInput {
    /// Blocks this store's thread until there is something to read, the
    /// end, or a stop (each store runs on its own thread).
    async fn ready(&mut self) {
        let mut taken = lock(&self.taken);
        self.fill(&mut taken, None);
    }
}

impl InputStream for StreamInput {
    fn read(&mut self, size: usize) -> Result<Bytes, StreamError> {
        let mut taken = lock(&self.taken);
        self.fill(&mut taken, Some(Duration::ZERO));
        if let Some(reason) = &taken.stopped {
            return Err(StreamError::Trap(wasmtime::format_err!("stopped: {reason}")));
        }
        if taken.buffered.is_empty() {
            return if taken.ended { Err(StreamError::Closed) } else { Ok(Bytes::new()) };
        }
        let n = size.min(taken.buffered.len());
        Ok(taken.buffered.split_to(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_hands_out_what_was_written_then_the_end_and_records_waiting() {
        let pipe = Arc::new(Pipe::default());
        let stop = Arc::new(StopFlag::default());
        pipe.write(b"hello");
        let read = |max| pipe.read(max, Some(Duration::ZERO), &stop);
        assert_eq!(read(3), Ok(Received::Data(b"hel".to_vec())));
        assert_eq!(read(10), Ok(Received::Data(b"lo".to_vec())));
        assert_eq!(read(10), Ok(Received::Nothing));
        assert_eq!(pipe.waiting_since(), None, "a timed read is not a blocked reader");
        let (reader_pipe, reader_stop) = (pipe.clone(), stop.clone());
        let reader = std::thread::spawn(move || reader_pipe.read(10, None, &reader_stop));
        while pipe.waiting_since().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        pipe.write(b"x");
        assert_eq!(reader.join().unwrap(), Ok(Received::Data(b"x".to_vec())));
        assert_eq!(pipe.waiting_since(), None);
        pipe.close();
        assert_eq!(read(10), Ok(Received::End));
    }

    #[test]
    fn a_stop_wakes_a_blocked_reader_and_writes_after_the_reader_left_are_dropped() {
        let pipe = Arc::new(Pipe::default());
        let stop = Arc::new(StopFlag::default());
        let (reader_pipe, reader_stop) = (pipe.clone(), stop.clone());
        let reader = std::thread::spawn(move || reader_pipe.read(10, None, &reader_stop));
        while pipe.waiting_since().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        stop.stop("idle");
        stop.stop("later reasons are ignored");
        pipe.wake();
        assert_eq!(reader.join().unwrap(), Err(Stopped("idle".into())));
        let pipe = Pipe::default();
        pipe.reader_gone();
        pipe.write(b"nobody reads this");
        assert!(pipe.is_empty());
    }
}
