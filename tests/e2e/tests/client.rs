//! The client commands end to end — `gavel submit`, `gavel watch` and
//! `gavel runners` — against a real `redis-server`, the real `gavel backend`
//! and a real `gavel runner` judging with the Wasm languages.
//!
//! What is promised and checked: a submission is judged and its verdict
//! table printed as `gavel judge` prints it (AC; WA with its case rows and
//! the checker's words; CE with the compiler's message), live progress
//! lines on stderr when piped, `--json` as one object; `watch` of a finished
//! submission prints it at once and `--rejudge` judges it again (a new
//! job); `runners` lists the runner, its languages and the jobs it holds;
//! an unreachable backend exits 1 naming its URL; an unknown problem or
//! submission, an unreadable file or a token of the wrong tier exits 2.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test client`.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use e2e::api::Client;
use e2e::fleet::{RunnerOptions, RunnerProcess};
use e2e::package;
use e2e::stack::{ADMIN_TOKEN, Stack};
use judge_core::Status;
use serde_json::Value;

/// One test at a time: each starts its own backend and runner on a small
/// machine.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const REGISTER_LIMIT: Duration = Duration::from_secs(20);
/// How long one client command may take, judging included.
const COMMAND_LIMIT: Duration = Duration::from_secs(120);

/// A stack with one runner, the example problem `a-plus-b` and a client.
struct Setup {
    stack: Stack,
    runner: RunnerProcess,
    client: Client,
}

fn setup(name: &str) -> Setup {
    e2e::fleet::warm_plugin_cache();
    let stack = Stack::start();
    let runner = RunnerProcess::start(&stack.url(), RunnerOptions::new(name).slots(2));
    runner.wait_listed(&stack.admin(), REGISTER_LIMIT);
    let archive = package::zip(&package::example("a-plus-b"));
    stack.admin().create_problem("a-plus-b", "application/zip", archive);
    let client = stack.admin().create_client(name);
    Setup { stack, runner, client }
}

/// An example solution of `a-plus-b`.
fn solution(name: &str) -> PathBuf {
    let dir = e2e::root().join("examples/solutions/a-plus-b").join(name);
    let file = ["main.js", "main.py", "main.c", "main.cpp"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file());
    file.unwrap_or_else(|| panic!("no source in {}", dir.display()))
}

/// `gavel ARGS… --backend URL --token TOKEN`, bounded in time.
fn gavel(url: &str, token: &str, args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["--backend", url, "--token", token]);
    e2e::gavel(&all, COMMAND_LIMIT)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code, showing both streams when it differs.
#[track_caller]
fn exited(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "stdout:\n{}\nstderr:\n{}", stdout(out), stderr(out));
}

/// `gavel submit a-plus-b FILE` (and `EXTRA…`) as `client`.
fn submit(setup: &Setup, file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["submit", "a-plus-b", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    gavel(&setup.stack.url(), &setup.client.token, &args)
}

/// The table's case rows (`task case status …`).
fn case_rows(table: &str) -> Vec<&str> {
    table.lines().filter(|l| l.starts_with("1 ")).collect()
}

#[test]
fn submit_prints_the_verdict_table_of_ac_wa_and_ce() {
    let _serial = serial();
    let setup = setup("client-submit");

    let out = submit(&setup, &solution("ac-js-node"), &[]);
    exited(&out, 0);
    let table = stdout(&out);
    assert!(table.contains("problem a-plus-b · language javascript · checker tokens"), "{table}");
    let rows = case_rows(&table);
    assert_eq!(rows.len(), 5, "{table}");
    assert!(rows.iter().all(|r| r.split_whitespace().nth(2) == Some("AC")), "{table}");
    assert!(table.contains("task 1: AC 100/100"), "{table}");
    assert!(table.contains("result: AC score 100/100"), "{table}");
    // Piped, the progress is one plain line per event on stderr.
    let err = stderr(&out);
    assert!(err.contains("gavel: submitted sb_"), "{err}");
    for needle in [": queued\n", ": judging on runner rn_", ": case 1/5 · task 1 01 AC"] {
        assert!(err.contains(needle), "{needle:?} is not in\n{err}");
    }
    assert!(err.contains(": case 5/5 ·") && err.contains(": finished: AC 100"), "{err}");

    let out = submit(&setup, &solution("wa-js"), &[]);
    exited(&out, 0);
    let table = stdout(&out);
    let rows = case_rows(&table);
    assert_eq!(rows.len(), 5, "{table}");
    assert!(
        rows.iter().any(|r| r.contains(" WA ") && r.contains("token 1 differs")),
        "no WA row with the checker's words:\n{table}"
    );
    assert!(table.contains("result: WA score 0/100"), "{table}");

    let out = submit(&setup, &solution("ce-js"), &[]);
    exited(&out, 0);
    let table = stdout(&out);
    assert!(table.contains("compile error:\n"), "{table}");
    assert!(table.contains("SyntaxError"), "the compiler's message is shown:\n{table}");
    assert!(table.contains("result: CE score 0/100"), "{table}");
    assert!(case_rows(&table).is_empty(), "no case ran, as `gavel judge` shows it:\n{table}");

    // --json: one object, as `gavel judge --json` prints, plus the id.
    let out = submit(&setup, &solution("wa-js"), &["--json", "--language", "javascript"]);
    exited(&out, 0);
    let report: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{}", stdout(&out)));
    assert_eq!(report["status"], "WA");
    assert_eq!(report["problem"], "a-plus-b");
    assert_eq!(report["language"], "javascript");
    assert_eq!(report["checker"], "tokens");
    assert_eq!(report["max_score"], 100.0);
    assert_eq!(report["tasks"][0]["cases"].as_array().map(Vec::len), Some(5));
    let id = report["submission_id"].as_str().expect("a submission id");
    assert_eq!(setup.client.submission(id).status, Status::WrongAnswer);
}

#[test]
fn watch_prints_a_finished_submission_and_follows_a_rejudge() {
    let _serial = serial();
    let setup = setup("client-watch");
    let source = std::fs::read_to_string(solution("ac-js-node")).unwrap();
    let id = setup.client.submit_ok("a-plus-b", "javascript", &source);
    let before = setup.client.wait_for(&id, COMMAND_LIMIT, |v| v.status.is_final_verdict());
    assert_eq!(before.status, Status::Accepted);

    let started = Instant::now();
    let out = gavel(&setup.stack.url(), &setup.client.token, &["watch", &id]);
    exited(&out, 0);
    assert!(started.elapsed() < Duration::from_secs(10), "a finished one is printed at once");
    let table = stdout(&out);
    assert!(table.contains(&format!("submission {id}")), "{table}");
    assert_eq!(case_rows(&table).len(), 5, "{table}");
    assert!(table.contains("result: AC score 100/100"), "{table}");

    let out =
        gavel(&setup.stack.url(), &setup.client.token, &["watch", &id, "--rejudge", "--json"]);
    exited(&out, 0);
    let report: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{}", stdout(&out)));
    assert_eq!(
        (report["submission_id"].as_str(), report["status"].as_str()),
        (Some(&*id), Some("AC"))
    );
    let after = setup.client.submission(&id);
    assert_ne!(after.job_id, before.job_id, "--rejudge made a new job");
    assert_eq!(after.status, Status::Accepted);
    let err = stderr(&out);
    assert!(err.contains(": judging on runner rn_") && err.contains(": finished: AC"), "{err}");

    // Someone else's submission is as unknown as a missing one: bad input.
    let other = setup.stack.admin().create_client("someone-else");
    let out = gavel(&setup.stack.url(), &other.token, &["watch", &id]);
    exited(&out, 2);
    assert!(stderr(&out).contains("not_found"), "{}", stderr(&out));
}

#[test]
fn runners_lists_the_runner_its_languages_and_held_jobs() {
    let _serial = serial();
    let setup = setup("client-runners");
    let url = setup.stack.url();

    let out = gavel(&url, ADMIN_TOKEN, &["runners"]);
    exited(&out, 0);
    let table = stdout(&out);
    let line = table
        .lines()
        .find(|l| l.contains(setup.runner.name()))
        .unwrap_or_else(|| panic!("the runner is not listed:\n{table}"));
    assert!(line.starts_with("rn_") && line.contains("alive"), "{line}");
    for language in ["javascript", "python"] {
        assert!(line.contains(language), "{language} missing: {line}");
    }

    // A slow submission: its job is listed under the runner while it runs.
    let source = std::fs::read_to_string(solution("tle-js")).unwrap();
    let id = setup.client.submit_ok("a-plus-b", "javascript", &source);
    setup.client.wait_for(&id, COMMAND_LIMIT, |v| v.status == Status::Judging);
    let out = gavel(&url, ADMIN_TOKEN, &["runners", "--json"]);
    exited(&out, 0);
    let listed: Vec<Value> = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not a JSON list ({e}):\n{}", stdout(&out)));
    let ours = listed.iter().find(|r| r["name"] == setup.runner.name()).expect("listed");
    assert_eq!(ours["jobs"][0]["submission_id"].as_str(), Some(&*id), "{ours}");
    let out = gavel(&url, ADMIN_TOKEN, &["runners"]);
    exited(&out, 0);
    let held = format!("judging {id}");
    // The job may have ended in between; then the table says so by omission.
    if setup.client.submission(&id).status == Status::Judging {
        assert!(stdout(&out).contains(&held), "{}", stdout(&out));
    }

    // The list is the admin's: a client token is refused, exit 2.
    let out = gavel(&url, &setup.client.token, &["runners"]);
    exited(&out, 2);
    assert!(stderr(&out).contains("403"), "{}", stderr(&out));
}

#[test]
fn bad_input_exits_2_and_an_unreachable_backend_exits_1() {
    let _serial = serial();
    let setup = setup("client-errors");
    let url = setup.stack.url();
    let token = &setup.client.token;
    let ac = solution("ac-js-node");

    // An unknown problem: the backend's 4xx and its words.
    let out = gavel(&url, token, &["submit", "no-such-problem", ac.to_str().unwrap()]);
    exited(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("unknown_problem") && err.contains("no-such-problem"), "{err}");
    // An unknown submission.
    exited(&gavel(&url, token, &["watch", "sb_nope"]), 2);
    // An unreadable file, and a language that cannot be guessed: nothing sent.
    let out = gavel(&url, token, &["submit", "a-plus-b", "/nonexistent/main.js"]);
    exited(&out, 2);
    assert!(stderr(&out).contains("/nonexistent/main.js"), "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("main.cob");
    std::fs::write(&odd, "DISPLAY 'HI'.").unwrap();
    let out = gavel(&url, token, &["submit", "a-plus-b", odd.to_str().unwrap()]);
    exited(&out, 2);
    assert!(stderr(&out).contains("--language"), "{}", stderr(&out));
    assert!(setup.stack.admin().get("/submissions").expect(200).json::<Vec<Value>>().is_empty());

    // A closed port: exit 1, naming the URL, after the create's few retries.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    for args in
        [vec!["submit", "a-plus-b", ac.to_str().unwrap()], vec!["watch", "sb_x"], vec!["runners"]]
    {
        let started = Instant::now();
        let out = gavel(&closed, token, &args);
        exited(&out, 1);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("could not reach the backend at {closed}")),
            "{args:?}: {err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
}
