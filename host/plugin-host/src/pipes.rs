//! Host-owned stdio for a plugin call: stdin from memory, stdout and stderr
//! into memory with one shared byte cap, and optionally to an
//! [`OutputTap`] as they are written (code runs stream their output live).
//!
//! An interactive run's stdout is forwarded instead of kept (to the other
//! side's pipe, [`Forward`]), still counted against the cap.
//!
//! When a guest writes past the cap the write traps (so a flooding program
//! stops at once) and the pipe remembers it, so the host can report OLE with
//! certainty instead of guessing from a trap message.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use judge_core::{OutputTap, Stream};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Bytes both output pipes of one call may still take, and whether a write
/// was refused.
#[derive(Debug)]
struct Budget {
    remaining: Mutex<u64>,
    exceeded: AtomicBool,
}

/// Where an interactive run's stdout goes instead of memory; `Err` (the
/// case was stopped) makes the write trap.
pub type Forward = Arc<dyn Fn(&[u8]) -> Result<(), String> + Send + Sync>;

/// A pair of capped in-memory output pipes (stdout, stderr) sharing one budget.
#[derive(Clone)]
pub struct CappedOutput {
    budget: Arc<Budget>,
    stdout: Arc<Mutex<BytesMut>>,
    stderr: Arc<Mutex<BytesMut>>,
    tap: Option<OutputTap>,
    forward: Option<Forward>,
}

impl std::fmt::Debug for CappedOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CappedOutput").field("budget", &self.budget).finish_non_exhaustive()
    }
}

impl CappedOutput {
    /// Output pipes that accept `cap` bytes in total and also hand every
    /// accepted write to `tap`, as it happens.
    pub fn tapped(cap: u64, tap: Option<OutputTap>) -> Self {
        CappedOutput {
            budget: Arc::new(Budget {
                remaining: Mutex::new(cap),
                exceeded: AtomicBool::new(false),
            }),
            stdout: Arc::default(),
            stderr: Arc::default(),
            tap,
            forward: None,
        }
    }

    /// Stdout handed to `forward` as it is written instead of kept.
    pub fn forwarding(mut self, forward: Option<Forward>) -> Self {
        self.forward = forward;
        self
    }

    /// The guest's stdout stream.
    pub fn stdout(&self) -> CappedPipe {
        self.pipe(Stream::Stdout, &self.stdout)
    }

    /// The guest's stderr stream.
    pub fn stderr(&self) -> CappedPipe {
        self.pipe(Stream::Stderr, &self.stderr)
    }

    fn pipe(&self, stream: Stream, buffer: &Arc<Mutex<BytesMut>>) -> CappedPipe {
        CappedPipe {
            budget: self.budget.clone(),
            buffer: buffer.clone(),
            stream,
            tap: self.tap.clone(),
            forward: if stream == Stream::Stdout { self.forward.clone() } else { None },
        }
    }

    /// Whether the guest tried to write more than the cap.
    pub fn exceeded(&self) -> bool {
        self.budget.exceeded.load(Ordering::Relaxed)
    }

    /// Everything written so far: (stdout, stderr).
    pub fn take(&self) -> (Vec<u8>, Vec<u8>) {
        let take = |b: &Mutex<BytesMut>| std::mem::take(&mut *lock(b)).to_vec();
        (take(&self.stdout), take(&self.stderr))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One output stream of a [`CappedOutput`].
#[derive(Clone)]
pub struct CappedPipe {
    budget: Arc<Budget>,
    buffer: Arc<Mutex<BytesMut>>,
    stream: Stream,
    tap: Option<OutputTap>,
    forward: Option<Forward>,
}

impl std::fmt::Debug for CappedPipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CappedPipe").field("stream", &self.stream).finish_non_exhaustive()
    }
}

impl CappedPipe {
    /// Keeps `bytes` (already counted against the budget) and shows them to
    /// the tap.
    fn accept(&self, bytes: &[u8]) -> Result<(), StreamError> {
        if let Some(forward) = &self.forward {
            return forward(bytes)
                .map_err(|reason| StreamError::Trap(wasmtime::format_err!("stopped: {reason}")));
        }
        lock(&self.buffer).extend_from_slice(bytes);
        if let Some(tap) = &self.tap
            && !bytes.is_empty()
        {
            tap(self.stream, bytes);
        }
        Ok(())
    }

    fn refuse(&self) -> StreamError {
        self.budget.exceeded.store(true, Ordering::Relaxed);
        StreamError::Trap(wasmtime::format_err!("output limit exceeded"))
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        // Only WASIp3 guests use this path; Gavel links WASIp2 alone.
        Box::new(tokio::io::sink())
    }
}

#[async_trait::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        let mut remaining = lock(&self.budget.remaining);
        let len = bytes.len() as u64;
        if len > *remaining {
            let fits = *remaining as usize;
            *remaining = 0;
            drop(remaining);
            self.accept(&bytes[..fits])?;
            return Err(self.refuse());
        }
        *remaining -= len;
        drop(remaining);
        self.accept(&bytes)
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        match *lock(&self.budget.remaining) {
            0 => Err(self.refuse()),
            // Permit at most 1 MiB per write so one call cannot stage huge copies.
            n => Ok(n.min(1 << 20) as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_budget_caps_both_streams_and_records_the_overflow() {
        let out = CappedOutput::tapped(10, None);
        let (mut o, mut e) = (out.stdout(), out.stderr());
        o.write(Bytes::from_static(b"hello")).unwrap();
        e.write(Bytes::from_static(b"err")).unwrap();
        assert!(!out.exceeded());
        assert!(o.write(Bytes::from_static(b"world")).is_err());
        assert!(out.exceeded());
        assert!(e.check_write().is_err());
        let (stdout, stderr) = out.take();
        assert_eq!(stdout, b"hellowo");
        assert_eq!(stderr, b"err");
    }

    #[test]
    fn the_tap_sees_each_accepted_write_in_order_and_nothing_past_the_cap() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let tap: OutputTap = Arc::new(move |stream, bytes: &[u8]| {
            lock(&record).push((stream, bytes.to_vec()));
        });
        let out = CappedOutput::tapped(8, Some(tap));
        let (mut o, mut e) = (out.stdout(), out.stderr());
        o.write(Bytes::from_static(b"one")).unwrap();
        e.write(Bytes::from_static(b"two")).unwrap();
        assert!(o.write(Bytes::from_static(b"three")).is_err());
        let seen = lock(&seen).clone();
        assert_eq!(
            seen,
            vec![
                (Stream::Stdout, b"one".to_vec()),
                (Stream::Stderr, b"two".to_vec()),
                (Stream::Stdout, b"th".to_vec()),
            ]
        );
    }
}
