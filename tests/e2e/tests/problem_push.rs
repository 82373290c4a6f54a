//! `gavel problem push` end to end: the real binary uploads the example
//! problems (both formats, as folders and as archives) to the real
//! `gavel backend` over its own `redis-server`; what the backend then shows
//! is checked through the API. A broken package exits 2 with one clear line
//! and creates nothing.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test problem_push`.
//! Needs `redis-server` on PATH (`cargo xtask setup` installs it).

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use e2e::package::{self, ZIP};
use e2e::stack::{ADMIN_TOKEN, Stack};
use judge_core::problem::{CheckerRef, PackageFormat};
use protocol::client::ProblemView;

/// How long one push may take.
const PUSH_LIMIT: Duration = Duration::from_secs(60);

/// `gavel problem push PATH --backend URL --token TOKEN EXTRA…`.
fn push(backend: &str, token: &str, path: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["problem", "push", path.to_str().unwrap(), "--backend", backend];
    args.extend(["--token", token]);
    args.extend_from_slice(extra);
    e2e::gavel(&args, PUSH_LIMIT)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a successful push; returns its stdout.
#[track_caller]
fn pushed(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "stdout: {}\nstderr: {}", stdout(out), stderr(out));
    stdout(out)
}

/// Asserts a failed push: `code`, nothing on stdout, and one `error:` line
/// on stderr that says every one of `needles`.
#[track_caller]
fn failed(out: &Output, code: i32, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stdout: {}\nstderr: {err}", stdout(out));
    assert_eq!(stdout(out), "", "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    }
}

fn example(name: &str) -> std::path::PathBuf {
    e2e::root().join("examples/problems").join(name)
}

/// Copies a folder of plain files and folders.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn cases(view: &ProblemView) -> Vec<Vec<String>> {
    view.tasks.iter().map(|t| t.cases.clone()).collect()
}

#[test]
fn example_folders_of_both_formats_are_pushed_and_shown_by_the_backend() {
    let stack = Stack::start();
    let admin = stack.admin();
    let url = stack.url();

    // Normal-OJ: the id is the folder's name.
    let out = pushed(&push(&url, ADMIN_TOKEN, &example("normal-oj-echo"), &[]));
    let echo: ProblemView = admin.get("/problems/normal-oj-echo").expect(200).json();
    assert_eq!(echo.format, PackageFormat::NormalOj);
    assert_eq!(cases(&echo), [vec!["0000", "0001"], vec!["0100"]]);
    let scores: Vec<f64> = echo.tasks.iter().map(|t| t.score).collect();
    assert_eq!(scores, [40.0, 60.0]);
    assert_eq!(echo.files, 7, "meta.json and three cases: {echo:?}");
    assert_eq!(
        out,
        format!(
            "pushed normal-oj-echo: created, 2 tasks, 7 files, revision {}\n",
            &echo.revision[..12]
        )
    );
    // Again: replaced, and the content-addressed revision is the same.
    let out = pushed(&push(&url, ADMIN_TOKEN, &example("normal-oj-echo"), &[]));
    assert_eq!(
        out,
        format!(
            "pushed normal-oj-echo: replaced, 2 tasks, 7 files, revision {}\n",
            &echo.revision[..12]
        )
    );
    assert_eq!(admin.get("/problems/normal-oj-echo").expect(200).json::<ProblemView>(), echo);

    // Native, with --json: the backend's ProblemView, as GET shows it.
    let out = pushed(&push(&url, ADMIN_TOKEN, &example("a-plus-b"), &["--json"]));
    let printed: ProblemView = serde_json::from_str(&out).expect("a ProblemView on stdout");
    let stored: ProblemView = admin.get("/problems/a-plus-b").expect(200).json();
    assert_eq!(printed, stored);
    assert_eq!((stored.id.as_str(), stored.format), ("a-plus-b", PackageFormat::Native));
    assert_eq!(cases(&stored), [vec!["01", "02", "03", "04", "05"]]);
    assert_eq!(stored.files, 11, "problem.toml and five cases: {stored:?}");
    // Exactly the folder's files: the same archive built here replaces it
    // with the same revision.
    let same: ProblemView = admin
        .put_problem("a-plus-b", ZIP, package::zip(&package::example("a-plus-b")))
        .expect(200)
        .json();
    assert_eq!(same, stored);

    let mut ids = admin.problem_ids();
    ids.sort();
    assert_eq!(ids, ["a-plus-b", "normal-oj-echo"]);
}

#[test]
fn a_broken_folder_exits_2_with_one_line_and_creates_nothing() {
    let stack = Stack::start();
    let admin = stack.admin();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken-sum");
    copy_dir(&example("a-plus-b"), &broken);
    std::fs::remove_file(broken.join("tests/03.out")).unwrap();

    // Refused locally, with the error `gavel judge` gives for this folder.
    let out = push(&stack.url(), ADMIN_TOKEN, &broken, &[]);
    failed(&out, 2, &["broken-sum", "tests/03.out"]);
    let judged = e2e::gavel(
        &[
            "judge",
            broken.to_str().unwrap(),
            e2e::root()
                .join("examples/solutions/a-plus-b/ac-js-readline/main.js")
                .to_str()
                .unwrap(),
        ],
        PUSH_LIMIT,
    );
    assert_eq!(judged.status.code(), Some(2), "{}", stderr(&judged));
    assert_eq!(stderr(&judged), stderr(&out), "the same error as gavel judge");

    // A bad problem.toml, and an --id the package disagrees with.
    std::fs::write(broken.join("tests/03.out"), "7\n").unwrap();
    std::fs::write(broken.join("problem.toml"), "id = \"a-plus-b\"\ntime_ms = 5\n").unwrap();
    failed(&push(&stack.url(), ADMIN_TOKEN, &broken, &[]), 2, &["problem.toml", "time_ms"]);
    copy_dir(&example("a-plus-b"), &broken);
    failed(
        &push(&stack.url(), ADMIN_TOKEN, &broken, &["--id", "sum"]),
        2,
        &["\"a-plus-b\" is not the id pushed to, \"sum\""],
    );
    assert_eq!(admin.problem_ids(), Vec::<String>::new());
    admin.get("/problems/a-plus-b").expect_error(404);
}

#[test]
fn archives_are_sent_as_is_and_the_backend_decides() {
    let stack = Stack::start();
    let admin = stack.admin();
    let dir = tempfile::tempdir().unwrap();

    // A .tgz: the id is its file stem; the backend validates it.
    let echo = dir.path().join("echo.tgz");
    std::fs::write(&echo, package::tar_gz(&package::example("normal-oj-echo"))).unwrap();
    let out = pushed(&push(&stack.url(), ADMIN_TOKEN, &echo, &[]));
    assert!(out.starts_with("pushed echo: created, 2 tasks, 7 files, revision "), "{out}");
    let view: ProblemView = admin.get("/problems/echo").expect(200).json();
    assert_eq!(view.format, PackageFormat::NormalOj);

    // A broken .zip is refused by the backend: its detail, exit code 2.
    let mut files = package::example("a-plus-b");
    files.retain(|f| !matches!(f, package::Entry::File(name, _) if name == "tests/03.out"));
    let zip = dir.path().join("a-plus-b.zip");
    std::fs::write(&zip, package::zip(&files)).unwrap();
    failed(&push(&stack.url(), ADMIN_TOKEN, &zip, &[]), 2, &["tests/03.out", "422"]);
    admin.get("/problems/a-plus-b").expect_error(404);

    // A wrong token is bad input too (the backend's 401 or 403).
    let good = dir.path().join("sum.tar.gz");
    std::fs::write(&good, package::tar_gz(&package::example("a-plus-b"))).unwrap();
    let out = push(&stack.url(), "wrong", &good, &["--id", "a-plus-b"]);
    failed(&out, 2, &["pushing a-plus-b: "]);
    assert!(["401", "403"].iter().any(|code| stderr(&out).contains(code)), "{}", stderr(&out));
    // The right one: the archive's id is given with --id.
    let out = pushed(&push(&stack.url(), ADMIN_TOKEN, &good, &["--id", "a-plus-b", "--json"]));
    let printed: ProblemView = serde_json::from_str(&out).unwrap();
    assert_eq!(printed.id, "a-plus-b");

    // No backend there: exit code 1.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    failed(&push(&closed, ADMIN_TOKEN, &good, &["--id", "a-plus-b"]), 1, &["pushing a-plus-b"]);
}

#[test]
fn polygon_and_kattis_packages_are_pushed_with_their_scoring_and_origins() {
    let stack = Stack::start();
    let admin = stack.admin();
    let url = stack.url();

    // Polygon: the id is problem.xml's short-name; groups become tasks.
    pushed(&push(&url, ADMIN_TOKEN, &example("polygon-sum"), &[]));
    let polygon: ProblemView = admin.get("/problems/polygon-sum").expect(200).json();
    assert_eq!(polygon.format, PackageFormat::Polygon);
    assert_eq!(polygon.max_score, 100.0);
    assert_eq!(cases(&polygon), [vec!["01"], vec!["02"], vec!["03"], vec!["04", "05"]]);
    assert_eq!(polygon.tasks[3].depends_on, [0, 1, 2], "{polygon:?}");
    assert_eq!(polygon.checker.plugin, CheckerRef::Testlib("files/check.cpp".into()));
    for part in ["limits", "tests", "scoring", "checker"] {
        assert!(polygon.origins[part].starts_with("problem.xml"), "{part}: {:?}", polygon.origins);
    }

    // Kattis, as a folder of tests: the id is given; the validator is custom.
    let kattis = e2e::root().join("tests/e2e/packages/kattis-sum");
    pushed(&push(&url, ADMIN_TOKEN, &kattis, &["--id", "kattis-sum"]));
    let view: ProblemView = admin.get("/problems/kattis-sum").expect(200).json();
    assert_eq!(view.format, PackageFormat::Kattis);
    assert!(
        matches!(&view.checker.plugin, CheckerRef::KattisValidator(p) if p.starts_with("output_validators/"))
    );
    assert!(view.tasks.iter().flat_map(|t| &t.cases).any(|c| c.starts_with("secret/")), "{view:?}");
    assert!(view.origins.contains_key("tests"), "{:?}", view.origins);

    // A Polygon package whose checker is missing is refused, naming it.
    let broken = tempfile::tempdir().unwrap();
    copy_dir(&example("polygon-sum"), broken.path());
    std::fs::remove_file(broken.path().join("files/check.cpp")).unwrap();
    failed(
        &push(&url, ADMIN_TOKEN, broken.path(), &["--id", "polygon-sum"]),
        2,
        &["files/check.cpp"],
    );
}
