//! Retention and the blob sweep end to end, with the real `gavel backend`
//! on its own `redis-server` and `file://` store: a finished run is gone
//! after its retention (record, listing, log) and a submission's event log
//! with it; blobs no revision, submission or run refers to are swept,
//! while an upload made while the sweep is held between its mark and its
//! sweep (the `--test-blob-gc-hold` hook) is not, even one that stored
//! again content the mark found unreferenced; and a backend refuses to
//! start on a Redis whose key schema is newer than it understands.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test retention`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::api::SOON;
use e2e::package::{self, ZIP};
use e2e::runner::{LANGUAGE, TestRunner};
use e2e::stack::Stack;
use serde_json::{Value, json};

/// How long any wait below may take.
const LIMIT: Duration = Duration::from_secs(30);

fn redis(stack: &Stack) -> redis::Connection {
    redis::Client::open(stack.redis_url()).unwrap().get_connection().unwrap()
}

/// The digests of the blobs in a `file://` store.
fn stored(data_dir: &Path) -> BTreeSet<String> {
    e2e::files_under(&data_dir.join("blobs"))
        .into_iter()
        .map(|path| path.replace('/', ""))
        .filter(|name| name.len() == 64)
        .collect()
}

/// The blobs of a problem's current revision: its manifest and files.
fn revision_blobs(conn: &mut redis::Connection, problem: &str) -> BTreeSet<String> {
    let revision: String =
        redis::cmd("GET").arg(format!("{{gavel}}:problem-revision:{problem}")).query(conn).unwrap();
    let mut blobs: BTreeSet<String> =
        redis::cmd("SMEMBERS").arg(format!("{{gavel}}:revision:{revision}")).query(conn).unwrap();
    blobs.insert(revision);
    blobs
}

fn metric(stack: &Stack, name: &str) -> f64 {
    let text = stack.http().get_root("/metrics").expect(200).text();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample of {name} in:\n{text}"))
}

/// Waits until `done` holds, or panics with `what`.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < LIMIT, "{what} did not happen within {LIMIT:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Pushes (creates or replaces) problem `id`.
#[track_caller]
fn push(admin: &e2e::api::Client, id: &str, archive: Vec<u8>) -> protocol::client::ProblemView {
    let reply = admin.put_problem(id, ZIP, archive);
    assert!(matches!(reply.status, 200 | 201), "PUT /problems/{id}: {}", reply.status);
    reply.json()
}

/// Problem `id`'s package (the example's) with an extra file `answer`.
fn package(id: &str, answer: &str) -> Vec<u8> {
    let mut entries = package::example("a-plus-b");
    for entry in &mut entries {
        if let package::Entry::File(name, data) = entry
            && name == "problem.toml"
        {
            let toml = String::from_utf8(data.clone()).unwrap();
            *data = toml.replacen("\"a-plus-b\"", &format!("{id:?}"), 1).into_bytes();
        }
    }
    entries.push(package::file("tests/extra.txt", answer));
    package::zip(&entries)
}

#[test]
fn records_past_their_age_are_gone_their_blobs_swept_and_nothing_referenced_is() {
    let dir = tempfile::tempdir().unwrap();
    let hold = dir.path().join("hold");
    let hold_flag = hold.to_str().unwrap();
    let stack = Stack::start_with(&[
        ("--run-retention", "3s"),
        ("--event-log-retention", "3s"),
        ("--blob-gc-interval", "1s"),
        ("--blob-gc-grace", "2s"),
        ("--test-blob-gc-hold", hold_flag),
    ]);
    let admin = stack.admin();
    let client = admin.create_client("c");
    let runner = TestRunner::register(&stack.http(), "runner-1");
    let mut conn = redis(&stack);

    // Revision 1 of a problem, replaced by revision 2 before anyone
    // submitted to it: only revision 1's own blobs are garbage.
    push(&admin, "a-plus-b", package("a-plus-b", "one"));
    let first = revision_blobs(&mut conn, "a-plus-b");
    let problem = push(&admin, "a-plus-b", package("a-plus-b", "two"));
    let second = revision_blobs(&mut conn, "a-plus-b");
    let only_first: BTreeSet<String> = first.difference(&second).cloned().collect();
    assert!(!only_first.is_empty());
    // A submission (its source a blob) and a code run, both finished.
    let big = format!("console.log(1);\n// {}\n", "x".repeat(70 << 10));
    let submission = client.submit_ok("a-plus-b", LANGUAGE, &big);
    let job = runner.claim(SOON);
    runner
        .complete(&job, &e2e::runner::report(&problem, judge_core::verdict::Status::Accepted))
        .expect(200);
    let body = json!({"language": LANGUAGE, "files": {"a.js": "print(1)"}});
    let run: Value = client.post("/runs", &body).expect(201).json();
    let run_id = run["run_id"].as_str().unwrap().to_string();
    let job = runner.claim(SOON);
    let mut report = protocol::runs::RunReport::system_error("");
    report.status = protocol::runs::RunStatus::Ok;
    runner.complete(&job, &report).expect(200);
    client.get(&format!("/runs/{run_id}")).expect(200);

    // Past their age: the run is gone, its log too, and the
    // submission's event log; the submission stays.
    wait_until("the run's expiry", || client.get(&format!("/runs/{run_id}")).status == 404);
    client.get(&format!("/runs/{run_id}/log")).expect_error(404);
    let log: bool = redis::cmd("EXISTS")
        .arg(format!("{{gavel}}:sub:{submission}:events"))
        .query(&mut conn)
        .unwrap();
    assert!(!log, "the submission's event log expired");
    client.get(&format!("/submissions/{submission}")).expect(200);

    // Swept: revision 1's own blobs; kept: revision 2's and the source.
    let data = stack.data_dir();
    wait_until("a sweep of revision 1", || stored(&data).is_disjoint(&only_first));
    assert!(stored(&data).is_superset(&second), "the current revision is kept");
    assert!(stored(&data).contains(&e2e::runner::sha256_hex(big.as_bytes())));
    assert!(metric(&stack, "gavel_blob_gc_swept_blobs_total") >= only_first.len() as f64);
    assert!(metric(&stack, "gavel_blob_gc_swept_bytes_total") > 0.0);

    // A sweep held after its mark: revision A of another problem is
    // stored and replaced (its own blobs unreferenced), and ages past the
    // grace period; that sweep, marked before A existed, keeps A.
    let held = dir.path().join("hold.held");
    std::fs::write(&hold, b"").unwrap();
    wait_until("a sweep to hold after its mark", || held.exists());
    push(&admin, "temp", package("temp", "A"));
    let a = revision_blobs(&mut conn, "temp");
    push(&admin, "temp", package("temp", "B"));
    let only_a: BTreeSet<String> =
        a.difference(&revision_blobs(&mut conn, "temp")).cloned().collect();
    std::thread::sleep(Duration::from_millis(2500));
    std::fs::remove_file(&hold).unwrap();
    wait_until("the held sweep to end", || !held.exists());
    // The next sweep marks A unreferenced and old, and is held; meanwhile
    // A is pushed again (content already stored: renewed, not rewritten),
    // another problem is pushed and a new large source uploaded.
    std::fs::write(&hold, b"").unwrap();
    wait_until("the next sweep to hold after its mark", || held.exists());
    assert!(stored(&data).is_superset(&only_a), "A's blobs are still there to be swept");
    let runs_before = metric(&stack, "gavel_blob_gc_runs_total");
    push(&admin, "temp", package("temp", "A"));
    push(&admin, "other", package("other", "other"));
    let big2 = format!("console.log(2);\n// {}\n", "y".repeat(70 << 10));
    client.submit_ok("a-plus-b", LANGUAGE, &big2);
    let uploaded: BTreeSet<String> = revision_blobs(&mut conn, "temp")
        .into_iter()
        .chain(revision_blobs(&mut conn, "other"))
        .chain([e2e::runner::sha256_hex(big2.as_bytes())])
        .collect();
    assert!(uploaded.is_superset(&only_a));
    std::fs::remove_file(&hold).unwrap();
    wait_until("the held sweep to end", || {
        metric(&stack, "gavel_blob_gc_runs_total") > runs_before
    });
    let now = stored(&data);
    let missing: Vec<_> = uploaded.difference(&now).collect();
    assert!(missing.is_empty(), "uploads made during the sweep were swept: {missing:?}");
    assert!(now.is_superset(&second), "revision 2 is the first submission's");
}

#[test]
fn a_backend_refuses_to_start_on_a_newer_key_schema_with_a_clear_message() {
    let stack = Stack::start();
    let mut conn = redis(&stack);
    let _: () = redis::cmd("SET").arg("{gavel}:schema").arg(999).query(&mut conn).unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(e2e::gavel_bin())
        .args(["backend", "--listen", "127.0.0.1:0", "--redis-url", &stack.redis_url()])
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("GAVEL_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("the backend did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let pipe = std::io::BufReader::new(child.stderr.take().unwrap());
    let stderr: Vec<String> = std::io::BufRead::lines(pipe).map_while(Result::ok).collect();
    let stderr = stderr.join("\n");
    assert!(!status.success(), "{status}");
    assert!(stderr.contains("key schema version \"999\""), "{stderr}");
    assert!(stderr.contains("refusing to start"), "{stderr}");
    let kept: String = redis::cmd("GET").arg("{gavel}:schema").query(&mut conn).unwrap();
    assert_eq!(kept, "999", "nothing changed");
    // The running backend, started before, still answers.
    stack.http().get_root("/healthz").expect(200);
}
