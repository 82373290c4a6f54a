//! The hostile-input catalogue of the backend, end to end against a real
//! `gavel backend` on its own Redis:
//!
//! - **HTTP**: every case of `tests/e2e/hostile/http.toml` (malformed JSON,
//!   wrong content types, oversize bodies, huge headers, path traversal in
//!   ids, tokens of the wrong tier, others' resources, …) is sent over a raw
//!   TCP connection and must get its status and its JSON `{error, detail}`;
//!   afterwards nothing it touched has changed (problems, submissions, code
//!   runs, runners, the queue, the data dir). Slow senders are cut off by the
//!   backend's timeouts.
//! - **Packages**: hostile archives (zip-slip, absolute paths, links, pipes,
//!   bombs, deep nesting, 100,000 tiny files, duplicates, garbage, broken
//!   problems) are refused with their reason, and nothing is stored.
//!
//! The other parts of the catalogue live beside what they attack:
//! hostile plugins in `host/plugin-host/tests/hostile.rs`, hostile
//! submissions in `tests/e2e/cases/` (Wasm) and `tests/e2e/native-cases/`
//! (Docker), run by `tests/judge.rs`.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test hostile`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use e2e::api::Client;
use e2e::package::{self, Entry, TAR_GZ, ZIP, file};
use e2e::runner::{LANGUAGE, TestRunner};
use e2e::stack::{ADMIN_TOKEN, REGISTRATION_TOKEN, Stack};
use protocol::ErrorBody;
use protocol::client::{SubmitRequest, SubmitResponse};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

const PROBLEM: &str = "a-plus-b";
const SOURCE: &str = "print(3)";

/// `tests/e2e/hostile/http.toml`.
#[derive(Deserialize)]
struct Catalogue {
    case: Vec<HttpCase>,
}

/// One hostile request and the answer it must get (the fields are
/// described at the top of the catalogue).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpCase {
    name: String,
    method: String,
    path: String,
    token: Option<String>,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Option<String>,
    body_repeat: Option<(String, usize)>,
    body_nested: Option<usize>,
    body_bytes: Option<Vec<u8>>,
    header_filler: Option<usize>,
    header_count: Option<usize>,
    #[serde(default)]
    headers: Vec<(String, String)>,
    status: u16,
    error: Option<String>,
    detail: Option<String>,
    #[serde(default)]
    bare: bool,
}

/// What the cases refer to: the backend, two clients, two runners, and a
/// submission and a code run of the first client's.
struct World {
    stack: Stack,
    alice: Client,
    bob: Client,
    runner_a: TestRunner,
    runner_b: TestRunner,
    alice_submission: String,
    alice_run: String,
    job: String,
}

impl World {
    fn start() -> World {
        let stack = Stack::start_with(&[("--max-source-kb", "1"), ("--max-package-mb", "1")]);
        let admin = stack.admin();
        admin.create_problem(PROBLEM, ZIP, package::zip(&package::example(PROBLEM)));
        let alice = admin.create_client("alice");
        let bob = admin.create_client("bob");
        let http = stack.http();
        let runner_a = TestRunner::register(&http, "runner-a");
        let runner_b = TestRunner::register(&http, "runner-b");
        // Under an idempotency key, which a case reuses for another request.
        let request = SubmitRequest {
            problem_id: PROBLEM.into(),
            language: LANGUAGE.into(),
            source: SOURCE.into(),
            labels: Vec::new(),
        };
        let submit = http
            .request(Method::POST, "/submissions", Some(&alice.token))
            .header("Idempotency-Key", "alice-first")
            .json(&request);
        let alice_submission = http
            .send("POST /submissions".into(), submit)
            .expect(201)
            .json::<SubmitResponse>()
            .submission_id;
        let job = alice.submission(&alice_submission).job_id;
        let run = json!({ "language": LANGUAGE, "files": { "main.js": SOURCE } });
        let alice_run = alice.post("/runs", &run).expect(201).json::<serde_json::Value>()["run_id"]
            .as_str()
            .expect("a run id")
            .to_string();
        World { stack, alice, bob, runner_a, runner_b, alice_submission, alice_run, job }
    }

    fn token(&self, who: &str) -> String {
        match who {
            "admin" => ADMIN_TOKEN.into(),
            "registration" => REGISTRATION_TOKEN.into(),
            "alice" => self.alice.token.clone(),
            "bob" => self.bob.token.clone(),
            "runner_a" => self.runner_a.token.clone(),
            "runner_b" => self.runner_b.token.clone(),
            "forged" => "ck_forged0000000000000000000000".into(),
            other => panic!("unknown token {other:?} in the catalogue"),
        }
    }

    /// `text` with the placeholders filled in.
    fn fill(&self, text: &str) -> String {
        text.replace("{alice_submission}", &self.alice_submission)
            .replace("{alice_run}", &self.alice_run)
            .replace("{alice_token}", &self.alice.token)
            .replace("{runner_a}", &self.runner_a.id)
            .replace("{runner_b}", &self.runner_b.id)
            .replace("{job}", &self.job)
            .replace("{filler_300}", &"k".repeat(300))
            .replace("{filler_2k}", &"x".repeat(2 << 10))
            .replace("{filler_8k}", &"x".repeat(8 << 10))
    }

    /// The bytes of the request `case` describes.
    fn request(&self, case: &HttpCase) -> Vec<u8> {
        let body: Option<Vec<u8>> = if let Some(body) = &case.body {
            Some(self.fill(body).into_bytes())
        } else if let Some((text, n)) = &case.body_repeat {
            Some(text.repeat(*n).into_bytes())
        } else if let Some(depth) = case.body_nested {
            let nested = ["[".repeat(depth), "]".repeat(depth)].concat();
            Some(
                format!(
                    r#"{{"problem_id": "a-plus-b", "language": "javascript", "source": {nested}}}"#
                )
                .into_bytes(),
            )
        } else {
            case.body_bytes.clone()
        };
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            case.method,
            self.fill(&case.path),
            self.addr()
        );
        if let Some(authorization) = &case.authorization {
            head += &format!("Authorization: {authorization}\r\n");
        } else if let Some(who) = &case.token {
            head += &format!("Authorization: Bearer {}\r\n", self.token(who));
        }
        if let Some(n) = case.header_filler {
            head += &format!("X-Filler: {}\r\n", "a".repeat(n));
        }
        for (name, value) in &case.headers {
            head += &format!("{name}: {}\r\n", self.fill(value));
        }
        for n in 0..case.header_count.unwrap_or(0) {
            head += &format!("X-Header-{n}: {n}\r\n");
        }
        if let Some(body) = &body {
            let content_type = case.content_type.as_deref().unwrap_or("application/json");
            head += &format!("Content-Type: {content_type}\r\nContent-Length: {}\r\n", body.len());
        }
        let mut request = (head + "\r\n").into_bytes();
        request.extend(body.unwrap_or_default());
        request
    }

    fn addr(&self) -> String {
        self.stack.url().trim_start_matches("http://").to_string()
    }

    /// What the cases must leave as it was.
    fn state(&self) -> String {
        let admin = self.stack.admin();
        let queue: serde_json::Value = admin.get("/queue").expect(200).json();
        // (Liveness is left out: on a loaded machine the catalogue can
        // outlast the scripted runners' registration, which is no change.)
        let runners: Vec<serde_json::Value> = admin.get("/runners").expect(200).json();
        let strangers: Vec<String> = runners
            .iter()
            .filter_map(|r| r["name"].as_str())
            .filter(|name| !["runner-a", "runner-b"].contains(name))
            .map(str::to_string)
            .collect();
        let listing = |client: &Client| {
            let list: Vec<serde_json::Value> =
                client.get("/submissions?limit=200").expect(200).json();
            list.len()
        };
        let submission = self.alice.submission(&self.alice_submission);
        let run: serde_json::Value =
            self.alice.get(&format!("/runs/{}", self.alice_run)).expect(200).json();
        format!(
            "problems {:?}\npending {} leased {}\nother runners {strangers:?}\n\
             alice lists {} bob lists {}\nsubmission {:?} job {}\nrun {}\n\
             alice's webhook {} the admin's {}\nfiles {:?}",
            admin.problem_ids(),
            queue["pending"],
            queue["leased"],
            listing(&self.alice),
            listing(&self.bob),
            submission.status,
            submission.job_id,
            run["status"],
            self.alice.get("/webhook").status,
            admin.get("/webhook").status,
            e2e::files_under(&self.stack.data_dir()),
        )
    }
}

/// An answer read off the wire.
struct RawReply {
    status: u16,
    body: Vec<u8>,
}

/// Sends `request` on a new connection (from another thread, so an early
/// answer is read while the rest is still being written) and reads the
/// answer until the backend closes the connection.
fn send_raw(addr: &str, request: &[u8]) -> Result<RawReply, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connecting: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let request = request.to_vec();
    // The backend may answer and close before taking the whole request.
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(&request);
    });
    let mut answer = Vec::new();
    let read = std::io::copy(&mut (&mut stream).take(16 << 20), &mut answer);
    let _ = sending.join();
    if answer.is_empty() {
        return Err(format!("no answer ({read:?})"));
    }
    parse_reply(&answer)
}

/// Splits an HTTP/1.1 answer into its status and body (de-chunked).
fn parse_reply(answer: &[u8]) -> Result<RawReply, String> {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no end of headers in {:?}", String::from_utf8_lossy(answer)))?;
    let head = String::from_utf8_lossy(&answer[..end]).to_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let mut body = answer[end + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Ok(RawReply { status, body })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        let start = line_end + 2;
        if size == 0 || start + size > data.len() {
            break;
        }
        out.extend_from_slice(&data[start..start + size]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// Whether `reply` is what `case` says it must be; why not otherwise.
fn judge(case: &HttpCase, reply: &RawReply) -> Result<(), String> {
    let text = String::from_utf8_lossy(&reply.body);
    if reply.status != case.status {
        return Err(format!("got {} {text}, expected {}", reply.status, case.status));
    }
    if case.bare {
        return Ok(());
    }
    let error: ErrorBody = serde_json::from_slice(&reply.body)
        .map_err(|e| format!("the body is not {{error, detail}} ({e}): {text}"))?;
    if error.error.is_empty() || error.detail.is_empty() {
        return Err(format!("an empty error or detail: {text}"));
    }
    if let Some(expected) = &case.error
        && &error.error != expected
    {
        return Err(format!("error {:?}, expected {expected:?} ({})", error.error, error.detail));
    }
    if let Some(part) = &case.detail
        && !error.detail.contains(part.as_str())
    {
        return Err(format!("detail {:?} does not say {part:?}", error.detail));
    }
    Ok(())
}

#[test]
fn every_hostile_request_gets_its_clear_answer_and_changes_nothing() {
    let path = e2e::root().join("tests/e2e/hostile/http.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let catalogue: Catalogue =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(catalogue.case.len() >= 50, "only {} cases", catalogue.case.len());
    let world = World::start();
    let before = world.state();
    let failures: Vec<String> = catalogue
        .case
        .iter()
        .filter_map(|case| {
            let outcome =
                send_raw(&world.addr(), &world.request(case)).and_then(|reply| judge(case, &reply));
            outcome.err().map(|why| format!("{}: {why}", case.name))
        })
        .collect();
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(world.state(), before, "a hostile request changed something");
    world.stack.http().get_root("/healthz").expect(200);
}

/// Sends `start` and then nothing; returns how long the backend took to
/// answer or close the connection, and what it sent.
fn stall(addr: &str, start: &[u8], limit: Duration) -> (Duration, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(start).unwrap();
    stream.set_read_timeout(Some(limit)).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = std::io::copy(&mut stream.take(4096), &mut answer);
    (started.elapsed(), String::from_utf8_lossy(&answer).into_owned())
}

#[test]
fn requests_that_stall_are_cut_off_instead_of_holding_connections() {
    let stack = Stack::start();
    let addr = stack.url().trim_start_matches("http://").to_string();
    let limit = Duration::from_secs(60);
    std::thread::scope(|s| {
        // Headers that never end: the connection is closed (10 s).
        let headers = s.spawn(|| stall(&addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", limit));
        // A body that stops coming: answered with an error, then closed (30 s).
        let body = s.spawn(|| {
            let start = format!(
                "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
            );
            stall(&addr, start.as_bytes(), limit)
        });
        let (took, _) = headers.join().unwrap();
        assert!(took < Duration::from_secs(20), "stalled headers held for {took:?}");
        let (took, answer) = body.join().unwrap();
        assert!(took < Duration::from_secs(45), "a stalled body held for {took:?}");
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    });
    // The backend still serves everyone else.
    stack.http().get_root("/healthz").expect(200);
}

/// One hostile package and the refusal it must get.
struct PackageCase {
    name: &'static str,
    /// The problem id it is uploaded as (the one its `problem.toml` names).
    id: &'static str,
    content_type: &'static str,
    archive: fn() -> Vec<u8>,
    status: u16,
    error: &'static str,
    /// A substring of the detail.
    detail: &'static str,
}

/// The example problem plus `extra`.
fn example_with(extra: Entry) -> Vec<Entry> {
    let mut entries = package::example(PROBLEM);
    entries.push(extra);
    entries
}

/// A valid one-case problem `id` plus `extra` entries.
fn minimal_with(id: &str, extra: impl IntoIterator<Item = Entry>) -> Vec<Entry> {
    let mut entries = vec![
        file("problem.toml", package::minimal_problem_toml(id, &["01"])),
        file("tests/01.in", "1 2\n"),
        file("tests/01.out", "3\n"),
    ];
    entries.extend(extra);
    entries
}

/// `n` one-byte files.
fn tiny_files(n: usize) -> Vec<Entry> {
    minimal_with("tiny", (0..n).map(|i| file(&format!("extra/{i}"), "x")))
}

/// A tar.gz whose gzip stream inflates 200 MiB of zeros.
fn stream_bomb() -> Vec<u8> {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::best()));
    let mut header = tar::Header::new_gnu();
    header.set_path("tests/01.in").unwrap();
    header.set_size(200 << 20);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append(&header, std::io::repeat(0).take(200 << 20)).unwrap();
    tar.into_inner().unwrap().finish().unwrap()
}

const PACKAGES: &[PackageCase] = &[
    PackageCase {
        name: "zip-slip (zip)",
        id: "a-plus-b",
        content_type: ZIP,
        archive: || package::zip(&example_with(file("../evil", "pwned"))),
        status: 400,
        error: "unsafe_path",
        detail: "../evil",
    },
    PackageCase {
        name: "zip-slip (tar.gz)",
        id: "a-plus-b",
        content_type: TAR_GZ,
        archive: || package::tar_gz(&example_with(file("tests/../../evil", "pwned"))),
        status: 400,
        error: "unsafe_path",
        detail: "evil",
    },
    PackageCase {
        name: "an absolute path",
        id: "a-plus-b",
        content_type: ZIP,
        archive: || package::zip(&example_with(file("/etc/cron.d/evil", "pwned"))),
        status: 400,
        error: "unsafe_path",
        detail: "/etc/cron.d/evil",
    },
    PackageCase {
        name: "a backslash path climbing out",
        id: "a-plus-b",
        content_type: ZIP,
        archive: || package::zip(&example_with(file("..\\evil", "pwned"))),
        status: 400,
        error: "unsafe_path",
        detail: "evil",
    },
    PackageCase {
        name: "a symlink (zip)",
        id: "a-plus-b",
        content_type: ZIP,
        archive: || {
            package::zip(&example_with(Entry::Symlink("tests/06.in".into(), "/etc/passwd".into())))
        },
        status: 400,
        error: "symlink",
        detail: "tests/06.in",
    },
    PackageCase {
        name: "a symlink (tar.gz)",
        id: "a-plus-b",
        content_type: TAR_GZ,
        archive: || {
            package::tar_gz(&example_with(Entry::Symlink(
                "tests/06.in".into(),
                "/etc/passwd".into(),
            )))
        },
        status: 400,
        error: "symlink",
        detail: "tests/06.in",
    },
    PackageCase {
        name: "a hard link",
        id: "a-plus-b",
        content_type: TAR_GZ,
        archive: || {
            package::tar_gz(&example_with(Entry::Hardlink(
                "tests/06.in".into(),
                "/etc/shadow".into(),
            )))
        },
        status: 400,
        error: "symlink",
        detail: "tests/06.in",
    },
    PackageCase {
        name: "a named pipe",
        id: "a-plus-b",
        content_type: TAR_GZ,
        archive: || package::tar_gz(&example_with(Entry::Fifo("tests/06.in".into()))),
        status: 400,
        error: "special_file",
        detail: "tests/06.in",
    },
    PackageCase {
        name: "a zip bomb (50 MiB of zeros in one entry)",
        id: "bomb",
        content_type: ZIP,
        archive: || package::zip_bomb("bomb", 50),
        status: 400,
        error: "zip_bomb",
        detail: "tests/01.in",
    },
    PackageCase {
        name: "a gzip stream bomb (200 MiB of zeros)",
        id: "bomb",
        content_type: TAR_GZ,
        archive: stream_bomb,
        status: 400,
        error: "zip_bomb",
        detail: "expands more than",
    },
    PackageCase {
        name: "folders nested 12 deep",
        id: "deep",
        content_type: ZIP,
        archive: || package::zip(&minimal_with("deep", [file("a/b/c/d/e/f/g/h/i/j/k/l.txt", "x")])),
        status: 400,
        error: "too_deep",
        detail: "a/b/c",
    },
    PackageCase {
        name: "100,000 tiny files (zip)",
        id: "tiny",
        content_type: ZIP,
        archive: || package::zip(&tiny_files(100_000)),
        status: 400,
        error: "too_many_entries",
        detail: "more than 20000 entries",
    },
    PackageCase {
        name: "100,000 tiny files (tar.gz)",
        id: "tiny",
        content_type: TAR_GZ,
        archive: || package::tar_gz(&tiny_files(100_000)),
        status: 400,
        error: "too_many_entries",
        detail: "more than 20000 entries",
    },
    PackageCase {
        name: "a path used twice",
        id: "a-plus-b",
        content_type: TAR_GZ,
        archive: || package::tar_gz(&example_with(file("tests/01.in", "9 9\n"))),
        status: 400,
        error: "duplicate_entry",
        detail: "tests/01.in",
    },
    PackageCase {
        name: "bytes that are not an archive",
        id: "garbage",
        content_type: ZIP,
        archive: || package::incompressible(4096),
        status: 400,
        error: "not_an_archive",
        detail: "zip",
    },
    PackageCase {
        name: "a truncated zip",
        id: "a-plus-b",
        content_type: ZIP,
        archive: || {
            let whole = package::zip(&package::example(PROBLEM));
            whole[..whole.len() / 2].to_vec()
        },
        status: 400,
        error: "not_an_archive",
        detail: "zip",
    },
    PackageCase {
        name: "a problem missing a case file",
        id: "broken",
        content_type: ZIP,
        archive: || {
            package::zip(&[
                file("problem.toml", package::minimal_problem_toml("broken", &["01", "02"])),
                file("tests/01.in", "1 2\n"),
                file("tests/01.out", "3\n"),
            ])
        },
        status: 422,
        error: "invalid_problem",
        detail: "tests/02.in",
    },
    PackageCase {
        name: "a checker that is not a component",
        id: "checked",
        content_type: ZIP,
        archive: || {
            let mut entries = minimal_with("checked", [file("checker.wasm", b"\0asm\x01\0\0\0")]);
            entries[0] = file(
                "problem.toml",
                package::minimal_problem_toml("checked", &["01"])
                    .replace("plugin = \"tokens\"", "path = \"checker.wasm\""),
            );
            package::zip(&entries)
        },
        status: 422,
        error: "bad_checker",
        detail: "checker.wasm",
    },
];

#[test]
fn hostile_packages_are_refused_with_their_reason_and_nothing_is_stored() {
    let stack = Stack::start();
    let admin = stack.admin();
    let files_before = e2e::files_under(&stack.data_dir());
    let mut failures = Vec::new();
    for case in PACKAGES {
        let reply = admin.put_problem(case.id, case.content_type, (case.archive)());
        let status = reply.status;
        let text = reply.text();
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(error)
                if status == case.status
                    && error.error == case.error
                    && error.detail.contains(case.detail) => {}
            _ => failures.push(format!(
                "{}: got {status} {text}, expected {} {} saying {:?}",
                case.name, case.status, case.error, case.detail
            )),
        }
        admin.get(&format!("/problems/{}", case.id)).expect_error(404);
    }
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
    assert!(admin.problem_ids().is_empty());
    assert_eq!(e2e::files_under(&stack.data_dir()), files_before, "a refused package left files");
    stack.http().get_root("/healthz").expect(200);
}
