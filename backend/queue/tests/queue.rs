//! The queue's promises against a real `redis-server` (one per test, on a
//! free loopback port): FIFO claims with capability matching, lease fencing,
//! reclaim with attempts and JE, rejudge and cancel, deregistration, blob
//! access, exactly one winner among racing claimers, one record per
//! idempotency key, and a call to a stalled Redis timing out without
//! costing the connection.

use std::time::Duration;

use judge_core::report::JudgeReport;
use judge_core::verdict::Status;
use protocol::runner::{
    ActiveJob, BlobRef, CaseProgress, Job, JobResult, JobSpec, ProblemRef, RunnerEvent,
};
use protocol::runs::{OutputChunk, OutputStream, RunJob, RunReport, RunStatus};
use queue::{
    Abort, Capabilities, Change, Claim, DIALECT_NORMAL_OJ, Fence, IDEMPOTENCY_TTL, Idempotency,
    LeaseRef, NewRun, NewRunner, NewSubmission, Offer, Queue, QueueConfig, QueueError, Submitted,
    Waiter,
};

mod support;

use support::{Fixture, digest};

async fn fixture(lease_ms: u64, max_attempts: u32) -> Fixture {
    fixture_with(QueueConfig {
        lease_ttl: Duration::from_millis(lease_ms),
        max_attempts,
        ..QueueConfig::default()
    })
    .await
}

async fn fixture_with(config: QueueConfig) -> Fixture {
    support::fixture(config, "a-plus-b", &[]).await
}

async fn runner(queue: &Queue, id: &str, languages: &[&str], labels: &[&str], slots: u32) {
    register(queue, id, languages, labels, slots, "").await;
}

async fn register(
    queue: &Queue,
    id: &str,
    languages: &[&str],
    labels: &[&str],
    slots: u32,
    dialect: &'static str,
) {
    let runner = NewRunner {
        labels: labels.iter().map(|s| s.to_string()).collect(),
        checkers: vec!["tokens".into()],
        dialect,
        ..support::runner(id, languages, slots, queue.config().runner_ttl())
    };
    queue.register_runner(&runner).await.unwrap();
}

async fn submit(queue: &Queue, sid: &str, language: &str, labels: &[&str]) {
    submit_with(queue, sid, language, labels, None).await;
}

/// A submission, with a Normal-OJ payload when their runners may take it.
async fn submit_with(
    queue: &Queue,
    sid: &str,
    language: &str,
    labels: &[&str],
    normal_oj: Option<&str>,
) {
    queue.submit(&new_submission(sid, language, labels, normal_oj)).await.unwrap();
}

fn new_submission(
    sid: &str,
    language: &str,
    labels: &[&str],
    normal_oj: Option<&str>,
) -> NewSubmission {
    NewSubmission {
        checker: Some("tokens".into()),
        labels: labels.iter().map(|s| s.to_string()).collect(),
        normal_oj: normal_oj.map(str::to_string),
        ..support::submission(sid, "a-plus-b", language)
    }
}

async fn claim(queue: &Queue, rid: &str) -> Option<Job> {
    match queue.claim(rid, &format!("lease-{rid}-{}", rand_suffix()), &[]).await.unwrap() {
        Claim::Job(leased) => Some(leased.job),
        _ => None,
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

/// A code run's job: `print(1)` in Python 3.
fn python_run() -> JobSpec {
    JobSpec::Run(RunJob {
        language: "python3".into(),
        files: [("main.py".to_string(), "print(1)".to_string())].into(),
        entry: "main.py".into(),
        stdin: String::new(),
        args: Vec::new(),
        env: Default::default(),
        time_ms: 1000,
        memory_mb: 64,
        output_bytes: 1024,
        max_artifacts: 4,
        max_artifact_bytes: 1024,
    })
}

fn accepted() -> JobResult {
    JudgeReport::from_tasks(String::new(), Vec::new()).into()
}

async fn status(queue: &Queue, sid: &str) -> Status {
    queue.submission(sid).await.unwrap().unwrap().view.status
}

async fn event_types(queue: &Queue, sid: &str) -> Vec<String> {
    let (events, _) = queue.events(sid, 0).await.unwrap();
    events
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_job_goes_from_submit_to_claim_to_verdict_with_every_event() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 1).await;
    submit(&f.queue, "sb_1", "javascript", &[]).await;
    assert_eq!(status(&f.queue, "sb_1").await, Status::Pending);

    let job = claim(&f.queue, "rn_a").await.expect("a job");
    assert_eq!(
        (job.job_id.as_str(), job.submission_id.as_str(), job.attempt),
        ("jb_sb_1", "sb_1", 1)
    );
    assert_eq!(status(&f.queue, "sb_1").await, Status::Judging);
    let events = [
        RunnerEvent::Compiled { message: String::new() },
        RunnerEvent::Case(CaseProgress {
            task: 0,
            case: "01".into(),
            status: Status::Accepted,
            score: 1.0,
            time_ms: 3,
            memory_kb: 100,
            message: String::new(),
        }),
    ];
    let fence = f.queue.post_events("rn_a", &job.job_id, &job.lease, &events).await.unwrap();
    assert_eq!(fence, Fence::Accepted);
    let fence = f
        .queue
        .complete("rn_a", &job.job_id, LeaseRef::Token(&job.lease), &accepted())
        .await
        .unwrap();
    assert_eq!(fence, Fence::Accepted);
    // A repeat of the accepted completion is harmless.
    let fence = f
        .queue
        .complete("rn_a", &job.job_id, LeaseRef::Token(&job.lease), &accepted())
        .await
        .unwrap();
    assert_eq!(fence, Fence::Repeated);

    let view = f.queue.submission("sb_1").await.unwrap().unwrap().view;
    assert_eq!(view.status, Status::Accepted);
    assert!(view.finished_at_ms.is_some());
    assert_eq!(
        event_types(&f.queue, "sb_1").await,
        ["queued", "started", "compiled", "case", "finished"]
    );
    assert!(claim(&f.queue, "rn_a").await.is_none(), "the queue is empty");
}

#[tokio::test]
async fn claims_match_language_and_labels_and_keep_fifo_order() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_js", &["javascript"], &[], 4).await;
    runner(&f.queue, "rn_gpu", &["javascript", "python"], &["gpu"], 4).await;
    submit(&f.queue, "sb_py", "python", &[]).await;
    submit(&f.queue, "sb_gpu", "javascript", &["gpu"]).await;
    submit(&f.queue, "sb_js1", "javascript", &[]).await;
    submit(&f.queue, "sb_js2", "javascript", &[]).await;

    // rn_js can run neither Python nor a job that needs the `gpu` label.
    assert_eq!(claim(&f.queue, "rn_js").await.unwrap().submission_id, "sb_js1");
    assert_eq!(claim(&f.queue, "rn_js").await.unwrap().submission_id, "sb_js2");
    assert!(claim(&f.queue, "rn_js").await.is_none());
    assert_eq!(claim(&f.queue, "rn_gpu").await.unwrap().submission_id, "sb_py");
    assert_eq!(claim(&f.queue, "rn_gpu").await.unwrap().submission_id, "sb_gpu");
}

#[tokio::test]
async fn a_claim_looks_past_jobs_the_runner_cannot_run_as_far_as_the_scan_window() {
    let f = fixture(30_000, 3).await;
    let config = QueueConfig { scan_window: 40, ..QueueConfig::default() };
    let queue = Queue::connect(&f.redis.url(), config).await.unwrap();
    runner(&queue, "rn_js", &["javascript"], &[], 4).await;
    runner(&queue, "rn_py", &["python"], &[], 64).await;
    for n in 0..50 {
        if n == 30 {
            submit(&queue, "sb_js_a", "javascript", &[]).await;
        }
        submit(&queue, &format!("sb_py_{n}"), "python", &[]).await;
    }
    submit(&queue, "sb_js_b", "javascript", &[]).await;

    // 30 jobs ahead: within the window (past the first pages read).
    assert_eq!(claim(&queue, "rn_js").await.unwrap().submission_id, "sb_js_a");
    // 50 ahead: beyond it, until the queue moves up to the window's edge.
    assert!(claim(&queue, "rn_js").await.is_none());
    for _ in 0..10 {
        claim(&queue, "rn_py").await.unwrap();
    }
    assert!(claim(&queue, "rn_js").await.is_none(), "40 ahead: just outside");
    claim(&queue, "rn_py").await.unwrap();
    assert_eq!(claim(&queue, "rn_js").await.unwrap().submission_id, "sb_js_b");
}

#[tokio::test]
async fn a_completion_takes_the_next_job_the_runner_can_run_only_if_its_result_counts() {
    let f = fixture(30_000, 3).await;
    // One slot: the next job fits because the result frees it first.
    runner(&f.queue, "rn_js", &["javascript"], &[], 1).await;
    runner(&f.queue, "rn_py", &["python"], &[], 1).await;
    submit(&f.queue, "sb_py", "python", &[]).await;
    submit(&f.queue, "sb_a", "javascript", &[]).await;
    submit(&f.queue, "sb_b", "javascript", &[]).await;
    let first = claim(&f.queue, "rn_js").await.unwrap();
    assert_eq!(first.submission_id, "sb_a");

    // Each call offers a new lease for the job it may get.
    let next = |job: &Job, lease: &str| {
        let (queue, job, lease) = (f.queue.clone(), job.clone(), lease.to_string());
        async move {
            let next_lease = format!("ls_{}", rand_suffix());
            queue.complete_then_claim("rn_js", &job.job_id, &lease, &accepted(), &next_lease).await
        }
    };
    let (fence, claim_) = next(&first, &first.lease).await.unwrap();
    assert_eq!(fence, Fence::Accepted);
    assert_eq!(status(&f.queue, "sb_a").await, Status::Accepted);
    let Some(Claim::Job(leased)) = claim_ else { panic!("no next job: {claim_:?}") };
    let second = leased.job;
    assert_eq!((second.submission_id.as_str(), second.attempt), ("sb_b", 1));
    assert_eq!(status(&f.queue, "sb_b").await, Status::Judging);
    assert_eq!(event_types(&f.queue, "sb_b").await, ["queued", "started"]);

    // The same call again (its answer was lost): the same job, not another.
    submit(&f.queue, "sb_later", "javascript", &[]).await;
    let (fence, claim_) = next(&first, &first.lease).await.unwrap();
    assert_eq!(fence, Fence::Repeated);
    let Some(Claim::Job(again)) = claim_ else { panic!("no next job: {claim_:?}") };
    assert_eq!(again.job, second);
    assert_eq!(status(&f.queue, "sb_later").await, Status::Pending);
    assert_eq!(event_types(&f.queue, "sb_b").await, ["queued", "started"]);
    f.queue.cancel("sb_later").await.unwrap();

    // A result that does not count takes nothing.
    submit(&f.queue, "sb_c", "javascript", &[]).await;
    let (fence, claim_) = next(&second, "not-the-lease").await.unwrap();
    assert_eq!((fence, claim_.is_none()), (Fence::Stale, true));
    assert_eq!(status(&f.queue, "sb_c").await, Status::Pending);

    // Its own result does: sb_c comes next; then only Python is queued,
    // which this runner cannot run, and a repeat of the result finds the same.
    let (fence, claim_) = next(&second, &second.lease).await.unwrap();
    assert_eq!(fence, Fence::Accepted);
    let Some(Claim::Job(third)) = claim_ else { panic!("no next job: {claim_:?}") };
    assert_eq!(third.job.submission_id, "sb_c");
    let third = third.job;
    for expected in [Fence::Accepted, Fence::Repeated] {
        let (fence, claim_) = next(&third, &third.lease).await.unwrap();
        assert_eq!(fence, expected);
        assert!(matches!(claim_, Some(Claim::Nothing(_))), "{claim_:?}");
    }
    assert_eq!(status(&f.queue, "sb_py").await, Status::Pending);
}

#[tokio::test]
async fn a_claim_that_finds_nothing_says_what_the_runner_offers_and_which_wakes_still_wait() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_js", &["javascript"], &["gpu"], 4).await;
    runner(&f.queue, "rn_py", &["python"], &[], 4).await;
    submit(&f.queue, "sb_py", "python", &[]).await;
    submit(&f.queue, "sb_js", "javascript", &[]).await;
    let woken_for = ["jb_sb_py", "jb_sb_js", "jb_gone"].map(str::to_string);
    match f.queue.claim("rn_js", "l1", &woken_for).await.unwrap() {
        Claim::Job(leased) => assert_eq!(leased.job.job_id, "jb_sb_js"),
        other => panic!("expected the JavaScript job, got {other:?}"),
    }
    let Claim::Nothing(idle) = f.queue.claim("rn_js", "l2", &woken_for).await.unwrap() else {
        panic!("nothing left for rn_js");
    };
    let set = |words: &[&str]| words.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        idle.offer,
        Offer {
            languages: set(&["javascript"]),
            checkers: set(&["tokens"]),
            labels: set(&["gpu"]),
            normal_oj: false
        }
    );
    assert_eq!(idle.still_queued, ["jb_sb_py"], "the leased and the unknown job are not queued");
}

#[tokio::test]
async fn a_queued_job_wakes_one_parked_long_poll_whose_runner_can_run_it() {
    let f = fixture(300, 3).await;
    runner(&f.queue, "rn_js1", &["javascript"], &[], 4).await;
    runner(&f.queue, "rn_js2", &["javascript"], &[], 4).await;
    runner(&f.queue, "rn_py", &["python"], &[], 4).await;
    let listener = f.queue.listen();
    let mut polls: Vec<(&str, Waiter)> =
        ["rn_js1", "rn_js2", "rn_py"].into_iter().map(|rid| (rid, listener.park())).collect();
    // Once subscribed, the listener wakes everyone; each long-poll's first
    // claim finds nothing and tells its waiter what its runner offers.
    for (rid, waiter) in &mut polls {
        tokio::time::timeout(Duration::from_secs(5), waiter.woken()).await.expect("subscribed");
        let woken_for = waiter.take_wakes().expect("a reason to look");
        let Claim::Nothing(idle) = f.queue.claim(rid, "l0", &woken_for).await.unwrap() else {
            panic!("the queue is empty");
        };
        waiter.found_nothing(idle.offer, &idle.still_queued);
    }
    let woken = async |polls: &[(&str, Waiter)]| {
        let wait = futures_util::future::select_all(polls.iter().map(|(_, w)| Box::pin(w.woken())));
        tokio::time::timeout(Duration::from_millis(300), wait).await.map(|(_, index, _)| index)
    };

    submit(&f.queue, "sb_1", "javascript", &[]).await;
    let first = woken(&polls).await.expect("a JavaScript long-poll woken");
    assert_ne!(polls[first].0, "rn_py");
    assert!(woken(&polls).await.is_err(), "one job wakes one long-poll");
    let (rid, waiter) = &mut polls[first];
    assert_eq!(waiter.take_wakes().unwrap(), ["jb_sb_1"]);
    let Claim::Job(leased) = f.queue.claim(rid, "l1", &["jb_sb_1".into()]).await.unwrap() else {
        panic!("the woken runner gets the job");
    };
    waiter.leased(&leased.job.job_id);
    drop(polls.remove(first));
    assert!(woken(&polls).await.is_err(), "the wake was used");

    // The lease expires: the requeued job wakes the other JavaScript poll.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(f.queue.reclaim_expired().await.unwrap().0, 1);
    let next = woken(&polls).await.expect("the other JavaScript long-poll woken");
    assert_ne!(polls[next].0, "rn_py");
    assert_eq!(polls[next].1.take_wakes().unwrap(), ["jb_sb_1"]);
}

/// A submission of `a-plus-b` at `revision`, with an idempotency key.
fn keyed_submission(sid: &str, language: &str, revision: &str) -> NewSubmission {
    NewSubmission {
        revision: revision.into(),
        spec: python_run(),
        idempotency: Some(Idempotency { key: "k1".into(), fingerprint: "f1".into() }),
        ..support::submission(sid, "a-plus-b", language)
    }
}

#[tokio::test]
async fn a_submission_for_a_changed_problem_or_an_unoffered_language_changes_nothing() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_js", &["javascript"], &[], 1).await;
    let submit = |submission: NewSubmission| {
        let queue = f.queue.clone();
        async move { queue.submit(&submission).await.unwrap() }
    };
    assert_eq!(
        submit(keyed_submission("sb_1", "javascript", &digest(9))).await,
        Submitted::ProblemChanged,
        "built from another revision"
    );
    f.queue.put_problem("a-plus-b", &digest(4), "{}", []).await.unwrap();
    assert_eq!(
        submit(keyed_submission("sb_1", "javascript", &digest(2))).await,
        Submitted::ProblemChanged,
        "replaced since"
    );
    assert_eq!(
        submit(keyed_submission("sb_1", "cobol", &digest(4))).await,
        Submitted::UnknownLanguage
    );
    assert!(f.queue.submission("sb_1").await.unwrap().is_none());
    assert!(claim(&f.queue, "rn_js").await.is_none());
    // The key was not spent on the refusals.
    assert_eq!(
        submit(keyed_submission("sb_1", "javascript", &digest(4))).await,
        Submitted::Created("sb_1".into())
    );
    // A problem stored before its revision was kept apart: read from its record.
    let record = format!(r#"{{"manifest": {{"digest": "{}", "size": 1}}}}"#, digest(5));
    f.queue.put_problem("a-plus-b", &digest(5), &record, []).await.unwrap();
    let client = redis::Client::open(f.redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut del = redis::cmd("DEL");
    del.arg("{gavel}:problem-revision:a-plus-b").exec_async(&mut conn).await.unwrap();
    let mut older = keyed_submission("sb_2", "javascript", &digest(5));
    older.idempotency = None;
    assert_eq!(submit(older).await, Submitted::Created("sb_2".into()));
}

#[tokio::test]
async fn a_language_is_offered_while_a_runner_advertised_it_recently() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_js", &["javascript"], &[], 1).await;
    let day = Duration::from_secs(24 * 3600);
    assert_eq!(f.queue.languages(day).await.unwrap(), ["javascript"]);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let moment = Duration::from_millis(1);
    assert!(f.queue.languages(moment).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_runner_never_holds_more_leases_than_slots() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 1).await;
    submit(&f.queue, "sb_1", "javascript", &[]).await;
    submit(&f.queue, "sb_2", "javascript", &[]).await;
    assert!(claim(&f.queue, "rn_a").await.is_some());
    assert!(matches!(f.queue.claim("rn_a", "l2", &[]).await.unwrap(), Claim::SlotsFull));
    assert!(matches!(f.queue.claim("rn_nobody", "l3", &[]).await.unwrap(), Claim::UnknownRunner));
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed_and_the_late_completion_refused() {
    let f = fixture(300, 3).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 1).await;
    runner(&f.queue, "rn_b", &["javascript"], &[], 1).await;
    submit(&f.queue, "sb_1", "javascript", &[]).await;
    let first = claim(&f.queue, "rn_a").await.unwrap();
    assert!(claim(&f.queue, "rn_b").await.is_none(), "leased to A");

    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = claim(&f.queue, "rn_b").await.expect("reclaimed for B");
    assert_eq!((second.job_id.as_str(), second.attempt), (first.job_id.as_str(), 2));

    let late = f
        .queue
        .complete("rn_a", &first.job_id, LeaseRef::Token(&first.lease), &accepted())
        .await
        .unwrap();
    assert_eq!(late, Fence::Stale);
    let compiled = [RunnerEvent::Compiled { message: String::new() }];
    let events = f.queue.post_events("rn_a", &first.job_id, &first.lease, &compiled);
    assert_eq!(events.await.unwrap(), Fence::Stale);
    assert_eq!(status(&f.queue, "sb_1").await, Status::Judging, "A changed nothing");
    // A hears about it on its next heartbeat.
    let active = [ActiveJob { job_id: first.job_id.clone(), lease: first.lease.clone() }];
    let cancel = f.queue.heartbeat("rn_a", &active, &Capabilities::default()).await.unwrap();
    assert_eq!(cancel, Some(vec![first.job_id.clone()]));

    let fence = f
        .queue
        .complete("rn_b", &second.job_id, LeaseRef::Token(&second.lease), &accepted())
        .await
        .unwrap();
    assert_eq!(fence, Fence::Accepted);
    assert_eq!(status(&f.queue, "sb_1").await, Status::Accepted);
}

#[tokio::test]
async fn a_job_reclaimed_from_a_runner_and_claimed_by_it_again_is_not_cancelled() {
    // A runner restarted on its saved identity: its old attempt is
    // reclaimed (which leaves a cancel for it), then it claims the job anew.
    let f = fixture(300, 3).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 1).await;
    submit(&f.queue, "sb_1", "javascript", &[]).await;
    let first = claim(&f.queue, "rn_a").await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = claim(&f.queue, "rn_a").await.expect("reclaimed, then claimed again");
    assert_eq!((second.job_id.as_str(), second.attempt), (first.job_id.as_str(), 2));
    let active = [ActiveJob { job_id: second.job_id.clone(), lease: second.lease.clone() }];
    let cancel = f.queue.heartbeat("rn_a", &active, &Capabilities::default()).await.unwrap();
    assert_eq!(cancel, Some(vec![]), "the new attempt is renewed, not cancelled");
    // Naming the old lease still gets it cancelled.
    let stale = [ActiveJob { job_id: first.job_id.clone(), lease: first.lease.clone() }];
    let cancel = f.queue.heartbeat("rn_a", &stale, &Capabilities::default()).await.unwrap();
    assert_eq!(cancel, Some(vec![first.job_id.clone()]));
}

#[tokio::test]
async fn heartbeats_keep_a_lease_alive_past_its_ttl() {
    let f = fixture(300, 3).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 1).await;
    runner(&f.queue, "rn_b", &["javascript"], &[], 1).await;
    submit(&f.queue, "sb_1", "javascript", &[]).await;
    let job = claim(&f.queue, "rn_a").await.unwrap();
    let active = [ActiveJob { job_id: job.job_id.clone(), lease: job.lease.clone() }];
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let cancel = f.queue.heartbeat("rn_a", &active, &Capabilities::default()).await.unwrap();
        assert_eq!(cancel, Some(vec![]));
    }
    assert!(claim(&f.queue, "rn_b").await.is_none(), "still A's after 750 ms");
    // B cannot renew A's lease by naming it.
    let cancel = f.queue.heartbeat("rn_b", &active, &Capabilities::default()).await.unwrap();
    assert_eq!(cancel, Some(vec![job.job_id.clone()]));
    let fence = f
        .queue
        .complete("rn_a", &job.job_id, LeaseRef::Token(&job.lease), &accepted())
        .await
        .unwrap();
    assert_eq!(fence, Fence::Accepted);
}

#[tokio::test]
async fn a_job_whose_leases_keep_expiring_ends_as_je_with_the_reason() {
    let f = fixture(200, 2).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 1).await;
    submit(&f.queue, "sb_1", "javascript", &[]).await;
    for attempt in 1..=2 {
        let job = claim(&f.queue, "rn_a").await.expect("claimable again");
        assert_eq!(job.attempt, attempt);
        tokio::time::sleep(Duration::from_millis(250)).await;
        // The runner is alive but never renews: its heartbeat lists nothing.
        f.queue.heartbeat("rn_a", &[], &Capabilities::default()).await.unwrap();
    }
    let (reclaimed, _) = f.queue.reclaim_expired().await.unwrap();
    assert_eq!(reclaimed, 0, "the heartbeat already swept it");
    let view = f.queue.submission("sb_1").await.unwrap().unwrap().view;
    assert_eq!(view.status, Status::JudgementError);
    assert!(view.message.contains("lease expired on all 2 attempts"), "{}", view.message);
    assert!(claim(&f.queue, "rn_a").await.is_none());
    let stats = f.queue.stats().await.unwrap();
    assert_eq!(stats.judgement_errors.get("attempts_exhausted"), Some(&1));
    assert_eq!(stats.reclaims, 2);
}

#[tokio::test]
async fn many_racing_claimers_get_one_orphan_exactly_once() {
    let f = fixture(200, 5).await;
    for i in 0..32 {
        runner(&f.queue, &format!("rn_{i}"), &["javascript"], &[], 1).await;
    }
    submit(&f.queue, "sb_1", "javascript", &[]).await;
    let first = claim(&f.queue, "rn_0").await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let claims = (1..32).map(|i| {
        let queue = f.queue.clone();
        tokio::spawn(async move { claim(&queue, &format!("rn_{i}")).await })
    });
    let winners: Vec<Job> = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .filter_map(|r| r.unwrap())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one winner");
    assert_eq!((winners[0].job_id.as_str(), winners[0].attempt), (first.job_id.as_str(), 2));
    assert_eq!(f.queue.stats().await.unwrap().reclaims, 1);
}

#[tokio::test]
async fn a_rejudge_fences_off_the_old_job_and_tells_its_runner() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 2).await;
    submit(&f.queue, "sb_1", "javascript", &[]).await;
    let old = claim(&f.queue, "rn_a").await.unwrap();
    assert_eq!(f.queue.rejudge("sb_1", "jb_new", false).await.unwrap(), Change::Done);
    assert_eq!(status(&f.queue, "sb_1").await, Status::Pending);

    let active = [ActiveJob { job_id: old.job_id.clone(), lease: old.lease.clone() }];
    let cancel = f.queue.heartbeat("rn_a", &active, &Capabilities::default()).await.unwrap();
    assert_eq!(cancel, Some(vec![old.job_id.clone()]));
    let fence = f
        .queue
        .complete("rn_a", &old.job_id, LeaseRef::Token(&old.lease), &accepted())
        .await
        .unwrap();
    assert_eq!(fence, Fence::Dropped, "superseded: the result changes nothing");

    let new = claim(&f.queue, "rn_a").await.expect("the new job");
    assert_eq!((new.job_id.as_str(), new.attempt), ("jb_new", 1));
    let fence = f
        .queue
        .complete("rn_a", &new.job_id, LeaseRef::Token(&new.lease), &accepted())
        .await
        .unwrap();
    assert_eq!(fence, Fence::Accepted);
    let view = f.queue.submission("sb_1").await.unwrap().unwrap().view;
    assert_eq!((view.status, view.job_id.as_str()), (Status::Accepted, "jb_new"));
    assert_eq!(f.queue.rejudge("sb_nope", "jb_x", false).await.unwrap(), Change::UnknownSubmission);
}

#[tokio::test]
async fn cancel_stops_a_pending_or_running_submission_but_not_a_judged_one() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 2).await;
    submit(&f.queue, "sb_queued", "javascript", &[]).await;
    submit(&f.queue, "sb_running", "javascript", &[]).await;
    assert_eq!(f.queue.cancel("sb_queued").await.unwrap(), Change::Done);
    let running = claim(&f.queue, "rn_a").await.unwrap();
    assert_eq!(running.submission_id, "sb_running", "the cancelled job left the queue");
    assert_eq!(f.queue.cancel("sb_running").await.unwrap(), Change::Done);
    assert_eq!(status(&f.queue, "sb_running").await, Status::Cancelled);
    let cancel = f.queue.heartbeat("rn_a", &[], &Capabilities::default()).await.unwrap();
    assert_eq!(cancel, Some(vec![running.job_id.clone()]));
    let report = accepted();
    let fence = f.queue.complete("rn_a", &running.job_id, LeaseRef::Token(&running.lease), &report);
    assert_eq!(fence.await.unwrap(), Fence::Dropped, "cancelled: the result changes nothing");
    assert_eq!(f.queue.cancel("sb_running").await.unwrap(), Change::AlreadyFinal);
    assert_eq!(event_types(&f.queue, "sb_running").await.last().unwrap(), "finished");
}

#[tokio::test]
async fn deregistering_requeues_the_runners_jobs_at_once() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 1).await;
    runner(&f.queue, "rn_b", &["javascript"], &[], 1).await;
    submit(&f.queue, "sb_1", "javascript", &[]).await;
    let job = claim(&f.queue, "rn_a").await.unwrap();
    assert_eq!(f.queue.deregister("rn_a").await.unwrap(), Some(1));
    let again = claim(&f.queue, "rn_b").await.expect("requeued without waiting for the lease");
    assert_eq!((again.job_id, again.attempt), (job.job_id, 2));
    assert_eq!(f.queue.deregister("rn_a").await.unwrap(), None);
    assert!(matches!(f.queue.claim("rn_a", "x", &[]).await.unwrap(), Claim::UnknownRunner));
}

#[tokio::test]
async fn runners_read_only_blobs_of_jobs_they_hold() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 1).await;
    runner(&f.queue, "rn_b", &["javascript"], &[], 1).await;
    f.queue.put_problem("a-plus-b", &digest(2), "{}", [digest(3).as_str()]).await.unwrap();
    submit(&f.queue, "sb_1", "javascript", &[]).await;
    assert!(!f.queue.runner_may_read("rn_a", &digest(1)).await.unwrap(), "no lease yet");
    let job = claim(&f.queue, "rn_a").await.unwrap();
    for n in [1, 2, 3] {
        assert!(f.queue.runner_may_read("rn_a", &digest(n)).await.unwrap(), "blob {n}");
        assert!(!f.queue.runner_may_read("rn_b", &digest(n)).await.unwrap(), "B holds nothing");
    }
    assert!(!f.queue.runner_may_read("rn_a", &digest(4)).await.unwrap(), "not the job's");
    f.queue.complete("rn_a", &job.job_id, LeaseRef::Token(&job.lease), &accepted()).await.unwrap();
    assert!(!f.queue.runner_may_read("rn_a", &digest(1)).await.unwrap(), "lease over");
}

#[tokio::test]
async fn runner_tokens_authenticate_only_their_own_runner() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 1).await;
    runner(&f.queue, "rn_b", &["javascript"], &[], 1).await;
    use queue::RunnerAuth::*;
    assert_eq!(f.queue.authenticate_runner("rn_a", "hash-of-rn_a", "").await.unwrap(), Valid);
    assert_eq!(f.queue.authenticate_runner("rn_b", "hash-of-rn_a", "").await.unwrap(), Foreign);
    assert_eq!(
        f.queue.authenticate_runner("rn_a", "hash-of-nobody", "").await.unwrap(),
        UnknownToken
    );
}

#[tokio::test]
async fn heartbeats_keep_a_runners_languages_offered() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_a", &["javascript"], &[], 1).await;
    // As if the registration were two days old.
    let client = redis::Client::open(f.redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("ZADD")
        .arg("{gavel}:languages")
        .arg(0)
        .arg("javascript")
        .query_async(&mut conn)
        .await
        .unwrap();
    let day = Duration::from_secs(24 * 3600);
    assert!(f.queue.languages(day).await.unwrap().is_empty());
    // A heartbeat without capability changes still counts as offering them.
    f.queue.heartbeat("rn_a", &[], &Capabilities::default()).await.unwrap();
    assert_eq!(f.queue.languages(day).await.unwrap(), ["javascript"]);
}

// ---- the Normal-OJ dialect: same queue, identity-fenced, hand-backs ----

const PAYLOAD: &str = r#"{"problem_id":7}"#;

async fn noj_runner(queue: &Queue, id: &str, slots: u32) {
    register(queue, id, &["c"], &[], slots, DIALECT_NORMAL_OJ).await;
}

async fn attempt(queue: &Queue, sid: &str) -> u32 {
    queue.submission(sid).await.unwrap().unwrap().view.attempt
}

#[tokio::test]
async fn normal_oj_runners_get_only_jobs_with_their_payload_and_gavel_runners_get_both() {
    let f = fixture(30_000, 3).await;
    noj_runner(&f.queue, "rn_noj", 4).await;
    runner(&f.queue, "rn_gavel", &["c"], &[], 4).await;
    submit(&f.queue, "sb_plain", "c", &[]).await;
    submit_with(&f.queue, "sb_noj", "c", &[], Some(PAYLOAD)).await;

    let leased = match f.queue.claim("rn_noj", "ls_1", &[]).await.unwrap() {
        Claim::Job(leased) => leased,
        other => panic!("{other:?}"),
    };
    assert_eq!(leased.job.submission_id, "sb_noj", "the older job has no payload");
    assert_eq!(leased.normal_oj.as_deref(), Some(PAYLOAD));
    assert!(claim(&f.queue, "rn_noj").await.is_none());
    let plain = claim(&f.queue, "rn_gavel").await.expect("the plain job");
    assert_eq!(plain.submission_id, "sb_plain");
    // A dialect's runner is another runner to the other dialect.
    use queue::RunnerAuth::{Foreign, Valid};
    let auth = |rid, dialect| f.queue.authenticate_runner(rid, "hash-of-rn_noj", dialect);
    assert_eq!(auth("rn_noj", DIALECT_NORMAL_OJ).await.unwrap(), Valid);
    assert_eq!(auth("rn_noj", "").await.unwrap(), Foreign);
}

#[tokio::test]
async fn runners_fenced_by_identity_renew_complete_once_and_never_someone_elses_job() {
    let f = fixture(1_000, 3).await;
    noj_runner(&f.queue, "rn_a", 4).await;
    noj_runner(&f.queue, "rn_b", 4).await;
    submit_with(&f.queue, "sb_1", "c", &[], Some(PAYLOAD)).await;
    let job = claim(&f.queue, "rn_a").await.unwrap();
    // Heartbeats by job id renew what rn_a holds, past the lease's ttl.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let ids = [job.job_id.clone(), "jb_not_mine".into()];
        assert!(f.queue.heartbeat_held("rn_a", &ids).await.unwrap().is_some());
    }
    assert!(claim(&f.queue, "rn_b").await.is_none(), "still leased to rn_a");
    // rn_b naming the job renews nothing of it and cannot complete it.
    f.queue.heartbeat_held("rn_b", std::slice::from_ref(&job.job_id)).await.unwrap();
    let held = LeaseRef::Held;
    let fence = f.queue.complete("rn_b", &job.job_id, held, &accepted()).await.unwrap();
    assert_eq!(fence, Fence::Stale);
    let fence = f.queue.complete("rn_a", &job.job_id, held, &accepted()).await.unwrap();
    assert_eq!(fence, Fence::Accepted);
    assert_eq!(status(&f.queue, "sb_1").await, Status::Accepted);
    let fence = f.queue.complete("rn_a", &job.job_id, held, &accepted()).await.unwrap();
    assert_eq!(fence, Fence::Repeated);
    let fence = f.queue.complete("rn_a", "jb_nothing", held, &accepted()).await.unwrap();
    assert_eq!(fence, Fence::Unknown);

    // A job superseded under its runner: the result is dropped, not applied.
    submit_with(&f.queue, "sb_2", "c", &[], Some(PAYLOAD)).await;
    let old = claim(&f.queue, "rn_a").await.unwrap();
    assert_eq!(f.queue.rejudge("sb_2", "jb_sb_2_again", false).await.unwrap(), Change::Done);
    let fence = f.queue.complete("rn_a", &old.job_id, held, &accepted()).await.unwrap();
    assert_eq!(fence, Fence::Dropped);
    assert_eq!(status(&f.queue, "sb_2").await, Status::Pending);
}

#[tokio::test]
async fn a_drained_job_goes_back_to_the_tail_without_spending_an_attempt() {
    let f = fixture(30_000, 1).await;
    noj_runner(&f.queue, "rn_a", 4).await;
    submit_with(&f.queue, "sb_1", "c", &[], Some(PAYLOAD)).await;
    submit_with(&f.queue, "sb_2", "c", &[], Some(PAYLOAD)).await;
    let first = claim(&f.queue, "rn_a").await.unwrap();
    assert_eq!(first.submission_id, "sb_1");
    assert_eq!(f.queue.abort("rn_b", &first.job_id, false, "drain").await.unwrap(), Abort::Stale);
    assert_eq!(
        f.queue.abort("rn_a", &first.job_id, false, "drain").await.unwrap(),
        Abort::Requeued
    );
    assert_eq!(
        (status(&f.queue, "sb_1").await, attempt(&f.queue, "sb_1").await),
        (Status::Pending, 0)
    );
    // At the tail: sb_2 comes first now; the same runner may take sb_1 again,
    // and with max_attempts = 1 it still has its one attempt.
    assert_eq!(claim(&f.queue, "rn_a").await.unwrap().submission_id, "sb_2");
    let again = claim(&f.queue, "rn_a").await.unwrap();
    assert_eq!((again.submission_id.as_str(), again.attempt), ("sb_1", 1));
    assert_eq!(f.queue.abort("rn_a", "jb_nothing", false, "drain").await.unwrap(), Abort::Unknown);
}

#[tokio::test]
async fn counted_hand_backs_spend_attempts_and_the_last_one_ends_as_je() {
    let f = fixture(30_000, 2).await;
    noj_runner(&f.queue, "rn_a", 4).await;
    submit_with(&f.queue, "sb_1", "c", &[], Some(PAYLOAD)).await;
    let job = claim(&f.queue, "rn_a").await.unwrap();
    let abort = f.queue.abort("rn_a", &job.job_id, true, "prep_failed").await.unwrap();
    assert_eq!(abort, Abort::Requeued);
    assert_eq!(attempt(&f.queue, "sb_1").await, 1);
    let job = claim(&f.queue, "rn_a").await.unwrap();
    assert_eq!(job.attempt, 2);
    let abort = f.queue.abort("rn_a", &job.job_id, true, "prep_failed").await.unwrap();
    assert_eq!(abort, Abort::Failed);
    let view = f.queue.submission("sb_1").await.unwrap().unwrap().view;
    assert_eq!(view.status, Status::JudgementError);
    assert!(view.message.contains("handed the job back on all 2 attempts"), "{}", view.message);
    assert!(view.message.contains("prep_failed"), "{}", view.message);
    assert!(claim(&f.queue, "rn_a").await.is_none());
    assert_eq!(f.queue.stats().await.unwrap().judgement_errors.get("aborted"), Some(&1));
}

#[tokio::test]
async fn a_code_run_is_queued_leased_and_completed_by_its_report_only() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_a", &["python3"], &[], 2).await;
    let spec = python_run();
    let run = NewRun {
        id: "ru_1".into(),
        job_id: "jb_ru_1".into(),
        language: "python3".into(),
        labels: Vec::new(),
        owner: "cl_1".into(),
        spec: spec.clone(),
        idempotency: None,
        cost: 1000,
    };
    f.queue.submit_run(&run).await.unwrap();
    assert_eq!(f.queue.recent_runs(10).await.unwrap(), ["ru_1"]);
    assert!(f.queue.recent_submissions(10).await.unwrap().is_empty());
    // A run is not a submission, and the other way round.
    assert!(f.queue.submission("ru_1").await.unwrap().is_none());
    submit(&f.queue, "sb_1", "python3", &[]).await;
    assert!(f.queue.run("sb_1").await.unwrap().is_none());

    let record = f.queue.run("ru_1").await.unwrap().unwrap();
    assert_eq!((record.view.status, record.owner.as_str()), (RunStatus::Pending, "cl_1"));
    let job = claim(&f.queue, "rn_a").await.unwrap();
    assert_eq!((job.submission_id.as_str(), &job.spec), ("ru_1", &spec));
    assert_eq!(f.queue.run("ru_1").await.unwrap().unwrap().view.status, RunStatus::Running);

    let output =
        RunnerEvent::Output(OutputChunk { stream: OutputStream::Stdout, data: "1\n".into() });
    let fence = f.queue.post_events("rn_a", &job.job_id, &job.lease, &[output]).await.unwrap();
    assert_eq!(fence, Fence::Accepted);
    let lease = LeaseRef::Token(&job.lease);
    // A verdict does not complete a run.
    let fence = f.queue.complete("rn_a", &job.job_id, lease, &accepted()).await.unwrap();
    assert_eq!(fence, Fence::WrongKind);
    let report = RunReport {
        status: RunStatus::RuntimeError,
        exit_code: Some(3),
        time_ms: 12,
        memory_kb: 3400,
        message: "exited with status 3".into(),
        output: vec![OutputChunk { stream: OutputStream::Stdout, data: "1\n".into() }],
        artifacts: vec![protocol::runs::ArtifactData {
            name: "out.txt".into(),
            content_base64: "aGk=".into(),
        }],
        artifacts_dropped: vec!["big".into()],
    };
    let result = JobResult::Run(report.clone());
    assert_eq!(
        f.queue.complete("rn_a", &job.job_id, lease, &result).await.unwrap(),
        Fence::Accepted
    );
    let record = f.queue.run("ru_1").await.unwrap().unwrap();
    let view = record.view;
    assert_eq!((view.status, view.exit_code, view.time_ms), (RunStatus::RuntimeError, Some(3), 12));
    assert_eq!(view.message, "exited with status 3");
    assert_eq!((view.artifacts[0].name.as_str(), view.artifacts[0].size), ("out.txt", 2));
    assert_eq!(view.artifacts_dropped, ["big"]);
    assert_eq!(record.report, Some(report));
    assert_eq!(event_types(&f.queue, "ru_1").await, ["queued", "started", "output", "finished"]);

    // A submission's job refuses a run's report.
    let job = claim(&f.queue, "rn_a").await.unwrap();
    let lease = LeaseRef::Token(&job.lease);
    assert_eq!(
        f.queue.complete("rn_a", &job.job_id, lease, &result).await.unwrap(),
        Fence::WrongKind
    );
    assert_eq!(
        f.queue.complete("rn_a", &job.job_id, lease, &accepted()).await.unwrap(),
        Fence::Accepted
    );
}

/// A submission `sid` of `owner` under idempotency key `key` (if any) for
/// the request named `fingerprint`.
fn keyed(sid: &str, owner: &str, key: Option<&str>, fingerprint: &str) -> NewSubmission {
    let source = BlobRef { digest: digest(1), size: 10 };
    NewSubmission {
        id: sid.into(),
        job_id: format!("jb_{sid}"),
        problem_id: "a-plus-b".into(),
        revision: digest(2),
        source: source.digest.clone(),
        language: "python3".into(),
        checker: Some("tokens".into()),
        labels: Vec::new(),
        owner: owner.into(),
        max_score: 100.0,
        spec: JobSpec::Judge {
            language: "python3".into(),
            source,
            source_text: None,
            problem: ProblemRef {
                id: "a-plus-b".into(),
                manifest: BlobRef { digest: digest(2), size: 100 },
            },
            compiled_checker: None,
        },
        normal_oj: None,
        idempotency: key
            .map(|key| Idempotency { key: key.into(), fingerprint: fingerprint.into() }),
        cost: 1000,
    }
}

/// How many records and queued jobs there are.
async fn counts(queue: &Queue) -> (usize, usize, u64) {
    let submissions = queue.recent_submissions(100).await.unwrap().len();
    let runs = queue.recent_runs(100).await.unwrap().len();
    (submissions, runs, queue.stats().await.unwrap().pending)
}

#[tokio::test]
async fn one_idempotency_key_makes_one_record_and_a_changed_request_changes_nothing() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_any", &["javascript", "python3"], &[], 1).await;
    let queue = &f.queue;
    let first = queue.submit(&keyed("sb_1", "cl_1", Some("k-1"), "fp-a")).await.unwrap();
    assert_eq!(first, Submitted::Created("sb_1".into()));
    // The retry (a new id, as a second backend instance would make one):
    // the first id, nothing new.
    let retry = queue.submit(&keyed("sb_2", "cl_1", Some("k-1"), "fp-a")).await.unwrap();
    assert_eq!(retry, Submitted::Replayed("sb_1".into()));
    assert_eq!(counts(queue).await, (1, 0, 1));
    assert!(queue.submission("sb_2").await.unwrap().is_none());
    // The same key with another request: refused, nothing changed.
    let other = queue.submit(&keyed("sb_3", "cl_1", Some("k-1"), "fp-b")).await.unwrap();
    assert_eq!(other, Submitted::Conflict("sb_1".into()));
    assert_eq!(counts(queue).await, (1, 0, 1));
    // The read-only look-up agrees with the script.
    let ask =
        |fingerprint: &str| Idempotency { key: "k-1".into(), fingerprint: fingerprint.into() };
    let earlier = queue.earlier_create("cl_1", &ask("fp-a")).await.unwrap();
    assert_eq!(earlier, Some(Submitted::Replayed("sb_1".into())));
    let earlier = queue.earlier_create("cl_1", &ask("fp-b")).await.unwrap();
    assert_eq!(earlier, Some(Submitted::Conflict("sb_1".into())));
    assert_eq!(queue.earlier_create("cl_2", &ask("fp-a")).await.unwrap(), None);
    // The key is remembered for the TTL, and only for it.
    let client = redis::Client::open(f.redis.url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 =
        redis::cmd("PTTL").arg("{gavel}:idem:cl_1:k-1").query_async(&mut redis).await.unwrap();
    let day = IDEMPOTENCY_TTL.as_millis() as i64;
    assert!((day - 60_000..=day).contains(&ttl), "PTTL {ttl}");
}

#[tokio::test]
async fn idempotency_keys_are_scoped_by_owner_and_optional() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_any", &["javascript", "python3"], &[], 1).await;
    let queue = &f.queue;
    // Two clients that happen to pick the same key never collide.
    let mine = queue.submit(&keyed("sb_1", "cl_1", Some("same"), "fp-a")).await.unwrap();
    let theirs = queue.submit(&keyed("sb_2", "cl_2", Some("same"), "fp-a")).await.unwrap();
    assert_eq!(
        (mine, theirs),
        (Submitted::Created("sb_1".into()), Submitted::Created("sb_2".into()))
    );
    assert_eq!(queue.submission("sb_2").await.unwrap().unwrap().owner, "cl_2");
    // Without a key, the same request twice is two records.
    for sid in ["sb_3", "sb_4"] {
        let created = queue.submit(&keyed(sid, "cl_1", None, "")).await.unwrap();
        assert_eq!(created, Submitted::Created(sid.into()));
    }
    assert_eq!(counts(queue).await, (4, 0, 4));
}

#[tokio::test]
async fn a_code_run_keeps_its_idempotency_key_like_a_submission() {
    let f = fixture(30_000, 3).await;
    runner(&f.queue, "rn_any", &["javascript", "python3"], &[], 1).await;
    let queue = &f.queue;
    let run = |id: &str, fingerprint: &str| NewRun {
        id: id.into(),
        job_id: format!("jb_{id}"),
        language: "python3".into(),
        labels: Vec::new(),
        owner: "cl_1".into(),
        spec: python_run(),
        idempotency: Some(Idempotency { key: "k".into(), fingerprint: fingerprint.into() }),
        cost: 1000,
    };
    assert_eq!(
        queue.submit_run(&run("ru_1", "fp-a")).await.unwrap(),
        Submitted::Created("ru_1".into())
    );
    assert_eq!(
        queue.submit_run(&run("ru_2", "fp-a")).await.unwrap(),
        Submitted::Replayed("ru_1".into())
    );
    // One key space per owner: a submission under the run's key is another request.
    let submission = queue.submit(&keyed("sb_1", "cl_1", Some("k"), "fp-s")).await.unwrap();
    assert_eq!(submission, Submitted::Conflict("ru_1".into()));
    assert_eq!(counts(queue).await, (0, 1, 1));
}

/// Connections Redis has accepted since it started (`INFO stats`).
async fn connections_received(probe: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO").arg("stats").query_async(probe).await.unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("total_connections_received:")?.trim().parse().ok())
        .expect("INFO stats has total_connections_received")
}

#[tokio::test]
async fn a_call_to_a_stalled_redis_times_out_alone_and_later_calls_go_on_over_its_connection() {
    // Longer than redis-rs' own default (500 ms), so this is the one used.
    let timeout = Duration::from_millis(1000);
    let f = fixture_with(QueueConfig { redis_timeout: timeout, ..QueueConfig::default() }).await;
    runner(&f.queue, "r1", &["javascript"], &[], 2).await;
    let client = redis::Client::open(f.redis.url()).unwrap();
    let mut probe = client.get_multiplexed_async_connection().await.unwrap();
    let connections = connections_received(&mut probe).await;

    // Redis stalls (SIGSTOP): a call fails after the timeout, as a timeout.
    f.redis.pause().unwrap();
    let asked = std::time::Instant::now();
    let stalled = f.queue.submit(&new_submission("sb_stalled", "javascript", &[], None)).await;
    let waited = asked.elapsed();
    f.redis.resume().unwrap();
    match stalled {
        Err(e @ QueueError::Redis(_)) if e.is_timeout() => {}
        other => panic!("a stalled submit answered {other:?}, not a timeout"),
    }
    assert!(waited >= timeout && waited < timeout * 3, "the stalled call failed after {waited:?}");

    // Redis ran the script it had been sent once it went on: a create that
    // failed this way may be stored (so clients retry it with its
    // idempotency key). Later calls get their own answers, in order, over
    // the same connection: the timeout did not replace it.
    assert_eq!(status(&f.queue, "sb_stalled").await, Status::Pending);
    submit(&f.queue, "sb_after", "javascript", &[]).await;
    assert!(f.queue.ping().await);
    assert_eq!(claim(&f.queue, "r1").await.unwrap().submission_id, "sb_stalled");
    assert_eq!(claim(&f.queue, "r1").await.unwrap().submission_id, "sb_after");
    assert_eq!(
        connections_received(&mut probe).await,
        connections,
        "the queue connected to Redis again after a timeout"
    );
}
