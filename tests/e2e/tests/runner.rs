//! The runner host end to end, with real processes only: a `redis-server`,
//! the real `gavel backend` (short leases: `--lease-ttl-s 2
//! --heartbeat-interval-s 1`, unless a test says otherwise) and real
//! `gavel runner` processes ([`RunnerProcess`]), each with a temp data dir
//! of its own and the shared compiled-plugin cache, judging real
//! submissions with the real Wasm plugins. The last test runs `gavel up`.
//!
//! The tests take turns (one lock): they measure latencies on a small
//! machine, and two CPU-heavy stacks at once would make that meaningless.
//! Every wait is bounded and every process dies with its handle, also when
//! a test panics (the runners' and the backend's logs are printed then).
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test runner`.
//! Needs `redis-server` on PATH (`cargo xtask setup` installs it).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use e2e::api::{Client, Http, SOON, SseEvent};
use e2e::fleet::{GavelUp, RunnerOptions, RunnerProcess, listed_runners};
use e2e::package::{self, ZIP, file};
use e2e::stack::Stack;
use judge_core::verdict::Status;
use protocol::client::{EventKind, SubmissionView};
use serde_json::json;

/// One test at a time (see the module docs).
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const JS: &str = "javascript";
const PY: &str = "python";

/// Sources for the problems below (`a b` in, `a + b` out), by verdict.
const AC_JS: &str = "const [a, b] = readline().split(' ').map(Number);\nprint(a + b);\n";
const WA_JS: &str = "const [a, b] = readline().split(' ').map(Number);\nprint(a - b);\n";
const TLE_JS: &str = "const [a, b] = readline().split(' ').map(Number);\nfor (;;) {}\n";
const MLE_JS: &str = "const keep = [];\nfor (;;) keep.push(new Float64Array(1 << 20));\n";
const AC_PY: &str = "a, b = map(int, input().split())\nprint(a + b)\n";
const WA_PY: &str = "a, b = map(int, input().split())\nprint(a - b)\n";
const TLE_PY: &str = "a, b = map(int, input().split())\nwhile True:\n    pass\n";
const MLE_PY: &str = "keep = []\nwhile True:\n    keep.append([0] * (1 << 20))\n";

/// How long a runner may take to start and register.
const REGISTER_LIMIT: Duration = Duration::from_secs(20);

/// A native package: `problem.toml` with the given limits and checker, and
/// one task of `cases` (`(input, expected output)`, named 01, 02, …).
fn problem(
    id: &str,
    time_ms: u64,
    memory_mb: u64,
    checker: &str,
    cases: &[(&str, &str)],
) -> Vec<u8> {
    let names: Vec<String> = (1..=cases.len()).map(|n| format!("{n:02}")).collect();
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    let toml = format!(
        "id = {id:?}\ntitle = \"Runner e2e\"\n[limits]\ntime_ms = {time_ms}\nmemory_mb = {memory_mb}\n\
         [checker]\nplugin = {checker:?}\n[[tasks]]\nscore = 100\ncases = [{}]\n",
        quoted.join(", ")
    );
    let mut entries = vec![file("problem.toml", toml)];
    for (name, (input, output)) in names.iter().zip(cases) {
        entries.push(file(&format!("tests/{name}.in"), input));
        entries.push(file(&format!("tests/{name}.out"), output));
    }
    package::zip(&entries)
}

/// The two cases of every `a + b` problem here.
const SUMS: [(&str, &str); 2] = [("1 2\n", "3\n"), ("40 2\n", "42\n")];

/// Uploads an `a + b` problem with these limits and the `tokens` checker.
fn sum_problem(admin: &Client, id: &str, time_ms: u64, memory_mb: u64) {
    admin.create_problem(id, ZIP, problem(id, time_ms, memory_mb, "tokens", &SUMS));
}

fn is_pending(status: Status) -> bool {
    matches!(status, Status::Pending | Status::Judging)
}

/// Waits for the submission's final status (a verdict or CANCELLED).
#[track_caller]
fn wait_final(client: &Client, id: &str, limit: Duration) -> SubmissionView {
    client.wait_for(id, limit, |v| !is_pending(v.status))
}

/// The submission's whole event log (it must end: the verdict is final).
#[track_caller]
fn event_log(client: &Client, id: &str) -> Vec<EventKind> {
    client.events(id).until_end(SOON).iter().map(|e| e.submission_event().kind).collect()
}

/// The SSE event names, in order.
fn names(log: &[EventKind]) -> Vec<&'static str> {
    log.iter().map(EventKind::name).collect()
}

/// The runners that claimed the job, in order.
fn claimed_by(log: &[EventKind]) -> Vec<String> {
    log.iter()
        .filter_map(|e| match e {
            EventKind::Started { runner_id, .. } => Some(runner_id.clone()),
            _ => None,
        })
        .collect()
}

/// Waits until a runner has the submission's files and runs its program
/// (the `compiled` event).
#[track_caller]
fn wait_running(client: &Client, id: &str) {
    let mut events = client.events(id);
    loop {
        let event = events.next(SOON).expect("the stream is open until the verdict");
        assert!(event.event != "finished", "{id} finished before it ran: {event:?}");
        if event.event == "compiled" {
            return;
        }
    }
}

/// The `job_id` field of a runner log line.
fn job_of(line: &str) -> Option<&str> {
    line.split("job_id=\"").nth(1)?.split('"').next()
}

/// `gavel_…` sample value of a metric without labels.
#[track_caller]
fn metric(stack: &Stack, name: &str) -> f64 {
    let text = stack.http().get_root("/metrics").expect(200).text();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample of {name} in:\n{text}"))
}

/// Waits until `done` holds; panics with `what` after `limit`.
#[track_caller]
fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts a runner and waits until the backend lists it; returns its id.
#[track_caller]
fn start_runner(stack: &Stack, options: RunnerOptions) -> (RunnerProcess, String) {
    let runner = RunnerProcess::start(&stack.url(), options);
    let id = runner.wait_listed(&stack.admin(), REGISTER_LIMIT).runner_id;
    (runner, id)
}

#[test]
fn two_runners_judge_200_mixed_submissions_each_exactly_once() {
    let _serial = serial();
    let stack = Stack::start();
    let admin = stack.admin();
    sum_problem(&admin, "mix", 300, 32);
    let (runner_1, id_1) = start_runner(&stack, RunnerOptions::new("load-1").slots(2));
    let (runner_2, id_2) = start_runner(&stack, RunnerOptions::new("load-2").slots(2));
    let client = admin.create_client("load");

    // Every verdict kind in both languages, 25 submissions each.
    let kinds = [
        (JS, AC_JS, Status::Accepted),
        (PY, AC_PY, Status::Accepted),
        (JS, WA_JS, Status::WrongAnswer),
        (PY, WA_PY, Status::WrongAnswer),
        (JS, MLE_JS, Status::MemoryLimitExceeded),
        (PY, MLE_PY, Status::MemoryLimitExceeded),
        (JS, TLE_JS, Status::TimeLimitExceeded),
        (PY, TLE_PY, Status::TimeLimitExceeded),
    ];
    let started = Instant::now();
    let mut expected = BTreeMap::new();
    for n in 0..200 {
        let (language, source, status) = kinds[n % kinds.len()];
        // A comment makes every source a blob of its own.
        let comment = if language == JS { "//" } else { "#" };
        let id = client.submit_ok("mix", language, &format!("{source}{comment} submission {n}\n"));
        expected.insert(id, (language, status));
    }
    let submitted = started.elapsed();
    let mut per_kind: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (language, status) in expected.values() {
        *per_kind.entry((*language, status.code())).or_default() += 1;
    }
    assert!(per_kind.len() == 8 && per_kind.values().all(|n| *n == 25), "{per_kind:?}");

    // Every submission reaches its verdict: none stuck.
    let limit = Duration::from_secs(90);
    let mut views: BTreeMap<String, SubmissionView> = BTreeMap::new();
    loop {
        for id in expected.keys() {
            if !views.contains_key(id) {
                let view = client.submission(id);
                if !is_pending(view.status) {
                    views.insert(id.clone(), view);
                }
            }
        }
        if views.len() == expected.len() {
            break;
        }
        let stuck: Vec<_> = expected.keys().filter(|id| !views.contains_key(*id)).collect();
        assert!(
            started.elapsed() < limit,
            "{} submissions not judged within {limit:?}: {stuck:?}",
            stuck.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let judged = started.elapsed();
    eprintln!("200 submissions: submitted in {submitted:?}, all judged after {judged:?}");

    // Each got its expected verdict from one claim and one completion.
    let mut wrong = Vec::new();
    let mut claimers = BTreeSet::new();
    for (id, (language, status)) in &expected {
        let view = &views[id];
        let score = if *status == Status::Accepted { 100.0 } else { 0.0 };
        if (view.status, view.score, view.attempt) != (*status, score, 1) {
            wrong.push(format!(
                "{id} ({language}): expected {status:?} {score} attempt 1, got {:?} {} attempt {} {:?}",
                view.status, view.score, view.attempt, view.message
            ));
            continue;
        }
        let log = event_log(&client, id);
        let finished = log.iter().filter(|e| matches!(e, EventKind::Finished { .. })).count();
        let claims = claimed_by(&log);
        if finished != 1 || claims.len() != 1 {
            wrong.push(format!("{id}: {finished} finished events, claimed by {claims:?}"));
        }
        claimers.extend(claims);
    }
    assert!(wrong.is_empty(), "{} wrong:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(metric(&stack, "gavel_jobs_completed_total"), 200.0);
    assert_eq!(metric(&stack, "gavel_reclaims_total"), 0.0);
    assert_eq!(claimers, BTreeSet::from([id_1, id_2]), "both runners judged");
    let queue: serde_json::Value = admin.get("/queue").expect(200).json();
    assert_eq!((queue["pending"].as_u64(), queue["leased"].as_u64()), (Some(0), Some(0)));
    for runner in [&runner_1, &runner_2] {
        wait_until("the outbox empties", SOON, || runner.outbox().is_empty());
    }
}

#[test]
fn a_submission_under_the_retired_rustpython_id_is_claimed_and_judged_as_python() {
    let _serial = serial();
    let stack = Stack::start();
    let admin = stack.admin();
    sum_problem(&admin, "old-id", 2000, 64);
    let (_runner, _) = start_runner(&stack, RunnerOptions::new("aliases"));
    let client = admin.create_client("old");
    // The runner advertises `rustpython` beside `python`, so the backend
    // accepts it and the queue hands the job over; the runner resolves it
    // to the `python` plugin.
    let id = client.submit_ok("old-id", "rustpython", AC_PY);
    let view = wait_final(&client, &id, Duration::from_secs(60));
    assert_eq!(view.status, Status::Accepted, "{view:?}");
}

#[test]
fn a_killed_runners_jobs_are_finished_by_another_after_the_lease_and_it_comes_back() {
    let _serial = serial();
    let stack = Stack::start();
    let admin = stack.admin();
    // One case of 3 s of fuel: long enough to kill the runner mid-job.
    admin.create_problem("slow", ZIP, problem("slow", 3000, 64, "tokens", &SUMS[..1]));
    let client = admin.create_client("c");
    let (mut victim, victim_id) = start_runner(&stack, RunnerOptions::new("victim").slots(2));
    let jobs = [client.submit_ok("slow", JS, TLE_JS), client.submit_ok("slow", PY, TLE_PY)];
    victim.wait_until_listed(&admin, SOON, |r| r.active_jobs == 2);
    for id in &jobs {
        assert_eq!(client.submission(id).status, Status::Judging);
    }

    // The rescuer starts idle (nothing is pending), then the victim dies.
    let (mut rescuer, rescuer_id) = start_runner(&stack, RunnerOptions::new("rescuer").slots(2));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        jobs.iter().all(|id| client.submission(id).attempt == 1),
        "the jobs stayed with the victim"
    );
    victim.kill();
    let killed = Instant::now();

    // Its jobs go to the rescuer once their 2 s leases run out (renewed at
    // most a heartbeat before the kill), and are judged once more, in full.
    for id in &jobs {
        client.wait_for(id, Duration::from_secs(8), |v| v.attempt == 2);
    }
    let reclaimed = killed.elapsed();
    assert!(
        reclaimed > Duration::from_millis(500) && reclaimed < Duration::from_secs(6),
        "reclaimed {reclaimed:?} after the kill"
    );
    for id in &jobs {
        let view = wait_final(&client, id, Duration::from_secs(30));
        assert_eq!((view.status, view.attempt), (Status::TimeLimitExceeded, 2), "{view:?}");
        let log = event_log(&client, id);
        let claims: Vec<&str> =
            names(&log).into_iter().filter(|n| !matches!(*n, "compiled" | "case")).collect();
        assert_eq!(claims, ["queued", "started", "queued", "started", "finished"], "{log:?}");
        assert_eq!(claimed_by(&log), [victim_id.clone(), rescuer_id.clone()]);
    }
    assert_eq!(metric(&stack, "gavel_jobs_completed_total"), 2.0, "no job counted twice");
    assert_eq!(metric(&stack, "gavel_reclaims_total"), 2.0);

    // The victim starts again on its data dir (killed mid-job, it has
    // nothing in its outbox), takes up work again, and is listed once: its
    // old registration expires (or it is the one it kept).
    assert!(victim.outbox().is_empty(), "{:?}", victim.outbox());
    let (status, _) = rescuer.terminate(Duration::from_secs(10));
    assert!(status.success(), "the rescuer exited with {status}");
    victim.restart();
    let id = client.submit_ok("slow", PY, AC_PY);
    let view = wait_final(&client, &id, REGISTER_LIMIT);
    assert_eq!((view.status, view.attempt), (Status::Accepted, 1));
    let claims = claimed_by(&event_log(&client, &id));
    wait_until("the victim is listed once", Duration::from_secs(10), || {
        let listed = listed_runners(&admin);
        let victims: Vec<_> = listed.iter().filter(|r| r.name == "victim").collect();
        victims.len() == 1 && [victims[0].runner_id.clone()] == claims[..]
    });
}

#[test]
fn results_stored_while_the_backend_is_down_are_delivered_by_the_restarted_runner() {
    let _serial = serial();
    // Leases of 30 s here (a runner stays registered 33 s without
    // heartbeats): the whole story — the backend dies, the runner judges and
    // is killed, both come back — fits in the lease, so a stored result is
    // accepted (200) with its original lease rather than refused because
    // the lease ran out (the next test shows what short leases do).
    let mut stack = Stack::start_with(&[("--lease-ttl-s", "30")]);
    let admin = stack.admin();
    sum_problem(&admin, "steady", 1500, 64);
    let client = admin.create_client("c");
    let (mut runner, runner_id) = start_runner(&stack, RunnerOptions::new("keeper").slots(2));
    let kept = client.submit_ok("steady", JS, TLE_JS);
    let cancelled = client.submit_ok("steady", PY, TLE_PY);
    let jobs = [&kept, &cancelled].map(|id| {
        wait_running(&client, id);
        client.submission(id).job_id
    });

    // The backend dies mid-job: the runner judges on, stores the results
    // (fsynced) and cannot deliver them.
    stack.kill_backend();
    wait_until("both results are stored in the outbox", Duration::from_secs(15), || {
        runner.outbox().len() == 2
    });
    let stored = runner.outbox();
    for job in &jobs {
        let entry = stored.iter().find(|p| p.to_string_lossy().contains(job.as_str()));
        let text = std::fs::read_to_string(entry.expect("an outbox entry per job")).unwrap();
        assert!(text.contains("\"status\":\"TLE\""), "{text}");
    }
    runner.wait_for_log("delivering a result failed", 1, SOON);

    // Killed before it could deliver: the results stay on disk.
    runner.kill();
    assert_eq!(runner.outbox(), stored);
    stack.start_backend_again();
    for id in [&kept, &cancelled] {
        let view = client.submission(id);
        assert_eq!((view.status, view.attempt), (Status::Judging, 1), "{view:?}");
    }
    // Meanwhile one submission is cancelled: its lease dies with it.
    client.post(&format!("/submissions/{cancelled}/cancel"), &json!({})).expect(200);

    // Restarted on its data dir, the runner delivers both as the same
    // runner with the same leases: one is accepted (nothing judged again),
    // the other refused (409) and dropped, which it says.
    runner.restart();
    let view = wait_final(&client, &kept, Duration::from_secs(20));
    assert_eq!((view.status, view.attempt), (Status::TimeLimitExceeded, 1), "{view:?}");
    wait_until("the outbox empties", SOON, || runner.outbox().is_empty());
    let log = runner.log();
    let said = |what: &str, job: &str| {
        log.lines().any(|l| l.contains(what) && l.contains(&format!("job_id=\"{job}\"")))
    };
    assert!(said("result delivered", &jobs[0]), "{log}");
    assert!(said("the backend refused the result", &jobs[1]), "{log}");
    let log = event_log(&client, &kept);
    assert_eq!(claimed_by(&log), [runner_id.as_str()]);
    assert_eq!(names(&log).last(), Some(&"finished"));
    let view = client.submission(&cancelled);
    assert_eq!((view.status, view.score), (Status::Cancelled, 0.0), "{view:?}");
    assert_eq!(metric(&stack, "gavel_jobs_completed_total"), 1.0);
    assert_eq!(metric(&stack, "gavel_reclaims_total"), 0.0);
    assert_eq!(runner.wait_listed(&admin, SOON).runner_id, runner_id, "the same identity");
}

#[test]
fn results_judged_while_the_backend_is_down_all_arrive_after_it_returns() {
    let _serial = serial();
    let mut stack = Stack::start();
    let admin = stack.admin();
    sum_problem(&admin, "busy", 1500, 32);
    let client = admin.create_client("c");
    let (runner_1, _) = start_runner(&stack, RunnerOptions::new("down-1").slots(2));
    let (runner_2, _) = start_runner(&stack, RunnerOptions::new("down-2").slots(2));

    // Four long jobs fill the four slots; four quick ones wait behind them.
    let mut expected = vec![
        (client.submit_ok("busy", JS, TLE_JS), Status::TimeLimitExceeded),
        (client.submit_ok("busy", PY, TLE_PY), Status::TimeLimitExceeded),
        (client.submit_ok("busy", JS, TLE_JS), Status::TimeLimitExceeded),
        (client.submit_ok("busy", PY, TLE_PY), Status::TimeLimitExceeded),
    ];
    for (id, _) in &expected {
        wait_running(&client, id);
    }
    let busy: u64 = listed_runners(&admin).iter().map(|r| r.active_jobs).sum();
    assert_eq!(busy, 4, "all four slots are busy");
    expected.extend([
        (client.submit_ok("busy", JS, AC_JS), Status::Accepted),
        (client.submit_ok("busy", PY, WA_PY), Status::WrongAnswer),
        (client.submit_ok("busy", PY, MLE_PY), Status::MemoryLimitExceeded),
        (client.submit_ok("busy", JS, MLE_JS), Status::MemoryLimitExceeded),
    ]);

    // The backend is down for 10 s (the acceptance scenario says 30 s; 10 s
    // keeps the test short and is already five leases long). The runners
    // finish their jobs meanwhile and keep the results in their outboxes.
    stack.kill_backend();
    let down = Instant::now();
    // (Judging them takes ~2 s on an idle machine; 30 s leaves room for a
    // loaded one.)
    wait_until("the four results wait in the outboxes", Duration::from_secs(30), || {
        runner_1.outbox().len() + runner_2.outbox().len() == 4
    });
    assert_eq!((runner_1.outbox().len(), runner_2.outbox().len()), (2, 2));
    std::thread::sleep(Duration::from_secs(10).saturating_sub(down.elapsed()));
    stack.start_backend_again();
    let back = Instant::now();

    // Every submission gets its verdict, from one completion each. Leases of
    // 2 s did not outlive the outage: the stored results are refused as
    // stale (or dropped with their expired registration), never silently,
    // and those jobs are judged again.
    for (n, (id, status)) in expected.iter().enumerate() {
        let view = wait_final(&client, id, Duration::from_secs(60));
        let attempt = if n < 4 { 2 } else { 1 };
        assert_eq!((view.status, view.attempt), (*status, attempt), "{view:?}");
        let log = event_log(&client, id);
        assert_eq!(names(&log).iter().filter(|n| **n == "finished").count(), 1, "{log:?}");
    }
    eprintln!("all verdicts arrived {:?} after the backend returned", back.elapsed());
    assert_eq!(metric(&stack, "gavel_jobs_completed_total"), 8.0, "no job counted twice");
    for runner in [&runner_1, &runner_2] {
        wait_until("the outbox empties", SOON, || runner.outbox().is_empty());
        let log = runner.log();
        let judged: BTreeSet<&str> =
            log.lines().filter(|l| l.contains(" judged ")).filter_map(job_of).collect();
        let accounted: BTreeSet<&str> = log
            .lines()
            .filter(|l| {
                l.contains("result delivered")
                    || l.contains("the backend refused the result")
                    || l.contains("dropping a result from a previous registration")
            })
            .filter_map(job_of)
            .collect();
        assert_eq!(judged, accounted, "every stored result is accounted for:\n{log}");
    }
}

#[test]
fn a_plugin_dropped_into_the_folder_is_used_within_seconds_and_removing_it_stops_claims() {
    let _serial = serial();
    let stack = Stack::start();
    let admin = stack.admin();
    let folder = tempfile::Builder::new().prefix("gavel-e2e-plugins").tempdir().expect("temp dir");
    let (mut runner, _) =
        start_runner(&stack, RunnerOptions::new("pluggable").plugins(folder.path()));
    sum_problem(&admin, "plain", 1000, 64);
    // Any proper divisor of n is right: only the custom checker knows.
    let divisors = [("12\n", "6\n"), ("35\n", "7\n")];
    admin.create_problem("divisor", ZIP, problem("divisor", 1000, 64, "any-divisor", &divisors));
    let smallest = "const n = Number(readline());\nlet d = 2;\nwhile (n % d) d++;\nprint(d);\n";
    let client = admin.create_client("c");

    // Junk first: reported, skipped, and the runner keeps judging.
    std::fs::write(folder.path().join("junk.wasm"), b"\0asm not really").unwrap();
    runner.wait_for_log("skipping a broken plugin", 1, SOON);
    let id = client.submit_ok("plain", JS, AC_JS);
    assert_eq!(wait_final(&client, &id, SOON).status, Status::Accepted);
    assert!(runner.is_running());

    // Nobody offers `any-divisor` yet: the submission waits.
    let waiting = client.submit_ok("divisor", JS, smallest);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(client.submission(&waiting).status, Status::Pending);

    // Dropped (written beside, then renamed into place, as an installer
    // would), it is found, advertised at the next heartbeat and used.
    let checker = folder.path().join("any-divisor.wasm");
    let install = || {
        let partial = folder.path().join("any-divisor.partial");
        std::fs::copy(builtin_plugins::fixture_path("custom_checker"), &partial).unwrap();
        std::fs::rename(&partial, &checker).unwrap();
        Instant::now()
    };
    let dropped = install();
    let view = wait_final(&client, &waiting, Duration::from_secs(5));
    let took = dropped.elapsed();
    assert_eq!((view.status, view.score), (Status::Accepted, 100.0), "{view:?}");
    eprintln!("judged {took:?} after the plugin was dropped");
    let plain = client.submit_ok("plain", PY, WA_PY);
    assert_eq!(wait_final(&client, &plain, SOON).status, Status::WrongAnswer);

    // Removed, it is no longer advertised: new submissions for it stay
    // pending (a rescan within 2 s, then the next heartbeat).
    let rescans = runner.log_count("the plugins folder changed");
    std::fs::remove_file(&checker).unwrap();
    runner.wait_for_log("the plugins folder changed", rescans + 1, SOON);
    std::thread::sleep(Duration::from_secs(2));
    let orphan = client.submit_ok("divisor", JS, smallest);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(client.submission(&orphan).status, Status::Pending, "claimed without the plugin");
    let plain = client.submit_ok("plain", JS, AC_JS);
    assert_eq!(wait_final(&client, &plain, SOON).status, Status::Accepted);
    assert_eq!(client.submission(&orphan).status, Status::Pending);

    // Back again, and the waiting submission is judged.
    let dropped = install();
    let view = wait_final(&client, &orphan, Duration::from_secs(5));
    assert_eq!(view.status, Status::Accepted, "{view:?} ({:?} after the drop)", dropped.elapsed());
    assert!(runner.is_running());
}

#[test]
fn a_cancelled_or_rejudged_job_stops_at_the_next_heartbeat_and_is_never_reported() {
    let _serial = serial();
    let stack = Stack::start();
    let admin = stack.admin();
    // 20 s of fuel per case: the job would run for a long time.
    sum_problem(&admin, "forever", 20_000, 64);
    sum_problem(&admin, "quick", 1000, 64);
    let client = admin.create_client("c");
    let (runner, runner_id) = start_runner(&stack, RunnerOptions::new("single").slots(1));
    let id = client.submit_ok("forever", JS, TLE_JS);
    let first = client.wait_for(&id, SOON, |v| v.status == Status::Judging).job_id;
    runner.wait_for_log("judging", 1, SOON);
    std::thread::sleep(Duration::from_millis(500));

    // A rejudge: the old job stops at the runner's next heartbeat (1 s),
    // and the same one-slot runner takes the new job.
    let rejudged: SubmissionView =
        client.post(&format!("/submissions/{id}/rejudge"), &json!({})).expect(200).json();
    assert_ne!(rejudged.job_id, first);
    let asked = Instant::now();
    runner.wait_for_log("cancelled: not reported", 1, Duration::from_secs(3));
    let stopped = asked.elapsed();
    assert!(stopped < Duration::from_millis(2500), "stopped {stopped:?} after the rejudge");
    assert!(runner.log_count("the backend cancelled the job") >= 1);
    let view = client.wait_for(&id, Duration::from_secs(3), |v| v.status == Status::Judging);
    assert_eq!(view.job_id, rejudged.job_id);

    // A cancel: the runner stops again and its slot is free for a quick job.
    std::thread::sleep(Duration::from_millis(300));
    let cancelled: SubmissionView =
        client.post(&format!("/submissions/{id}/cancel"), &json!({})).expect(200).json();
    assert_eq!(cancelled.status, Status::Cancelled);
    let asked = Instant::now();
    let quick = client.submit_ok("quick", PY, AC_PY);
    runner.wait_for_log("cancelled: not reported", 2, Duration::from_secs(3));
    let stopped = asked.elapsed();
    let view = wait_final(&client, &quick, Duration::from_secs(3));
    let judged = asked.elapsed();
    assert_eq!(view.status, Status::Accepted);
    assert!(stopped < Duration::from_millis(2500), "stopped {stopped:?} after the cancel");
    assert!(judged < Duration::from_secs(3), "the next job was judged {judged:?} after the cancel");
    assert_eq!(claimed_by(&event_log(&client, &quick)), [runner_id.as_str()]);

    // Neither cancelled job was ever reported: CANCELLED stays.
    std::thread::sleep(Duration::from_secs(1));
    let view = client.submission(&id);
    assert_eq!((view.status, view.job_id.as_str()), (Status::Cancelled, rejudged.job_id.as_str()));
    // (It may have said it compiled; it never reported a case or a result.)
    let log = event_log(&client, &id);
    let kinds: Vec<&str> = names(&log).into_iter().filter(|n| *n != "compiled").collect();
    assert_eq!(kinds, ["queued", "started", "finished"], "{log:?}");
    assert!(
        matches!(log.last(), Some(EventKind::Finished { status: Status::Cancelled, .. })),
        "{log:?}"
    );
    assert_eq!(metric(&stack, "gavel_jobs_completed_total"), 1.0, "only the quick job");
    assert!(runner.outbox().is_empty());
}

#[test]
fn a_terminated_runner_finishes_its_job_deregisters_and_exits_0_within_grace() {
    let _serial = serial();
    let stack = Stack::start();
    let admin = stack.admin();
    // One case of 1 s of fuel: a job about a second long.
    sum_problem(&admin, "second", 1000, 64);
    let client = admin.create_client("c");
    let grace = Duration::from_secs(10);
    let (mut runner, runner_id) =
        start_runner(&stack, RunnerOptions::new("leaving").grace_s(grace.as_secs()));
    let id = client.submit_ok("second", JS, TLE_JS);
    client.wait_for(&id, SOON, |v| v.status == Status::Judging);
    runner.wait_for_log("judging", 1, SOON);

    let (status, took) = runner.terminate(grace + Duration::from_secs(5));
    assert!(status.success(), "exit status {status}\n{}", runner.log_tail());
    assert!(took < grace, "exiting took {took:?}");
    // It finished the job rather than handing it back…
    let view = client.submission(&id);
    assert_eq!((view.status, view.attempt), (Status::TimeLimitExceeded, 1), "{view:?}");
    assert_eq!(claimed_by(&event_log(&client, &id)), [runner_id.as_str()]);
    // …and left.
    assert!(
        listed_runners(&admin).iter().all(|r| r.runner_id != runner_id),
        "still listed: {:?}",
        listed_runners(&admin)
    );
    let log = runner.log();
    assert!(log.contains("deregistered"), "{log}");
    assert!(!runner.data_dir().join("identity.json").exists(), "the identity is forgotten");
}

#[test]
fn gavel_up_judges_an_example_with_live_progress_and_stops_cleanly() {
    let _serial = serial();
    let mut up = GavelUp::start(&[], Duration::from_secs(30));
    assert!(up.info.admin_token.starts_with("ad_"), "{:?}", up.info);
    let admin = Client::new(Http::new(&up.info.url), &up.info.admin_token);
    let redis_port = up.redis_port();
    assert!(std::net::TcpStream::connect(("127.0.0.1", redis_port)).is_ok(), "its Redis runs");

    // Its runner registers by itself.
    wait_until("the local runner offers javascript", REGISTER_LIMIT, || {
        admin.get("/languages").expect(200).json::<Vec<String>>().iter().any(|l| l == JS)
    });
    let archive = package::zip(&package::example("a-plus-b"));
    admin.create_problem("a-plus-b", ZIP, archive);
    let solutions = e2e::root().join("examples/solutions/a-plus-b");
    let mut verdicts = Vec::new();
    for (name, status, score) in
        [("ac-js-readline", Status::Accepted, 100.0), ("wa-js", Status::WrongAnswer, 0.0)]
    {
        let source = std::fs::read_to_string(solutions.join(name).join("main.js")).unwrap();
        let id = admin.submit_ok("a-plus-b", JS, &source);
        let events: Vec<SseEvent> = admin.events(&id).until_end(Duration::from_secs(30));
        let kinds: Vec<EventKind> =
            events.iter().map(SseEvent::submission_event).map(|e| e.kind).collect();
        let finished = kinds.iter().position(|k| k.name() == "finished").expect("a finished event");
        assert_eq!(finished, kinds.len() - 1, "{kinds:?}");
        assert!(
            kinds[..finished].iter().any(|k| k.name() == "case"),
            "no live progress: {kinds:?}"
        );
        let EventKind::Finished { status: streamed, score: streamed_score, .. } = &kinds[finished]
        else {
            unreachable!()
        };
        assert_eq!((*streamed, *streamed_score), (status, score), "{name}");
        let view = admin.submission(&id);
        assert_eq!((view.status, view.score), (status, score), "{name}: {view:?}");
        verdicts.push(view.status);
    }
    assert_eq!(verdicts, [Status::Accepted, Status::WrongAnswer]);

    // SIGTERM: the runner, the backend and Redis stop; the exit code is 0.
    let (status, took) = up.terminate(Duration::from_secs(40));
    assert!(status.success(), "gavel up exited with {status}\n{}", up.log());
    eprintln!("gavel up stopped in {took:?}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", redis_port)).is_err(),
        "redis-server still listens on {redis_port}\n{}",
        up.log()
    );
}

#[test]
fn native_submissions_are_judged_in_docker_and_a_killed_runners_containers_are_removed() {
    if !e2e::docker::available() {
        return;
    }
    let _serial = serial();
    let stack = Stack::start();
    let admin = stack.admin();
    sum_problem(&admin, "native-sum", 1000, 64);
    let client = admin.create_client("c");
    let (mut runner, _) = start_runner(&stack, RunnerOptions::new("native").slots(2));
    let languages = runner.wait_listed(&admin, SOON).languages;
    for id in ["c", "cpp", "python3"] {
        assert!(languages.iter().any(|l| l == id), "{id} not offered: {languages:?}");
    }

    let c = "#include <stdio.h>\nint main(void){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}\n";
    let cpp =
        "#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<'\\n';}\n";
    let submissions = [
        (client.submit_ok("native-sum", "c", c), Status::Accepted, 100.0),
        (client.submit_ok("native-sum", "cpp", cpp), Status::Accepted, 100.0),
        (client.submit_ok("native-sum", "python3", AC_PY), Status::Accepted, 100.0),
        (client.submit_ok("native-sum", "python3", WA_PY), Status::WrongAnswer, 0.0),
        (
            client.submit_ok("native-sum", "cpp", "int main() { return x; }"),
            Status::CompileError,
            0.0,
        ),
        (
            client.submit_ok("native-sum", "c", "int main(void){int*p=0;return *p;}"),
            Status::RuntimeError,
            0.0,
        ),
    ];
    for (id, status, score) in &submissions {
        let view = wait_final(&client, id, Duration::from_secs(60));
        assert_eq!((view.status, view.score), (*status, *score), "{view:?}");
        if *status == Status::Accepted {
            let log = event_log(&client, id);
            assert_eq!(names(&log), ["queued", "started", "compiled", "case", "case", "finished"]);
        }
    }
    let ce = client.submission(&submissions[4].0);
    assert!(ce.compile_message.contains("error"), "{ce:?}");
    let owner = format!("runner:{}", runner.data_dir().canonicalize().unwrap().display());
    let owned = || e2e::docker::containers_owned_by(&owner);
    wait_until("every container of a judged job is removed", SOON, || owned().is_empty());

    // Killed mid-job, the runner leaves its container behind; started again
    // on the same data dir it removes it before taking work.
    let sleeper = "#include <unistd.h>\nint main(void){sleep(60);return 0;}\n";
    let id = client.submit_ok("native-sum", "c", sleeper);
    wait_running(&client, &id);
    let running = owned();
    assert_eq!(running.len(), 1, "one container per running job");
    runner.kill();
    assert_eq!(owned(), running, "the killed runner's container is left over");
    let removals = runner.log_count("removed leftover sandbox containers");
    runner.restart();
    wait_until("the restarted runner removes its leftover", REGISTER_LIMIT, || {
        !owned().contains(&running[0])
    });
    assert_eq!(
        runner.log_count("removed leftover sandbox containers"),
        removals + 1,
        "{}",
        runner.log()
    );
    let view = wait_final(&client, &id, Duration::from_secs(60));
    assert_eq!(view.status, Status::TimeLimitExceeded, "{view:?}");
    wait_until("no container is left", SOON, || owned().is_empty());
}

#[test]
fn a_docker_runner_judges_c_compiled_to_wasm_and_polygon_and_kattis_packages_with_their_checkers() {
    if !e2e::docker::available() {
        return;
    }
    let _serial = serial();
    let stack = Stack::start();
    let admin = stack.admin();
    sum_problem(&admin, "wasm-sum", 1000, 64);
    let polygon =
        admin.create_problem("polygon-sum", ZIP, package::zip(&package::example("polygon-sum")));
    assert!(polygon.origins["checker"].contains("files/check.cpp"), "{:?}", polygon.origins);
    let kattis = package::zip(&package::folder("tests/e2e/packages/kattis-sum"));
    let kattis = admin.create_problem("kattis-sum", ZIP, kattis);
    assert!(kattis.origins.contains_key("tests"), "{:?}", kattis.origins);
    let client = admin.create_client("c");
    // A runner without Docker cannot compile the checker: with no other, the
    // submission is refused rather than left pending forever…
    let (wasm_only, _) = start_runner(&stack, RunnerOptions::new("wasm-only").without_docker());
    let offered = wasm_only.wait_listed(&admin, SOON);
    assert!(!offered.languages.iter().any(|l| l == "cpp-wasm"), "{offered:?}");
    let solutions = e2e::root().join("examples/solutions/polygon-sum");
    let read = |path: std::path::PathBuf| std::fs::read_to_string(path).unwrap();
    let ac_py = read(solutions.join("ac-py/main.py"));
    let refused = client.submit("polygon-sum", "python", &ac_py).expect_error(422);
    assert_eq!(refused.error, "no_compiling_runner", "{refused:?}");
    assert!(refused.detail.contains("C/C++ source"), "{refused:?}");
    // …and once a compiling runner was seen, a job waits for one: the
    // Docker-less runner never claims it.
    let (mut runner, _) = start_runner(&stack, RunnerOptions::new("docker").slots(2));
    let listed = runner.wait_listed(&admin, SOON);
    for id in ["c-wasm", "cpp-wasm"] {
        assert!(listed.languages.iter().any(|l| l == id), "{id} not offered: {listed:?}");
    }
    runner.kill();
    let early = client.submit_ok("polygon-sum", "python", &ac_py);
    std::thread::sleep(Duration::from_secs(2));
    assert!(is_pending(client.submission(&early).status), "{:?}", client.submission(&early));
    runner.restart();
    let listed = runner.wait_listed(&admin, SOON);
    let view = wait_final(&client, &early, Duration::from_secs(120));
    assert_eq!((view.status, view.score), (Status::Accepted, 100.0), "{view:?}");
    assert_eq!(claimed_by(&event_log(&client, &early)), std::slice::from_ref(&listed.runner_id));
    let c = "#include <stdio.h>\nint main(void){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}\n";
    let cpp = "#include <bits/stdc++.h>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b-1<<'\\n';}\n";
    let kattis_ac =
        read(e2e::root().join("tests/e2e/packages/kattis-sum/submissions/accepted/sum.py"));
    let submissions = [
        (client.submit_ok("wasm-sum", "c-wasm", c), Status::Accepted, 100.0),
        (client.submit_ok("wasm-sum", "cpp-wasm", cpp), Status::WrongAnswer, 0.0),
        (
            client.submit_ok("wasm-sum", "cpp-wasm", "int main() { throw 1; }"),
            Status::CompileError,
            0.0,
        ),
        (
            client.submit_ok("polygon-sum", "python", &read(solutions.join("ac-py/main.py"))),
            Status::Accepted,
            100.0,
        ),
        (
            client.submit_ok(
                "polygon-sum",
                "python",
                &read(solutions.join("re-py-two-numbers/main.py")),
            ),
            Status::RuntimeError,
            30.0,
        ),
        (client.submit_ok("kattis-sum", "python", &kattis_ac), Status::Accepted, kattis.max_score),
    ];
    for (id, status, score) in &submissions {
        let view = wait_final(&client, id, Duration::from_secs(120));
        assert_eq!((view.status, view.score), (*status, *score), "{view:?}");
    }
    let ce = client.submission(&submissions[2].0);
    assert!(ce.compile_message.contains("exceptions disabled"), "{ce:?}");

    // The Docker runner shared the checkers it compiled: with it gone, the
    // runner without Docker judges both problems with them.
    runner.kill();
    let late = [
        (client.submit_ok("polygon-sum", "python", &ac_py), 100.0),
        (client.submit_ok("kattis-sum", "python", &kattis_ac), kattis.max_score),
    ];
    for (id, score) in &late {
        let view = wait_final(&client, id, Duration::from_secs(60));
        assert_eq!((view.status, view.score), (Status::Accepted, *score), "{view:?}");
        assert_eq!(claimed_by(&event_log(&client, id)), std::slice::from_ref(&offered.runner_id));
    }
}
