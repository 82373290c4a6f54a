//! Scaling out: backend instances sharing one Redis and one S3-compatible
//! blob store (`--blob-store s3://…` on a real S3-protocol server on
//! loopback, `blobstore::testing`), and runners failing over between them;
//! and the blob store streaming a large package in bounded memory, on both
//! stores.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test scale_out`.
//! Needs `redis-server` on PATH and python3 with venv (the S3 test server,
//! moto, is installed under the target dir when missing; `cargo xtask
//! setup` installs all three).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use e2e::api::{Client, Http, SOON};
use e2e::burst::memory_mib;
use e2e::fleet::{RunnerOptions, RunnerProcess};
use e2e::package::{self, ZIP, file};
use e2e::runner::{TestRunner, sha256_hex};
use e2e::stack::{ADMIN_TOKEN, Stack};
use judge_core::verdict::Status;
use protocol::client::{SubmissionView, SubmitRequest, SubmitResponse};
use protocol::runner::{JobSpec, ProblemManifest};
use reqwest::Method;

/// How much the backend's resident set may grow while a 200 MiB package
/// goes in and its largest file comes back out.
const RSS_GROWTH_LIMIT_MIB: f64 = 64.0;
const BIG_MIB: usize = 200;

/// A stored-not-deflated zip of a problem whose one input is `mib` MiB, in
/// a temp file.
fn big_package(id: &str, mib: usize) -> tempfile::NamedTempFile {
    let out = tempfile::NamedTempFile::new().expect("a temp file");
    let mut zip = zip::ZipWriter::new(out.reopen().expect("the temp file"));
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    zip.start_file("problem.toml", stored).unwrap();
    zip.write_all(package::minimal_problem_toml(id, &["01"]).as_bytes()).unwrap();
    zip.start_file("tests/01.out", stored).unwrap();
    zip.write_all(b"0\n").unwrap();
    zip.start_file("tests/01.in", stored).unwrap();
    // Incompressible, different in every MiB, so nothing stored twice.
    let mib_of = package::incompressible((1 << 20) + 8 * mib);
    for n in 0..mib {
        zip.write_all(&mib_of[8 * n..8 * n + (1 << 20)]).unwrap();
    }
    zip.finish().unwrap();
    out
}

/// An HTTP client with time for large bodies.
fn slow_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(300)).build().unwrap()
}

/// Pushes a 200 MiB package through the stack's backend and reads its
/// input back (streamed, hashed in chunks); the backend's peak resident
/// set minus its resident set before, in MiB.
fn push_and_read_big(stack: &Stack) -> f64 {
    let pid = stack.backend_pid().expect("the backend runs");
    // A small push first: what any first upload allocates is not growth.
    let small = package::zip(&[
        file("problem.toml", package::minimal_problem_toml("warm", &["01"])),
        file("tests/01.in", "1\n"),
        file("tests/01.out", "1\n"),
    ]);
    stack.admin().create_problem("warm", ZIP, small);
    let package = big_package("big", BIG_MIB);
    let before = memory_mib(pid, "VmRSS");
    let http = slow_client();
    let pushing = Instant::now();
    let url = stack.http().url("/problems/big");
    let body = std::fs::File::open(package.path()).unwrap();
    let pushed = http
        .put(url)
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", ZIP)
        .body(reqwest::blocking::Body::new(body))
        .send()
        .unwrap();
    assert_eq!(pushed.status(), 201, "{:?}", pushed.text());
    let pushed_in = pushing.elapsed();
    let view: protocol::client::ProblemView = pushed.json().unwrap();
    assert!(view.bytes > (BIG_MIB as u64) << 20, "{view:?}");
    let manifest: ProblemManifest =
        stack.admin().get(&format!("/blobs/{}", view.revision)).expect(200).json();
    let input = &manifest.files["tests/01.in"];
    assert_eq!(input.size, (BIG_MIB as u64) << 20);
    let reading = Instant::now();
    let mut response = http
        .get(stack.http().url(&format!("/blobs/{}", input.digest)))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let mut buffer = vec![0; 1 << 16];
    let mut size = 0;
    loop {
        let n = response.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        sha2::Digest::update(&mut hasher, &buffer[..n]);
        size += n;
    }
    assert_eq!(size, BIG_MIB << 20);
    assert_eq!(hex::encode(sha2::Digest::finalize(hasher)), input.digest);
    let read_in = reading.elapsed();
    let peak = memory_mib(pid, "VmHWM");
    // Figures for docs/BENCHMARKS.md (printed, not asserted).
    eprintln!(
        "{BIG_MIB} MiB package: pushed in {:.1} s, its input read back in {:.1} s; backend \
         resident set {before:.0} MiB before, peak {peak:.0} MiB",
        pushed_in.as_secs_f64(),
        read_in.as_secs_f64()
    );
    peak - before
}

#[test]
fn a_200_mib_package_streams_through_either_store_in_bounded_memory() {
    type Start = fn() -> Stack;
    let stores: [(&str, Start); 2] =
        [("file://", Stack::start), ("s3://", || Stack::start_on_s3(&[]))];
    for (store, start) in stores {
        let growth = push_and_read_big(&start());
        assert!(
            growth < RSS_GROWTH_LIMIT_MIB,
            "{store}: the backend grew by {growth:.0} MiB for a {BIG_MIB} MiB package"
        );
    }
}

/// A JavaScript solution of the problems below (`a b` → `a + b`).
const ACCEPTED: &str = "const [a, b] = readline().split(' ').map(Number);\nprint(a + b);\n";
const WRONG: &str = "print(0);\n";

/// One submission of the burst: which problem, which source, what verdict.
fn nth_submission(n: usize) -> (&'static str, String, Status) {
    let problem = if n.is_multiple_of(2) { "sum-a" } else { "sum-b" };
    match n % 10 {
        // Over 64 KiB: stored as a blob by whichever instance took it.
        3 => (problem, format!("{ACCEPTED}// {}\n", "x".repeat(70 << 10)), Status::Accepted),
        7 => (problem, WRONG.to_string(), Status::WrongAnswer),
        _ => (problem, format!("{ACCEPTED}// {n}\n"), Status::Accepted),
    }
}

/// `POST /submissions` with idempotency key `key` on instance `first`,
/// sent again on the other instances (backing off) while it gets no
/// answer or a `5xx`; the id, or why not.
fn submit(backends: &[Http], token: &str, n: usize, key: &str) -> Result<String, String> {
    let (problem, source, _) = nth_submission(n);
    let request = SubmitRequest {
        problem_id: problem.into(),
        language: "javascript".into(),
        source,
        labels: Vec::new(),
    };
    let mut why = String::new();
    for attempt in 0..6 {
        let http = &backends[(n + attempt) % backends.len()];
        let builder = http
            .request(Method::POST, "/submissions", Some(token))
            .header("Idempotency-Key", key)
            .json(&request);
        match http.try_send("POST /submissions".into(), builder) {
            Ok(reply) if reply.status == 201 => {
                return Ok(reply.json::<SubmitResponse>().submission_id);
            }
            Ok(reply) if reply.status < 500 => {
                return Err(format!("{} {}", reply.status, reply.text()));
            }
            Ok(reply) => why = reply.status.to_string(),
            Err(e) => why = e,
        }
        std::thread::sleep(Duration::from_millis(100 << attempt));
    }
    Err(why)
}

#[test]
fn two_backends_on_one_store_judge_a_burst_while_one_is_killed() {
    const SUBMISSIONS: usize = 1_000;
    const KILL_AFTER: usize = 300;
    let mut stack = Stack::start_on_s3(&[]);
    let b = stack.start_another_backend();
    let a = stack.http();
    let (a_url, b_url) = (stack.url(), b.root_url(""));
    let admin_a = stack.admin();
    let admin_b = Client::new(b.clone(), ADMIN_TOKEN);
    let problem = |id: &str| {
        package::zip(&[
            file("problem.toml", package::minimal_problem_toml(id, &["01", "02"])),
            file("tests/01.in", "1 2\n"),
            file("tests/01.out", "3\n"),
            file("tests/02.in", "20 22\n"),
            file("tests/02.out", "42\n"),
        ])
    };
    // Each problem pushed through one instance only.
    let sum_a = admin_a.create_problem("sum-a", ZIP, problem("sum-a"));
    admin_b.create_problem("sum-b", ZIP, problem("sum-b"));
    let token = admin_a.create_client("burst").token;

    // A job for the problem pushed through A, taken from B: B serves its
    // blobs (and a large source stored through A) from the shared store.
    let scripted = TestRunner::register(&b, "scripted");
    let client_a = Client::new(a.clone(), &token);
    let big = nth_submission(3).1;
    client_a.submit_ok("sum-a", "javascript", &big);
    let job = scripted.claim(SOON);
    let JobSpec::Judge { problem: problem_ref, source, .. } = &job.spec else {
        panic!("a judge job")
    };
    assert_eq!(problem_ref.manifest.digest, sum_a.revision);
    let manifest: ProblemManifest = scripted.blob(&problem_ref.manifest.digest).expect(200).json();
    for blob in manifest.files.values().chain([source]) {
        assert_eq!(sha256_hex(&scripted.blob(&blob.digest).expect(200).body), blob.digest);
    }
    scripted.complete(&job, &e2e::runner::report(&sum_a, Status::Accepted)).expect(200);

    // Real runners: one on A, one on B, one given both.
    let runners = [
        RunnerProcess::start(&a_url, RunnerOptions::new("on-a").slots(2).without_docker()),
        RunnerProcess::start(&b_url, RunnerOptions::new("on-b").slots(2).without_docker()),
        RunnerProcess::start(
            &format!("{a_url},{b_url}"),
            RunnerOptions::new("on-both").slots(2).without_docker(),
        ),
    ];
    for runner in &runners {
        runner.wait_listed(&admin_b, Duration::from_secs(60));
    }

    // The burst, from four threads alternating between the instances; A is
    // killed once KILL_AFTER are accepted.
    let started = Instant::now();
    let backends = [a.clone(), b.clone()];
    let accepted: Mutex<BTreeMap<String, usize>> = Mutex::default();
    let refused: Mutex<Vec<String>> = Mutex::default();
    let next = AtomicUsize::new(0);
    let killed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= SUBMISSIONS {
                        return;
                    }
                    match submit(&backends, &token, n, &format!("scale-out-{n}")) {
                        Ok(id) => {
                            accepted.lock().unwrap().insert(id, n);
                        }
                        Err(why) => refused.lock().unwrap().push(format!("#{n}: {why}")),
                    }
                }
            });
        }
        while accepted.lock().unwrap().len() < KILL_AFTER
            && next.load(Ordering::SeqCst) < SUBMISSIONS
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        stack.kill_backend();
        killed.store(true, Ordering::SeqCst);
        eprintln!("killed instance A after {} accepted", accepted.lock().unwrap().len());
    });
    assert!(killed.load(Ordering::SeqCst));
    let accepted = accepted.into_inner().unwrap();
    let refused = refused.into_inner().unwrap();
    assert!(refused.is_empty(), "refused: {refused:?}");
    assert_eq!(accepted.len(), SUBMISSIONS);
    eprintln!("{SUBMISSIONS} accepted in {:?}", started.elapsed());

    // Every one judged, through B.
    admin_b.wait_drained(Duration::from_secs(90));
    eprintln!("all judged {:?} after the first submission", started.elapsed());
    let client_b = Client::new(b.clone(), &token);
    let mut wrong = Vec::new();
    for (id, n) in &accepted {
        let view: SubmissionView = client_b.submission(id);
        let expected = nth_submission(*n).2;
        if view.status != expected {
            wrong.push(format!(
                "#{n} {id}: {:?} ({}), expected {expected:?}",
                view.status, view.message
            ));
        }
    }
    assert!(wrong.is_empty(), "{} wrong: {wrong:?}", wrong.len());

    // None lost or duplicated: Redis holds exactly the accepted ones (and
    // the scripted one), each with one verdict, each completion counted once.
    let facts = e2e::chaos::redis_facts(&stack.redis_url(), accepted.keys()).unwrap();
    assert_eq!(facts.stored.len(), SUBMISSIONS + 1, "a retried POST stored twice");
    assert!(accepted.keys().all(|id| facts.stored.contains(id)));
    assert!(facts.not_final.is_empty(), "{:?}", facts.not_final);
    let repeated: Vec<_> = facts.finished_events.iter().filter(|(_, n)| **n != 1).collect();
    assert!(repeated.is_empty(), "finished events: {repeated:?}");
    assert_eq!(facts.completed, facts.jobs_done);

    // The runner given both URLs went on through B.
    let both = &runners[2];
    assert!(both.log_count("now calling this backend instance") > 0, "{}", both.log_tail());
}
