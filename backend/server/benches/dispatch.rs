//! Dispatch benchmark: how fast the backend hands a submission to a waiting
//! runner, and how many no-op jobs it pushes through per second.
//!
//! `cargo bench -p server --bench dispatch` starts a real `redis-server`
//! (AOF, `appendfsync always`, as `gavel up` runs it) in a temp dir and the
//! backend in process on a loopback port (its blob store in the same temp
//! dir, shard directories already there), uploads a one-case problem, then:
//!
//! - **Dispatch latency**: runners park in `GET /runners/{rid}/jobs/next`;
//!   the driver submits one job at a time (`POST /submissions`, admin token)
//!   and measures from just before the submit request is sent to the moment
//!   a runner holds the whole body of its long-poll answer. Nothing is
//!   subtracted. Each job is then completed, and the next submit waits until
//!   the runner is parked again. A run stops early after 20 s.
//! - **Throughput**: submitters and runners run concurrently; jobs/s is the
//!   number of jobs over the wall time from the first submit to the last
//!   completion, every step over HTTP (keep-alive). Each runner slot asks
//!   for its next job with each result (`next: true`, as `gavel runner`
//!   does) and long-polls only when none came. The same cycle against
//!   `queue::Queue` directly (no HTTP, no blob store) shows Redis's share.
//! - **Backlog** (fair dispatch at work): clients (1, then 8) each queue
//!   their share of the jobs over HTTP with their own tokens (untimed);
//!   then 2 runners × 4 slots drain the backlog, every job through a claim
//!   that must choose among the clients' queues. Claims/s is the jobs over
//!   the drain's wall time; the claim round trip is each `GET /jobs/next`
//!   or `PUT complete` with `next: true` that brought a job, as the runner
//!   saw it. It uses the HTTP API only, so the same bench measures a
//!   backend from before fair dispatch (whose clients have no quotas to
//!   raise).
//!
//! Environment: `GAVEL_BENCH_JOBS` (default 5000) sets the jobs per
//! throughput run, and the latency runs take 2/5 as many samples;
//! `GAVEL_BENCH_SLOTS` (default 4) sets each throughput runner's slots
//! (concurrent long-poll loops); `GAVEL_BENCH_SUBMITTERS` (default 8) the
//! concurrent submitters; `GAVEL_BENCH_ONLY=latency,http,queue,backlog`
//! picks parts;
//! `GAVEL_BENCH_NEXT=0` makes runners complete without asking for the next
//! job (every job then costs a slot a `jobs/next` round trip).
//! Everything (backend, runners, driver) shares one tokio runtime with one
//! worker thread per core, next to redis-server, on the same machine.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use judge_core::report::JudgeReport;
use protocol::client::{SubmitRequest, SubmitResponse};
use protocol::runner::{
    BlobRef, CompleteRequest, CompleteResponse, Job, JobResult, JobSpec, PluginKind, PluginRef,
    ProblemRef, RegisterRequest, RegisterResponse,
};
use queue::managed::ManagedRedis;
use queue::{Claim, LeaseRef, NewRunner, NewSubmission, Queue, QueueConfig};
use reqwest::StatusCode;
use server::{Backend, Config};
use tokio::sync::mpsc;

const ADMIN_TOKEN: &str = "bench-admin-token";
const REGISTRATION_TOKEN: &str = "bench-registration-token";
const PROBLEM: &str = "bench";
const LANGUAGE: &str = "javascript";
const CHECKER: &str = "tokens";
/// Long-poll wait the runners ask for.
const WAIT_MS: u64 = 30_000;
/// After a completion, how long the latency driver waits before the next
/// submit, so the runner's next long-poll is parked on the backend.
const SETTLE: Duration = Duration::from_millis(2);
/// Longest wait for any single step before the bench gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// A latency run stops early after this long (on a machine busy with other
/// work), and says how many samples it took.
const LATENCY_BUDGET: Duration = Duration::from_secs(20);
/// Untimed submissions before a latency run's samples.
const LATENCY_WARMUP: usize = 100;
/// Jobs of the sequential Queue-only run (its per-job cost is steady).
const SEQUENTIAL_JOBS: usize = 1000;

/// What to run, from the environment.
#[derive(Debug, Clone, Copy)]
struct Settings {
    /// Jobs per throughput run.
    jobs: usize,
    /// Samples per latency run.
    samples: usize,
    /// Slots (concurrent long-poll loops) of each throughput runner.
    slots: usize,
    /// Concurrent submitters in the throughput runs.
    submitters: usize,
    /// Whether runners ask for their next job with each result.
    take_next: bool,
    latency: bool,
    http: bool,
    queue: bool,
    backlog: bool,
}

fn main() -> anyhow::Result<()> {
    let jobs = env_usize("GAVEL_BENCH_JOBS", 5000).max(100);
    let only = std::env::var("GAVEL_BENCH_ONLY").unwrap_or_default();
    let part = |name: &str| only.is_empty() || only.split(',').any(|p| p.trim() == name);
    let settings = Settings {
        jobs,
        samples: (jobs * 2 / 5).max(50),
        slots: env_usize("GAVEL_BENCH_SLOTS", 4).clamp(1, 256),
        submitters: env_usize("GAVEL_BENCH_SUBMITTERS", 8).clamp(1, 256),
        take_next: env_usize("GAVEL_BENCH_NEXT", 1) != 0,
        latency: part("latency"),
        http: part("http"),
        queue: part("queue"),
        backlog: part("backlog"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(settings))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let Settings { jobs, samples, slots, submitters, take_next, .. } = settings;
    let started = Instant::now();
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    println!("Gavel dispatch benchmark");
    println!("machine:  {}", machine());
    println!(
        "setup:    redis-server {} (AOF, appendfsync always) in a temp dir; backend, runners and \
         driver in one process (tokio, {workers} worker threads); HTTP/1.1 keep-alive on \
         loopback;\n          blob store (every source is a new fsynced file) in the same dir, \
         its 256 shard directories pre-created{}",
        redis_version(),
        if cfg!(debug_assertions) { "; WARNING: unoptimised build" } else { "" },
    );
    println!("disk:     {} (before the runs)", fsync_probe()?);
    println!();
    let cpu_before = CpuTicks::now();

    let mut latency = Vec::new();
    for runners in [1, 8].into_iter().filter(|_| settings.latency) {
        eprintln!("latency: {runners} runner(s), {samples} samples ...");
        latency.push((runners, latency_run(runners, samples, take_next).await?));
    }
    let mut throughput = Vec::new();
    for runners in [1, 8].into_iter().filter(|_| settings.http) {
        eprintln!("throughput over HTTP: {runners} runner(s) x {slots} slots, {jobs} jobs ...");
        throughput.push(throughput_run(runners, slots, submitters, jobs, take_next).await?);
    }
    let mut queue_only = Vec::new();
    for concurrency in [1, 16, 64].into_iter().filter(|_| settings.queue) {
        let jobs = if concurrency == 1 { jobs.min(SEQUENTIAL_JOBS) } else { jobs };
        eprintln!("throughput, Queue only: {concurrency} task(s), {jobs} jobs ...");
        queue_only.push((concurrency, jobs, queue_only_run(concurrency, jobs).await?));
    }

    let mut backlogs = Vec::new();
    for clients in [1, 8].into_iter().filter(|_| settings.backlog) {
        eprintln!("backlog: {clients} client(s), {jobs} jobs, 2 runners x 4 slots ...");
        backlogs.push(backlog_run(clients, jobs, 2, 4).await?);
    }

    if !latency.is_empty() {
        println!("{}", latency_table(&latency));
    }
    if !backlogs.is_empty() {
        println!("{}", backlog_table(&backlogs));
    }
    if !throughput.is_empty() || !queue_only.is_empty() {
        println!("{}", throughput_table(&throughput, &queue_only, submitters, jobs, take_next));
    }
    if let (Some(before), Some(after)) = (cpu_before, CpuTicks::now()) {
        let seconds = |f: fn(&CpuTicks) -> u64| f(&after).saturating_sub(f(&before)) as f64 / 100.0;
        let own = seconds(|t| t.own);
        println!(
            "cpu:      this bench and its redis-servers {own:.1} core-s; everything else {:.1} \
             core-s (kernel threads included), hypervisor steal {:.1} core-s",
            (seconds(|t| t.busy) - own).max(0.0),
            seconds(|t| t.steal),
        );
    }
    println!("disk:     {} (after the runs)", fsync_probe()?);
    println!("total bench time: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

// ---- environment ----

/// A Redis and a backend in a temp dir, with the problem uploaded.
struct Env {
    backend: Backend,
    redis: ManagedRedis,
    base: String,
    _dir: tempfile::TempDir,
}

impl Env {
    async fn start() -> anyhow::Result<Env> {
        let dir = tempfile::tempdir()?;
        // A blob store in its steady state: the 256 shard directories exist
        // (as they do after its first few thousand blobs), so no submission
        // pays for creating one.
        for shard in 0..=255u8 {
            std::fs::create_dir_all(dir.path().join(format!("data/blobs/{shard:02x}")))?;
        }
        let redis = ManagedRedis::start(&dir.path().join("redis"), 0)?;
        let config = Config {
            listen: ([127, 0, 0, 1], 0).into(),
            redis: queue::RedisTarget::Url(redis.url()),
            replication: queue::Replication::default(),
            redis_timeout: queue::DEFAULT_REDIS_TIMEOUT,
            data_dir: dir.path().join("data"),
            blob_store: blobstore::Location::File(dir.path().join("data")),
            admin_token: ADMIN_TOKEN.into(),
            registration_token: REGISTRATION_TOKEN.into(),
            lease_ttl: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(10),
            max_attempts: 3,
            max_source_bytes: 256 << 10,
            max_package_bytes: 16 << 20,
            unpack_limits: problem_package::UnpackLimits::default(),
            public_url: None,
            normal_oj_sandbox_token: String::new(),
            webhook_allow: Vec::new(),
            retention: queue::Retention::default(),
            blob_gc_interval: None,
            blob_gc_grace: Duration::from_secs(3600),
            test_blob_gc_hold: None,
            test_webhook_hosts: None,
            tls: None,
        };
        let backend = Backend::start(config).await?;
        let base = format!("http://{}{}", backend.addr, protocol::API_BASE);
        let env = Env { backend, redis, base, _dir: dir };
        let answer = client()?
            .put(format!("{}/problems/{PROBLEM}", env.base))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/gzip")
            .body(problem_package()?)
            .send()
            .await?;
        ensure!(answer.status().is_success(), "problem upload: {}", answer.text().await?);
        Ok(env)
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.backend.shutdown().await?;
        drop(self.redis);
        Ok(())
    }

    async fn register(&self, name: &str, slots: u32, take_next: bool) -> anyhow::Result<Runner> {
        let http = client()?;
        let request = RegisterRequest {
            name: name.into(),
            labels: vec![],
            slots,
            languages: vec![LANGUAGE.into()],
            plugins: vec![PluginRef {
                id: CHECKER.into(),
                kind: PluginKind::Checker,
                digest: "ab".repeat(32),
            }],
        };
        let answer = http
            .post(format!("{}/runners/register", self.base))
            .bearer_auth(REGISTRATION_TOKEN)
            .json(&request)
            .send()
            .await?;
        ensure!(answer.status() == StatusCode::CREATED, "register: {}", answer.text().await?);
        let registered: RegisterResponse = answer.json().await?;
        Ok(Runner {
            next_url: format!(
                "{}/runners/{}/jobs/next?wait_ms={WAIT_MS}",
                self.base, registered.runner_id
            ),
            complete_base: format!("{}/runners/{}/jobs", self.base, registered.runner_id),
            token: registered.token,
            http,
            take_next,
        })
    }
}

/// One keep-alive HTTP client (its own connection pool).
fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(64)
        .build()?)
}

/// A native problem package, tar.gz: `problem.toml` and one case.
fn problem_package() -> anyhow::Result<Vec<u8>> {
    let files: [(&str, &[u8]); 3] = [
        (
            "problem.toml",
            b"id = \"bench\"\ntitle = \"Bench\"\n\n[limits]\ntime_ms = 1000\nmemory_mb = 64\n\n\
              [checker]\nplugin = \"tokens\"\n",
        ),
        ("tests/1.in", b"1 2\n"),
        ("tests/1.out", b"3\n"),
    ];
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, path, data)?;
    }
    Ok(tar.into_inner()?.finish()?)
}

/// A registered runner speaking the pull protocol over its own client.
struct Runner {
    token: String,
    next_url: String,
    complete_base: String,
    http: reqwest::Client,
    /// Ask for the next job with each result.
    take_next: bool,
}

impl Runner {
    /// One long-poll: the job and when its body had fully arrived, or `None`
    /// on 204.
    async fn next(&self) -> anyhow::Result<Option<(Job, Instant)>> {
        let answer = self.http.get(&self.next_url).bearer_auth(&self.token).send().await?;
        match answer.status() {
            StatusCode::OK => {
                let body = answer.bytes().await?;
                let received = Instant::now();
                Ok(Some((serde_json::from_slice(&body)?, received)))
            }
            StatusCode::NO_CONTENT => Ok(None),
            status => bail!("jobs/next answered {status}: {}", answer.text().await?),
        }
    }

    /// Completes a job as AC with an empty report; returns the next job
    /// when the runner asks for it and one came with the answer.
    async fn complete(&self, job: &Job) -> anyhow::Result<Option<Job>> {
        let request = CompleteRequest {
            lease: job.lease.clone(),
            result: JudgeReport::from_tasks(String::new(), vec![]).into(),
            next: self.take_next,
        };
        let answer = self
            .http
            .put(format!("{}/{}/complete", self.complete_base, job.job_id))
            .bearer_auth(&self.token)
            .json(&request)
            .send()
            .await?;
        ensure!(answer.status() == StatusCode::OK, "complete: {}", answer.text().await?);
        Ok(serde_json::from_slice::<CompleteResponse>(&answer.bytes().await?)?.next)
    }
}

/// Submits job `n` (its source is unique, as real submissions are).
async fn submit(http: &reqwest::Client, url: &str, n: usize) -> anyhow::Result<String> {
    submit_as(http, url, ADMIN_TOKEN, n).await
}

/// [`submit`] with `token` (the admin's or a client's).
async fn submit_as(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    n: usize,
) -> anyhow::Result<String> {
    let request = SubmitRequest {
        problem_id: PROBLEM.into(),
        language: LANGUAGE.into(),
        source: format!("// submission {n}\nconsole.log(3);\n"),
        labels: vec![],
    };
    let answer = http.post(url).bearer_auth(token).json(&request).send().await?;
    ensure!(answer.status() == StatusCode::CREATED, "submit: {}", answer.text().await?);
    Ok(answer.json::<SubmitResponse>().await?.submission_id)
}

async fn within<T>(what: &str, future: impl Future<Output = Option<T>>) -> anyhow::Result<T> {
    tokio::time::timeout(STEP_TIMEOUT, future)
        .await
        .with_context(|| format!("timed out waiting for {what}"))?
        .with_context(|| format!("{what}: a task stopped (see the error above)"))
}

// ---- dispatch latency ----

enum Seen {
    /// A runner got the job of this submission at this instant.
    Leased(String, Instant),
    /// The runner completed it and is about to long-poll again.
    Completed(String),
}

struct LatencyResult {
    dispatch: Vec<Duration>,
    submit: Vec<Duration>,
}

async fn latency_run(
    runners: usize,
    samples: usize,
    take_next: bool,
) -> anyhow::Result<LatencyResult> {
    let env = Env::start().await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for i in 0..runners {
        let runner = env.register(&format!("latency-{i}"), 4, take_next).await?;
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let result: anyhow::Result<()> = async {
                loop {
                    let Some((job, at)) = runner.next().await? else { continue };
                    let _ = tx.send(Seen::Leased(job.submission_id.clone(), at));
                    // Nothing else is queued: no next job comes with the answer.
                    ensure!(runner.complete(&job).await?.is_none(), "a job nobody submitted");
                    let _ = tx.send(Seen::Completed(job.submission_id));
                }
            }
            .await;
            if let Err(e) = result {
                eprintln!("runner: {e:#}");
            }
        }));
    }
    drop(tx);
    // Let every runner park its first long-poll.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let http = client()?;
    let url = format!("{}/submissions", env.base);
    let mut result = LatencyResult { dispatch: vec![], submit: vec![] };
    let started = Instant::now();
    for n in 0..LATENCY_WARMUP + samples {
        if n > LATENCY_WARMUP && started.elapsed() > LATENCY_BUDGET {
            eprintln!(
                "latency: stopped after {} samples ({LATENCY_BUDGET:?} budget)",
                n - LATENCY_WARMUP
            );
            break;
        }
        let sent = Instant::now();
        let sid = submit(&http, &url, n).await?;
        let submitted = sent.elapsed();
        let (mut leased_at, mut completed) = (None, false);
        while leased_at.is_none() || !completed {
            match within("the job to reach a runner", rx.recv()).await? {
                Seen::Leased(s, at) if s == sid => leased_at = Some(at),
                Seen::Completed(s) if s == sid => completed = true,
                Seen::Leased(s, _) | Seen::Completed(s) => bail!("unexpected submission {s}"),
            }
        }
        if n >= LATENCY_WARMUP {
            result.submit.push(submitted);
            result.dispatch.push(leased_at.unwrap_or(sent).duration_since(sent));
        }
        tokio::time::sleep(SETTLE).await;
    }
    for task in &tasks {
        task.abort();
    }
    env.stop().await?;
    Ok(result)
}

// ---- throughput ----

struct ThroughputResult {
    runners: usize,
    slots: usize,
    wall: Duration,
    submit_wall: Duration,
    /// Redis's commands over the timed part.
    redis: Vec<CommandStat>,
}

async fn throughput_run(
    runners: usize,
    slots: usize,
    submitters: usize,
    jobs: usize,
    take_next: bool,
) -> anyhow::Result<ThroughputResult> {
    let env = Env::start().await?;
    let (tx, mut done) = mpsc::unbounded_channel::<()>();
    let mut tasks = Vec::new();
    for i in 0..runners {
        let name = format!("throughput-{i}");
        let runner = Arc::new(env.register(&name, slots as u32, take_next).await?);
        for _ in 0..slots {
            let (runner, tx) = (runner.clone(), tx.clone());
            tasks.push(tokio::spawn(async move {
                let result: anyhow::Result<()> = async {
                    let mut next = None;
                    loop {
                        let job = match next.take() {
                            Some(job) => job,
                            None => match runner.next().await? {
                                Some((job, _)) => job,
                                None => continue,
                            },
                        };
                        next = runner.complete(&job).await?;
                        let _ = tx.send(());
                    }
                }
                .await;
                if let Err(e) = result {
                    eprintln!("runner: {e:#}");
                }
            }));
        }
    }
    drop(tx);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let http = client()?;
    let url = Arc::new(format!("{}/submissions", env.base));
    let submit_all = |first: usize, count: usize| {
        let mut tasks = Vec::new();
        for s in 0..submitters {
            let (http, url) = (http.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                for n in (first + s..first + count).step_by(submitters) {
                    submit(&http, &url, n).await?;
                }
                anyhow::Ok(())
            }));
        }
        tasks
    };
    // Warm-up: connections open, caches filled.
    let warmup = jobs / 20;
    for submitter in submit_all(0, warmup) {
        submitter.await??;
    }
    for _ in 0..warmup {
        within("a warm-up completion", done.recv()).await?;
    }

    redis_reset_stats(&env.redis.url()).await?;
    let started = Instant::now();
    let submitting = submit_all(warmup, jobs);
    let waiting = async {
        for _ in 0..jobs {
            within("a completion", done.recv()).await?;
        }
        anyhow::Ok(started.elapsed())
    };
    let submitting = async {
        for submitter in submitting {
            submitter.await??;
        }
        anyhow::Ok(started.elapsed())
    };
    let (wall, submit_wall) = tokio::try_join!(waiting, submitting)?;
    let redis = redis_command_stats(&env.redis.url()).await?;
    for task in &tasks {
        task.abort();
    }
    env.stop().await?;
    Ok(ThroughputResult { runners, slots, wall, submit_wall, redis })
}

/// The same cycle straight on `queue::Queue`: `concurrency` tasks each loop
/// submit → claim → complete on one multiplexed connection.
async fn queue_only_run(concurrency: usize, jobs: usize) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let redis = ManagedRedis::start(dir.path(), 0)?;
    let queue = Queue::connect(&redis.url(), QueueConfig::default()).await?;
    let runner_id = "rn_bench".to_string();
    queue
        .register_runner(&NewRunner {
            id: runner_id.clone(),
            token_hash: "00".repeat(32),
            name: "bench".into(),
            labels: vec![],
            slots: 1024,
            languages: vec![LANGUAGE.into()],
            checkers: vec![CHECKER.into()],
            plugins_json: "[]".into(),
            dialect: "",
            ttl: queue.config().runner_ttl(),
        })
        .await?;
    queue.put_problem(PROBLEM, &"ef".repeat(32), "{}", []).await?;
    let blob = |digest: &str| BlobRef { digest: digest.repeat(32), size: 10 };
    let spec = JobSpec::Judge {
        language: LANGUAGE.into(),
        source: blob("cd"),
        source_text: Some("x".into()),
        problem: ProblemRef { id: PROBLEM.into(), manifest: blob("ef") },
        compiled_checker: None,
    };
    let report: JobResult = JudgeReport::from_tasks(String::new(), vec![]).into();
    let cycle = |n: usize| {
        let (queue, spec, report, runner_id) =
            (queue.clone(), spec.clone(), report.clone(), runner_id.clone());
        async move {
            queue
                .submit(&NewSubmission {
                    id: format!("sb_{n}"),
                    job_id: format!("jb_{n}"),
                    problem_id: PROBLEM.into(),
                    revision: "ef".repeat(32),
                    source: "cd".repeat(32),
                    language: LANGUAGE.into(),
                    checker: Some(CHECKER.into()),
                    labels: vec![],
                    owner: "admin".into(),
                    max_score: 100.0,
                    spec,
                    normal_oj: None,
                    idempotency: None,
                    cost: 1000,
                })
                .await?;
            let lease = format!("ls_{n}");
            loop {
                match queue.claim(&runner_id, &lease, &[]).await? {
                    Claim::Job(leased) => {
                        let held = LeaseRef::Token(&lease);
                        queue.complete(&runner_id, &leased.job.job_id, held, &report).await?;
                        return anyhow::Ok(());
                    }
                    Claim::Nothing(_) => tokio::task::yield_now().await,
                    other => bail!("claim answered {other:?}"),
                }
            }
        }
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let cycle = &cycle;
        tasks.push(async move {
            for n in (t..jobs).step_by(concurrency) {
                cycle(n).await?;
            }
            anyhow::Ok(())
        });
    }
    futures_util::future::try_join_all(tasks).await?;
    let wall = started.elapsed();
    drop(redis);
    Ok(wall)
}

// ---- backlog ----

struct BacklogResult {
    clients: usize,
    jobs: usize,
    runners: usize,
    slots: usize,
    /// From the first claim to the last.
    wall: Duration,
    /// Each claim round trip that brought a job.
    claims: Vec<Duration>,
}

/// `clients` clients queue `jobs` jobs between them (untimed), then
/// `runners` × `slots` drain them; see the module doc.
async fn backlog_run(
    clients: usize,
    jobs: usize,
    runners: usize,
    slots: usize,
) -> anyhow::Result<BacklogResult> {
    let env = Env::start().await?;
    let http = client()?;
    let mut tokens = Vec::new();
    for c in 0..clients {
        let created: serde_json::Value = http
            .post(format!("{}/clients", env.base))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({ "name": format!("bench-{c}") }))
            .send()
            .await?
            .json()
            .await?;
        let (id, token) = (created["client_id"].as_str(), created["token"].as_str());
        let (Some(id), Some(token)) = (id, token) else { bail!("POST /clients: {created}") };
        // Room for the whole backlog; a backend without quotas answers 404/405.
        let room = serde_json::json!({ "creates_per_minute": 100_000, "max_queued": 100_000 });
        http.patch(format!("{}/clients/{id}", env.base))
            .bearer_auth(ADMIN_TOKEN)
            .json(&room)
            .send()
            .await?;
        tokens.push(token.to_string());
    }
    let mut registered = Vec::new();
    for i in 0..runners {
        registered.push(Arc::new(env.register(&format!("backlog-{i}"), slots as u32, true).await?));
    }

    // The backlog: 8 submitters, the clients' jobs interleaved.
    let url = Arc::new(format!("{}/submissions", env.base));
    let tokens = Arc::new(tokens);
    let mut fill = Vec::new();
    for s in 0..8 {
        let (http, url, tokens) = (http.clone(), url.clone(), tokens.clone());
        fill.push(tokio::spawn(async move {
            for n in (s..jobs).step_by(8) {
                submit_as(&http, &url, &tokens[n % tokens.len()], n).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in fill {
        task.await??;
    }

    let (tx, mut done) = mpsc::unbounded_channel::<Duration>();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for runner in &registered {
        for _ in 0..slots {
            let (runner, tx) = (runner.clone(), tx.clone());
            tasks.push(tokio::spawn(async move {
                let result: anyhow::Result<()> = async {
                    let mut next: Option<(Job, Duration)> = None;
                    loop {
                        let (job, took) = match next.take() {
                            Some(found) => found,
                            None => {
                                let asked = Instant::now();
                                match runner.next().await? {
                                    Some((job, _)) => (job, asked.elapsed()),
                                    None => continue,
                                }
                            }
                        };
                        let _ = tx.send(took);
                        let asked = Instant::now();
                        next = runner.complete(&job).await?.map(|job| (job, asked.elapsed()));
                    }
                }
                .await;
                if let Err(e) = result {
                    eprintln!("runner: {e:#}");
                }
            }));
        }
    }
    drop(tx);
    let mut claims = Vec::with_capacity(jobs);
    for _ in 0..jobs {
        claims.push(within("a claim from the backlog", done.recv()).await?);
    }
    let wall = started.elapsed();
    for task in &tasks {
        task.abort();
    }
    env.stop().await?;
    Ok(BacklogResult { clients, jobs, runners, slots, wall, claims })
}

fn backlog_table(results: &[BacklogResult]) -> String {
    let mut out = String::new();
    let lines = [
        "BACKLOG DRAIN (the clients' jobs queued first, untimed; then the runners drain them)"
            .to_string(),
        "  claims/s = jobs / (first claim → last claim); claim = the round trip (ms) of the \
         GET /jobs/next or PUT complete (next: true) that brought a job"
            .to_string(),
        format!(
            "  {:<8} {:<16} {:>6} {:>8} {:>9} {:>8} {:>8} {:>8}",
            "clients", "runners x slots", "jobs", "wall s", "claims/s", "p50", "p90", "p99"
        ),
    ];
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    for r in results {
        let mut sorted = r.claims.clone();
        sorted.sort();
        let [p50, p90, p99] = [0.5, 0.9, 0.99].map(|q| percentile(&sorted, q));
        let wall = r.wall.as_secs_f64();
        let shape = format!("{} x {}", r.runners, r.slots);
        let _ = writeln!(
            out,
            "  {:<8} {shape:<16} {:>6} {wall:>8.2} {:>9.0} {p50:>8.3} {p90:>8.3} {p99:>8.3}",
            r.clients,
            r.jobs,
            r.jobs as f64 / wall
        );
    }
    out
}

// ---- report ----

/// The nearest-rank percentile of sorted samples, in ms.
fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

fn latency_table(results: &[(usize, LatencyResult)]) -> String {
    let mut out = String::new();
    let settle = SETTLE.as_millis();
    let lines = [
        format!("DISPATCH LATENCY (ms; each run starts with {LATENCY_WARMUP} untimed jobs)"),
        format!(
            "  dispatch = from just before POST /submissions is sent until a runner parked in \
             GET /jobs/next?wait_ms={WAIT_MS} holds the whole"
        ),
        format!(
            "             200 body; nothing subtracted. One job in flight: the runner completes \
             it, and the next submit follows {settle} ms later."
        ),
        "  submit   = the POST /submissions round trip alone (sent → 201 body read).".to_string(),
        format!(
            "  {:<10} {:<8} {:>8} {:>8} {:>8} {:>8} {:>8}   target: p50 <= 1, p99 <= 5",
            "measure", "runners", "samples", "p50", "p90", "p99", "max"
        ),
    ];
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    for (runners, result) in results {
        for (name, samples, judged) in
            [("dispatch", &result.dispatch, true), ("submit", &result.submit, false)]
        {
            let mut sorted = samples.clone();
            sorted.sort();
            let n = sorted.len();
            let [p50, p90, p99, max] = [0.5, 0.9, 0.99, 1.0].map(|q| percentile(&sorted, q));
            let verdict = match judged {
                false => "",
                true if p50 <= 1.0 && p99 <= 5.0 => "met",
                true => "MISSED",
            };
            let _ = writeln!(
                out,
                "  {name:<10} {runners:<8} {n:>8} {p50:>8.3} {p90:>8.3} {p99:>8.3} {max:>8.3}   \
                 {verdict}"
            );
        }
    }
    out
}

fn throughput_table(
    http: &[ThroughputResult],
    queue_only: &[(usize, usize, Duration)],
    submitters: usize,
    jobs: usize,
    take_next: bool,
) -> String {
    let mut out = String::new();
    let lines = [
        format!("NO-OP THROUGHPUT (jobs/s; each HTTP run starts with {} untimed jobs)", jobs / 20),
        format!(
            "  HTTP       = {submitters} concurrent submitters POST /submissions while each \
             runner slot loops GET /jobs/next → PUT complete{};",
            if take_next {
                " (next: true; the next GET only when no job came with the answer)"
            } else {
                " (GAVEL_BENCH_NEXT=0: every job through GET /jobs/next)"
            }
        ),
        "               jobs/s = jobs / (first submit → last completion); submit only/s = jobs \
         / (first submit → last 201)."
            .to_string(),
        "  Queue only = queue::Queue submit → claim → complete loops on one multiplexed \
         connection: no HTTP, no blob store."
            .to_string(),
        format!(
            "  {:<12} {:<22} {:>6} {:>8} {:>8} {:>14}   target: >= 5000 jobs/s",
            "path", "runners x slots", "jobs", "wall s", "jobs/s", "submit only/s"
        ),
    ];
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    for r in http {
        let (wall, submit_wall) = (r.wall.as_secs_f64(), r.submit_wall.as_secs_f64());
        let rate = jobs as f64 / wall;
        let verdict = if rate >= 5000.0 { "met" } else { "MISSED" };
        let shape = format!("{} x {}", r.runners, r.slots);
        let submit_rate = jobs as f64 / submit_wall;
        let _ = writeln!(
            out,
            "  {:<12} {shape:<22} {jobs:>6} {wall:>8.2} {rate:>8.0} {submit_rate:>14.0}   \
             {verdict}",
            "HTTP"
        );
    }
    for r in http {
        // A script's time includes the commands it calls, which are also
        // counted (and timed) on their own: calls are counted, not time.
        let is_script = |c: &&CommandStat| c.name.starts_with("eval");
        let commands: f64 =
            r.redis.iter().filter(|c| !is_script(c)).map(|c| c.calls).sum::<f64>() / jobs as f64;
        let mut by_command: Vec<&CommandStat> = r.redis.iter().collect();
        by_command.sort_by(|a, b| b.usec.total_cmp(&a.usec));
        let listed: Vec<String> = by_command
            .iter()
            .take(6)
            .map(|c| {
                let (calls, usec) = (c.calls / jobs as f64, c.usec / jobs as f64);
                format!("{} {calls:.1}x {usec:.0} µs", c.name)
            })
            .collect();
        let _ = writeln!(
            out,
            "  redis, {} x {}: {commands:.1} commands per job besides the scripts; per job: {}",
            r.runners,
            r.slots,
            listed.join(", ")
        );
    }
    for &(concurrency, jobs, wall) in queue_only {
        let (shape, wall) = (format!("{concurrency} task(s)"), wall.as_secs_f64());
        let rate = jobs as f64 / wall;
        let _ = writeln!(
            out,
            "  {:<12} {shape:<22} {jobs:>6} {wall:>8.2} {rate:>8.0} {:>14}",
            "Queue only", "-"
        );
    }
    out
}

/// One command's share of Redis's time (`INFO commandstats`).
struct CommandStat {
    name: String,
    calls: f64,
    usec: f64,
}

async fn redis_reset_stats(url: &str) -> anyhow::Result<()> {
    let mut conn = redis::Client::open(url)?.get_multiplexed_async_connection().await?;
    redis::cmd("CONFIG").arg("RESETSTAT").exec_async(&mut conn).await?;
    Ok(())
}

/// The time Redis spent in each command since the last reset (the commands
/// themselves, scripts included; not the event loop, I/O or fsync).
async fn redis_command_stats(url: &str) -> anyhow::Result<Vec<CommandStat>> {
    let mut conn = redis::Client::open(url)?.get_multiplexed_async_connection().await?;
    let info: String = redis::cmd("INFO").arg("commandstats").query_async(&mut conn).await?;
    let stats = info.lines().filter_map(|line| {
        let (name, fields) = line.strip_prefix("cmdstat_")?.split_once(':')?;
        let field = |key: &str| {
            fields.split(',').find_map(|f| f.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
        };
        Some(CommandStat { name: name.to_string(), calls: field("calls")?, usec: field("usec")? })
    });
    Ok(stats.collect())
}

/// What one durable Redis write costs at least here: `fdatasync` after a
/// small append (what `appendfsync always` does per event-loop turn that
/// wrote), in the temp dir's filesystem.
fn fsync_probe() -> anyhow::Result<String> {
    use std::io::Write;
    let dir = tempfile::tempdir()?;
    let mut file = std::fs::File::create(dir.path().join("probe"))?;
    let mut times = Vec::new();
    for _ in 0..200 {
        file.write_all(&[b'x'; 64])?;
        let started = Instant::now();
        file.sync_data()?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(format!(
        "fdatasync of a 64-byte append: p50 {:.3} ms, p99 {:.3} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    ))
}

/// CPU time so far, in USER_HZ ticks (1/100 s): the whole machine's user
/// and system time and its steal, and this process's with its reaped
/// children (the redis-servers), so the report can say whether other work
/// competed with the bench.
#[derive(Debug, Clone, Copy)]
struct CpuTicks {
    busy: u64,
    steal: u64,
    own: u64,
}

impl CpuTicks {
    fn now() -> Option<CpuTicks> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal
        let (busy, steal) = (cpu.iter().take(3).sum(), *cpu.get(7)?);
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        let fields: Vec<u64> = own
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .skip(11)
            .take(4)
            .filter_map(|v| v.parse().ok())
            .collect();
        // utime stime cutime cstime
        Some(CpuTicks { busy, steal, own: fields.iter().sum() })
    }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, m)| m.trim()))
        .unwrap_or("unknown CPU");
    format!("{cores} cores (nproc), {model}, {}", std::env::consts::ARCH)
}

fn redis_version() -> String {
    std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.split_whitespace().find_map(|w| w.strip_prefix("v=").map(str::to_string))
        })
        .unwrap_or_else(|| "?".into())
}
