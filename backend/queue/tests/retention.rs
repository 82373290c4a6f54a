//! Retention, the schema version and the blob sweep's mark, against a real
//! `redis-server` (one per test, on a free loopback port): a finished run
//! and a finished submission's event log expire after their retention and
//! leave the listings; a backend refuses a Redis whose key schema is newer
//! than it understands; the mark names every blob something refers to.

use std::time::Duration;

use judge_core::report::JudgeReport;
use protocol::runner::{Job, JobResult, JobSpec};
use protocol::runs::{RunJob, RunReport, RunStatus};
use queue::{
    Claim, Fence, LeaseRef, NewRun, NewRunner, NewSubmission, Queue, QueueConfig, QueueError,
    Retention, SCHEMA_VERSION,
};

mod support;

use support::{Fixture, digest};

async fn fixture() -> Fixture {
    let f = support::fixture(QueueConfig::default(), "a-plus-b", &[digest(3), digest(4)]).await;
    let runner = NewRunner {
        checkers: vec!["tokens".into()],
        ..support::runner("rn_a", &["python3"], 8, f.queue.config().runner_ttl())
    };
    f.queue.register_runner(&runner).await.unwrap();
    f
}

async fn raw(f: &Fixture) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(f.redis.url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

async fn submit_run(queue: &Queue, id: &str) {
    let run = NewRun {
        id: id.into(),
        job_id: format!("jb_{id}"),
        language: "python3".into(),
        labels: Vec::new(),
        owner: "cl_1".into(),
        spec: JobSpec::Run(RunJob {
            language: "python3".into(),
            files: [("main.py".to_string(), "print(1)".to_string())].into(),
            entry: "main.py".into(),
            stdin: String::new(),
            args: Vec::new(),
            env: Default::default(),
            time_ms: 1000,
            memory_mb: 64,
            output_bytes: 1024,
            max_artifacts: 4,
            max_artifact_bytes: 1024,
        }),
        idempotency: None,
        cost: 1000,
    };
    queue.submit_run(&run).await.unwrap();
}

fn submission(id: &str, source: u8) -> NewSubmission {
    NewSubmission {
        checker: Some("tokens".into()),
        owner: "cl_1".into(),
        ..support::with_source(id, "a-plus-b", "python3", source)
    }
}

async fn claim(queue: &Queue) -> Job {
    match queue
        .claim(
            "rn_a",
            &format!(
                "lease-{}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ),
            &[],
        )
        .await
        .unwrap()
    {
        Claim::Job(leased) => leased.job,
        other => panic!("no job: {other:?}"),
    }
}

async fn finish(queue: &Queue, job: &Job, result: JobResult) {
    let fence = queue.complete("rn_a", &job.job_id, LeaseRef::Token(&job.lease), &result).await;
    assert_eq!(fence.unwrap(), Fence::Accepted);
}

fn run_report() -> JobResult {
    JobResult::Run(RunReport {
        status: RunStatus::Ok,
        exit_code: Some(0),
        time_ms: 1,
        memory_kb: 1,
        message: String::new(),
        output: Vec::new(),
        artifacts: vec![protocol::runs::ArtifactData {
            name: "out.txt".into(),
            content_base64: "aGk=".into(),
        }],
        artifacts_dropped: Vec::new(),
    })
}

async fn ttl_ms(conn: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("PTTL").arg(key).query_async(conn).await.unwrap()
}

#[tokio::test]
async fn finished_runs_and_submission_event_logs_expire_after_their_retention() {
    let f = fixture().await;
    let mut conn = raw(&f).await;
    let retention =
        Retention { runs: Duration::from_millis(1500), event_logs: Duration::from_secs(3600) };
    f.queue.sweep_retention(retention).await.unwrap();

    submit_run(&f.queue, "ru_1").await;
    f.queue.submit(&submission("sb_1", 5)).await.unwrap();
    let job = claim(&f.queue).await;
    assert_eq!(job.submission_id, "ru_1");
    // Unfinished, nothing expires.
    assert_eq!(ttl_ms(&mut conn, "{gavel}:sub:ru_1").await, -1);
    finish(&f.queue, &job, run_report()).await;
    let job = claim(&f.queue).await;
    finish(&f.queue, &job, JudgeReport::from_tasks(String::new(), Vec::new()).into()).await;

    let run_ttl = ttl_ms(&mut conn, "{gavel}:sub:ru_1").await;
    assert!((1..=1500).contains(&run_ttl), "the run expires with its retention: {run_ttl}");
    assert!(ttl_ms(&mut conn, "{gavel}:sub:ru_1:events").await > 0);
    let log_ttl = ttl_ms(&mut conn, "{gavel}:sub:sb_1:events").await;
    assert!((3_590_000..=3_600_000).contains(&log_ttl), "{log_ttl}");
    assert_eq!(ttl_ms(&mut conn, "{gavel}:sub:sb_1").await, -1, "a submission's record stays");
    assert_eq!(f.queue.recent_runs(10).await.unwrap(), ["ru_1"]);

    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(f.queue.run("ru_1").await.unwrap().is_none(), "the run and its artifacts are gone");
    assert!(f.queue.events("ru_1", 0).await.unwrap().0.is_empty());
    let listed = f.queue.recent_summaries(queue::Listing::Runs, None, 10).await.unwrap();
    assert!(listed.is_empty(), "listings skip expired runs");
    assert_eq!(f.queue.sweep_retention(retention).await.unwrap(), 1);
    assert!(f.queue.recent_runs(10).await.unwrap().is_empty(), "the sweep drops its id");
    assert!(f.queue.submission("sb_1").await.unwrap().is_some());
}

#[tokio::test]
async fn a_run_finished_before_retention_was_set_gets_its_expiry_from_the_sweep() {
    let f = fixture().await;
    let mut conn = raw(&f).await;
    let forever = Retention { runs: Duration::ZERO, event_logs: Duration::ZERO };
    f.queue.sweep_retention(forever).await.unwrap();
    for id in ["ru_1", "ru_2"] {
        submit_run(&f.queue, id).await;
        let job = claim(&f.queue).await;
        finish(&f.queue, &job, run_report()).await;
    }
    submit_run(&f.queue, "ru_3").await;
    assert_eq!(ttl_ms(&mut conn, "{gavel}:sub:ru_1").await, -1, "kept forever");
    assert_eq!(f.queue.sweep_retention(forever).await.unwrap(), 0);

    tokio::time::sleep(Duration::from_millis(50)).await;
    let short = Retention { runs: Duration::from_millis(10), event_logs: Duration::ZERO };
    assert_eq!(f.queue.sweep_retention(short).await.unwrap(), 2, "finished long enough ago");
    assert_eq!(f.queue.recent_runs(10).await.unwrap(), ["ru_3"], "an unfinished run stays");
}

#[tokio::test]
async fn a_backend_refuses_a_newer_key_schema_and_sets_an_absent_one() {
    let f = fixture().await;
    let mut conn = raw(&f).await;
    let stored: String =
        redis::cmd("GET").arg("{gavel}:schema").query_async(&mut conn).await.unwrap();
    assert_eq!(stored, SCHEMA_VERSION.to_string(), "the first backend sets it");
    let newer = SCHEMA_VERSION + 1;
    let _: () =
        redis::cmd("SET").arg("{gavel}:schema").arg(newer).query_async(&mut conn).await.unwrap();
    let error = Queue::connect(&f.redis.url(), QueueConfig::default()).await.err().unwrap();
    assert!(matches!(error, QueueError::Schema { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains(&format!("schema version \"{newer}\"")), "{message}");
    assert!(message.contains("refusing to start"), "{message}");
    let kept: String =
        redis::cmd("GET").arg("{gavel}:schema").query_async(&mut conn).await.unwrap();
    assert_eq!(kept, newer.to_string(), "a refused backend changes nothing");
    // Another prefix is another schema.
    let other = QueueConfig { prefix: "{other}:".into(), ..QueueConfig::default() };
    Queue::connect(&f.redis.url(), other).await.unwrap();
}

#[tokio::test]
async fn the_mark_names_every_blob_a_problem_submission_run_or_checker_refers_to() {
    let f = fixture().await;
    let mut conn = raw(&f).await;
    // A replaced revision nothing names any more, and one a submission names.
    f.queue.put_problem("old", &digest(20), "{}", [digest(21).as_str()]).await.unwrap();
    f.queue.put_problem("old", &digest(22), "{}", [digest(23).as_str()]).await.unwrap();
    f.queue.submit(&submission("sb_1", 5)).await.unwrap();
    f.queue.put_problem("a-plus-b", &digest(6), "{}", [digest(7).as_str()]).await.unwrap();
    let checker = format!(r#"{{"digest":"{}","size":9}}"#, digest(8));
    let _: () = redis::cmd("SET")
        .arg(format!("{{gavel}}:compiled-checker:{}", digest(2)))
        .arg(checker)
        .query_async(&mut conn)
        .await
        .unwrap();

    let live = f.queue.referenced_blobs().await.unwrap();
    for n in [2, 3, 4, 5, 6, 7, 8, 22, 23] {
        assert!(live.contains(&digest(n)), "{n:02x} is referenced: {live:?}");
    }
    for n in [20, 21] {
        assert!(!live.contains(&digest(n)), "{n:02x} is not");
    }
}

#[tokio::test]
async fn one_instance_at_a_time_holds_the_sweep_lock() {
    let f = fixture().await;
    assert!(f.queue.lock_blob_sweep("a", Duration::from_secs(60)).await.unwrap());
    assert!(!f.queue.lock_blob_sweep("b", Duration::from_secs(60)).await.unwrap());
    f.queue.unlock_blob_sweep("b").await.unwrap();
    assert!(!f.queue.lock_blob_sweep("b", Duration::from_secs(60)).await.unwrap(), "not b's");
    f.queue.unlock_blob_sweep("a").await.unwrap();
    assert!(f.queue.lock_blob_sweep("b", Duration::from_millis(50)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(f.queue.lock_blob_sweep("c", Duration::from_secs(60)).await.unwrap(), "expired");
    f.queue.record_blob_sweep(2, 300).await.unwrap();
    let stats = f.queue.stats().await.unwrap();
    assert_eq!((stats.gc_runs, stats.gc_swept_blobs, stats.gc_swept_bytes), (1, 2, 300));
    assert!(stats.gc_last_run_ms > 0);
}
