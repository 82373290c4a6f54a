//! Free code runs end to end (`POST /api/v1/runs`, docs/API.md): a real
//! `redis-server`, the real `gavel backend`, a real `gavel runner` running
//! Wasm languages (Python, JavaScript) and, where Docker and the image
//! are here, the native ones in containers; and `gavel run` in a terminal's
//! place.
//!
//! What is promised and checked: output reaches an SSE client *while* the
//! program runs (a line at a time, seconds apart, the first within 1.2 s of
//! the run's start), the combined log, artifacts, the limits' statuses, the
//! exit code, ownership (others' runs are 404), every bad request refused
//! with a clear 4xx, and `gavel run` streaming and exiting with the
//! program's status.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test runs`.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use e2e::api::{Client, SseEvent};
use e2e::fleet::{RunnerOptions, RunnerProcess};
use e2e::stack::Stack;
use protocol::runs::{RunCreated, RunStatus, RunView};
use serde_json::{Value, json};

/// One test at a time: they time output on a small machine.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const REGISTER_LIMIT: Duration = Duration::from_secs(20);
/// How long any run below may take, queueing and container start included.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// A stack with one runner and a client.
struct Setup {
    stack: Stack,
    _runner: RunnerProcess,
    client: Client,
}

fn setup(name: &str) -> Setup {
    e2e::fleet::warm_plugin_cache();
    let stack = Stack::start();
    let runner = RunnerProcess::start(&stack.url(), RunnerOptions::new(name).slots(2));
    runner.wait_listed(&stack.admin(), REGISTER_LIMIT);
    let client = stack.admin().create_client(name);
    Setup { stack, _runner: runner, client }
}

/// `POST /runs` that must be accepted; the run id.
#[track_caller]
fn start_run(client: &Client, body: Value) -> String {
    let created: RunCreated = client.post("/runs", &body).expect(201).json();
    assert!(created.run_id.starts_with("ru_"), "{}", created.run_id);
    created.run_id
}

/// The run's SSE events until `end`, each with when it arrived.
fn follow(client: &Client, run_id: &str) -> Vec<(Instant, SseEvent)> {
    let mut sse = client.http.sse(&format!("/runs/{run_id}/events"), Some(&client.token)).unwrap();
    let deadline = Instant::now() + RUN_LIMIT;
    let mut events = Vec::new();
    while let Some(event) = sse.next(deadline.saturating_duration_since(Instant::now())) {
        let end = event.event == "end";
        events.push((Instant::now(), event));
        if end {
            break;
        }
    }
    events
}

fn end_view(events: &[(Instant, SseEvent)]) -> RunView {
    let (_, last) = events.last().expect("events");
    assert_eq!(last.event, "end", "{events:?}");
    serde_json::from_str(&last.data).expect("the end event carries the RunView")
}

/// Runs `body` to its end; the final view (from `GET /runs/{id}`).
#[track_caller]
fn run_to_end(client: &Client, body: Value) -> RunView {
    let id = start_run(client, body);
    let events = follow(client, &id);
    let view: RunView = client.get(&format!("/runs/{id}")).expect(200).json();
    assert_eq!(end_view(&events), view);
    view
}

fn stdout_events(events: &[(Instant, SseEvent)]) -> Vec<(Instant, String)> {
    events
        .iter()
        .filter(|(_, e)| e.event == "stdout")
        .map(|(at, e)| {
            let chunk: Value = serde_json::from_str(&e.data).unwrap();
            (*at, chunk["data"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn wasm_runs_stream_their_output_and_end_with_the_right_status() {
    let _serial = serial();
    let Setup { stack, _runner, client } = setup("runs-wasm");

    // Python: two lines 1.5 s apart reach the client as they are printed.
    let id = start_run(
        &client,
        json!({
            "language": "python",
            "files": {"main.py": "import sys, time\nprint('first', flush=True)\ntime.sleep(1.5)\nprint('second', flush=True)\nprint('oops', file=sys.stderr)\n"},
        }),
    );
    let events = follow(&client, &id);
    let names: Vec<&str> = events.iter().map(|(_, e)| e.event.as_str()).collect();
    assert_eq!(names.first(), Some(&"queued"), "{names:?}");
    assert!(names.contains(&"started") && names.contains(&"stderr"), "{names:?}");
    let lines = stdout_events(&events);
    let text: String = lines.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(text, "first\nsecond\n");
    let (first_at, _) = lines[0];
    let (end_at, _) = events.last().unwrap();
    assert!(
        *end_at - first_at >= Duration::from_millis(1000),
        "the first line came {:?} before the end: not live",
        *end_at - first_at
    );
    let view = end_view(&events);
    assert_eq!((view.status, view.exit_code), (RunStatus::Ok, Some(0)), "{view:?}");
    let log = client.get(&format!("/runs/{id}/log")).expect(200).text();
    assert_eq!(log, "first\nsecond\noops\n");

    // JavaScript: arguments, stdin, and the limits' statuses.
    let view = run_to_end(
        &client,
        json!({"language": "javascript", "files": {"a.js": "print(readline().toUpperCase());"},
               "stdin": "shout\n"}),
    );
    assert_eq!(view.status, RunStatus::Ok, "{view:?}");
    assert_eq!(client.get(&format!("/runs/{}/log", view.run_id)).expect(200).text(), "SHOUT\n");
    let cases = [
        (json!({"a.js": "for (;;) {}"}), json!({"time_ms": 300}), RunStatus::TimeLimit),
        (
            json!({"a.js": "const k = []; for (;;) k.push(new Float64Array(1 << 20));"}),
            json!({"memory_mb": 32}),
            RunStatus::MemoryLimit,
        ),
        (
            json!({"a.js": "for (;;) print('x'.repeat(100));"}),
            json!({"output_kb": 4}),
            RunStatus::OutputLimit,
        ),
        (json!({"a.js": "throw new Error('boom');"}), json!({}), RunStatus::RuntimeError),
        (json!({"a.js": "let = ;"}), json!({}), RunStatus::CompileError),
        (json!({"a.js": "print(1)", "b.js": "print(2)"}), json!({}), RunStatus::CompileError),
    ];
    for (files, limits, expected) in cases {
        let entry = "a.js";
        let view = run_to_end(
            &client,
            json!({"language": "javascript", "files": files, "entry": entry, "limits": limits}),
        );
        assert_eq!(view.status, expected, "{files}: {view:?}");
        assert!(view.status == RunStatus::RuntimeError || !view.message.is_empty(), "{view:?}");
    }

    // Others' runs do not exist for them, and a run is not a submission.
    let stranger = stack.admin().create_client("stranger");
    stranger.get(&format!("/runs/{id}")).expect_error(404);
    stranger.get(&format!("/runs/{id}/log")).expect_error(404);
    client.get(&format!("/submissions/{id}")).expect_error(404);
    stack.admin().get(&format!("/runs/{id}")).expect(200);
}

#[test]
fn bad_run_requests_are_refused_with_what_is_wrong() {
    let _serial = serial();
    let Setup { stack: _stack, _runner, client } = setup("runs-bad");
    let py = |files: Value| json!({"language": "python", "files": files});
    let cases: Vec<(Value, u16, &str)> = vec![
        (py(json!({})), 400, "at least one file"),
        (py(json!({"a.py": "", "b.py": ""})), 400, "entry: required"),
        (py(json!({"../a.py": ""})), 400, "not a plain file name"),
        (json!({"language": "python", "files": {"a.py": ""}, "entry": "b.py"}), 400, "entry"),
        (json!({"language": "python", "files": {"a.py": ""}, "env": {"1X": "y"}}), 400, "env"),
        (
            json!({"language": "python", "files": {"a.py": ""}, "limits": {"time_ms": 0}}),
            400,
            "limits.time_ms",
        ),
        (
            json!({"language": "python", "files": {"a.py": ""}, "limits": {"memory_mb": 99999}}),
            400,
            "limits.memory_mb",
        ),
        (json!({"language": "cobol", "files": {"a.cob": ""}}), 422, "not offered"),
        (json!({"language": "python", "files": {"a.py": ""}, "extra": 1}), 422, "extra"),
        (json!({"language": "python", "files": {"a.py": "x".repeat(300 << 10)}}), 413, "files"),
    ];
    for (body, status, needle) in cases {
        let error = client.post("/runs", &body).expect_error(status);
        assert!(error.detail.contains(needle), "{body}: {error:?}");
    }
    client.get("/runs/ru_missing").expect_error(404);
}

#[test]
fn native_runs_stream_live_and_hand_back_artifacts() {
    let _serial = serial();
    if !e2e::docker::available() {
        return;
    }
    let Setup { stack: _stack, _runner, client } = setup("runs-native");

    // The acceptance case: a line per second for 3 s.
    let started = Instant::now();
    let id = start_run(
        &client,
        json!({
            "language": "python3",
            "files": {
                "main.py": "import time, helper\nfor i in range(3):\n    print(helper.line(i), flush=True)\n    time.sleep(1)\nopen('out.txt', 'w').write('made')\nimport os\nos.makedirs('data')\nopen('data/r.bin', 'wb').write(bytes([0, 255]))\n",
                "helper.py": "def line(i):\n    return f'line {i}'\n",
            },
            "entry": "main.py",
        }),
    );
    let events = follow(&client, &id);
    let run_started = events
        .iter()
        .find(|(_, e)| e.event == "started")
        .map(|(at, _)| *at)
        .expect("a started event");
    let lines = stdout_events(&events);
    let text: String = lines.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(text, "line 0\nline 1\nline 2\n");
    let first = lines[0].0 - run_started;
    eprintln!(
        "first line {first:?} after the runner took the run, {:?} after the request",
        lines[0].0 - started
    );
    assert!(first <= Duration::from_millis(1200), "first line after {first:?}");
    let last = lines.last().unwrap().0;
    assert!(last - lines[0].0 >= Duration::from_millis(1500), "lines came together: {lines:?}");
    let view = end_view(&events);
    assert_eq!(view.status, RunStatus::Ok, "{view:?}");
    let mut names: Vec<(String, u64)> =
        view.artifacts.iter().map(|a| (a.name.clone(), a.size)).collect();
    names.sort();
    assert_eq!(names, [("data/r.bin".to_string(), 2), ("out.txt".to_string(), 4)]);
    let body = client.get(&format!("/runs/{id}/artifacts/data/r.bin")).expect(200).body;
    assert_eq!(body, [0, 255]);
    assert_eq!(client.get(&format!("/runs/{id}/artifacts/out.txt")).expect(200).body, b"made");
    client.get(&format!("/runs/{id}/artifacts/main.py")).expect_error(404);

    // C with two files, arguments and environment; the exit status.
    let view = run_to_end(
        &client,
        json!({
            "language": "c",
            "files": {
                "prog.c": "#include <stdio.h>\n#include <stdlib.h>\n#include \"greet.h\"\nint main(int c, char **v) { greet(v[1]); printf(\"%s\\n\", getenv(\"WHO\")); return 3; }\n",
                "greet.h": "static void greet(const char *s) { printf(\"hi %s\\n\", s); }\n",
            },
            "entry": "prog.c",
            "args": ["there"],
            "env": {"WHO": "gavel"},
        }),
    );
    assert_eq!((view.status, view.exit_code), (RunStatus::RuntimeError, Some(3)), "{view:?}");
    assert_eq!(
        client.get(&format!("/runs/{}/log", view.run_id)).expect(200).text(),
        "hi there\ngavel\n"
    );

    // Limits.
    let cases = [
        ("while True: pass\n", json!({"time_ms": 500}), RunStatus::TimeLimit),
        ("x = bytearray(512 << 20)\n", json!({"memory_mb": 64}), RunStatus::MemoryLimit),
        ("while True: print('x' * 100)\n", json!({"output_kb": 4}), RunStatus::OutputLimit),
    ];
    for (source, limits, expected) in cases {
        let view = run_to_end(
            &client,
            json!({"language": "python3", "files": {"main.py": source}, "limits": limits}),
        );
        assert_eq!(view.status, expected, "{source}: {view:?}");
    }
    assert!(e2e::docker::orphaned_containers().is_empty());
}

#[test]
fn gavel_run_streams_output_and_exits_with_the_programs_status() {
    let _serial = serial();
    let Setup { stack, _runner, client } = setup("runs-cli");
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("slow.py");
    std::fs::write(&program, "import time\nprint('now', flush=True)\ntime.sleep(1.5)\nprint('later')\nraise SystemExit(4)\n").unwrap();
    let started = Instant::now();
    let mut child = Command::new(e2e::gavel_bin())
        .args(["run", "--language", "python", "--backend", &stack.url()])
        .arg(&program)
        .env("GAVEL_TOKEN", &client.token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let first_at = started.elapsed();
    assert_eq!(line, "now\n");
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "now\nlater\n");
    let status = child.wait().unwrap();
    let total = started.elapsed();
    assert_eq!(status.code(), Some(4));
    assert!(
        total - first_at >= Duration::from_millis(1000),
        "not streamed: {first_at:?} of {total:?}"
    );
    let mut stderr = Vec::new();
    let pipe = child.stderr.take().unwrap();
    std::io::copy(&mut std::io::Read::take(pipe, 1 << 20), &mut stderr).unwrap();
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(stderr.contains("gavel: RE (exit 4)"), "{stderr}");

    // Bad input exits 2 with the backend's words.
    let out = Command::new(e2e::gavel_bin())
        .args(["run", "--language", "cobol", "--backend", &stack.url()])
        .arg(&program)
        .env("GAVEL_TOKEN", &client.token)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not offered"), "{out:?}");
}
