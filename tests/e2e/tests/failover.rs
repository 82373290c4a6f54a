//! Redis failover under load: a primary, two replicas and three Sentinels
//! (all local processes on 127.0.0.1), a backend that finds the primary
//! through the Sentinels and acknowledges a write only once a replica has
//! it (`--redis-min-replicas 1`, the default with Sentinels), and real
//! runners. The primary is killed with SIGKILL in the middle of a burst;
//! clients retry a `5xx` or a lost answer with the same `Idempotency-Key`.
//! Every submission that got `201` is judged once, after the failover;
//! none is lost, none stored or judged twice. The pause — from the kill to
//! the first write acknowledged on the new primary — is printed.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test failover`.
//! Needs `redis-server` on PATH (`cargo xtask setup`; Sentinels are
//! `redis-server --sentinel`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use e2e::api::Http;
use e2e::fleet::{RunnerOptions, RunnerProcess};
use e2e::package::{self, ZIP, file};
use e2e::stack::Stack;
use judge_core::verdict::Status;
use protocol::client::{SubmissionView, SubmitRequest, SubmitResponse};
use reqwest::Method;

const SUBMISSIONS: usize = 240;
/// The primary is killed once this many are accepted.
const KILL_AFTER: usize = 80;

const ACCEPTED: &str = "const [a, b] = readline().split(' ').map(Number);\nprint(a + b);\n";
const WRONG: &str = "print(0);\n";

/// One submission of the burst: its source and expected verdict.
fn nth_submission(n: usize) -> (String, Status) {
    match n % 10 {
        7 => (WRONG.to_string(), Status::WrongAnswer),
        _ => (format!("{ACCEPTED}// {n}\n"), Status::Accepted),
    }
}

/// A `201` for a request sent at `sent`, answered at `answered`.
struct Accepted {
    id: String,
    sent: Instant,
    answered: Instant,
}

/// `POST /submissions` with idempotency key `key`, sent again (backing off
/// up to a second) while it gets no answer or a `5xx`, until `deadline`;
/// counts the `5xx` answers in `unavailable`.
fn submit(
    http: &Http,
    token: &str,
    n: usize,
    deadline: Instant,
    unavailable: &AtomicUsize,
) -> Result<Accepted, String> {
    let request = SubmitRequest {
        problem_id: "sum".into(),
        language: "javascript".into(),
        source: nth_submission(n).0,
        labels: Vec::new(),
    };
    let key = format!("failover-{n}");
    let mut backoff = Duration::from_millis(50);
    loop {
        let sent = Instant::now();
        let builder = http
            .request(Method::POST, "/submissions", Some(token))
            .header("Idempotency-Key", &key)
            .json(&request);
        let why = match http.try_send("POST /submissions".into(), builder) {
            Ok(reply) if reply.status == 201 => {
                let id = reply.json::<SubmitResponse>().submission_id;
                return Ok(Accepted { id, sent, answered: Instant::now() });
            }
            Ok(reply) if reply.status < 500 => {
                return Err(format!("{} {}", reply.status, reply.text()));
            }
            Ok(reply) => {
                unavailable.fetch_add(1, Ordering::Relaxed);
                format!("{} {}", reply.status, reply.text())
            }
            Err(e) => e,
        };
        if Instant::now() > deadline {
            return Err(format!("still failing at the deadline: {why}"));
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

#[test]
fn every_acknowledged_submission_is_judged_after_the_primary_is_killed() {
    let mut stack = Stack::start_replicated(2, &[("--lease-ttl-s", "5")]);
    let admin = stack.admin();
    let health: serde_json::Value = stack.http().get_root("/healthz").expect(200).json();
    assert_eq!(health["redis_topology"]["role"], "primary", "{health}");
    assert_eq!(health["redis_topology"]["replicas"], 2, "{health}");
    assert_eq!(health["redis_topology"]["min_replicas"], 1, "{health}");
    assert_eq!(health["redis_topology"]["sentinel"], true, "{health}");

    admin.create_problem(
        "sum",
        ZIP,
        package::zip(&[
            file("problem.toml", package::minimal_problem_toml("sum", &["01"])),
            file("tests/01.in", "1 2\n"),
            file("tests/01.out", "3\n"),
        ]),
    );
    let (client_id, client) = admin.create_client_with_id("failover");
    let room = protocol::client::UpdateClientRequest {
        creates_per_minute: Some(queue::QUOTA_CEILING),
        max_queued: Some(queue::QUOTA_CEILING),
        ..Default::default()
    };
    admin.set_client(&client_id, &room);
    let runners: Vec<RunnerProcess> = (0..3)
        .map(|n| {
            let options = RunnerOptions::new(&format!("failover-{n}")).slots(2).without_docker();
            RunnerProcess::start(&stack.url(), options)
        })
        .collect();
    for runner in &runners {
        runner.wait_listed(&admin, Duration::from_secs(60));
    }

    let http = stack.http();
    let old_primary = stack.replica_set().primary_port().expect("a primary");
    let accepted: Mutex<BTreeMap<usize, Accepted>> = Mutex::default();
    let refused: Mutex<Vec<String>> = Mutex::default();
    let unavailable = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    let killed_at = std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= SUBMISSIONS {
                        return;
                    }
                    match submit(&http, &client.token, n, deadline, &unavailable) {
                        Ok(ok) => {
                            accepted.lock().unwrap().insert(n, ok);
                        }
                        Err(why) => refused.lock().unwrap().push(format!("#{n}: {why}")),
                    }
                }
            });
        }
        while accepted.lock().unwrap().len() < KILL_AFTER {
            assert!(Instant::now() < deadline, "the burst did not reach {KILL_AFTER}");
            std::thread::sleep(Duration::from_millis(5));
        }
        stack.replica_set().kill_node(old_primary);
        let killed_at = Instant::now();
        eprintln!(
            "killed the primary (port {old_primary}) after {} accepted",
            accepted.lock().unwrap().len()
        );
        killed_at
    });
    let accepted = accepted.into_inner().unwrap();
    let refused = refused.into_inner().unwrap();
    assert!(refused.is_empty(), "refused for good: {refused:?}");
    assert_eq!(accepted.len(), SUBMISSIONS);
    // The pause: from the kill to the first 201 of a request sent after it.
    let resumed = accepted
        .values()
        .filter(|a| a.sent > killed_at)
        .map(|a| a.answered)
        .min()
        .expect("writes acknowledged after the kill");
    let pause = resumed - killed_at;
    eprintln!(
        "failover pause (kill -9 of the primary → first write acknowledged on the new one): \
         {:.2} s; {} answers were 5xx meanwhile; {SUBMISSIONS} accepted in {:.1} s",
        pause.as_secs_f64(),
        unavailable.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    assert!(pause < Duration::from_secs(20), "the pause took {pause:?}");
    let new_primary = stack.replica_set().primary_port().expect("a new primary");
    assert_ne!(new_primary, old_primary);

    // Every one judged, once, with the expected verdict.
    admin.wait_drained(Duration::from_secs(90));
    let reader = e2e::api::Client::new(stack.http(), &client.token);
    let mut wrong = Vec::new();
    for (n, a) in &accepted {
        let view: SubmissionView = reader.submission(&a.id);
        let expected = nth_submission(*n).1;
        if view.status != expected {
            wrong.push(format!(
                "#{n} {}: {:?} ({}), expected {expected:?}",
                a.id, view.status, view.message
            ));
        }
    }
    assert!(wrong.is_empty(), "{} wrong: {wrong:?}", wrong.len());
    let ids: Vec<String> = accepted.values().map(|a| a.id.clone()).collect();
    let facts = e2e::chaos::redis_facts(&stack.redis_url(), ids.iter()).unwrap();
    assert_eq!(facts.stored.len(), SUBMISSIONS, "a submission stored twice, or one lost");
    assert!(ids.iter().all(|id| facts.stored.contains(id)), "an acknowledged submission lost");
    assert!(facts.not_final.is_empty(), "{:?}", facts.not_final);
    let repeated: Vec<_> = facts.finished_events.iter().filter(|(_, n)| **n != 1).collect();
    assert!(repeated.is_empty(), "finished events: {repeated:?}");
    assert_eq!(facts.completed, facts.jobs_done, "a completion counted twice");
    for runner in &runners {
        assert!(
            runner.outbox().is_empty(),
            "{} kept results: {}",
            runner.name(),
            runner.log_tail()
        );
    }
    let health: serde_json::Value = stack.http().get_root("/healthz").expect(200).json();
    assert_eq!(health["redis_topology"]["primary"], format!("127.0.0.1:{new_primary}"));
}
