//! Runner per-job overhead: from a claimed job to its first case starting
//! (the `compiled` progress event, sent right before case 1 runs), with a
//! warm blob cache and compiled plugins, against a real backend and Redis.
//!
//! Run: `cargo bench -p e2e --bench runner_overhead` (`GAVEL_BENCH_JOBS` sets the
//! number of measured jobs, default 200).

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use catalog::Catalog;
use plugin_host::{CancelToken, HostConfig};
use protocol::runner::{PluginKind, PluginRef, RegisterRequest};
use queue::managed::ManagedRedis;
use runner::cache::BlobCache;
use runner::client::{BackendClient, Identity};
use runner::execute::{self, Outcome};

const ADMIN: &str = "bench-admin";
const REGISTRATION: &str = "bench-registration";

fn zip_dir(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let name = path.strip_prefix(dir)?.to_string_lossy().into_owned();
                zip.start_file(name, zip::write::SimpleFileOptions::default())?;
                zip.write_all(&std::fs::read(&path)?)?;
            }
        }
    }
    Ok(zip.finish()?.into_inner())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let jobs: usize =
        std::env::var("GAVEL_BENCH_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir()?;
    let redis = ManagedRedis::start(&dir.path().join("redis"), 0)?;
    let config = server::BackendArgs {
        listen: Some(([127, 0, 0, 1], 0).into()),
        redis_url: Some(redis.url()),
        data_dir: Some(dir.path().join("backend")),
        admin_token: Some(ADMIN.into()),
        registration_token: Some(REGISTRATION.into()),
        ..Default::default()
    }
    .resolve()?;
    let backend = server::Backend::start(config).await?;
    let url = format!("http://{}", backend.addr);
    let http = reqwest::Client::new();

    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let answer = http
        .put(format!("{url}/api/v1/problems/a-plus-b"))
        .bearer_auth(ADMIN)
        .header("Content-Type", "application/zip")
        .body(zip_dir(&examples.join("problems/a-plus-b"))?)
        .send()
        .await?;
    anyhow::ensure!(answer.status().is_success(), "pushing the problem: {}", answer.status());
    let source =
        std::fs::read_to_string(examples.join("solutions/a-plus-b/ac-js-readline/main.js"))?;

    let client = BackendClient::new(&url)?;
    let registered = client
        .register(
            REGISTRATION,
            &RegisterRequest {
                name: "bench".into(),
                labels: vec![],
                slots: 1,
                languages: vec!["javascript".into()],
                plugins: vec![PluginRef {
                    id: "tokens".into(),
                    kind: PluginKind::Checker,
                    digest: "0".repeat(64),
                }],
            },
        )
        .await?;
    let me = Identity { runner_id: registered.runner_id, token: registered.token };
    let host = HostConfig { cache_dir: Some(dir.path().join("compiled")), ..HostConfig::default() };
    let context = execute::Context {
        client: client.clone(),
        cache: BlobCache::open(&dir.path().join("cache"), 1 << 30)?,
        catalog: Arc::new(RwLock::new(Catalog::new(host, None)?)),
        native: None,
    };

    let mut overheads = Vec::with_capacity(jobs);
    for i in 0..=jobs {
        let answer = http
            .post(format!("{url}/api/v1/submissions"))
            .bearer_auth(ADMIN)
            .json(&serde_json::json!({"problem_id": "a-plus-b", "language": "javascript", "source": source}))
            .send()
            .await?;
        anyhow::ensure!(answer.status().is_success(), "submitting: {}", answer.status());
        let job = client.next_job(&me, Duration::from_secs(10)).await?.expect("a job");
        let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
        let started = Instant::now();
        let (context, me_, job_) = (context.clone(), me.clone(), job.clone());
        let running = tokio::spawn(async move {
            execute::run(&context, &me_, &job_, &CancelToken::new(), events).await
        });
        received.recv().await.expect("a first progress event");
        let overhead = started.elapsed();
        let Outcome::Done(result) = running.await? else { anyhow::bail!("job abandoned") };
        client.complete(&me, &job.job_id, &job.lease, &result, false).await?;
        // The first job pays for compiling the plugin and filling the cache.
        if i > 0 {
            overheads.push(overhead);
        } else {
            println!("cold first job: {:.1} ms", overhead.as_secs_f64() * 1e3);
        }
    }
    overheads.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "runner per-job overhead, claim -> first case starts (warm), {} jobs: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms   (target <= 2 ms)",
        overheads.len(),
        ms(percentile(&overheads, 0.5)),
        ms(percentile(&overheads, 0.9)),
        ms(percentile(&overheads, 0.99)),
        ms(*overheads.last().unwrap_or(&Duration::ZERO)),
    );
    backend.shutdown().await?;
    drop(redis);
    Ok(())
}
