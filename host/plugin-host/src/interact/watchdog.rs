//! The watchdog of interactive cases: one thread for the whole process
//! that looks at every live case every [`WATCH_EVERY`] and applies the
//! idleness rules of `judge_core::interactive` (a deadlock, a contestant
//! using no CPU, an interactor making no progress, the case's backstop),
//! stopping the case that breaks one. One thread, not one per case: a
//! case costs no thread start or join for it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use judge_core::interactive::{DEADLOCK, Side};

use super::link::{Link, lock};

/// How often the watchdog looks.
const WATCH_EVERY: Duration = Duration::from_millis(10);

/// The watchdog's limits.
pub(super) struct Budgets {
    /// A contestant using no CPU while the interactor waits.
    pub idle: Duration,
    /// An interactor neither running nor reading.
    pub interactor_idle: Duration,
    /// The whole case.
    pub case: Duration,
}

/// A case being watched.
pub(super) struct Watched {
    link: Arc<Link>,
    budgets: Budgets,
}

/// Every case being watched (weakly: a case is watched while it holds its
/// [`Watched`]), and the one thread that watches them.
struct Watchdog {
    cases: Mutex<Vec<Weak<Watched>>>,
    added: Condvar,
}

static WATCHDOG: OnceLock<Watchdog> = OnceLock::new();

/// Watches `link` until the returned handle is dropped.
pub(super) fn watch(link: Arc<Link>, budgets: Budgets) -> Arc<Watched> {
    let watched = Arc::new(Watched { link, budgets });
    let watchdog = WATCHDOG.get_or_init(|| {
        std::thread::Builder::new()
            .name("gavel-interact-watch".into())
            .spawn(run)
            .expect("starting the interactive watchdog");
        Watchdog { cases: Mutex::default(), added: Condvar::new() }
    });
    lock(&watchdog.cases).push(Arc::downgrade(&watched));
    watchdog.added.notify_one();
    watched
}

/// The watchdog's thread: every [`WATCH_EVERY`], applies the idleness
/// rules to each live case (and sleeps while there is none).
fn run() {
    let watchdog = loop {
        match WATCHDOG.get() {
            Some(watchdog) => break watchdog,
            None => std::thread::yield_now(),
        }
    };
    loop {
        let live: Vec<Arc<Watched>> = {
            let mut cases = lock(&watchdog.cases);
            cases.retain(|case| case.strong_count() > 0);
            while cases.is_empty() {
                cases = watchdog.added.wait(cases).unwrap_or_else(|p| p.into_inner());
                cases.retain(|case| case.strong_count() > 0);
            }
            cases.iter().filter_map(Weak::upgrade).collect()
        };
        std::thread::sleep(WATCH_EVERY);
        for case in live {
            check(&case.link, &case.budgets);
        }
    }
}

/// Applies the idleness rules to one case once.
fn check(link: &Link, budgets: &Budgets) {
    if link.stop.get().is_some() {
        return;
    }
    if let Some((idle, reason)) = judge(link, budgets, Instant::now()) {
        if idle {
            lock(&link.idle).get_or_insert(reason.clone());
        } else {
            lock(&link.interactor_stalled).get_or_insert(reason.clone());
            // The interactor's failure ends the case: it counts as ending
            // first (the contestant is stopped because of it).
            lock(&link.first).get_or_insert(Side::Interactor);
        }
        link.stop(&reason);
    }
}

/// What the watchdog finds at `now`: `(true, why)` ends the case as idle,
/// `(false, why)` as the interactor's failure.
fn judge(link: &Link, budgets: &Budgets, now: Instant) -> Option<(bool, String)> {
    let contestant_done = link.contestant_done.load(Ordering::Acquire);
    let interactor_done = link.interactor_done.load(Ordering::Acquire);
    if contestant_done && interactor_done {
        return None;
    }
    let drained = match link.drained_since.load(Ordering::Relaxed) {
        0 => None,
        since => Some(link.instant(since)),
    };
    let contestant_active = link.instant(link.contestant_active.load(Ordering::Relaxed));
    let contestant_waiting = (!contestant_done)
        .then(|| {
            link.to_contestant.waiting_since().or_else(|| {
                let reported = link.reported.load(Ordering::Relaxed);
                drained.filter(|_| reported).map(|since| since.max(contestant_active))
            })
        })
        .flatten();
    let interactor_waiting =
        (!interactor_done).then(|| link.to_interactor.waiting_since()).flatten();
    if let (Some(c), Some(i)) = (contestant_waiting, interactor_waiting)
        && now.saturating_duration_since(c.max(i)) >= DEADLOCK
    {
        return Some((
            true,
            format!(
                "deadlock: the program and the interactor both waited to read for {} ms \
                 (did the program flush its output?)",
                DEADLOCK.as_millis()
            ),
        ));
    }
    let quiet = now.saturating_duration_since(contestant_active);
    if !contestant_done
        && (interactor_done || interactor_waiting.is_some())
        && contestant_waiting.is_none()
        && quiet >= budgets.idle
    {
        return Some((
            true,
            format!(
                "the program used no CPU for {} ms while the interactor waited",
                quiet.as_millis()
            ),
        ));
    }
    let interactor_active = link.instant(link.interactor_active.load(Ordering::Relaxed));
    let stalled = now.saturating_duration_since(interactor_active);
    if !interactor_done && interactor_waiting.is_none() && stalled >= budgets.interactor_idle {
        return Some((
            false,
            format!(
                "it made no progress for {} ms (neither running nor reading)",
                stalled.as_millis()
            ),
        ));
    }
    if now.saturating_duration_since(link.start) >= budgets.case {
        return Some((
            true,
            format!("the case ran past its wall-clock backstop of {} ms", budgets.case.as_millis()),
        ));
    }
    None
}
