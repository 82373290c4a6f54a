//! What the queue's tests share: a real `redis-server` per test (on a free
//! loopback port, stopped with the fixture), fake blob digests, and the
//! submission and runner records they store, with defaults each test
//! changes by struct update (`NewSubmission { owner, ..submission(…) }`).

// Each test file is its own crate and uses only part of this.
#![allow(dead_code)]

use std::time::Duration;

use protocol::runner::{BlobRef, JobSpec, ProblemRef};
use queue::managed::ManagedRedis;
use queue::{NewRunner, NewSubmission, Queue, QueueConfig};

/// A queue on its own `redis-server`, and the folder the server keeps.
pub struct Fixture {
    pub queue: Queue,
    pub redis: ManagedRedis,
    _dir: tempfile::TempDir,
}

/// A fresh `redis-server` and a queue on it with `config`, holding problem
/// `problem` at revision [`REVISION`], whose files are the blobs `blobs`.
pub async fn fixture(config: QueueConfig, problem: &str, blobs: &[String]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let redis = ManagedRedis::start(dir.path(), 0).expect("redis-server (run `cargo xtask setup`)");
    let queue = Queue::connect(&redis.url(), config).await.unwrap();
    let blobs = blobs.iter().map(String::as_str);
    queue.put_problem(problem, &digest(REVISION), "{}", blobs).await.unwrap();
    Fixture { queue, redis, _dir: dir }
}

/// A SHA-256-shaped digest made of the byte `n`.
pub fn digest(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// The byte of the problem revision every test submission is for.
pub const REVISION: u8 = 2;

/// The byte of a submission's source digest unless a test says otherwise.
pub const SOURCE: u8 = 1;

/// Submission `sid` of `problem` (at [`REVISION`]) in `language`, its
/// source [`SOURCE`]: owner `admin`, no checker, label or key, cost 1000.
pub fn submission(sid: &str, problem: &str, language: &str) -> NewSubmission {
    with_source(sid, problem, language, SOURCE)
}

/// [`submission`] with the source digest made of the byte `source`.
pub fn with_source(sid: &str, problem: &str, language: &str, source: u8) -> NewSubmission {
    let source = BlobRef { digest: digest(source), size: 10 };
    NewSubmission {
        id: sid.into(),
        job_id: format!("jb_{sid}"),
        problem_id: problem.into(),
        revision: digest(REVISION),
        source: source.digest.clone(),
        language: language.into(),
        checker: None,
        labels: vec![],
        owner: "admin".into(),
        max_score: 100.0,
        spec: JobSpec::Judge {
            language: language.into(),
            source,
            source_text: None,
            problem: ProblemRef {
                id: problem.into(),
                manifest: BlobRef { digest: digest(REVISION), size: 100 },
            },
            compiled_checker: None,
        },
        normal_oj: None,
        idempotency: None,
        cost: 1000,
    }
}

/// Runner `id` offering `languages` with `slots`: no label or checker,
/// registered for `ttl`.
pub fn runner(id: &str, languages: &[&str], slots: u32, ttl: Duration) -> NewRunner {
    NewRunner {
        id: id.into(),
        token_hash: format!("hash-of-{id}"),
        name: id.into(),
        labels: vec![],
        slots,
        languages: languages.iter().map(|s| s.to_string()).collect(),
        checkers: vec![],
        plugins_json: "[]".into(),
        dialect: "",
        ttl,
    }
}
