//! The live dashboard (`GET /`) end to end. The first test reads what the
//! page reads (`GET /submissions`, the `GET /events` stream) over HTTP with
//! a scripted runner; the second opens the page in a real headless
//! Chromium (Debian's `chromium` and `chromedriver`, see `e2e::browser`),
//! with the real backend and a real `gavel runner` judging JavaScript, and
//! checks that a submission made through the API shows up and reaches its
//! verdict on screen without a reload. It saves a screenshot as
//! `<target dir>/dashboard.png` (CI keeps it as an artifact).
//!
//! Every wait is bounded; Redis, the backend, the runner, chromedriver and
//! Chromium are killed when the test ends, also when it panics.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test dashboard`.
//! Needs `redis-server`, `chromium` and `chromedriver` on PATH (`cargo
//! xtask test` installs them).

use std::time::{Duration, Instant};

use e2e::api::{SOON, Sse, SseEvent};
use e2e::browser::Browser;
use e2e::fleet::{RunnerOptions, RunnerProcess};
use e2e::package::{self, ZIP};
use e2e::runner::{LANGUAGE, TestRunner, report};
use e2e::stack::{ADMIN_TOKEN, Stack};
use judge_core::verdict::Status;
use reqwest::header;
use serde_json::{Value, json};

const PROBLEM: &str = "a-plus-b";

/// An example solution of the example problem (`examples/solutions/`).
fn solution(name: &str) -> String {
    let path = e2e::root().join("examples/solutions").join(PROBLEM).join(name).join("main.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Events of `sse` until `found` holds for one (returned), within `limit`.
#[track_caller]
fn next_matching(
    sse: &mut Sse,
    seen: &mut Vec<SseEvent>,
    limit: Duration,
    found: impl Fn(&SseEvent, &Value) -> bool,
) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no matching event within {limit:?}; got {seen:?}");
        let event = sse.next(left).expect("the stream stays open");
        let data: Value = serde_json::from_str(&event.data)
            .unwrap_or_else(|e| panic!("event {event:?} carries no JSON: {e}"));
        seen.push(event.clone());
        if found(&event, &data) {
            return data;
        }
    }
}

fn ids(list: &Value) -> Vec<&str> {
    let list = list.as_array().unwrap_or_else(|| panic!("not a list: {list}"));
    list.iter().map(|s| s["submission_id"].as_str().expect("an id")).collect()
}

#[test]
fn listings_and_the_live_stream_show_only_what_the_caller_may_see() {
    let stack = Stack::start();
    let http = stack.http();
    let admin = stack.admin();
    let problem = admin.create_problem(PROBLEM, ZIP, package::zip(&package::example(PROBLEM)));
    let (alice, bob) = (admin.create_client("alice"), admin.create_client("bob"));
    let runner = TestRunner::register(&http, "scripted");

    // The page loads without a token, with a policy that loads nothing else.
    let page = http.get_root("/").expect(200);
    let header = |name: header::HeaderName| {
        page.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    };
    assert!(header(header::CONTENT_TYPE).starts_with("text/html"), "{:?}", page.headers);
    assert!(header(header::CONTENT_SECURITY_POLICY).starts_with("default-src 'none'"));
    assert!(page.text().contains("<title>Gavel dashboard</title>"));

    // The stream needs a token; each caller's starts with its snapshot.
    http.get("/events", None).expect_error(401);
    let mut admin_events = http.sse("/events", Some(ADMIN_TOKEN)).expect("the stream opens");
    let mut bob_events = http.sse("/events", Some(&bob.token)).expect("the stream opens");
    let (mut admin_seen, mut bob_seen) = (Vec::new(), Vec::new());
    let first = next_matching(&mut admin_events, &mut admin_seen, SOON, |_, _| true);
    assert_eq!(admin_seen[0].event, "snapshot", "{admin_seen:?}");
    assert_eq!(ids(&first["submissions"]), Vec::<&str>::new());
    let runners = first["runners"].as_array().expect("the admin sees runners");
    assert!(runners.iter().any(|r| r["runner_id"] == runner.id.as_str()), "{first}");
    assert!(first["queue"]["pending"].is_u64(), "{first}");
    let bob_first = next_matching(&mut bob_events, &mut bob_seen, SOON, |_, _| true);
    assert_eq!(bob_seen[0].event, "snapshot");
    assert!(bob_first["runners"].is_null(), "runners are the admin's to see: {bob_first}");

    let a1 = alice.submit_ok(PROBLEM, LANGUAGE, &solution("ac-js-readline"));
    let a2 = alice.submit_ok(PROBLEM, LANGUAGE, &solution("wa-js"));
    let b1 = bob.submit_ok(PROBLEM, LANGUAGE, &solution("ac-js-readline"));

    // Newest first; a client sees its own, the admin everyone's.
    let list = |client: &e2e::api::Client, query: &str| -> Value {
        client.get(&format!("/submissions{query}")).expect(200).json()
    };
    assert_eq!(ids(&list(&admin, "")), [&b1, &a2, &a1]);
    assert_eq!(ids(&list(&alice, "")), [&a2, &a1]);
    assert_eq!(ids(&list(&bob, "?limit=5")), [&b1]);
    assert_eq!(ids(&list(&admin, "?limit=2")), [&b1, &a2]);
    let summary = &list(&alice, "?limit=1")[0];
    assert_eq!(summary["kind"], "submission");
    assert_eq!(summary["problem_id"], PROBLEM);
    assert_eq!(summary["language"], LANGUAGE);
    assert_eq!(summary["status"], "PENDING");
    assert_eq!(summary["max_score"], 100.0);
    assert!(summary["created_at_ms"].as_u64().is_some_and(|t| t > 0), "{summary}");
    for bad in ["?limit=0", "?limit=201", "?limit=ten", "?limit=-1"] {
        let error = admin.get(&format!("/submissions{bad}")).expect_error(400);
        assert!(error.detail.contains("limit"), "{bad}: {error:?}");
    }
    http.get("/submissions", None).expect_error(401);

    // Each new submission is streamed to whoever may see it.
    for id in [&a1, &a2, &b1] {
        next_matching(&mut admin_events, &mut admin_seen, SOON, |e, d| {
            e.event == "submission" && d["submission_id"] == id.as_str()
        });
    }
    next_matching(&mut bob_events, &mut bob_seen, SOON, |e, d| {
        e.event == "submission" && d["submission_id"] == b1.as_str()
    });

    // A claim shows as the runner's current job, and as a leased job.
    let job = runner.claim(SOON);
    assert_eq!(job.submission_id, a1);
    let _alive = runner.keep_alive(vec![job.clone()]);
    next_matching(&mut admin_events, &mut admin_seen, SOON, |e, d| {
        e.event == "submission" && d["submission_id"] == a1.as_str() && d["status"] == "JUDGING"
    });
    let limit = Duration::from_secs(10);
    next_matching(&mut admin_events, &mut admin_seen, limit, |e, d| {
        e.event == "runners"
            && d.as_array().into_iter().flatten().any(|r| {
                r["runner_id"] == runner.id.as_str()
                    && r["alive"] == true
                    && r["jobs"] == json!([{ "job_id": job.job_id, "submission_id": a1 }])
            })
    });
    next_matching(&mut admin_events, &mut admin_seen, limit, |e, d| {
        e.event == "queue" && d["leased"] == 1 && d["pending"] == 2
    });

    // Its verdict follows.
    runner.complete(&job, &report(&problem, Status::Accepted)).expect(200);
    let done = next_matching(&mut admin_events, &mut admin_seen, SOON, |e, d| {
        e.event == "submission" && d["submission_id"] == a1.as_str() && d["status"] == "AC"
    });
    assert_eq!(done["score"], 100.0);
    assert!(done["finished_at_ms"].as_u64().is_some(), "{done}");

    // Bob saw nothing of Alice's, and no runners.
    let bob_rest = next_matching(&mut bob_events, &mut bob_seen, limit, |e, _| e.event == "queue");
    assert!(bob_rest["leased"].is_u64());
    for event in &bob_seen {
        assert!(event.event != "runners", "{event:?}");
        assert!(!event.data.contains(&a1) && !event.data.contains(&a2), "{event:?}");
    }

    // Streams end when the backend shuts down, and do not hold it up.
    let mut stack = stack;
    let (status, took) = stack.terminate_backend(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?} with streams open");
}

#[test]
fn the_dashboard_shows_runners_the_queue_and_live_verdicts_in_a_real_browser() {
    if !e2e::browser::available() {
        return;
    }
    let stack = Stack::start();
    let admin = stack.admin();
    admin.create_problem(PROBLEM, ZIP, package::zip(&package::example(PROBLEM)));
    let runner = RunnerProcess::start(&stack.url(), RunnerOptions::new("dash-runner").slots(2));
    let listed = runner.wait_listed(&admin, Duration::from_secs(30));
    let browser = Browser::start(1440, 1100);

    // The page asks for a token first.
    browser.open(&format!("{}/", stack.url()));
    let visible = "return !document.querySelector(arguments[0]).hidden;";
    browser.wait_until("the token form shows", SOON, visible, &[json!("#login")]);
    browser.type_into("#token", ADMIN_TOKEN);
    browser.click("#connect");
    browser.wait_until(
        "the stream is live",
        SOON,
        "return document.querySelector('#conn').textContent === 'live';",
        &[],
    );
    // The token is kept for this tab only, and never put in the URL.
    let stored = browser.eval("return sessionStorage.getItem('gavel.token');", &[]);
    assert_eq!(stored, ADMIN_TOKEN);
    assert!(!browser.url().contains(ADMIN_TOKEN), "{}", browser.url());

    // The runner and the queue, live.
    let runner_row = "const row = document.querySelector(`#runners tr[data-id=\"${arguments[0]}\"]`);\
                      return row && row.innerText;";
    let row = browser.wait_until(
        "the runner is listed alive",
        Duration::from_secs(10),
        runner_row,
        &[json!(listed.runner_id)],
    );
    let row = row.as_str().unwrap_or_default().to_string();
    for expected in ["dash-runner", "alive", "0 / 2", LANGUAGE] {
        assert!(row.contains(expected), "runner row {row:?} lacks {expected:?}");
    }
    browser.wait_until(
        "the queue counts the runner",
        SOON,
        "return document.querySelector('#queue-alive').textContent === '1';",
        &[],
    );

    // A marker that a reload would wipe out.
    browser.eval("window.notReloaded = true;", &[]);

    // A slow submission (TLE on every case) shows as the runner's current
    // job, and the queue shows it leased.
    let slow = admin.submit_ok(PROBLEM, LANGUAGE, &solution("tle-js"));
    let shows_job = "const row = document.querySelector(`#runners tr[data-id=\"${arguments[0]}\"]`);\
                     return !!row && row.querySelector('.jobs').textContent.includes(arguments[1]) \
                     && document.querySelector('#queue-leased').textContent !== '0';";
    browser.wait_until(
        "the runner shows the slow submission as its current job",
        Duration::from_secs(30),
        shows_job,
        &[json!(listed.runner_id), json!(slow)],
    );

    // Two quick ones; all three reach their verdicts on screen.
    let accepted = admin.submit_ok(PROBLEM, LANGUAGE, &solution("ac-js-readline"));
    let wrong = admin.submit_ok(PROBLEM, LANGUAGE, &solution("wa-js"));
    let status_of = "const row = document.querySelector(`#submissions tr[data-id=\"${arguments[0]}\"]`);\
                     return row ? row.querySelector('td.status').textContent : '';";
    for (id, verdict) in [(&accepted, "AC"), (&wrong, "WA"), (&slow, "TLE")] {
        browser.wait_for_value(
            &format!("submission {id} shows {verdict}"),
            Duration::from_secs(60),
            status_of,
            &[json!(id)],
            &json!(verdict),
        );
    }
    assert_eq!(admin.submission(&accepted).status, Status::Accepted);
    let score = browser.eval(&status_of.replace("td.status", "td.score"), &[json!(accepted)]);
    assert_eq!(score, "100 / 100");
    assert_eq!(browser.eval("return window.notReloaded === true;", &[]), true, "the page reloaded");

    // A submission's detail: its tasks and cases.
    browser.click(&format!("#submissions tr[data-id=\"{wrong}\"]"));
    let cases = browser.wait_until(
        "the detail lists the cases",
        SOON,
        "const rows = [...document.querySelectorAll('#detail tr.case')];\
         if (document.querySelector('#detail [data-id]')?.dataset.id !== arguments[0]) return null;\
         return rows.length ? rows.map((r) => [...r.cells].map((c) => c.textContent)) : null;",
        &[json!(wrong)],
    );
    let cases = cases.as_array().expect("case rows").clone();
    assert_eq!(cases.len(), 5, "{cases:?}");
    for case in &cases {
        assert_eq!(case[1], "WA", "{case}");
        assert!(case[2].as_str().is_some_and(|t| t.ends_with(" ms")), "{case}");
        assert!(case[4].as_str().is_some_and(|m| m.contains("differs")), "{case}");
    }
    // A code run appears in its own list and reaches its status live; its
    // detail shows the output.
    let created: Value = admin
        .post(
            "/runs",
            &json!({"language": LANGUAGE, "files": {"hi.js": "print('hello from a run');"}}),
        )
        .expect(201)
        .json();
    let run_id = created["run_id"].as_str().expect("run_id").to_string();
    let run_status = "const row = document.querySelector(`#runs tr[data-id=\"${arguments[0]}\"]`);\
                      return row ? row.querySelector('td.status').textContent : '';";
    browser.wait_for_value(
        &format!("run {run_id} shows OK"),
        Duration::from_secs(60),
        run_status,
        &[json!(run_id)],
        &json!("OK"),
    );
    browser.click(&format!("#runs tr[data-id=\"{run_id}\"]"));
    browser.wait_for_value(
        "the run's detail shows its output",
        SOON,
        "return document.querySelector('#detail pre.log')?.textContent ?? '';",
        &[],
        &json!("hello from a run\n"),
    );

    // The queue drained and the runner is idle again.
    browser.wait_until(
        "the queue drains",
        Duration::from_secs(10),
        "return document.querySelector('#queue-pending').textContent === '0' \
         && document.querySelector('#queue-leased').textContent === '0';",
        &[],
    );

    let png = e2e::target_dir().join("dashboard.png");
    browser.save_screenshot(&png);
    eprintln!("screenshot: {}", png.display());
    assert!(std::fs::metadata(&png).is_ok_and(|m| m.len() > 10_000), "{} is tiny", png.display());

    // Signed out and in again as a client: its own submissions, no runners.
    let client = admin.create_client("dash-client");
    browser.click("#signout");
    browser.wait_until("the token form shows again", SOON, visible, &[json!("#login")]);
    let stored = browser.eval("return sessionStorage.getItem('gavel.token');", &[]);
    assert_eq!(stored, Value::Null, "signing out forgets the token");
    browser.type_into("#token", &client.token);
    browser.click("#connect");
    let live = "return document.querySelector('#conn').textContent;";
    browser.wait_for_value("the client's stream is live", SOON, live, &[], &json!("live"));
    let note = "return document.querySelector('#runners-note').textContent;";
    let admin_only = json!("visible with the admin token only");
    browser.wait_for_value("runners are the admin's", SOON, note, &[], &admin_only);
    let rows = "return document.querySelectorAll('#submissions tr[data-id]').length;";
    assert_eq!(browser.eval(rows, &[]), 0, "the client sees the admin's submissions");
    let own = client.submit_ok(PROBLEM, LANGUAGE, &solution("ac-js-readline"));
    let limit = Duration::from_secs(60);
    browser.wait_for_value(
        "the client's submission",
        limit,
        status_of,
        &[json!(own)],
        &json!("AC"),
    );
    assert_eq!(browser.eval(rows, &[]), 1);
    drop(browser);
    drop(runner);
}
