//! The runner's life: register (with backoff, or reuse the identity saved
//! in the data dir), then four loops sharing one [`Agent`]:
//!
//! - the **poller** long-polls for a job only while a slot is free; a slot
//!   whose job ends asks for its next job with the result (one round trip
//!   for both while jobs are queued), and long-polls again only when none
//!   came;
//! - the **heartbeat** renews the runner and the leases of running jobs on a
//!   fixed cadence, carries capability changes, and cancels the jobs the
//!   backend names;
//! - the **outbox sender** delivers results until acknowledged (a result
//!   is first sent by the job itself; the sender retries what failed);
//! - the **plugin watcher** reloads the plugins folder when it changes.
//!
//! A heartbeat answered after failures wakes the loops backing off, so a
//! backend that comes back is used at once. Two 401s in a row mean the
//! backend forgot us: register again. On shutdown the poller stops, running
//! jobs get a grace period (then are cancelled and handed back), the outbox
//! is flushed and the runner deregisters — unless results are still
//! undelivered, in which case it keeps its identity so the next start
//! delivers them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use catalog::Catalog;
use plugin_host::{CancelToken, HostConfig};
use protocol::runner::{ActiveJob, HeartbeatRequest, Job, JobResult, RegisterRequest, RunnerEvent};
use tokio::sync::{Notify, Semaphore, watch};

use crate::cache::BlobCache;
use crate::client::{BackendClient, ClientError, Identity};
use crate::config::RunnerConfig;
use crate::execute::{self, Outcome};
use crate::outbox::{Delivery, Outbox};

/// How long a long-poll waits.
const POLL_WAIT: Duration = Duration::from_secs(30);
/// How often the plugins folder is checked for changes.
const PLUGIN_SCAN: Duration = Duration::from_secs(2);
/// Pauses before a job's own further tries to deliver its result.
const DELIVERY_RETRIES: [Duration; 2] = [Duration::from_millis(250), Duration::from_secs(1)];
/// The longest pause between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A job being judged.
struct Running {
    lease: String,
    cancel: CancelToken,
}

/// What every loop shares.
struct Agent {
    config: RunnerConfig,
    client: BackendClient,
    context: execute::Context,
    outbox: Outbox,
    /// Wakes the outbox sender when a result is stored.
    outbox_ready: Notify,
    identity: RwLock<Option<Identity>>,
    /// Wakes whoever waits for a (new) identity.
    registered: Notify,
    unauthorized: AtomicU32,
    running: Mutex<HashMap<String, Running>>,
    /// Bumped when the plugins changed: the next heartbeat advertises them.
    capabilities_changed: std::sync::atomic::AtomicBool,
    heartbeat_interval: RwLock<Duration>,
    /// Wakes the loops backing off after failures when a heartbeat gets an
    /// answer again (the backend is back), so they do not sleep on.
    backend_back: Notify,
    /// Turns true when the runner stops: a slot whose job ends takes no
    /// next one.
    shutdown: watch::Receiver<bool>,
}

/// What became of a result sent.
struct Sent {
    /// It left the outbox (accepted, refused as stale, or dropped with a
    /// previous registration); else it must be sent again.
    done: bool,
    /// The next job the backend leased with the answer, when asked for.
    next: Option<Job>,
}

/// Runs a runner until `shutdown` turns true.
pub async fn run(config: RunnerConfig, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating the data dir {}", data_dir.display()))?;
    let host_config =
        HostConfig { cache_dir: config.compiled_cache_dir.clone(), ..HostConfig::default() };
    let plugins_dir = config.plugins_dir.clone();
    let catalog =
        tokio::task::spawn_blocking(move || Catalog::new(host_config, plugins_dir.as_deref()))
            .await??;
    let native = if config.native { connect_native(&data_dir).await } else { None };
    let client = BackendClient::with_roots(&config.backends, &config.ca_certs)?;
    let agent = Arc::new(Agent {
        context: execute::Context {
            client: client.clone(),
            cache: BlobCache::open(&data_dir.join("cache"), config.cache_bytes)?,
            catalog: Arc::new(RwLock::new(catalog)),
            native,
        },
        outbox: Outbox::open(&data_dir.join("outbox"))?,
        outbox_ready: Notify::new(),
        identity: RwLock::new(load_identity(&data_dir)),
        registered: Notify::new(),
        unauthorized: AtomicU32::new(0),
        running: Mutex::default(),
        capabilities_changed: false.into(),
        heartbeat_interval: RwLock::new(Duration::from_secs(10)),
        backend_back: Notify::new(),
        shutdown: shutdown.clone(),
        client,
        config,
    });
    // Compile the builtin languages now (seconds for an interpreter on a
    // machine whose cache lacks them), not when the first job needs one.
    let warming = agent.context.catalog.clone();
    tokio::task::spawn_blocking(move || {
        warming.read().unwrap_or_else(|e| e.into_inner()).warm_up()
    });
    if agent.identity().is_none() {
        agent.register(&mut shutdown).await;
    }
    let slots = Arc::new(Semaphore::new(agent.config.slots as usize));
    let (stop_background, background_stopped) = watch::channel(false);
    let heartbeat = tokio::spawn(agent.clone().heartbeat_loop(background_stopped.clone()));
    let sender = tokio::spawn(agent.clone().outbox_loop(background_stopped.clone()));
    let watcher = tokio::spawn(agent.clone().plugin_loop(background_stopped.clone()));
    agent.clone().poll_loop(slots.clone(), shutdown.clone()).await;

    // Shutdown: let running jobs finish within the grace period.
    let slots_total = agent.config.slots;
    let all_done = slots.acquire_many(slots_total);
    if tokio::time::timeout(agent.config.grace, all_done).await.is_err() {
        tracing::warn!("grace period over: cancelling the jobs still running");
        for job in agent.running.lock().unwrap_or_else(|e| e.into_inner()).values() {
            job.cancel.cancel();
        }
    }
    let _ = stop_background.send(true);
    let _ = tokio::join!(heartbeat, sender, watcher);
    agent.flush_outbox().await;
    agent.leave().await;
    Ok(())
}

/// The Docker executor, when the engine and the sandbox image are there,
/// after removing the containers a crashed run of this runner left.
async fn connect_native(data_dir: &Path) -> Option<Arc<native::Native>> {
    // One runner per data dir: its path names the runner's containers.
    let owner = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let owner = format!("runner:{}", owner.display());
    let connected = tokio::task::spawn_blocking(move || {
        let native = native::Native::connect(&owner)?;
        match native.remove_leftovers() {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "removed leftover sandbox containers"),
            Err(e) => tracing::warn!(error = %e, "could not remove leftover sandbox containers"),
        }
        Ok::<_, native::Unavailable>(native)
    })
    .await;
    match connected {
        Ok(Ok(native)) => {
            tracing::info!(
                image = native.image(),
                "native languages available: c, cpp, python3, c-wasm, cpp-wasm"
            );
            Some(Arc::new(native))
        }
        Ok(Err(e)) => {
            tracing::warn!("{e}");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "connecting to Docker failed");
            None
        }
    }
}

fn identity_path(data_dir: &Path) -> PathBuf {
    data_dir.join("identity.json")
}

fn load_identity(data_dir: &Path) -> Option<Identity> {
    let bytes = std::fs::read(identity_path(data_dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Saves the identity (readable by its owner only) so a restarted runner
/// can still deliver the results in its outbox.
fn save_identity(data_dir: &Path, identity: &Identity) -> std::io::Result<()> {
    use std::io::Write;
    let path = identity_path(data_dir);
    let partial = path.with_extension("partial");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&partial)?;
    file.write_all(&serde_json::to_vec(identity).map_err(std::io::Error::other)?)?;
    file.sync_all()?;
    std::fs::rename(partial, path)
}

/// How long to wait before polling again after `409 slots_full`.
const SLOTS_FULL_PAUSE: Duration = Duration::from_millis(100);

/// `base`, doubled per failure, capped.
fn backoff(failures: u32) -> Duration {
    (Duration::from_millis(500) * 2u32.saturating_pow(failures.min(8))).min(MAX_BACKOFF)
}

impl Agent {
    fn identity(&self) -> Option<Identity> {
        self.identity.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn capabilities(&self) -> (Vec<String>, Vec<protocol::runner::PluginRef>) {
        let catalog = self.context.catalog.read().unwrap_or_else(|e| e.into_inner());
        let mut plugins: Vec<protocol::runner::PluginRef> = catalog
            .advertised()
            .into_iter()
            .map(|(id, kind, digest)| protocol::runner::PluginRef {
                id,
                kind: match kind {
                    catalog::Kind::Checker => protocol::runner::PluginKind::Checker,
                    catalog::Kind::Language => protocol::runner::PluginKind::Language,
                },
                digest,
            })
            .collect();
        if let Some(native) = &self.context.native {
            // Compiling checker programs is offered as a checker of its own.
            plugins.push(protocol::runner::PluginRef {
                id: judge_core::checker_program::COMPILER_CAPABILITY.into(),
                kind: protocol::runner::PluginKind::Checker,
                digest: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(native.image())),
            });
        }
        let mut languages = catalog.known(catalog::Kind::Language);
        if self.context.native.is_some() {
            languages.extend(native::LANGUAGES.iter().map(|l| l.id.to_string()));
            let compiled = native::language::WASM_COMPILERS.iter();
            languages.extend(compiled.map(|c| c.id.to_string()));
        }
        // Jobs queued under a retired id (`rustpython`) are ours too: they
        // resolve to its successor (judge-core's `language::canonical`).
        let aliases: Vec<String> = languages
            .iter()
            .flat_map(|id| judge_core::language::aliases_of(id))
            .map(str::to_string)
            .collect();
        languages.extend(aliases);
        (languages, plugins)
    }

    /// Registers, retrying with backoff until it works or shutdown.
    async fn register(&self, shutdown: &mut watch::Receiver<bool>) {
        let mut failures = 0;
        loop {
            let (languages, plugins) = self.capabilities();
            let request = RegisterRequest {
                name: self.config.name.clone(),
                labels: self.config.labels.clone(),
                slots: self.config.slots,
                languages,
                plugins,
            };
            match self.client.register(&self.config.registration_token, &request).await {
                Ok(answer) => {
                    let identity = Identity { runner_id: answer.runner_id, token: answer.token };
                    if let Err(e) = save_identity(&self.config.data_dir, &identity) {
                        tracing::warn!(error = %e, "could not save the runner identity");
                    }
                    tracing::info!(runner_id = identity.runner_id, "registered");
                    *self.heartbeat_interval.write().unwrap_or_else(|e| e.into_inner()) =
                        Duration::from_secs(answer.heartbeat_interval_s.max(1));
                    *self.identity.write().unwrap_or_else(|e| e.into_inner()) = Some(identity);
                    self.unauthorized.store(0, Ordering::Relaxed);
                    self.registered.notify_waiters();
                    return;
                }
                Err(e) => {
                    let pause = backoff(failures);
                    failures += 1;
                    tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "registering failed");
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        _ = shutdown.wait_for(|s| *s) => return,
                    }
                }
            }
        }
    }

    /// Counts a 401; the second in a row forgets the identity (the poller
    /// registers again).
    fn unauthorized(&self) {
        if self.unauthorized.fetch_add(1, Ordering::Relaxed) + 1 >= 2 {
            tracing::warn!("the backend no longer knows this runner: registering again");
            *self.identity.write().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    async fn poll_loop(
        self: Arc<Self>,
        slots: Arc<Semaphore>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut failures = 0;
        loop {
            let permit = tokio::select! {
                permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                _ = shutdown.wait_for(|s| *s) => return,
            };
            let Some(me) = self.identity() else {
                self.register(&mut shutdown).await;
                continue;
            };
            let polled = tokio::select! {
                polled = self.client.next_job(&me, POLL_WAIT) => polled,
                _ = shutdown.wait_for(|s| *s) => return,
            };
            match polled {
                Ok(Some(job)) => {
                    failures = 0;
                    self.unauthorized.store(0, Ordering::Relaxed);
                    tokio::spawn(self.clone().judge(me, job, permit));
                }
                Ok(None) => failures = 0,
                Err(ClientError::Unauthorized) => self.unauthorized(),
                // A result still in flight holds its slot on the backend for
                // a moment: not a failure, just poll again shortly.
                Err(ClientError::SlotsFull) => {
                    tracing::debug!("the backend counts every slot as busy; polling again");
                    tokio::select! {
                        () = tokio::time::sleep(SLOTS_FULL_PAUSE) => {}
                        _ = shutdown.wait_for(|s| *s) => return,
                    }
                }
                Err(e) => {
                    let pause = backoff(failures);
                    failures += 1;
                    tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "polling for a job failed");
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = self.backend_back.notified() => {}
                        _ = shutdown.wait_for(|s| *s) => return,
                    }
                }
            }
        }
    }

    /// Judges jobs while holding a slot: this one, then each next job the
    /// backend leases with the previous one's result.
    async fn judge(
        self: Arc<Self>,
        me: Identity,
        job: Job,
        _slot: tokio::sync::OwnedSemaphorePermit,
    ) {
        let mut job = Some(job);
        while let Some(current) = job {
            job = self.judge_one(&me, current).await;
        }
    }

    /// Judges one job, stores its result in the outbox and sends it, asking
    /// for the next job unless the runner is stopping; returns that job.
    async fn judge_one(&self, me: &Identity, job: Job) -> Option<Job> {
        let cancel = CancelToken::new();
        self.running().insert(
            job.job_id.clone(),
            Running { lease: job.lease.clone(), cancel: cancel.clone() },
        );
        tracing::info!(
            job_id = job.job_id,
            submission_id = job.submission_id,
            attempt = job.attempt,
            "judging"
        );
        let (events, received) = tokio::sync::mpsc::unbounded_channel();
        let forwarder = tokio::spawn(forward_events(
            self.client.clone(),
            me.clone(),
            job.clone(),
            cancel.clone(),
            received,
        ));
        let outcome = execute::run(&self.context, me, &job, &cancel, events).await;
        self.running().remove(&job.job_id);
        match outcome {
            _ if cancel.is_cancelled() => {
                tracing::info!(job_id = job.job_id, "cancelled: not reported");
                forwarder.abort();
                None
            }
            Outcome::Abandoned(reason) => {
                tracing::warn!(
                    job_id = job.job_id,
                    reason,
                    "giving the job up: its lease will run out"
                );
                forwarder.abort();
                None
            }
            Outcome::Done(result) => {
                let (status, ended) = match &result {
                    JobResult::Judge(report) => (report.status.code(), "judged"),
                    JobResult::Run(report) => (report.status.code(), "ran"),
                };
                tracing::info!(job_id = job.job_id, status, "{ended}");
                let delivery = Delivery {
                    runner_id: me.runner_id.clone(),
                    job_id: job.job_id.clone(),
                    lease: job.lease,
                    result,
                };
                if let Err(e) = self.outbox.put(&delivery) {
                    tracing::error!(job_id = job.job_id, error = %e, "could not store the result");
                }
                // Progress first (bounded), so the verdict comes after its cases.
                let _ = tokio::time::timeout(Duration::from_secs(5), forwarder).await;
                // Delivered while the slot is still held: the backend counts
                // the lease against our slots until the result arrives, so a
                // poll sent before it would be refused (409 slots_full). A
                // failed call is sent again twice shortly (if only its answer
                // was lost, the repeat brings back the next job it leased),
                // then left to the outbox sender.
                let take_next = !*self.shutdown.borrow();
                let mut sent = self.deliver(&delivery, take_next).await;
                for pause in DELIVERY_RETRIES {
                    if sent.done {
                        break;
                    }
                    tokio::time::sleep(pause).await;
                    sent = self.deliver(&delivery, take_next).await;
                }
                if !sent.done {
                    self.outbox_ready.notify_one();
                }
                sent.next
            }
        }
    }

    async fn heartbeat_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut failing = false;
        // The first beat goes at once: a runner restarted on a saved identity
        // learns the interval from its answer before any lease can lapse.
        let mut first = true;
        loop {
            let interval = if std::mem::take(&mut first) {
                Duration::ZERO
            } else {
                *self.heartbeat_interval.read().unwrap_or_else(|e| e.into_inner())
            };
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let Some(me) = self.identity() else { continue };
            let active_jobs: Vec<ActiveJob> = self
                .running()
                .iter()
                .map(|(job_id, r)| ActiveJob { job_id: job_id.clone(), lease: r.lease.clone() })
                .collect();
            let changed = self.capabilities_changed.swap(false, Ordering::Relaxed);
            let (languages, plugins) = self.capabilities();
            let request = HeartbeatRequest {
                active_jobs,
                languages: changed.then_some(languages),
                plugins: changed.then_some(plugins),
            };
            let answer = self.client.heartbeat(&me, &request).await;
            let answered = matches!(answer, Ok(_) | Err(ClientError::Unauthorized));
            if failing && answered {
                tracing::info!("the backend answers again");
                self.backend_back.notify_waiters();
            }
            failing = !answered;
            match answer {
                Ok(answer) => {
                    self.unauthorized.store(0, Ordering::Relaxed);
                    if let Some(seconds) = answer.heartbeat_interval_s {
                        *self.heartbeat_interval.write().unwrap_or_else(|e| e.into_inner()) =
                            Duration::from_secs(seconds.max(1));
                    }
                    let running = self.running();
                    for job_id in answer.cancel {
                        if let Some(job) = running.get(&job_id) {
                            tracing::info!(job_id, "the backend cancelled the job");
                            job.cancel.cancel();
                        }
                    }
                }
                Err(e) => {
                    if changed {
                        self.capabilities_changed.store(true, Ordering::Relaxed);
                    }
                    match e {
                        ClientError::Unauthorized => self.unauthorized(),
                        e => tracing::warn!(error = %e, "heartbeat failed"),
                    }
                }
            }
        }
    }

    /// Sends every stored result; `true` when the outbox is empty.
    async fn deliver_all(&self) -> bool {
        let pending = match self.outbox.pending() {
            Ok(pending) => pending,
            Err(e) => {
                tracing::error!(error = %e, "reading the outbox failed");
                return false;
            }
        };
        let mut all_done = true;
        for delivery in pending {
            all_done &= self.deliver(&delivery, false).await.done;
        }
        all_done
    }

    /// Sends one stored result, with `next` asking for the next job too.
    async fn deliver(&self, delivery: &Delivery, next: bool) -> Sent {
        let me = self.identity();
        let Some(me) = me.as_ref().filter(|me| me.runner_id == delivery.runner_id) else {
            // Our registration changed: the lease died with the old one.
            tracing::warn!(
                job_id = delivery.job_id,
                "dropping a result from a previous registration"
            );
            let _ = self.outbox.remove(&delivery.job_id);
            return Sent { done: true, next: None };
        };
        let sent =
            self.client.complete(me, &delivery.job_id, &delivery.lease, &delivery.result, next);
        match sent.await {
            Ok(next) => {
                tracing::info!(job_id = delivery.job_id, "result delivered");
                let _ = self.outbox.remove(&delivery.job_id);
                Sent { done: true, next }
            }
            Err(ClientError::Stale) => {
                tracing::warn!(
                    job_id = delivery.job_id,
                    "the backend refused the result: its lease is no longer valid"
                );
                let _ = self.outbox.remove(&delivery.job_id);
                Sent { done: true, next: None }
            }
            Err(ClientError::Unauthorized) => {
                self.unauthorized();
                Sent { done: false, next: None }
            }
            Err(e) => {
                tracing::warn!(job_id = delivery.job_id, error = %e, "delivering a result failed");
                Sent { done: false, next: None }
            }
        }
    }

    async fn outbox_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut failures = 0;
        loop {
            let pause = if self.deliver_all().await {
                failures = 0;
                MAX_BACKOFF
            } else {
                failures += 1;
                backoff(failures)
            };
            tokio::select! {
                () = self.outbox_ready.notified() => {}
                () = self.registered.notified() => {}
                () = self.backend_back.notified() => {}
                () = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }

    /// One last delivery attempt at shutdown.
    async fn flush_outbox(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.deliver_all()).await;
    }

    /// Deregisters, unless results wait in the outbox: then the identity is
    /// kept for the next start to deliver them.
    async fn leave(&self) {
        if !self.outbox.pending().map(|p| p.is_empty()).unwrap_or(false) {
            tracing::warn!(
                "results are still undelivered: keeping this runner's identity for the next start"
            );
            return;
        }
        let Some(me) = self.identity() else { return };
        match self.client.deregister(&me).await {
            Ok(()) => {
                let _ = std::fs::remove_file(identity_path(&self.config.data_dir));
                tracing::info!(runner_id = me.runner_id, "deregistered");
            }
            Err(e) => tracing::warn!(error = %e, "deregistering failed"),
        }
    }

    async fn plugin_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let Some(dir) = self.config.plugins_dir.clone() else { return };
        let mut seen = folder_fingerprint(&dir);
        loop {
            tokio::select! {
                () = tokio::time::sleep(PLUGIN_SCAN) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let now = folder_fingerprint(&dir);
            if now == seen {
                continue;
            }
            seen = now;
            let catalog = self.context.catalog.clone();
            let dir = dir.clone();
            let rescanned = tokio::task::spawn_blocking(move || {
                catalog.write().unwrap_or_else(|e| e.into_inner()).rescan(&dir)
            })
            .await;
            match rescanned {
                Ok(Ok(())) => {
                    tracing::info!("the plugins folder changed: advertising the new set");
                    self.capabilities_changed.store(true, Ordering::Relaxed);
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "reloading the plugins folder failed"),
                Err(e) => tracing::warn!(error = %e, "reloading the plugins folder failed"),
            }
        }
    }
}

/// Names, sizes and modification times of the folder's `.wasm` files.
fn folder_fingerprint(dir: &Path) -> Vec<(String, u64, SystemTime)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".wasm")
                .then(|| (name, meta.len(), meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
        })
        .collect();
    out.sort();
    out
}

/// Adds `event` to a batch, merging a run's output into the previous event
/// when both are of one stream (one event per burst of writes, not per write).
fn push_merged(batch: &mut Vec<RunnerEvent>, event: RunnerEvent) {
    const MERGED_MAX: usize = 64 << 10;
    if let (Some(RunnerEvent::Output(last)), RunnerEvent::Output(next)) = (batch.last_mut(), &event)
        && last.stream == next.stream
        && last.data.len() + next.data.len() <= MERGED_MAX
    {
        last.data.push_str(&next.data);
        return;
    }
    batch.push(event);
}

/// Posts a job's progress in batches while it runs; a refused lease
/// cancels the job.
async fn forward_events(
    client: BackendClient,
    me: Identity,
    job: Job,
    cancel: CancelToken,
    mut received: tokio::sync::mpsc::UnboundedReceiver<RunnerEvent>,
) {
    while let Some(first) = received.recv().await {
        let mut batch = vec![first];
        while batch.len() < 500 {
            match received.try_recv() {
                Ok(event) => push_merged(&mut batch, event),
                Err(_) => break,
            }
        }
        match client.events(&me, &job.job_id, &job.lease, batch).await {
            Ok(()) => {}
            Err(ClientError::Stale) => {
                tracing::info!(job_id = job.job_id, "the lease is gone: stopping the job");
                cancel.cancel();
                return;
            }
            Err(e) => tracing::warn!(job_id = job.job_id, error = %e, "posting progress failed"),
        }
    }
}
