//! The backend end to end: each test starts its own `redis-server` and the
//! real `gavel backend` process (short leases: `--lease-ttl-s 2
//! --heartbeat-interval-s 1`) and talks HTTP to it, as an admin, as clients
//! and as scripted runners ([`TestRunner`]) that claim, go silent, renew,
//! report and complete exactly when told to.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test backend`.
//! Needs `redis-server` on PATH (`cargo xtask setup` installs it).

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use e2e::api::{Client, SOON, SseEvent};
use e2e::package::{self, TAR_GZ, ZIP};
use e2e::runner::{KeepAlive, LANGUAGE, TestRunner, report, sha256_hex};
use e2e::stack::Stack;
use judge_core::verdict::Status;
use protocol::client::{EventKind, ProblemView, SubmissionView, SubmitRequest};
use protocol::runner::{
    CaseProgress, CompleteResponse, Job, JobSpec, ProblemManifest, RunnerEvent,
};
use reqwest::Method;
use serde_json::json;

const PROBLEM: &str = "a-plus-b";
/// A submission's source: never run (the runners here are scripted).
const SOURCE: &str = "const [a, b] = require('fs').readFileSync(0, 'utf8').split(/\\s+/).map(Number);\nconsole.log(a + b);\n";

/// Uploads the example problem (as a zip) and issues a client token.
fn setup(stack: &Stack) -> (ProblemView, Client) {
    let admin = stack.admin();
    let problem = admin.create_problem(PROBLEM, ZIP, package::zip(&package::example(PROBLEM)));
    (problem, admin.create_client("e2e-client"))
}

/// The SSE event names, in order.
fn names(events: &[SseEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}

/// `gavel_…` sample value of a metric without labels.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample of {name} in:\n{text}"))
}

fn metrics(stack: &Stack) -> String {
    stack.http().get_root("/metrics").expect(200).text()
}

#[test]
fn a_submission_flows_from_upload_through_a_runner_to_its_verdict_and_events() {
    let stack = Stack::start();
    let admin = stack.admin();

    // The admin uploads the example problem, built here as a zip.
    let problem = admin.create_problem(PROBLEM, ZIP, package::zip(&package::example(PROBLEM)));
    assert_eq!((problem.id.as_str(), problem.title.as_str()), (PROBLEM, "A + B"));
    assert_eq!(problem.max_score, 100.0);
    assert_eq!(problem.files, 11, "problem.toml and five cases: {problem:?}");
    assert!(protocol::is_digest(&problem.revision), "{problem:?}");
    let cases: Vec<String> = problem.tasks.iter().flat_map(|t| t.cases.clone()).collect();
    assert_eq!(cases, ["01", "02", "03", "04", "05"]);
    let stored: ProblemView = admin.get(&format!("/problems/{PROBLEM}")).expect(200).json();
    assert_eq!(stored, problem);
    // The same files as a tar.gz: replaced (200), and the content-addressed
    // revision is the same.
    let tar_gz = package::tar_gz(&package::example(PROBLEM));
    let replaced: ProblemView = admin.put_problem(PROBLEM, TAR_GZ, tar_gz).expect(200).json();
    assert_eq!(replaced, problem);
    let client = admin.create_client("front-end");

    // A runner long-polls before the submission exists.
    let runner = TestRunner::register(&stack.http(), "runner-1");
    let bystander = TestRunner::register(&stack.http(), "runner-2");
    let poller = runner.clone();
    let poll_started = Instant::now();
    let polling = std::thread::spawn(move || {
        let job = poller.next_job(Duration::from_secs(10));
        (job, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(300));

    let submitted_at = Instant::now();
    let id = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let mut live = client.events(&id);
    let (job, claimed_at) = polling.join().expect("the polling thread");
    let job = job.expect("the long-poll returned the job");
    let latency = claimed_at.duration_since(submitted_at);
    assert!(latency < Duration::from_secs(2), "the long-poll answered {latency:?} after submit");
    assert!(submitted_at.duration_since(poll_started) >= Duration::from_millis(300));
    assert_eq!((job.submission_id.as_str(), job.attempt, job.lease_ttl_s), (id.as_str(), 1, 2));
    let renewing = runner.keep_alive(vec![job.clone()]);

    // The (small) source comes inside the job; the runner fetches the
    // manifest and a testdata file.
    let JobSpec::Judge { language, source, source_text, problem: problem_ref, .. } = &job.spec
    else {
        panic!("a judge job")
    };
    assert_eq!(language, LANGUAGE);
    assert_eq!(
        (problem_ref.id.as_str(), problem_ref.manifest.digest.as_str()),
        (PROBLEM, problem.revision.as_str())
    );
    assert_eq!(source_text.as_deref(), Some(SOURCE));
    assert_eq!(
        (sha256_hex(SOURCE.as_bytes()), SOURCE.len() as u64),
        (source.digest.clone(), source.size)
    );
    runner.blob(&source.digest).expect_error(404);
    let blob = runner.blob(&problem_ref.manifest.digest).expect(200);
    let cache = blob.headers.get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(cache.contains("immutable"), "cache-control {cache:?}");
    assert_eq!(sha256_hex(&blob.body), problem_ref.manifest.digest);
    let manifest: ProblemManifest = blob.json();
    assert_eq!(manifest.id, PROBLEM);
    assert_eq!(manifest.files.len(), 11);
    let input = &manifest.files["tests/01.in"];
    let blob = runner.blob(&input.digest).expect(200);
    assert_eq!(sha256_hex(&blob.body), input.digest);
    let on_disk =
        std::fs::read(e2e::root().join("examples/problems/a-plus-b/tests/01.in")).unwrap();
    assert_eq!(blob.body, on_disk);

    // A runner without a lease on the job reads none of its blobs; the
    // admin reads them all.
    for digest in [&problem_ref.manifest.digest, &input.digest] {
        bystander.blob(digest).expect_error(404);
        assert_eq!(sha256_hex(&admin.get(&format!("/blobs/{digest}")).expect(200).body), **digest);
    }

    // Progress, then the result; a repeated completion is harmless.
    runner.events(&job, vec![RunnerEvent::Compiled { message: String::new() }]).expect(200);
    let case_events = cases
        .iter()
        .map(|case| {
            RunnerEvent::Case(CaseProgress {
                task: 0,
                case: case.clone(),
                status: Status::Accepted,
                score: 1.0,
                time_ms: 3,
                memory_kb: 1024,
                message: String::new(),
            })
        })
        .collect();
    runner.events(&job, case_events).expect(200);
    let mut streamed = Vec::new();
    while streamed.len() < 2 + 1 + cases.len() {
        streamed.push(live.next(SOON).expect("the stream is open until the verdict"));
    }
    let result = report(&problem, Status::Accepted);
    runner.complete(&job, &result).expect(200);
    drop(renewing);
    runner.complete(&job, &result).expect(200);

    let view = client.submission(&id);
    assert_eq!((view.status, view.score, view.max_score), (Status::Accepted, 100.0, 100.0));
    assert_eq!((view.job_id.as_str(), view.attempt), (job.job_id.as_str(), 1));
    assert_eq!((view.time_ms, view.memory_kb), (3, 1024));
    assert!(view.finished_at_ms.is_some_and(|t| t >= view.created_at_ms), "{view:?}");
    assert_eq!(view.tasks, result.tasks);
    assert_eq!(admin.submission(&id), view);

    // The stream delivered everything in order, then ended.
    streamed.extend(live.until_end(SOON));
    let mut expected = vec!["queued", "started", "compiled"];
    expected.extend(cases.iter().map(|_| "case"));
    expected.push("finished");
    assert_eq!(names(&streamed), expected);
    for (n, event) in streamed.iter().enumerate() {
        let parsed = event.submission_event();
        assert_eq!((parsed.seq, event.id.clone()), (n as u64 + 1, (n + 1).to_string()));
        assert_eq!(parsed.job_id, job.job_id);
        assert_eq!(parsed.kind.name(), event.event);
    }
    let EventKind::Finished { status, score, .. } =
        streamed.last().unwrap().submission_event().kind
    else {
        unreachable!()
    };
    assert_eq!((status, score), (Status::Accepted, 100.0));

    // A late subscriber gets the whole log again, and the stream ends.
    let replay = client.events(&id).until_end(SOON);
    assert_eq!(replay, streamed);
}

#[test]
fn a_source_over_64_kib_is_stored_as_a_blob_that_only_its_runner_reads_and_only_if_accepted() {
    let stack = Stack::start();
    let admin = stack.admin();
    admin.create_problem(PROBLEM, ZIP, package::zip(&package::example(PROBLEM)));
    let client = admin.create_client("c");
    let runner = TestRunner::register(&stack.http(), "runner-1");
    let bystander = TestRunner::register(&stack.http(), "runner-2");
    let big = format!("{SOURCE}\n// {}\n", "x".repeat(70 << 10));
    // Refused ones leave no blob behind.
    let files = e2e::files_under(&stack.data_dir());
    assert_eq!(client.submit(PROBLEM, "cobol", &big).expect_error(422).error, "unknown_language");
    assert_eq!(client.submit("nope", LANGUAGE, &big).expect_error(422).error, "unknown_problem");
    assert_eq!(e2e::files_under(&stack.data_dir()), files);
    client.submit_ok(PROBLEM, LANGUAGE, &big);
    let job = runner.claim(SOON);
    let JobSpec::Judge { source, source_text, .. } = &job.spec else { panic!("a judge job") };
    assert_eq!(source_text, &None, "too large to travel inline");
    assert_eq!(
        (source.digest.clone(), source.size),
        (sha256_hex(big.as_bytes()), big.len() as u64)
    );
    assert_eq!(runner.blob(&source.digest).expect(200).body, big.as_bytes());
    bystander.blob(&source.digest).expect_error(404);
}

#[test]
fn runner_events_reach_clients_intact_as_submission_events() {
    let stack = Stack::start();
    let (problem, client) = setup(&stack);
    let runner = TestRunner::register(&stack.http(), "chatty");
    let id = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let job = runner.claim(SOON);
    let posted = vec![
        RunnerEvent::Compiled { message: "warning: «unused» \"x\" </script>\n".into() },
        RunnerEvent::Case(CaseProgress {
            task: 0,
            case: "01".into(),
            status: Status::WrongAnswer,
            score: 0.5,
            time_ms: 17,
            memory_kb: 2048,
            message: "expected 3, found 4 ✗".into(),
        }),
    ];
    runner.events(&job, posted).expect(200);
    runner.complete(&job, &report(&problem, Status::WrongAnswer)).expect(200);

    let log: Vec<_> =
        client.events(&id).until_end(SOON).iter().map(SseEvent::submission_event).collect();
    let kinds: Vec<EventKind> = log.into_iter().map(|e| e.kind).collect();
    let started = |attempt| EventKind::Started { attempt, runner_id: runner.id.clone() };
    assert_eq!(
        kinds,
        [
            EventKind::Queued { attempt: 0 },
            started(1),
            EventKind::Compiled { message: "warning: «unused» \"x\" </script>\n".into() },
            EventKind::Case(CaseProgress {
                task: 0,
                case: "01".into(),
                status: Status::WrongAnswer,
                score: 0.5,
                time_ms: 17,
                memory_kb: 2048,
                message: "expected 3, found 4 ✗".into(),
            }),
            EventKind::Finished { status: Status::WrongAnswer, score: 0.0, message: String::new() },
        ]
    );
}

#[test]
fn an_expired_lease_goes_to_the_next_runner_and_the_late_runner_is_refused() {
    let stack = Stack::start();
    let (problem, client) = setup(&stack);
    let a = TestRunner::register(&stack.http(), "runner-a");
    let b = TestRunner::register(&stack.http(), "runner-b");
    let id = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let first = a.claim(SOON);
    assert_eq!(first.attempt, 1);

    // A goes silent; B's long-poll gets the job once A's 2 s lease expires.
    let started = Instant::now();
    let second = b.claim(Duration::from_secs(10));
    let waited = started.elapsed();
    assert!(waited > Duration::from_millis(1000), "B got the job after {waited:?}, before expiry");
    assert!(waited < Duration::from_secs(6), "reclaimed only after {waited:?}");
    assert_eq!((second.job_id.as_str(), second.attempt), (first.job_id.as_str(), 2));
    assert_ne!(second.lease, first.lease);
    let _renewing = b.keep_alive(vec![second.clone()]);
    let before = client.submission(&id);
    assert_eq!((before.status, before.attempt), (Status::Judging, 2));

    // A's late calls are refused and change nothing.
    let refused = a.complete(&first, &report(&problem, Status::WrongAnswer)).expect_error(409);
    assert_eq!(refused.error, "stale_lease");
    assert!(refused.detail.contains(&first.job_id), "{refused:?}");
    a.events(&first, vec![RunnerEvent::Compiled { message: "late".into() }]).expect_error(409);
    assert_eq!(client.submission(&id), before);
    assert!(a.heartbeat_ok(&[&first]).contains(&first.job_id));
    assert_eq!(metric(&metrics(&stack), "gavel_reclaims_total"), 1.0);

    // B finishes the job.
    b.complete(&second, &report(&problem, Status::Accepted)).expect(200);
    let view = client.submission(&id);
    assert_eq!((view.status, view.score, view.attempt), (Status::Accepted, 100.0, 2));
    let log = client.events(&id).until_end(SOON);
    assert_eq!(names(&log), ["queued", "started", "queued", "started", "finished"]);
}

#[test]
fn a_job_whose_lease_expires_max_attempts_times_ends_as_je_with_the_reason() {
    let stack = Stack::start_with(&[("--max-attempts", "2")]);
    let (problem, client) = setup(&stack);
    let runner = TestRunner::register(&stack.http(), "forgetful");
    // Alive, but it never names its jobs: their leases are never renewed.
    let _alive = runner.keep_alive(Vec::new());
    let id = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);

    let first = runner.claim(SOON);
    assert_eq!(first.attempt, 1);
    let requeued = client.wait_for(&id, Duration::from_secs(8), |v| v.status == Status::Pending);
    assert_eq!(requeued.attempt, 1);
    let second = runner.claim(SOON);
    assert_eq!((second.job_id.as_str(), second.attempt), (first.job_id.as_str(), 2));

    let view = client.wait_for(&id, Duration::from_secs(8), |v| v.status != Status::Judging);
    assert_eq!((view.status, view.score), (Status::JudgementError, 0.0), "{view:?}");
    assert!(view.message.contains("attempts"), "message {:?}", view.message);
    assert!(view.message.contains('2'), "message {:?}", view.message);
    assert!(view.finished_at_ms.is_some());

    // The verdict is final: the runner's late completion is refused.
    runner.complete(&second, &report(&problem, Status::Accepted)).expect_error(409);
    assert_eq!(client.submission(&id), view);
    let log = client.events(&id).until_end(SOON);
    assert_eq!(names(&log), ["queued", "started", "queued", "started", "finished"]);
    let finished = log.last().unwrap().submission_event();
    assert!(
        matches!(&finished.kind, EventKind::Finished { status: Status::JudgementError, message, .. } if message == &view.message)
    );
    let text = metrics(&stack);
    assert_eq!(metric(&text, "gavel_judgement_errors_total{reason=\"attempts_exhausted\"}"), 1.0);
    assert_eq!(metric(&text, "gavel_reclaims_total"), 2.0);
}

#[test]
fn exactly_one_of_twelve_racing_runners_gets_an_orphaned_job() {
    let stack = Stack::start();
    let (problem, client) = setup(&stack);
    let a = TestRunner::register(&stack.http(), "orphaner");
    let racers: Vec<TestRunner> =
        (0..12).map(|n| TestRunner::register(&stack.http(), &format!("racer-{n}"))).collect();
    let id = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let orphan = a.claim(SOON);
    client.wait_for(&id, Duration::from_secs(8), |v| v.status == Status::Pending);

    // Twelve long-polls start at once on the orphaned job. The one that
    // gets it (attempt 2) goes silent too: its lease expires while the
    // eleven others still wait, and exactly one of them gets attempt 3 and
    // completes it at once. Every racer stays registered (heartbeats that
    // name no job), so only leases expire.
    let barrier = Arc::new(Barrier::new(racers.len()));
    let threads: Vec<_> = racers
        .into_iter()
        .map(|racer| {
            let barrier = Arc::clone(&barrier);
            let problem = problem.clone();
            std::thread::spawn(move || {
                let alive = racer.keep_alive(Vec::new());
                barrier.wait();
                let job = racer.next_job(Duration::from_secs(4))?;
                let completed = (job.attempt > 2)
                    .then(|| racer.complete(&job, &report(&problem, Status::Accepted)).status);
                Some((racer, job, completed, alive))
            })
        })
        .collect();
    let mut winners: Vec<(TestRunner, Job, Option<u16>, KeepAlive)> =
        threads.into_iter().filter_map(|t| t.join().expect("a racer thread")).collect();
    winners.sort_by_key(|(_, job, _, _)| job.attempt);
    let summary: Vec<_> =
        winners.iter().map(|(r, job, done, _)| (&r.id, job.attempt, done)).collect();
    assert_eq!(winners.len(), 2, "one winner per expiry: {summary:?}");
    let [(second_runner, second, None, _), (third_runner, third, Some(200), _)] = &winners[..]
    else {
        panic!("attempts 2 (silent) and 3 (completed) expected: {summary:?}");
    };
    assert_eq!((second.attempt, third.attempt), (2, 3), "{summary:?}");
    assert_ne!(second_runner.id, third_runner.id);
    for job in [second, third] {
        assert_eq!(
            (job.job_id.as_str(), job.submission_id.as_str()),
            (orphan.job_id.as_str(), id.as_str())
        );
    }

    second_runner.complete(second, &report(&problem, Status::Accepted)).expect_error(409);
    let view = client.submission(&id);
    assert_eq!((view.status, view.attempt), (Status::Accepted, 3));
    assert_eq!(metric(&metrics(&stack), "gavel_reclaims_total"), 2.0);
}

#[test]
fn a_rejudge_cancels_the_held_job_and_the_new_job_sets_the_verdict() {
    let stack = Stack::start();
    let (problem, client) = setup(&stack);
    let holder = TestRunner::register(&stack.http(), "holder");
    let other = TestRunner::register(&stack.http(), "other");
    let id = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let old = holder.claim(SOON);

    let rejudged: SubmissionView =
        client.post(&format!("/submissions/{id}/rejudge"), &json!({})).expect(200).json();
    assert_ne!(rejudged.job_id, old.job_id);
    assert_eq!(rejudged.status, Status::Pending);

    // The holder learns at its next heartbeat, and its old lease is dead.
    let cancel = holder.heartbeat_ok(&[&old]);
    assert!(cancel.contains(&old.job_id), "cancel {cancel:?}");
    assert!(!cancel.contains(&rejudged.job_id), "cancel {cancel:?}");
    holder.events(&old, vec![RunnerEvent::Compiled { message: String::new() }]).expect_error(409);
    let refused = holder.complete(&old, &report(&problem, Status::Accepted)).expect_error(409);
    assert_eq!(refused.error, "stale_lease");
    assert_eq!(client.submission(&id), rejudged);

    // The new job is claimable, and its completion sets the verdict.
    let new = other.claim(SOON);
    assert_eq!(
        (new.job_id.as_str(), new.submission_id.as_str(), new.attempt),
        (rejudged.job_id.as_str(), id.as_str(), 1)
    );
    other.complete(&new, &report(&problem, Status::WrongAnswer)).expect(200);
    let view = client.submission(&id);
    assert_eq!(
        (view.status, view.score, view.job_id.as_str()),
        (Status::WrongAnswer, 0.0, new.job_id.as_str())
    );
    let log = client.events(&id).until_end(SOON);
    assert_eq!(names(&log), ["queued", "started", "finished"]);
    assert!(log.iter().all(|e| e.submission_event().job_id == new.job_id), "{log:?}");
}

#[test]
fn a_completion_asking_for_the_next_job_leases_it_in_the_same_step_and_only_if_accepted() {
    let stack = Stack::start();
    let (problem, client) = setup(&stack);
    // One slot: the next job fits only because the result frees it first.
    let runner = TestRunner::register(&stack.http(), "busy");
    let first = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let second = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let job = runner.claim(SOON);
    assert_eq!(job.submission_id, first);

    let answer: CompleteResponse =
        runner.complete_and_take_next(&job, &report(&problem, Status::Accepted)).expect(200).json();
    assert_eq!(client.submission(&first).status, Status::Accepted);
    let next = answer.next.expect("the queued submission's job came with the answer");
    let view = client.submission(&second);
    assert_eq!(
        (next.submission_id.as_str(), next.job_id.as_str(), next.attempt),
        (second.as_str(), view.job_id.as_str(), 1)
    );
    assert_ne!(next.lease, job.lease);
    assert_eq!((view.status, view.attempt), (Status::Judging, 1));
    // Sent again (as after a lost answer): the same job, not a second one.
    let again: CompleteResponse =
        runner.complete_and_take_next(&job, &report(&problem, Status::Accepted)).expect(200).json();
    assert_eq!(again.next, Some(next.clone()));
    // It is held like a job from jobs/next: fenced by its lease, renewed by
    // heartbeats, its blobs readable.
    assert!(runner.heartbeat_ok(&[&next]).is_empty());
    let JobSpec::Judge { problem: problem_ref, .. } = &next.spec else { panic!("a judge job") };
    runner.blob(&problem_ref.manifest.digest).expect(200);

    // Nothing queued: the answer carries no job, and the repeat is still 200.
    let last = report(&problem, Status::WrongAnswer);
    let answer: CompleteResponse = runner.complete_and_take_next(&next, &last).expect(200).json();
    assert_eq!(answer, CompleteResponse::default());
    runner.complete_and_take_next(&next, &last).expect(200);
    assert_eq!(client.submission(&second).status, Status::WrongAnswer);

    // A refused result takes no job: the queued one waits for whoever asks.
    let third = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let held = runner.claim(SOON);
    let rejudged: SubmissionView =
        client.post(&format!("/submissions/{third}/rejudge"), &json!({})).expect(200).json();
    let refused =
        runner.complete_and_take_next(&held, &report(&problem, Status::Accepted)).expect_error(409);
    assert_eq!(refused.error, "stale_lease");
    assert_eq!(client.submission(&third), rejudged);
    let other = TestRunner::register(&stack.http(), "other");
    let new = other.claim(SOON);
    assert_eq!((new.job_id.as_str(), new.attempt), (rejudged.job_id.as_str(), 1));
}

#[test]
fn backend_instances_on_one_redis_share_wake_ups_and_event_streams() {
    let mut stack = Stack::start();
    let second = stack.start_another_backend();
    let (problem, client) = setup(&stack);
    // The runner talks only to the second instance, the client only to the first.
    let runner = TestRunner::register(&second, "elsewhere");
    let poller = runner.clone();
    let polling =
        std::thread::spawn(move || (poller.next_job(Duration::from_secs(10)), Instant::now()));
    std::thread::sleep(Duration::from_millis(300));

    let submitted_at = Instant::now();
    let id = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let mut live = client.events(&id);
    let (job, claimed_at) = polling.join().expect("the polling thread");
    let job = job.expect("the long-poll on the other instance got the job");
    let latency = claimed_at.duration_since(submitted_at);
    assert!(latency < Duration::from_secs(2), "woken {latency:?} after submit");
    assert_eq!(job.submission_id, id);

    let _renewing = runner.keep_alive(vec![job.clone()]);
    assert_eq!(names(&[live.next(SOON).unwrap(), live.next(SOON).unwrap()]), ["queued", "started"]);
    runner.events(&job, vec![RunnerEvent::Compiled { message: String::new() }]).expect(200);
    assert_eq!(live.next(SOON).expect("a live event").event, "compiled");
    runner.complete(&job, &report(&problem, Status::Accepted)).expect(200);
    assert_eq!(names(&live.until_end(SOON)), ["finished"]);
    assert_eq!(client.submission(&id).status, Status::Accepted);
}

#[test]
fn a_problem_replaced_through_another_instance_is_what_the_next_submission_gets() {
    let mut stack = Stack::start();
    let second = Client::new(stack.start_another_backend(), e2e::stack::ADMIN_TOKEN);
    let (first_revision, client) = setup(&stack);
    let runner = TestRunner::register(&stack.http(), "judge");
    // A submission through the first instance: it reads the problem's record.
    client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let manifest_of = |job: &Job| match &job.spec {
        JobSpec::Judge { problem, .. } => problem.manifest.digest.clone(),
        other => panic!("a judging job, not {other:?}"),
    };
    let job = runner.claim(SOON);
    assert_eq!(manifest_of(&job), first_revision.revision);
    runner.complete(&job, &report(&first_revision, Status::Accepted)).expect(200);
    // The problem is replaced through the other instance, then submitted to
    // through the first again: the job is built for the new revision.
    let mut entries = package::example(PROBLEM);
    for entry in &mut entries {
        if let package::Entry::File(path, data) = entry
            && path == "problem.toml"
        {
            data.extend_from_slice(b"\n# the second revision\n");
        }
    }
    let replaced: ProblemView =
        second.put_problem(PROBLEM, ZIP, package::zip(&entries)).expect(200).json();
    assert_ne!(replaced.revision, first_revision.revision);
    let id = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let job = runner.claim(SOON);
    assert_eq!((job.submission_id.as_str(), manifest_of(&job)), (id.as_str(), replaced.revision));
}

#[test]
fn a_terminated_backend_ends_long_polls_and_event_streams_and_exits() {
    let mut stack = Stack::start();
    let (_, client) = setup(&stack);
    let busy = TestRunner::register(&stack.http(), "busy");
    let idle = TestRunner::register(&stack.http(), "idle");
    let id = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let _job = busy.claim(SOON);
    let mut stream = client.events(&id);
    assert_eq!(
        names(&[stream.next(SOON).unwrap(), stream.next(SOON).unwrap()]),
        ["queued", "started"]
    );
    let polling = std::thread::spawn(move || idle.poll(Duration::from_secs(30)).status);
    std::thread::sleep(Duration::from_millis(300));

    let (status, took) = stack.terminate_backend(Duration::from_secs(8));
    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_secs(3), "exiting took {took:?}");
    assert_eq!(polling.join().expect("the polling thread"), 204);
    assert_eq!(stream.until_end(SOON), []);
}

#[test]
fn a_deregistered_runner_hands_its_job_back_at_once() {
    let stack = Stack::start();
    let (problem, client) = setup(&stack);
    let leaving = TestRunner::register(&stack.http(), "leaving");
    let staying = TestRunner::register(&stack.http(), "staying");
    let id = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let job = leaving.claim(SOON);

    let poller = staying.clone();
    let polling = std::thread::spawn(move || poller.next_job(Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(300));
    let http = stack.http();
    let path = format!("/runners/{}", leaving.id);
    let reply = http
        .send(format!("DELETE {path}"), http.request(Method::DELETE, &path, Some(&leaving.token)));
    assert_eq!(reply.expect(200).json::<serde_json::Value>(), json!({ "requeued": 1 }));
    let handed = polling.join().expect("the polling thread").expect("the job came back");
    assert_eq!((handed.job_id.as_str(), handed.attempt), (job.job_id.as_str(), 2));
    assert_eq!(metric(&metrics(&stack), "gavel_reclaims_total"), 0.0, "handed back, not expired");

    // The token is gone with the runner.
    leaving.heartbeat(&[&job]).expect_error(401);
    leaving.complete(&job, &report(&problem, Status::Accepted)).expect_error(401);
    staying.complete(&handed, &report(&problem, Status::Accepted)).expect(200);
    assert_eq!(client.submission(&id).status, Status::Accepted);
}

#[test]
fn an_event_stream_follows_a_rejudge_into_the_new_job_without_gaps() {
    let stack = Stack::start();
    let (problem, client) = setup(&stack);
    let first = TestRunner::register(&stack.http(), "first");
    let second = TestRunner::register(&stack.http(), "second");
    let id = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let old = first.claim(SOON);
    let mut stream = client.events(&id);
    assert_eq!(
        names(&[stream.next(SOON).unwrap(), stream.next(SOON).unwrap()]),
        ["queued", "started"]
    );

    // A runner waits for work, so the new job is claimed the moment the
    // rejudge queues it, racing the stream's look at the new log.
    let poller = second.clone();
    let polling = std::thread::spawn(move || poller.next_job(Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(300));
    client.post(&format!("/submissions/{id}/rejudge"), &json!({})).expect(200);
    let new = polling.join().expect("the polling thread").expect("the new job");
    assert_ne!(new.job_id, old.job_id);
    second.events(&new, vec![RunnerEvent::Compiled { message: String::new() }]).expect(200);
    second.complete(&new, &report(&problem, Status::Accepted)).expect(200);

    let rest = stream.until_end(SOON);
    let seqs: Vec<&str> = rest.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(seqs, ["3", "4", "5", "6"], "{rest:#?}");
    assert_eq!(names(&rest), ["queued", "started", "compiled", "finished"]);
    assert!(rest.iter().all(|e| e.submission_event().job_id == new.job_id));
}

#[test]
fn a_backend_killed_and_restarted_on_the_same_redis_loses_nothing() {
    // Leases of 4 s, so the claimed job's lease outlives the restart even on
    // a loaded machine; heartbeats still come every second.
    let mut stack = Stack::start_with(&[("--lease-ttl-s", "4")]);
    let (problem, client) = setup(&stack);
    let runner = TestRunner::register(&stack.http(), "survivor");
    let claimed = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let job = runner.claim(SOON);
    let waiting = client.submit_ok(PROBLEM, LANGUAGE, "console.log(3);\n");
    assert!(runner.heartbeat_ok(&[&job]).is_empty());

    stack.restart_backend();

    let view = client.submission(&claimed);
    assert_eq!(
        (view.status, view.job_id.as_str(), view.attempt),
        (Status::Judging, job.job_id.as_str(), 1)
    );
    assert!(runner.heartbeat_ok(&[&job]).is_empty(), "the lease survived the restart");
    let JobSpec::Judge { source_text, .. } = &job.spec else { panic!("a judge job") };
    assert_eq!(source_text.as_deref(), Some(SOURCE), "the job (and its source) survived");
    runner.events(&job, vec![RunnerEvent::Compiled { message: String::new() }]).expect(200);
    runner.complete(&job, &report(&problem, Status::Accepted)).expect(200);
    assert_eq!(client.submission(&claimed).status, Status::Accepted);

    // The submission queued before the crash is claimable after it.
    assert_eq!(client.submission(&waiting).status, Status::Pending);
    let next = runner.claim(SOON);
    assert_eq!((next.submission_id.as_str(), next.attempt), (waiting.as_str(), 1));
    let JobSpec::Judge { source_text, .. } = &next.spec else { panic!("a judge job") };
    assert_eq!(source_text.as_deref(), Some("console.log(3);\n"));
    runner.complete(&next, &report(&problem, Status::WrongAnswer)).expect(200);
    assert_eq!(client.submission(&waiting).status, Status::WrongAnswer);
    assert_eq!(stack.admin().problem_ids(), [PROBLEM]);
}

#[test]
fn a_client_sees_only_its_own_submissions() {
    let stack = Stack::start();
    let (_, alice) = setup(&stack);
    let admin = stack.admin();
    let bob = admin.create_client("bob");
    let runner = TestRunner::register(&stack.http(), "runner");
    let id = alice.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let before = alice.submission(&id);

    let missing = bob.get("/submissions/sb_01JNOSUCHSUBMISSION0000000").expect_error(404);
    let error = bob.get(&format!("/submissions/{id}")).expect_error(404);
    assert_eq!(error.error, missing.error);
    let reply = bob
        .http
        .sse(&format!("/submissions/{id}/events"), Some(&bob.token))
        .err()
        .expect("no stream for bob");
    (*reply).expect_error(404);
    bob.post(&format!("/submissions/{id}/rejudge"), &json!({})).expect_error(404);
    bob.post(&format!("/submissions/{id}/cancel"), &json!({})).expect_error(404);

    assert_eq!(alice.submission(&id), before, "bob's calls changed nothing");
    assert_eq!(admin.submission(&id), before);
    let first = alice.events(&id).next(SOON).expect("alice's stream");
    assert_eq!(first.event, "queued");

    // The admin may act on it: a cancelled submission leaves the queue.
    let cancelled: SubmissionView =
        admin.post(&format!("/submissions/{id}/cancel"), &json!({})).expect(200).json();
    assert_eq!(cancelled.status, Status::Cancelled);
    assert_eq!(alice.submission(&id), cancelled);
    assert!(runner.next_job(Duration::from_millis(300)).is_none());
    let names_seen = names(&alice.events(&id).until_end(SOON)).join(" ");
    assert_eq!(names_seen, "queued finished");
}

#[test]
fn health_and_metrics_report_redis_and_the_queue() {
    let mut stack = Stack::start();
    let http = stack.http();
    let health: serde_json::Value = http.get_root("/healthz").expect(200).json();
    assert_eq!(health["redis"], true, "{health}");
    let topology = &health["redis_topology"];
    assert_eq!(topology["primary"], stack.redis_url(), "{health}");
    assert_eq!(topology["role"], "primary", "{health}");
    assert_eq!(topology["replicas"], 0, "{health}");
    assert_eq!((&topology["min_replicas"], &topology["sentinel"]), (&json!(0), &json!(false)));
    // The API's own description, without a token, at the root and under the base.
    let openapi: serde_json::Value = http.get_root("/openapi.json").expect(200).json();
    assert!(openapi["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{openapi}");
    assert!(openapi["paths"]["/api/v1/submissions/{id}"]["get"].is_object());
    assert_eq!(http.get("/openapi.json", None).expect(200).json::<serde_json::Value>(), openapi);
    let (_, client) = setup(&stack);
    let runner = TestRunner::register(&http, "runner");
    assert!(runner.heartbeat_ok(&[]).is_empty());
    client.submit_ok(PROBLEM, LANGUAGE, SOURCE);

    let reply = http.get_root("/metrics").expect(200);
    let content_type =
        reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("text/plain"), "{content_type:?}");
    let text = reply.text();
    assert_eq!(metric(&text, "gavel_queue_pending"), 1.0);
    assert_eq!(metric(&text, "gavel_runners_alive"), 1.0);
    assert_eq!(metric(&text, "gavel_reclaims_total"), 0.0);
    let bucket = text
        .lines()
        .find(|l| {
            l.starts_with("gavel_http_request_duration_seconds_bucket{")
                && l.contains("route=\"/api/v1/submissions\"")
                && l.contains("le=\"+Inf\"")
        })
        .unwrap_or_else(|| panic!("no latency bucket for POST /submissions:\n{text}"));
    assert!(bucket.contains("method=\"POST\"") && bucket.ends_with(" 1"), "{bucket}");

    // Without Redis, the health check says so at once, and so does every
    // other call: a 503 with the error body, never a hang.
    stack.kill_redis();
    for _ in 0..3 {
        let asked = Instant::now();
        let reply = http.get_root("/healthz");
        let took = asked.elapsed();
        assert!(took < Duration::from_secs(2), "/healthz took {took:?} without Redis");
        let health: serde_json::Value = reply.expect(503).json();
        assert_eq!(health["redis"], false, "{health}");
        assert_eq!(health["redis_topology"]["role"], "unreachable", "{health}");
    }
    let asked = Instant::now();
    let error = client.get("/problems").expect_error(503);
    assert_eq!(error.error, "unavailable");
    assert!(asked.elapsed() < Duration::from_secs(2), "took {:?}", asked.elapsed());
    http.get_root("/metrics").expect_error(503);
}

#[test]
fn redis_killed_and_restarted_from_its_aof_loses_nothing_and_wakes_long_polls() {
    let mut stack = Stack::start();
    let (problem, client) = setup(&stack);
    let runner = TestRunner::register(&stack.http(), "runner");
    let _alive = runner.keep_alive(Vec::new());
    let before = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);

    stack.restart_redis();

    // The backend reconnects by itself (a call or two may get a 503 while
    // it does), and the submission accepted before the crash is there.
    let deadline = Instant::now() + Duration::from_secs(5);
    let view = loop {
        let reply = client.get(&format!("/submissions/{before}"));
        if reply.status == 200 {
            break reply.json::<SubmissionView>();
        }
        assert!(Instant::now() < deadline, "no answer after the Redis restart: {}", reply.text());
        reply.expect_error(503);
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(view.status, Status::Pending);
    let job = runner.claim(SOON);
    assert_eq!(job.submission_id, before);
    runner.complete(&job, &report(&problem, Status::Accepted)).expect(200);

    // Long-polls are woken through the re-established subscription.
    let poller = runner.clone();
    let polling =
        std::thread::spawn(move || (poller.next_job(Duration::from_secs(10)), Instant::now()));
    std::thread::sleep(Duration::from_millis(300));
    let submitted_at = Instant::now();
    let after = client.submit_ok(PROBLEM, LANGUAGE, SOURCE);
    let (job, claimed_at) = polling.join().expect("the polling thread");
    let latency = claimed_at.duration_since(submitted_at);
    assert_eq!(job.expect("the long-poll got the new job").submission_id, after);
    assert!(latency < Duration::from_secs(2), "the long-poll answered {latency:?} after submit");
}

/// `POST path` on `http` as `client`, with `Idempotency-Key: key` (raw
/// bytes, to send malformed ones too) and a JSON body.
fn post_keyed(
    http: &e2e::api::Http,
    client: &Client,
    path: &str,
    key: &[u8],
    body: &impl serde::Serialize,
) -> e2e::api::Reply {
    let key = reqwest::header::HeaderValue::from_bytes(key).expect("a header value");
    let request = http.request(Method::POST, path, Some(&client.token));
    http.send(format!("POST {path}"), request.header("Idempotency-Key", key).json(body))
}

/// The id in a `201` answer, and whether it was a replay.
fn created(reply: e2e::api::Reply, field: &str) -> (String, bool) {
    let replayed = reply.headers.get("idempotent-replayed").map(|v| v.as_bytes().to_vec());
    assert!(matches!(replayed.as_deref(), None | Some(b"true")), "{replayed:?}");
    let body: serde_json::Value = reply.expect(201).json();
    (body[field].as_str().expect("an id").to_string(), replayed.is_some())
}

#[test]
fn a_retried_create_with_its_idempotency_key_is_stored_once_whichever_instance_answers() {
    let mut stack = Stack::start();
    let second = stack.start_another_backend();
    let (_, client) = setup(&stack);
    let other = stack.admin().create_client("other");
    let _runner = TestRunner::register(&stack.http(), "runner");
    let redis_client = redis::Client::open(stack.redis_url()).expect("a Redis URL");
    let mut redis = redis_client.get_connection().expect("Redis");
    let mut stored = move || -> Vec<String> {
        redis::cmd("ZRANGE").arg("{gavel}:submissions").arg(0).arg(-1).query(&mut redis).unwrap()
    };
    let request = SubmitRequest {
        problem_id: PROBLEM.into(),
        language: LANGUAGE.into(),
        source: SOURCE.into(),
        labels: Vec::new(),
    };
    let path = "/submissions";

    // The first answer, then the same request with the same key on either
    // instance: the same id, marked as a replay, and one record.
    let (id, replayed) =
        created(post_keyed(&stack.http(), &client, path, b"key-1", &request), "submission_id");
    assert!(!replayed, "a first answer is no replay");
    for http in [stack.http(), second.clone()] {
        let again = created(post_keyed(&http, &client, path, b"key-1", &request), "submission_id");
        assert_eq!(again, (id.clone(), true));
    }
    assert_eq!(stored(), std::slice::from_ref(&id));

    // The same key with another request: refused, nothing changed.
    let changed = SubmitRequest { source: format!("{SOURCE}// changed\n"), ..request.clone() };
    let error = post_keyed(&second, &client, path, b"key-1", &changed).expect_error(422);
    assert_eq!(error.error, "idempotency_conflict", "{}", error.detail);
    // A key names one create of its owner, whatever the endpoint.
    let run = json!({"language": LANGUAGE, "files": {"main.js": "console.log(1)"}});
    let error = post_keyed(&stack.http(), &client, "/runs", b"key-1", &run).expect_error(422);
    assert_eq!(error.error, "idempotency_conflict");
    // Malformed keys: 400 naming the header.
    let long = [b'k'; 201];
    for bad in [&b""[..], &long, "ключ".as_bytes(), b"a\tb"] {
        let error = post_keyed(&stack.http(), &client, path, bad, &request).expect_error(400);
        assert_eq!(error.error, "invalid_header");
        assert!(error.detail.starts_with("Idempotency-Key: "), "{}", error.detail);
    }
    assert_eq!(stored(), std::slice::from_ref(&id), "refused requests stored nothing");

    // Another client's key of the same name is another create; without a
    // key, a request is a new submission every time, as before.
    let (theirs, replayed) =
        created(post_keyed(&second, &other, path, b"key-1", &request), "submission_id");
    assert!(!replayed && theirs != id);
    let unkeyed = [(); 2].map(|()| client.submit_ok(PROBLEM, LANGUAGE, SOURCE));
    assert_ne!(unkeyed[0], unkeyed[1]);
    assert_eq!(stored().len(), 4);

    // Runs take keys the same way.
    let (run_id, _) =
        created(post_keyed(&stack.http(), &client, "/runs", b"run-1", &run), "run_id");
    let again = created(post_keyed(&second, &client, "/runs", b"run-1", &run), "run_id");
    assert_eq!(again, (run_id, true));

    // The lost answer: Redis holds writes back (CLIENT PAUSE WRITE), so the
    // first instance's create waits; the client gives up on it; the create
    // is stored when the pause ends, answered to nobody. The client sends it
    // again, with its key, to the other instance: the stored id, no second
    // submission.
    let mut control = redis_client.get_connection().expect("Redis");
    let () = redis::cmd("CLIENT").arg("PAUSE").arg(1500).arg("WRITE").query(&mut control).unwrap();
    let impatient = stack
        .http()
        .request(Method::POST, path, Some(&client.token))
        .header("Idempotency-Key", "lost-1")
        .json(&request)
        .timeout(Duration::from_millis(400));
    let lost = stack.http().try_send("POST /submissions (impatient)".into(), impatient);
    assert!(lost.is_err(), "the answer came within the pause: {lost:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while stored().len() < 5 {
        assert!(Instant::now() < deadline, "the paused create was never stored");
        std::thread::sleep(Duration::from_millis(50));
    }
    let known = [&id, &theirs, &unkeyed[0], &unkeyed[1]];
    let lost_id = stored().into_iter().find(|s| !known.contains(&s));
    let retried = created(post_keyed(&second, &client, path, b"lost-1", &request), "submission_id");
    assert_eq!((Some(retried.0), retried.1), (lost_id, true));
    assert_eq!(stored().len(), 5, "the retry made no second submission");
}
