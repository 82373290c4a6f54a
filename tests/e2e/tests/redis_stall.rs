//! A busy Redis makes the backend slower, never makes it refuse: each test
//! starts its own `redis-server` and the real `gavel backend`, stalls Redis
//! (SIGSTOP, or `CLIENT PAUSE WRITE`) while clients create submissions, and
//! checks what they are answered and what Redis holds afterwards.
//!
//! - Stalled for less than `--redis-timeout-ms` (default 10 s), creates
//!   wait and are all accepted once Redis goes on.
//! - Stalled for longer, a create is answered `503 unavailable` after about
//!   the timeout; its retry with the same `Idempotency-Key` makes exactly one
//!   record, whether or not Redis ran the first one's script late.
//! - The timeouts do not cost the backend its connection: Redis accepts no
//!   new one from it.
//!
//! A Redis that is really gone is answered 503 at once, and `/healthz` says
//! `{"redis": false}`: `tests/e2e/tests/backend.rs`,
//! `health_and_metrics_report_redis_and_the_queue`.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test redis_stall`.

use std::time::{Duration, Instant};

use e2e::api::{Client, Reply};
use e2e::package::{self, ZIP};
use e2e::runner::{LANGUAGE, TestRunner};
use e2e::stack::Stack;
use protocol::client::SubmitRequest;
use reqwest::Method;

const PROBLEM: &str = "a-plus-b";
/// Never run: no runner judges here.
const SOURCE: &str = "console.log(3);\n";

/// Uploads the example problem, registers a runner offering [`LANGUAGE`]
/// (so submissions in it are accepted) and issues a client token.
fn setup(stack: &Stack) -> Client {
    let admin = stack.admin();
    admin.create_problem(PROBLEM, ZIP, package::zip(&package::example(PROBLEM)));
    TestRunner::register(&stack.http(), "runner");
    admin.create_client("e2e-client")
}

fn request() -> SubmitRequest {
    SubmitRequest {
        problem_id: PROBLEM.into(),
        language: LANGUAGE.into(),
        source: SOURCE.into(),
        labels: Vec::new(),
    }
}

/// `POST /submissions` with `Idempotency-Key: key`, whatever the answer.
fn submit_keyed(client: &Client, key: &str) -> Reply {
    let builder = client.http.request(Method::POST, "/submissions", Some(&client.token));
    client
        .http
        .send("POST /submissions".into(), builder.header("Idempotency-Key", key).json(&request()))
}

/// The id of a `201` answer, and whether it was a replay.
#[track_caller]
fn created(reply: Reply) -> (String, bool) {
    let replayed = reply.headers.get("idempotent-replayed").map(|v| v.as_bytes().to_vec());
    assert!(matches!(replayed.as_deref(), None | Some(b"true")), "{replayed:?}");
    let body: serde_json::Value = reply.expect(201).json();
    (body["submission_id"].as_str().expect("an id").to_string(), replayed.is_some())
}

/// A connection to the stack's Redis, for looking at what it holds.
struct Probe(redis::Connection);

impl Probe {
    fn open(stack: &Stack) -> Probe {
        let client = redis::Client::open(stack.redis_url()).expect("a Redis URL");
        Probe(client.get_connection().expect("Redis"))
    }

    /// The submissions stored, oldest first.
    fn stored(&mut self) -> Vec<String> {
        redis::cmd("ZRANGE").arg("{gavel}:submissions").arg(0).arg(-1).query(&mut self.0).unwrap()
    }

    /// Connections Redis has accepted since it started.
    fn connections_received(&mut self) -> u64 {
        let info: String = redis::cmd("INFO").arg("stats").query(&mut self.0).unwrap();
        info.lines()
            .find_map(|line| line.strip_prefix("total_connections_received:")?.trim().parse().ok())
            .expect("INFO stats has total_connections_received")
    }
}

#[test]
fn creates_made_while_redis_is_stalled_wait_for_it_and_are_all_accepted() {
    let stack = Stack::start();
    let client = setup(&stack);
    let mut redis = Probe::open(&stack);
    let connections = redis.connections_received();

    // Redis stalls for 2 s (the default timeout is 10 s) while six clients
    // create submissions at once.
    stack.pause_redis();
    let creates: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                let reply = client.submit(PROBLEM, LANGUAGE, SOURCE);
                (reply, Instant::now())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let resumed = Instant::now();
    stack.resume_redis();

    // Every one is accepted, answered only once Redis went on.
    let mut ids = Vec::new();
    for create in creates {
        let (reply, answered) = create.join().expect("a create thread");
        assert!(answered >= resumed, "a create was answered while Redis was stalled");
        ids.push(created(reply).0);
    }
    let mut stored = redis.stored();
    stored.sort();
    ids.sort();
    assert_eq!(stored, ids, "every accepted create is stored, once");

    let health: serde_json::Value = stack.http().get_root("/healthz").expect(200).json();
    assert_eq!(health["redis"], true, "{health}");
    client.get(&format!("/submissions/{}", ids[0])).expect(200);
    assert_eq!(redis.connections_received(), connections, "the backend connected again");
}

#[test]
fn a_create_stalled_past_the_timeout_is_503_and_its_keyed_retry_makes_one_record() {
    let timeout = Duration::from_millis(500);
    let stack = Stack::start_with(&[("--redis-timeout-ms", "500")]);
    let client = setup(&stack);
    let mut redis = Probe::open(&stack);
    let connections = redis.connections_received();

    // Redis stops for 2 s: the create is refused after about the timeout.
    stack.pause_redis();
    let asked = Instant::now();
    let reply = submit_keyed(&client, "stalled-1");
    let waited = asked.elapsed();
    std::thread::sleep(Duration::from_secs(2).saturating_sub(asked.elapsed()));
    stack.resume_redis();
    let error = reply.expect_error(503);
    assert_eq!(error.error, "unavailable", "{}", error.detail);
    assert!(error.detail.contains("did not answer in time"), "{}", error.detail);
    // Well before the pause ends (a 503 after it would not show the setting).
    assert!(waited >= timeout && waited < timeout * 4, "answered after {waited:?}");
    // Its retry with the same key: a fresh 201, or the record Redis stored
    // when it went on, replayed. One record either way.
    let (id, replayed) = created(submit_keyed(&client, "stalled-1"));
    assert_eq!(redis.stored(), std::slice::from_ref(&id), "replayed: {replayed}");
    assert_eq!(created(submit_keyed(&client, "stalled-1")), (id.clone(), true));

    // Redis holds writes back for 1.5 s (reads go on): the create's script
    // waits past the timeout, so the client gets 503, and Redis runs it
    // when the pause ends. The retry with its key gets that record back.
    let () = redis::cmd("CLIENT").arg("PAUSE").arg(1500).arg("WRITE").query(&mut redis.0).unwrap();
    let asked = Instant::now();
    let reply = submit_keyed(&client, "held-1");
    let waited = asked.elapsed();
    let error = reply.expect_error(503);
    assert_eq!(error.error, "unavailable", "{}", error.detail);
    assert!(waited >= timeout && waited < Duration::from_millis(1500), "answered after {waited:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let held = loop {
        let stored = redis.stored();
        if let Some(held) = stored.iter().find(|s| **s != id) {
            break held.clone();
        }
        assert!(Instant::now() < deadline, "the held create was never stored");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(created(submit_keyed(&client, "held-1")), (held.clone(), true));
    assert_eq!(redis.stored().len(), 2, "the retry made no second record");

    // Neither timeout cost the backend its connection, and it answers at once.
    assert_eq!(redis.connections_received(), connections, "the backend connected again");
    let asked = Instant::now();
    client.get(&format!("/submissions/{held}")).expect(200);
    assert!(asked.elapsed() < timeout * 2, "took {:?}", asked.elapsed());
}
