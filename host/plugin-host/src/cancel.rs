//! Stopping plugin calls from outside. A runner told to cancel a job sets
//! the job's [`CancelToken`]; every plugin call made under
//! [`with_cancel`] on that thread checks it at each epoch tick (every few
//! milliseconds) and ends at once, and calls started after the cancellation
//! end at their first check.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A shared "stop now" flag for one job.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The error a cancelled call ends with.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

thread_local! {
    static CURRENT: RefCell<Option<CancelToken>> = const { RefCell::new(None) };
}

/// Runs `f` with `token` governing every plugin call it makes on this thread.
pub fn with_cancel<R>(token: &CancelToken, f: impl FnOnce() -> R) -> R {
    let previous = CURRENT.replace(Some(token.clone()));
    let result = f();
    CURRENT.set(previous);
    result
}

/// The token governing calls on this thread, if any.
pub(crate) fn current() -> Option<CancelToken> {
    CURRENT.with_borrow(Clone::clone)
}
