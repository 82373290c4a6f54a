//! Gavel's backend: the HTTP API over the Redis queue (`queue`) and the blob
//! store (`blobstore`).
//!
//! [`app`] builds the axum router from an [`AppState`] (tests drive it in
//! process); [`Backend::start`] binds a socket, starts the reaper that
//! reclaims expired leases, and serves until shut down. The backend holds no
//! state of its own beyond caches: any number of instances can share one
//! Redis, and a killed instance loses nothing.
//!
//! # Layers
//!
//! Modules import downward only: no handler imports another, and the
//! module graph has no cycle. From the bottom:
//!
//! 0. the floor, which knows no handler state: `error`, `config` (and
//!    `config::tls`, the HTTPS certificate),
//!    `metrics`, `egress` (the webhook egress policy, pure), `responses`
//!    (the error answers `/openapi.json` lists), and the Normal-OJ
//!    dialect's pure parts `normal_oj::rules` (eligibility, the `noj`
//!    payload, their scoring) and `normal_oj::signing`;
//! 1. `json`, `problem_store` (problem records and their cache),
//!    `normal_oj::wire` (their bodies and zips), `webhook_target` (a
//!    webhook URL vetted against the policy, its name resolved once) — on
//!    the floor;
//! 2. `idempotency` (the `Idempotency-Key` of the creates), `webhooks`
//!    (the sender loop);
//! 3. `state` ([`AppState`]);
//! 4. `auth`: each token tier an extractor (`Admin`, `Registration`,
//!    `Caller`, `Runner`, `TheirRunner`, `BlobReader`);
//! 5. what handlers share: `records` (submissions and code runs: creates,
//!    labels, cancelling, event logs, a runner's result checked) and
//!    `runner_access` (both runner dialects);
//! 6. the handlers: `routes::*` and `normal_oj::{runners, testdata}`;
//! 7. the module roots `routes` and `normal_oj` (its router);
//! 8. `openapi`, which names every handler's path through those roots;
//! 9. this file: the router and the server.
//!
//! A module imports only from layers below its own; the test
//! `modules_import_downward` checks every `crate::` and `super::` path of
//! the production code against this list, and a new module must be given
//! a layer there.

pub mod auth;
pub mod blob_gc;
pub mod config;
pub mod egress;
pub mod error;
pub mod idempotency;
pub mod json;
pub mod metrics;
pub mod normal_oj;
pub mod openapi;
pub mod problem_store;
pub mod records;
pub mod responses;
pub mod routes;
pub mod runner_access;
pub mod state;
pub mod webhook_target;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use blobstore::BlobStore;
use queue::{Queue, QueueConfig};
use tokio::sync::watch;

pub use config::{BackendArgs, Config};
pub use state::AppState;

use crate::error::ApiError;

/// Largest JSON body (a result with many cases, a batch of events).
const MAX_JSON_BYTES: usize = 8 << 20;

/// The router: `/api/v1/...`, Normal-OJ's runner dialect under
/// `/compat/normal-oj/...`, plus `/healthz` and `/metrics` at the root for
/// probes and scrapers.
pub fn app(state: AppState) -> Router {
    use routes::{blobs, dashboard, ops, problems, runners, runs, submissions, webhooks};
    let api = Router::new()
        .route("/runners/register", post(runners::register))
        .route("/runners/{rid}/heartbeat", post(runners::heartbeat))
        .route("/runners/{rid}/jobs/next", get(runners::next_job))
        .route("/runners/{rid}/jobs/{jid}/events", post(runners::events))
        .route("/runners/{rid}/jobs/{jid}/complete", put(runners::complete))
        .route("/runners/{rid}", delete(runners::deregister))
        .route("/runners/{rid}/checkers/{revision}", put(runners::put_compiled_checker))
        .route("/runners", get(ops::runners))
        .route("/blobs/{digest}", get(blobs::get))
        .route(
            "/problems/{id}",
            put(problems::put).get(problems::get).layer(DefaultBodyLimit::disable()),
        )
        .route("/problems", get(problems::list))
        .route("/submissions", post(submissions::create).get(submissions::list))
        .route("/submissions/{id}", get(submissions::get))
        .route("/submissions/{id}/events", get(submissions::events))
        .route("/submissions/{id}/rejudge", post(submissions::rejudge))
        .route("/submissions/{id}/cancel", post(submissions::cancel))
        .route("/runs", post(runs::create))
        .route("/runs/{id}", get(runs::get))
        .route("/runs/{id}/events", get(runs::events))
        .route("/runs/{id}/log", get(runs::log))
        .route("/runs/{id}/artifacts/{*name}", get(runs::artifact))
        .route("/runs/{id}/cancel", post(runs::cancel))
        .route("/clients", post(ops::create_client))
        .route("/clients/{id}", get(ops::get_client).patch(ops::update_client))
        .route("/webhook", put(webhooks::put).get(webhooks::get).delete(webhooks::delete))
        .route("/languages", get(ops::languages))
        .route("/queue", get(ops::queue_state))
        .route("/events", get(dashboard::events))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(openapi::serve));
    Router::new()
        .nest(protocol::API_BASE, api)
        .nest(protocol::normal_oj::BASE, normal_oj::routes())
        .route("/", get(dashboard::page))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(openapi::serve))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(axum::middleware::map_response(error::as_api_error))
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .with_state(state)
}

/// A running backend.
pub struct Backend {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Backend {
    /// Connects to Redis, opens the blob store, binds `config.listen` and
    /// serves in the background.
    pub async fn start(config: Config) -> anyhow::Result<Backend> {
        let queue_config = QueueConfig {
            lease_ttl: config.lease_ttl,
            heartbeat_interval: config.heartbeat_interval,
            max_attempts: config.max_attempts,
            redis_timeout: config.redis_timeout,
            replication: config.replication,
            ..QueueConfig::default()
        };
        let queue = Queue::connect_to(&config.redis, queue_config)
            .await
            .with_context(|| format!("connecting to Redis ({})", config.redis))?;
        let blobs = BlobStore::open(&config.blob_store)
            .await
            .with_context(|| format!("opening the blob store {}", config.blob_store))?;
        tracing::info!(blob_store = %config.blob_store, "blob store open");
        queue
            .sweep_retention(config.retention)
            .await
            .context("recording the retention settings in Redis")?;
        if config.admin_token.is_empty() {
            tracing::warn!("no admin token set: admin endpoints refuse every call");
        }
        if config.registration_token.is_empty() {
            tracing::warn!("no registration token set: no runner can register");
        }
        let code_urls = normal_oj::signing::Signer::new(
            queue
                .shared_secret("normal-oj-code-url")
                .await
                .context("loading the URL signing key")?,
        );
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let (stop, shutdown) = watch::channel(false);
        let webhook_egress = webhook_target::WebhookEgress::from_config(&config);
        tracing::info!(
            allowed = ?webhook_egress.allowed(),
            "webhooks may target public addresses and the allowed ranges only"
        );
        tokio::spawn(blob_gc::sweep_runs(queue.clone(), config.retention, shutdown.clone()));
        if let Some(interval) = config.blob_gc_interval {
            tokio::spawn(blob_gc::sweep_blobs_every(
                queue.clone(),
                blobs.clone(),
                interval,
                config.blob_gc_grace,
                config.test_blob_gc_hold.clone(),
                shutdown.clone(),
            ));
        }
        let state = AppState {
            listener: queue.listen(),
            queue: queue.clone(),
            blobs,
            config: Arc::new(config),
            metrics: Arc::default(),
            code_urls,
            problems: Default::default(),
            shutdown: shutdown.clone(),
            webhook_egress: webhook_egress.clone(),
        };
        tokio::spawn(webhooks::send(queue.clone(), webhook_egress, shutdown.clone()));
        tokio::spawn(reap(queue, shutdown.clone()));
        let tls = state.config.tls.clone();
        let server = tokio::spawn(serve(listener, app(state), tls, shutdown));
        tracing::info!(%addr, "backend listening");
        Ok(Backend { addr, stop, server })
    }

    /// Stops accepting, ends long-polls and streams, and waits for the
    /// requests in flight.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.server.await?.context("serving")
    }
}

/// How long a client may take to send a request's headers; hyper also
/// counts an idle keep-alive connection's wait for its next request, so
/// clients must not keep idle connections this long (see
/// [`protocol::CLIENT_POOL_IDLE`]).
const HEADER_READ_TIMEOUT: Duration = protocol::IDLE_CONNECTION_CLOSE;
/// The most a request's line and headers may take: hyper answers
/// `431 Request Header Fields Too Large` beyond it (its default is ~400 KiB;
/// nginx's is 32 KiB; our tokens and ids need well under 1 KiB).
const MAX_HEAD_BYTES: usize = 64 << 10;
/// How long a request body may stall between two chunks (a large upload
/// may take long, but never stop sending for this long).
const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take to finish its TLS handshake: as long as it
/// may take to send a request's headers.
const TLS_HANDSHAKE_TIMEOUT: Duration = HEADER_READ_TIMEOUT;

/// Serves `app` on `listener` until `stopping` turns true, then waits for
/// the requests in flight. Unlike a bare `axum::serve`, a client that sends
/// its headers or its body too slowly is cut off (`HEADER_READ_TIMEOUT`,
/// `BODY_IDLE_TIMEOUT`), so slow requests cannot hold connections forever,
/// and headers are capped (`MAX_HEAD_BYTES`). With `tls`, every connection
/// is HTTPS (HTTP/2 or HTTP/1.1 by ALPN), and a handshake that does not
/// finish within `TLS_HANDSHAKE_TIMEOUT` is cut off the same way.
async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<Arc<config::tls::ServerConfig>>,
    mut stopping: watch::Receiver<bool>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioTimer};
    let app = app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(BODY_IDLE_TIMEOUT));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let signal = stopping.clone();
    let stop = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: pause, go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let (builder, app, watcher) = (builder.clone(), app.clone(), graceful.watcher());
        match &acceptor {
            None => {
                tokio::spawn(serve_connection(builder, stream, app, watcher));
            }
            Some(acceptor) => {
                // The handshake runs in the connection's task, so a slow
                // one holds neither the accept loop nor other clients.
                // A shutdown drops handshakes still under way rather than
                // waiting for them.
                let handshake = acceptor.accept(stream);
                let mut stopping = signal.clone();
                tokio::spawn(async move {
                    let stream = tokio::select! {
                        done = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake) => match done {
                            Ok(Ok(stream)) => stream,
                            Ok(Err(e)) => return tracing::debug!(error = %e, "TLS handshake failed"),
                            Err(_) => return tracing::debug!("TLS handshake too slow: cut off"),
                        },
                        _ = stopping.wait_for(|s| *s) => return,
                    };
                    serve_connection(builder, stream, app, watcher).await;
                });
            }
        }
    }
    graceful.shutdown().await;
    Ok(())
}

/// Serves one connection (plain or TLS) until it ends, letting `watcher`
/// end it gracefully on shutdown.
async fn serve_connection<S>(
    builder: hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    stream: S,
    app: Router,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper_util::service::TowerToHyperService::new(app);
    let io = hyper_util::rt::TokioIo::new(stream);
    let connection = builder.serve_connection_with_upgrades(io, service);
    if let Err(e) = watcher.watch(connection.into_owned()).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Reclaims expired leases as they fall due (at most a second late), so an
/// orphaned job goes back to waiting runners even when no one calls.
async fn reap(queue: Queue, mut shutdown: watch::Receiver<bool>) {
    loop {
        let pause = match queue.reclaim_expired().await {
            Ok((reclaimed, next)) => {
                if reclaimed > 0 {
                    tracing::info!(reclaimed, "reclaimed expired leases");
                }
                next.unwrap_or(Duration::from_secs(1))
                    .clamp(Duration::from_millis(5), Duration::from_secs(1))
            }
            Err(e) => {
                tracing::warn!(error = %e, "reclaiming expired leases failed");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

/// Runs a backend until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let backend = Backend::start(config).await?;
    println!("gavel backend listening on {scheme}://{}", backend.addr);
    shutdown_signal().await;
    tracing::info!("shutting down");
    backend.shutdown().await
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Each production module's layer (see the crate's docs): a module may
    /// name only modules of lower layers.
    const LAYERS: &[(&str, u8)] = &[
        ("error", 0),
        ("config", 0),
        ("config::tls", 0),
        ("config::retention", 0),
        ("metrics", 0),
        ("egress", 0),
        ("responses", 0),
        ("normal_oj::rules", 0),
        ("normal_oj::signing", 0),
        ("json", 1),
        ("problem_store", 1),
        ("normal_oj::wire", 1),
        ("webhook_target", 1),
        ("idempotency", 2),
        ("webhooks", 2),
        ("blob_gc", 2),
        ("state", 3),
        ("auth", 4),
        ("records", 5),
        ("runner_access", 5),
        ("routes::blobs", 6),
        ("routes::dashboard", 6),
        ("routes::ops", 6),
        ("routes::problems", 6),
        ("routes::runners", 6),
        ("routes::runs", 6),
        ("routes::submissions", 6),
        ("routes::webhooks", 6),
        ("normal_oj::runners", 6),
        ("normal_oj::testdata", 6),
        ("routes", 7),
        ("normal_oj", 7),
        ("openapi", 8),
        ("lib", 9),
    ];

    fn layer(module: &str) -> Option<u8> {
        LAYERS.iter().find(|(name, _)| *name == module).map(|(_, layer)| *layer)
    }

    /// The module a path after `crate::` names: its longest prefix that is
    /// a module.
    fn named_module(path: &str) -> String {
        let segments: Vec<&str> = path
            .split("::")
            .map(|s| s.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').next().unwrap())
            .take_while(|s| !s.is_empty())
            .collect();
        (1..=segments.len().min(2))
            .rev()
            .map(|n| segments[..n].join("::"))
            .find(|m| layer(m).is_some())
            .unwrap_or_else(|| format!("crate::{path:.40}"))
    }

    /// Every `.rs` file under `dir`, with its module path.
    fn modules(dir: &Path, prefix: &str, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            let join = |name: &str| match prefix {
                "" => name.to_string(),
                _ => format!("{prefix}::{name}"),
            };
            if path.is_dir() {
                modules(&path, &join(&name), found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = match name.as_str() {
                    "mod" => prefix.to_string(),
                    "lib" if prefix.is_empty() => "lib".to_string(),
                    _ => join(&name),
                };
                found.push((module, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }

    /// The modules `source` (of `module`) names through `crate::` or
    /// `super::`, outside comments and its tests.
    fn imports(module: &str, source: &str) -> Vec<String> {
        let production = source.split("#[cfg(test)]").next().unwrap();
        let parent = match module.rsplit_once("::") {
            Some((parent, _)) => format!("{parent}::"),
            None => String::new(),
        };
        let mut named = Vec::new();
        for line in production.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (keyword, base) in [("crate::", ""), ("super::", parent.as_str())] {
                for (at, _) in line.match_indices(keyword) {
                    named.push(named_module(&format!("{base}{}", &line[at + keyword.len()..])));
                }
            }
        }
        named
    }

    #[test]
    fn modules_import_downward() {
        let mut found = Vec::new();
        modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "", &mut found);
        assert!(found.len() > 25, "{}", found.len());
        let mut wrong = Vec::new();
        for (module, source) in &found {
            let Some(own) = layer(module) else {
                wrong.push(format!("{module} has no layer in LAYERS"));
                continue;
            };
            for named in imports(module, source) {
                match layer(&named) {
                    Some(theirs) if theirs < own => {}
                    _ if named == *module => {}
                    _ => wrong.push(format!("{module} (layer {own}) imports {named}")),
                }
            }
        }
        assert!(wrong.is_empty(), "imports that do not go downward:\n{}", wrong.join("\n"));
    }
}
