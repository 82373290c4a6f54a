//! Interactive problems through the backend and a runner, real processes
//! only: the example `guess-number` (its interactor C++ source, compiled
//! by the runner in the sandbox image) judged for contestants in Wasm
//! languages and in Docker, each verdict as its example solution expects,
//! with an event per case, the transcript in the case's details, and no
//! container left behind. A problem whose interactor is source needs a
//! runner that compiles it: with none ever seen the backend refuses.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test interactive`.
//! Needs `redis-server` and Docker with the sandbox image.

use std::time::Duration;

use e2e::api::SOON;
use e2e::fleet::{RunnerOptions, RunnerProcess};
use e2e::package::{self, ZIP};
use e2e::stack::Stack;
use judge_core::interactive::Side;
use judge_core::verdict::Status;
use protocol::client::EventKind;

/// The example solutions judged here: Wasm and Docker contestants, one of
/// every verdict the example shows.
const SOLUTIONS: [(&str, &str); 10] = [
    ("ac-py", "python"),
    ("ac-js", "javascript"),
    ("ac-cpp", "cpp"),
    ("ac-python3", "python3"),
    ("wa-py-wrong-guess", "python"),
    ("wa-c-too-many-queries", "c"),
    ("tle-py-never-flushes", "python"),
    ("tle-python3-never-flushes", "python3"),
    ("re-py-reads-past-eof", "python"),
    ("re-cpp-crash", "cpp"),
];

/// `STATUS SCORE` of an example solution's `expected` file.
fn expected(name: &str) -> (Status, f64) {
    let dir = e2e::root().join("examples/solutions/guess-number").join(name);
    let text = std::fs::read_to_string(dir.join("expected")).unwrap();
    let (status, score) = text.lines().next().unwrap().split_once(' ').unwrap();
    (Status::from_code(status).unwrap(), score.parse().unwrap())
}

fn source(name: &str) -> String {
    let dir = e2e::root().join("examples/solutions/guess-number").join(name);
    let main = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_stem().is_some_and(|s| s == "main"))
        .unwrap();
    std::fs::read_to_string(main).unwrap()
}

#[test]
fn interactive_submissions_are_judged_by_a_runner_with_events_transcripts_and_no_leftovers() {
    if !e2e::docker::available() {
        return;
    }
    let stack = Stack::start();
    let admin = stack.admin();
    let view =
        admin.create_problem("guess-number", ZIP, package::zip(&package::example("guess-number")));
    assert_eq!(view.interactor.as_ref().map(|i| i.path.as_str()), Some("interactor.cpp"));
    let client = admin.create_client("c");

    // The interactor is C++ source: with no runner that compiles ever seen,
    // a submission would wait forever, so it is refused.
    let refused = client.submit("guess-number", "python", &source("ac-py")).expect_error(422);
    assert_eq!(refused.error, "no_compiling_runner", "{refused:?}");

    let runner = RunnerProcess::start(&stack.url(), RunnerOptions::new("docker").slots(2));
    runner.wait_listed(&admin, Duration::from_secs(20));
    let submitted: Vec<(String, &str)> = SOLUTIONS
        .iter()
        .map(|(name, language)| (client.submit_ok("guess-number", language, &source(name)), *name))
        .collect();
    for (id, name) in &submitted {
        let view = client.wait_for(id, Duration::from_secs(180), |v| {
            !matches!(v.status, Status::Pending | Status::Judging)
        });
        assert_eq!((view.status, view.score), expected(name), "{name}: {view:?}");
        let log: Vec<EventKind> =
            client.events(id).until_end(SOON).iter().map(|e| e.submission_event().kind).collect();
        let cases = log.iter().filter(|e| e.name() == "case").count();
        assert_eq!(cases, 4, "{name}: one event per case: {log:?}");
        let case = &view.tasks[0].cases[0];
        let transcript = case.transcript.as_ref().unwrap_or_else(|| panic!("{name}: {case:?}"));
        let first = &transcript.entries[0];
        assert_eq!((first.from, first.text.as_str()), (Side::Interactor, "1000000000\n"), "{name}");
        if view.status == Status::TimeLimitExceeded {
            assert!(case.message.starts_with("idle: deadlock"), "{name}: {case:?}");
        }
    }
    let owner = format!("runner:{}", runner.data_dir().canonicalize().unwrap().display());
    let deadline = std::time::Instant::now() + SOON;
    while !e2e::docker::containers_owned_by(&owner).is_empty() {
        assert!(std::time::Instant::now() < deadline, "containers left behind");
        std::thread::sleep(Duration::from_millis(100));
    }
}
