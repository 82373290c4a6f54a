//! The threads interactors run on: kept (parked) between cases and reused,
//! so a case starts its interactor by waking a thread, not creating one. A
//! new thread waits for its first slice of CPU behind everything already
//! running (the scheduler's start penalty: milliseconds on a busy machine),
//! a woken one runs at once. Each has the big native stack plugin calls
//! need; an idle one ends after [`IDLE`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::BIG_STACK;

/// One piece of work for a worker.
pub(super) type Job = Box<dyn FnOnce() + Send>;

/// How long an idle worker waits for work before it ends.
const IDLE: Duration = Duration::from_secs(60);

/// The most idle workers kept.
const MAX_IDLE: usize = 16;

/// The idle workers: each one's id and job queue.
static IDLE_WORKERS: Mutex<Vec<(u64, Sender<Job>)>> = Mutex::new(Vec::new());

/// Worker ids.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn idle_workers() -> MutexGuard<'static, Vec<(u64, Sender<Job>)>> {
    IDLE_WORKERS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `job` on an idle worker, or on a new one.
pub(super) fn run(job: Job) -> std::io::Result<()> {
    // A worker taken off the list always receives what is sent to it (it
    // ends only while it is on the list, see `work`).
    if let Some((_, worker)) = idle_workers().pop() {
        worker.send(job).expect("a worker off the idle list waits for its job");
        return Ok(());
    }
    let (tx, rx) = mpsc::channel();
    tx.send(job).expect("the receiver is here");
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    std::thread::Builder::new()
        .name("gavel-interactor".into())
        .stack_size(BIG_STACK)
        .spawn(move || work(id, &tx, &rx))?;
    Ok(())
}

/// A worker: runs its jobs, offering itself as idle after each, until none
/// comes for [`IDLE`] and it is still on the idle list (taken off it, a
/// job is on its way).
fn work(id: u64, me: &Sender<Job>, jobs: &Receiver<Job>) {
    crate::ON_BIG_STACK.set(true);
    loop {
        let job = match jobs.recv_timeout(IDLE) {
            Ok(job) => job,
            Err(_) => {
                let mut idle = idle_workers();
                let listed = idle.len();
                idle.retain(|(worker, _)| *worker != id);
                if idle.len() < listed {
                    return;
                }
                drop(idle);
                match jobs.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            }
        };
        job();
        let mut idle = idle_workers();
        if idle.len() >= MAX_IDLE {
            return;
        }
        idle.push((id, me.clone()));
    }
}
