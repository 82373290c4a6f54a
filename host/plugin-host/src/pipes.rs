//! Host-owned stdio for a plugin call: stdin from memory, stdout and stderr
//! into memory with one shared byte cap.
//!
//! When a guest writes past the cap the write traps (so a flooding program
//! stops at once) and the pipe remembers it, so the host can report OLE with
//! certainty instead of guessing from a trap message.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Bytes both output pipes of one call may still take, and whether a write
/// was refused.
#[derive(Debug)]
struct Budget {
    remaining: Mutex<u64>,
    exceeded: AtomicBool,
}

/// A pair of capped in-memory output pipes (stdout, stderr) sharing one budget.
#[derive(Clone, Debug)]
pub struct CappedOutput {
    budget: Arc<Budget>,
    stdout: Arc<Mutex<BytesMut>>,
    stderr: Arc<Mutex<BytesMut>>,
}

impl CappedOutput {
    /// Output pipes that accept `cap` bytes in total.
    pub fn new(cap: u64) -> Self {
        CappedOutput {
            budget: Arc::new(Budget {
                remaining: Mutex::new(cap),
                exceeded: AtomicBool::new(false),
            }),
            stdout: Arc::default(),
            stderr: Arc::default(),
        }
    }

    /// The guest's stdout stream.
    pub fn stdout(&self) -> CappedPipe {
        CappedPipe { budget: self.budget.clone(), buffer: self.stdout.clone() }
    }

    /// The guest's stderr stream.
    pub fn stderr(&self) -> CappedPipe {
        CappedPipe { budget: self.budget.clone(), buffer: self.stderr.clone() }
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
#[derive(Clone, Debug)]
pub struct CappedPipe {
    budget: Arc<Budget>,
    buffer: Arc<Mutex<BytesMut>>,
}

impl CappedPipe {
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
            lock(&self.buffer).extend_from_slice(&bytes[..fits]);
            *remaining = 0;
            return Err(self.refuse());
        }
        *remaining -= len;
        lock(&self.buffer).extend_from_slice(&bytes);
        Ok(())
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
        let out = CappedOutput::new(10);
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
}
