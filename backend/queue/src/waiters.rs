//! Parked long-polls, and which one to wake for a queued job.
//!
//! Every queued job is announced once on the wake channel with what it needs
//! of a runner ([`Need`]). Each backend instance wakes **one** of its parked
//! long-polls whose runner can run it ([`Offer::can_run`]), preferring one
//! with nothing else to do, instead of every parked long-poll (with 8 runners
//! of 4 slots that was 32 claim scripts per job, 31 of them for nothing).
//!
//! Claims stay the only truth (`claim.lua` decides what a runner gets); a
//! wake is a hint, and no hint may be lost while its job waits:
//! - a long-poll that ends without claiming (its client went away, the wait
//!   ended, its claim failed, its runner's slots were full) hands the wakes
//!   it held on to another long-poll;
//! - a claim that found nothing reports which of its wakes' jobs are still
//!   queued (this runner could not take them after all: its capabilities
//!   changed, or the job lies past the claim's scan window), and those are
//!   handed on too;
//! - a claim that leased another job than it was woken for hands its wakes on.
//!
//! A handed-on wake never goes back to a long-poll that already had it, so it
//! travels at most once through the parked long-polls. Waking everyone stays
//! for what has no single job: a reconnect (messages may have been missed)
//! and a runner whose capabilities changed.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// What a queued job needs of a runner (the wake message's payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub language: String,
    /// A checker plugin the runner must have, if any.
    pub checker: Option<String>,
    pub labels: Vec<String>,
    /// Whether the job carries a Normal-OJ payload (only such jobs may go to
    /// Normal-OJ's runners).
    pub normal_oj_payload: bool,
}

/// What a runner offers (what `claim.lua` read of it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    pub languages: HashSet<String>,
    pub checkers: HashSet<String>,
    pub labels: HashSet<String>,
    /// A Normal-OJ runner: it takes only jobs with a Normal-OJ payload.
    pub normal_oj: bool,
}

impl Offer {
    /// The same rule as `runnable` in `claim_job` (`lua/lib.lua`).
    pub fn can_run(&self, need: &Need) -> bool {
        self.languages.contains(&need.language)
            && (!self.normal_oj || need.normal_oj_payload)
            && need.checker.as_ref().is_none_or(|c| self.checkers.contains(c))
            && need.labels.iter().all(|l| self.labels.contains(l))
    }
}

/// A queued job's announcement, on its way to a long-poll.
#[derive(Debug, Clone)]
pub(crate) struct Wake {
    pub(crate) job_id: String,
    pub(crate) need: Need,
    /// Long-polls that already had it.
    tried: Vec<u64>,
}

impl Wake {
    pub(crate) fn new(job_id: String, need: Need) -> Wake {
        Wake { job_id, need, tried: Vec::new() }
    }

    /// Reads a wake message: the job id and its [`Need`], tab-separated
    /// (`publish_wake` in `lua/lib.lua`). `None` for the messages that name
    /// no job (a runner's capabilities changed).
    pub(crate) fn parse(payload: &str) -> Option<Wake> {
        let mut fields = payload.split('\t');
        let (job_id, language, checker, labels, noj) =
            (fields.next()?, fields.next()?, fields.next()?, fields.next()?, fields.next()?);
        let need = Need {
            language: language.to_string(),
            checker: Some(checker.to_string()).filter(|c| !c.is_empty()),
            labels: labels.split_whitespace().map(str::to_string).collect(),
            normal_oj_payload: noj == "1",
        };
        Some(Wake::new(job_id.to_string(), need))
    }
}

/// One parked long-poll in the registry.
struct Parked {
    id: u64,
    /// Unknown until its first claim has answered.
    offer: Option<Arc<Offer>>,
    /// Wakes sent to it and not yet taken into a claim.
    inbox: Vec<Wake>,
    /// Woken to look again without a wake (see [`Waiters::wake_all`]), or
    /// not looked yet.
    look: bool,
    notify: Arc<Notify>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    /// Least recently woken first.
    parked: Vec<Parked>,
}

impl Registry {
    /// Gives `wake` to one long-poll whose runner can run its job: the least
    /// recently woken with an empty inbox, else the least recently woken;
    /// none if no long-poll that has not had it can run it.
    fn dispatch(&mut self, wake: Wake) {
        let fits = |p: &Parked| {
            !wake.tried.contains(&p.id) && p.offer.as_ref().is_none_or(|o| o.can_run(&wake.need))
        };
        let idle = self.parked.iter().position(|p| fits(p) && p.inbox.is_empty());
        let Some(index) = idle.or_else(|| self.parked.iter().position(fits)) else { return };
        let mut chosen = self.parked.remove(index);
        chosen.inbox.push(wake);
        chosen.notify.notify_one();
        self.parked.push(chosen);
    }

    fn entry(&mut self, id: u64) -> Option<&mut Parked> {
        self.parked.iter_mut().find(|p| p.id == id)
    }
}

/// This instance's parked long-polls. Cheap to clone.
#[derive(Clone, Default)]
pub struct Waiters(Arc<Mutex<Registry>>);

impl Waiters {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        // The registry stays consistent even if a holder panicked: every
        // change under the lock is a single push, remove or swap.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Parks a long-poll. Park before the first claim, so a job queued
    /// between the claim and the wait is not missed.
    pub fn park(&self) -> Waiter {
        let notify = Arc::new(Notify::new());
        let mut registry = self.lock();
        let id = registry.next_id;
        registry.next_id += 1;
        let parked =
            Parked { id, offer: None, inbox: Vec::new(), look: true, notify: notify.clone() };
        registry.parked.push(parked);
        Waiter { id, waiters: self.clone(), notify, in_hand: Vec::new() }
    }

    pub(crate) fn dispatch(&self, wake: Wake) {
        self.lock().dispatch(wake);
    }

    /// Wakes every parked long-poll to claim once more.
    pub(crate) fn wake_all(&self) {
        for parked in &mut self.lock().parked {
            parked.look = true;
            parked.notify.notify_one();
        }
    }

    /// Job `job_id` was leased: wakes for it that no claim has taken yet are
    /// withdrawn, so their long-polls do not claim for nothing.
    pub fn withdraw(&self, job_id: &str) {
        for parked in &mut self.lock().parked {
            parked.inbox.retain(|w| w.job_id != job_id);
        }
    }

    /// How many long-polls are parked.
    pub fn len(&self) -> usize {
        self.lock().parked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A parked long-poll: claim, then wait for [`Waiter::woken`], until a claim
/// leases a job or the wait ends. Dropping it unparks it and hands on the
/// wakes it did not use.
pub struct Waiter {
    id: u64,
    waiters: Waiters,
    notify: Arc<Notify>,
    /// Wakes taken into the claim in flight.
    in_hand: Vec<Wake>,
}

impl Waiter {
    /// Takes the wakes received so far into the next claim and returns
    /// their job ids (the claim reports which of them are still queued);
    /// `None` when there is no reason to claim (the wakes were withdrawn).
    /// The first call always has a reason: a new long-poll looks at once.
    pub fn take_wakes(&mut self) -> Option<Vec<String>> {
        let mut registry = self.waiters.lock();
        let parked = registry.entry(self.id)?;
        let look = std::mem::take(&mut parked.look) || !parked.inbox.is_empty();
        self.in_hand.append(&mut parked.inbox);
        look.then(|| self.in_hand.iter().map(|w| w.job_id.clone()).collect())
    }

    /// The claim found nothing for this runner: remembers what it offers and
    /// hands on the wakes whose jobs are still queued.
    pub fn found_nothing(&mut self, offer: Offer, still_queued: &[String]) {
        let mut registry = self.waiters.lock();
        if let Some(parked) = registry.entry(self.id) {
            parked.offer = Some(Arc::new(offer));
        }
        for mut wake in self.in_hand.drain(..) {
            if still_queued.contains(&wake.job_id) {
                wake.tried.push(self.id);
                registry.dispatch(wake);
            }
        }
    }

    /// The claim leased `job_id`: its wake is used; any other is handed on
    /// when the waiter is dropped.
    pub fn leased(&mut self, job_id: &str) {
        if let Some(i) = self.in_hand.iter().position(|w| w.job_id == job_id) {
            self.in_hand.swap_remove(i);
        }
    }

    /// Resolves when a wake arrived (or everyone was woken) since the last
    /// time it resolved.
    pub async fn woken(&self) {
        self.notify.notified().await;
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let mut registry = self.waiters.lock();
        let mut unused = std::mem::take(&mut self.in_hand);
        if let Some(index) = registry.parked.iter().position(|p| p.id == self.id) {
            unused.append(&mut registry.parked.remove(index).inbox);
        }
        for mut wake in unused {
            wake.tried.push(self.id);
            registry.dispatch(wake);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(language: &str) -> Need {
        Need { language: language.into(), checker: None, labels: vec![], normal_oj_payload: false }
    }

    fn offer(languages: &[&str]) -> Offer {
        Offer { languages: languages.iter().map(|l| l.to_string()).collect(), ..Offer::default() }
    }

    fn wake(job: &str, language: &str) -> Wake {
        Wake::new(job.into(), need(language))
    }

    /// Whether `waiter` was woken (without waiting).
    fn was_woken(waiter: &Waiter) -> bool {
        use std::future::Future;
        let notified = waiter.notify.notified();
        let mut notified = std::pin::pin!(notified);
        let waker = std::task::Waker::noop();
        notified.as_mut().poll(&mut std::task::Context::from_waker(waker)).is_ready()
    }

    /// A parked waiter whose first claim found nothing.
    fn idle(waiters: &Waiters, languages: &[&str]) -> Waiter {
        let mut waiter = waiters.park();
        assert_eq!(waiter.take_wakes(), Some(vec![]), "a new long-poll looks at once");
        waiter.found_nothing(offer(languages), &[]);
        waiter
    }

    #[test]
    fn a_need_is_met_by_language_checker_labels_and_dialect() {
        let mut runner = offer(&["c", "python3"]);
        runner.checkers.insert("tokens".into());
        runner.labels.insert("gpu".into());
        assert!(runner.can_run(&need("c")));
        assert!(!runner.can_run(&need("javascript")));
        let with = |checker: Option<&str>, labels: &[&str]| Need {
            checker: checker.map(str::to_string),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            ..need("c")
        };
        assert!(runner.can_run(&with(Some("tokens"), &["gpu"])));
        assert!(!runner.can_run(&with(Some("float"), &[])));
        assert!(!runner.can_run(&with(None, &["gpu", "big"])));
        runner.normal_oj = true;
        assert!(!runner.can_run(&need("c")));
        assert!(runner.can_run(&Need { normal_oj_payload: true, ..need("c") }));
    }

    #[test]
    fn wake_messages_name_the_job_and_its_need() {
        let wake = Wake::parse("jb_1\tc\ttokens\tgpu big\t1").unwrap();
        assert_eq!(wake.job_id, "jb_1");
        assert_eq!(
            wake.need,
            Need {
                language: "c".into(),
                checker: Some("tokens".into()),
                labels: vec!["gpu".into(), "big".into()],
                normal_oj_payload: true
            }
        );
        assert_eq!(Wake::parse("jb_2\tpython3\t\t\t0").unwrap().need, need("python3"));
        assert!(Wake::parse("capabilities").is_none());
    }

    #[test]
    fn one_job_wakes_one_long_poll_that_can_run_it() {
        let waiters = Waiters::default();
        let js = idle(&waiters, &["javascript"]);
        let (a, b) = (idle(&waiters, &["c"]), idle(&waiters, &["c"]));
        waiters.dispatch(wake("jb_1", "c"));
        assert!(!was_woken(&js));
        assert!(was_woken(&a) ^ was_woken(&b), "exactly one of the two");
        waiters.dispatch(wake("jb_2", "python3"));
        assert!(!was_woken(&js) && !was_woken(&a) && !was_woken(&b));
    }

    #[test]
    fn jobs_in_a_row_wake_long_polls_in_turn() {
        let waiters = Waiters::default();
        let mut polls: Vec<Waiter> = (0..3).map(|_| idle(&waiters, &["c"])).collect();
        for job in ["jb_1", "jb_2", "jb_3"] {
            waiters.dispatch(wake(job, "c"));
        }
        for poll in &mut polls {
            assert!(was_woken(poll));
            assert_eq!(poll.take_wakes().unwrap().len(), 1, "one wake each");
        }
    }

    #[test]
    fn a_long_poll_that_ends_with_a_wake_hands_it_on() {
        let waiters = Waiters::default();
        let first = idle(&waiters, &["c"]);
        let second = idle(&waiters, &["c"]);
        waiters.dispatch(wake("jb_1", "c"));
        assert!(was_woken(&first));
        drop(first);
        assert!(was_woken(&second));
        let mut second = second;
        assert_eq!(second.take_wakes(), Some(vec!["jb_1".to_string()]));
        assert_eq!(waiters.len(), 1);
    }

    #[test]
    fn a_wake_whose_job_is_still_queued_after_a_claim_goes_to_another_long_poll_once() {
        let waiters = Waiters::default();
        let mut a = idle(&waiters, &["c"]);
        let mut b = idle(&waiters, &["c"]);
        waiters.dispatch(wake("jb_1", "c"));
        assert!(was_woken(&a));
        assert_eq!(a.take_wakes(), Some(vec!["jb_1".to_string()]));
        a.found_nothing(offer(&["c"]), &["jb_1".into()]);
        assert!(!was_woken(&a) && was_woken(&b));
        assert_eq!(b.take_wakes(), Some(vec!["jb_1".to_string()]));
        // Nobody left that has not had it: the hint ends here.
        b.found_nothing(offer(&["c"]), &["jb_1".into()]);
        assert!(!was_woken(&a) && !was_woken(&b));
    }

    #[test]
    fn a_claim_that_leased_another_job_hands_its_wake_on() {
        let waiters = Waiters::default();
        let mut a = idle(&waiters, &["c"]);
        let b = idle(&waiters, &["c"]);
        waiters.dispatch(wake("jb_2", "c"));
        a.take_wakes();
        a.leased("jb_1");
        drop(a);
        assert!(was_woken(&b));
    }

    #[test]
    fn a_claim_that_leased_its_job_hands_nothing_on() {
        let waiters = Waiters::default();
        let mut a = idle(&waiters, &["c"]);
        let b = idle(&waiters, &["c"]);
        waiters.dispatch(wake("jb_1", "c"));
        a.take_wakes();
        a.leased("jb_1");
        drop(a);
        assert!(!was_woken(&b));
    }

    #[test]
    fn a_long_poll_whose_runner_is_not_known_yet_may_be_woken() {
        let waiters = Waiters::default();
        let fresh = waiters.park();
        waiters.dispatch(wake("jb_1", "c"));
        assert!(was_woken(&fresh));
    }

    #[test]
    fn waking_everyone_reaches_every_long_poll() {
        let waiters = Waiters::default();
        let mut polls: Vec<Waiter> = (0..4).map(|_| idle(&waiters, &["c"])).collect();
        waiters.wake_all();
        assert!(polls.iter().all(was_woken));
        assert!(polls.iter_mut().all(|p| p.take_wakes() == Some(vec![])), "each looks again");
    }

    #[test]
    fn a_wake_for_a_job_leased_meanwhile_is_withdrawn() {
        let waiters = Waiters::default();
        let mut a = idle(&waiters, &["c"]);
        waiters.dispatch(wake("jb_1", "c"));
        waiters.withdraw("jb_1");
        assert!(was_woken(&a));
        assert_eq!(a.take_wakes(), None, "nothing to claim for");
    }
}
