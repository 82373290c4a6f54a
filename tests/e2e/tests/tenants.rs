//! Tenants who cannot hurt each other, end to end: the real `gavel backend`
//! process and its own `redis-server`, clients over HTTP, and scripted
//! runners ([`TestRunner`]) that judge instantly — fair dispatch across
//! clients, the `contest` priority class, the admin's rejudges behind live
//! work, and per-client quotas answered `429` with `Retry-After`.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test tenants`.
//! Needs `redis-server` on PATH (`cargo xtask setup` installs it).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e::api::Client;
use e2e::package::{self, ZIP, file};
use e2e::runner::{KeepAlive, TestRunner, report};
use e2e::stack::Stack;
use judge_core::verdict::Status;
use protocol::client::{ClientView, PriorityClass, ProblemView, UpdateClientRequest};
use protocol::runner::{CompleteResponse, Job};
use reqwest::Method;

const PROBLEM: &str = "one-case";
/// Never run: the runners here are scripted.
const SOURCE: &str = "console.log(3);\n";

/// Uploads a one-case problem.
fn one_case_problem(stack: &Stack) -> ProblemView {
    let entries = vec![
        file("problem.toml", package::minimal_problem_toml(PROBLEM, &["01"])),
        file("tests/01.in", "1 2\n"),
        file("tests/01.out", "3\n"),
    ];
    stack.admin().create_problem(PROBLEM, ZIP, package::zip(&entries))
}

/// Creates `n` submissions as `client` on `threads` threads; their ids.
fn queue_many(client: &Client, n: usize, threads: usize) -> Vec<String> {
    let per = n.div_ceil(threads);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let client = client.clone();
            let count = per.min(n.saturating_sub(t * per));
            std::thread::spawn(move || {
                (0..count)
                    .map(|_| client.submit_ok(PROBLEM, "javascript", SOURCE))
                    .collect::<Vec<String>>()
            })
        })
        .collect();
    handles.into_iter().flat_map(|h| h.join().expect("a submitter")).collect::<Vec<String>>()
}

/// One runner slot: takes jobs and completes each at once (asking for the
/// next in the same call), recording the submission ids in completion
/// order, until `stop`.
fn judge_loop(
    runner: TestRunner,
    problem: ProblemView,
    judged: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
) {
    let verdict = report(&problem, Status::Accepted);
    let mut held: Option<Job> = None;
    while !stop.load(Ordering::SeqCst) {
        let job = match held.take() {
            Some(job) => job,
            None => match runner.next_job(Duration::from_millis(500)) {
                Some(job) => job,
                None => continue,
            },
        };
        let answer: CompleteResponse =
            runner.complete_and_take_next(&job, &verdict).expect(200).json();
        judged.lock().unwrap().push(job.submission_id.clone());
        held = answer.next;
    }
}

#[test]
fn a_clients_backlog_delays_anothers_submissions_by_about_one_job_per_slot() {
    let stack = Stack::start();
    let problem = one_case_problem(&stack);
    let admin = stack.admin();
    let (a_id, a) = admin.create_client_with_id("client-a");
    let b = admin.create_client("client-b");
    // A's 1,000 are over the default queue quota: the admin makes room.
    let room = UpdateClientRequest {
        max_queued: Some(5000),
        creates_per_minute: Some(5000),
        ..Default::default()
    };
    admin.set_client(&a_id, &room);

    let runners: Vec<TestRunner> = (0..2)
        .map(|n| TestRunner::register_with_slots(&stack.http(), &format!("runner-{n}"), 2))
        .collect();
    // Registered while the backlog is made (the heartbeats name no job:
    // each is completed long before its lease ends).
    let _alive: Vec<KeepAlive> = runners.iter().map(|r| r.keep_alive(Vec::new())).collect();
    let started = Instant::now();
    let a_ids: BTreeSet<String> = queue_many(&a, 1000, 4).into_iter().collect();
    let b_ids: BTreeSet<String> = queue_many(&b, 10, 1).into_iter().collect();
    eprintln!("queued 1,000 + 10 in {:?}", started.elapsed());

    // Two runners of two slots, judging instantly.
    let judged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut slots = Vec::new();
    for runner in &runners {
        for _ in 0..2 {
            let (runner, problem, judged, stop) =
                (runner.clone(), problem.clone(), judged.clone(), stop.clone());
            slots.push(std::thread::spawn(move || judge_loop(runner, problem, judged, stop)));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(45);
    while judged.lock().unwrap().len() < 1010 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::SeqCst);
    for slot in slots {
        slot.join().expect("a runner slot");
    }
    let judged = judged.lock().unwrap().clone();
    eprintln!("all judged after {:?}", started.elapsed());

    // Every one of B's was judged before A had 40 more judged.
    let last_b = judged.iter().rposition(|id| b_ids.contains(id)).expect("B's judged");
    let a_meanwhile = judged[..=last_b].iter().filter(|id| a_ids.contains(*id)).count();
    eprintln!("A had {a_meanwhile} judged while B's 10 waited");
    assert!(a_meanwhile < 40, "A had {a_meanwhile} judged while B's 10 waited");
    // And all of A's were judged, each once.
    let distinct: BTreeSet<&String> = judged.iter().collect();
    assert_eq!((judged.len(), distinct.len()), (1010, 1010));
    assert!(a_ids.iter().chain(&b_ids).all(|id| distinct.contains(id)));
    let queue: serde_json::Value = admin.get("/queue").expect(200).json();
    assert_eq!((queue["pending"].as_u64(), queue["leased"].as_u64()), (Some(0), Some(0)));
    let sample = a_ids.iter().next().unwrap();
    assert_eq!(a.submission(sample).status, Status::Accepted);
}

#[test]
fn a_contest_submission_overtakes_a_practice_backlog_and_admin_rejudges_wait() {
    let stack = Stack::start();
    let problem = one_case_problem(&stack);
    let admin = stack.admin();
    let practice = admin.create_client("practice");
    let (contest_id, contest) = admin.create_client_with_id("contest");
    let set = UpdateClientRequest { class: Some(PriorityClass::Contest), ..Default::default() };
    let view: ClientView = admin.set_client(&contest_id, &set);
    assert_eq!((view.class, view.weight), (PriorityClass::Contest, 1));
    let fetched: ClientView = admin.get(&format!("/clients/{contest_id}")).expect(200).json();
    assert_eq!(fetched, view);

    let runner = TestRunner::register(&stack.http(), "runner");
    let _alive = runner.keep_alive(Vec::new());
    let verdict = report(&problem, Status::Accepted);
    let backlog = queue_many(&practice, 20, 2);
    // One practice job is judged, then rejudged by the admin.
    let first = runner.claim(Duration::from_secs(5));
    runner.complete(&first, &verdict).expect(200);
    admin.post(&format!("/submissions/{}/rejudge", first.submission_id), &()).expect(200);
    let contest_id_sub = contest.submit_ok(PROBLEM, "javascript", SOURCE);

    // The contest job first: before every practice job queued before it.
    let leased = runner.claim(Duration::from_secs(5));
    assert_eq!(leased.submission_id, contest_id_sub);
    runner.complete(&leased, &verdict).expect(200);
    // Then the practice backlog in order, and the admin's rejudge last.
    let mut order = Vec::new();
    for _ in 0..20 {
        let job = runner.claim(Duration::from_secs(5));
        runner.complete(&job, &verdict).expect(200);
        order.push(job.submission_id);
    }
    let mut expected: Vec<String> =
        backlog.iter().filter(|id| **id != first.submission_id).cloned().collect();
    expected.sort();
    let live: Vec<String> = order[..19].to_vec();
    let mut sorted_live = live.clone();
    sorted_live.sort();
    assert_eq!(sorted_live, expected, "every live practice job before the rejudge");
    assert_eq!(order[19], first.submission_id, "the admin's rejudge waits behind live work");
}

#[test]
fn the_61st_create_in_a_minute_is_refused_with_retry_after_and_limits_apply_at_once() {
    let stack = Stack::start();
    one_case_problem(&stack);
    let admin = stack.admin();
    // A runner offers the language (and never claims).
    TestRunner::register(&stack.http(), "runner");
    let (id, client) = admin.create_client_with_id("limited");
    let view = admin.set_client(
        &id,
        &UpdateClientRequest { creates_per_minute: Some(60), ..Default::default() },
    );
    assert_eq!((view.creates_per_minute, view.max_queued), (60, 2000));

    let keyed = |key: &str| {
        let request = protocol::client::SubmitRequest {
            problem_id: PROBLEM.into(),
            language: "javascript".into(),
            source: SOURCE.into(),
            labels: Vec::new(),
        };
        let builder = client
            .http
            .request(Method::POST, "/submissions", Some(&client.token))
            .header("Idempotency-Key", key)
            .json(&request);
        client.http.send(format!("POST /submissions ({key})"), builder)
    };
    for n in 0..60 {
        keyed(&format!("k{n}")).expect(201);
    }
    let refused = keyed("k60");
    let retry_after: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After: {retry_after}");
    let body = refused.expect_error(429);
    assert_eq!(body.error, "rate_limited");
    assert!(body.detail.contains("creates_per_minute"), "{}", body.detail);
    // Nothing half-created: 60 records, 60 queued.
    let listed: Vec<serde_json::Value> = client.get("/submissions?limit=200").expect(200).json();
    assert_eq!(listed.len(), 60);
    let queue: serde_json::Value = admin.get("/queue").expect(200).json();
    assert_eq!(queue["pending"], 60);
    // A retry of an accepted key gets its first 201, never 429.
    let replay = keyed("k7").expect(201);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    // The admin's change applies to the very next create.
    admin.set_client(
        &id,
        &UpdateClientRequest { creates_per_minute: Some(61), ..Default::default() },
    );
    keyed("k60").expect(201);
    admin.set_client(
        &id,
        &UpdateClientRequest {
            creates_per_minute: Some(1000),
            max_queued: Some(61),
            ..Default::default()
        },
    );
    let full = keyed("k61");
    assert!(full.headers.contains_key("retry-after"));
    assert_eq!(full.expect_error(429).error, "queue_full");
    // A code run counts against the same quotas.
    let run = serde_json::json!({"language": "javascript", "files": {"main.js": "1"}});
    assert_eq!(client.post("/runs", &run).expect_error(429).error, "queue_full");

    // The refusals are counted per client, with its jobs.
    let metrics = stack.http().get_root("/metrics").expect(200).text();
    let sample = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{metrics}"))
    };
    assert_eq!(sample(&format!("gavel_client_queued{{client=\"{id}\"}}")), 61);
    assert_eq!(sample(&format!("gavel_client_running{{client=\"{id}\"}}")), 0);
    let refused = |reason: &str| {
        sample(&format!("gavel_client_refused_total{{client=\"{id}\",reason=\"{reason}\"}}"))
    };
    assert_eq!((refused("rate_limited"), refused("queue_full")), (1, 2));

    // Only the admin sets limits, and only within range.
    let other = admin.create_client("other");
    let change = UpdateClientRequest { weight: Some(2), ..Default::default() };
    assert_eq!(
        other
            .http
            .json(Method::PATCH, &format!("/clients/{id}"), Some(&other.token), &change)
            .status,
        403
    );
    let bad = UpdateClientRequest { weight: Some(0), ..Default::default() };
    assert_eq!(admin.update_client(&id, &bad).expect_error(400).error, "invalid_field");
    admin.update_client("cl_nope", &change).expect_error(404);
}
