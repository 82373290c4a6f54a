//! Gavel's backend: the HTTP API over the Redis queue (`queue`) and the blob
//! store (`blobstore`).
//!
//! [`app`] builds the axum router from an [`AppState`] (tests drive it in
//! process); [`Backend::start`] binds a socket, starts the reaper that
//! reclaims expired leases, and serves until shut down. The backend holds no
//! state of its own beyond caches: any number of instances can share one
//! Redis, and a killed instance loses nothing.

pub mod auth;
pub mod config;
pub mod error;
pub mod idempotency;
pub mod json;
pub mod metrics;
pub mod normal_oj;
pub mod openapi;
pub mod routes;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use blobstore::BlobStore;
use queue::{Listener, Queue, QueueConfig};
use tokio::sync::watch;

pub use config::{BackendArgs, Config};

use crate::error::ApiError;

/// Largest JSON body (a result with many cases, a batch of events).
const MAX_JSON_BYTES: usize = 8 << 20;

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub queue: Queue,
    pub listener: Listener,
    pub blobs: BlobStore,
    pub config: Arc<Config>,
    pub metrics: Arc<metrics::Metrics>,
    /// Signs the Normal-OJ dialect's code URLs (a key shared through Redis).
    pub code_urls: normal_oj::Signer,
    /// Problem records as last read, for building submissions.
    pub problems: routes::problems::ProblemCache,
    /// Turns true when the backend is shutting down: long-polls and event
    /// streams end.
    pub shutdown: watch::Receiver<bool>,
}

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
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
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
            ..QueueConfig::default()
        };
        let queue = Queue::connect(&config.redis_url, queue_config)
            .await
            .with_context(|| format!("connecting to Redis at {}", config.redis_url))?;
        let blobs = BlobStore::open(&config.data_dir)
            .with_context(|| format!("opening the blob store in {}", config.data_dir.display()))?;
        if config.admin_token.is_empty() {
            tracing::warn!("no admin token set: admin endpoints refuse every call");
        }
        if config.registration_token.is_empty() {
            tracing::warn!("no registration token set: no runner can register");
        }
        let code_urls = normal_oj::Signer::new(
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
        let state = AppState {
            listener: queue.listen(),
            queue: queue.clone(),
            blobs,
            config: Arc::new(config),
            metrics: Arc::default(),
            code_urls,
            problems: Default::default(),
            shutdown: shutdown.clone(),
        };
        tokio::spawn(webhooks::send(queue.clone(), shutdown.clone()));
        tokio::spawn(reap(queue, shutdown.clone()));
        let server = tokio::spawn(serve(listener, app(state), shutdown));
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

/// Serves `app` on `listener` until `stopping` turns true, then waits for
/// the requests in flight. Unlike a bare `axum::serve`, a client that sends
/// its headers or its body too slowly is cut off (`HEADER_READ_TIMEOUT`,
/// `BODY_IDLE_TIMEOUT`), so slow requests cannot hold connections forever,
/// and headers are capped (`MAX_HEAD_BYTES`).
async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    mut stopping: watch::Receiver<bool>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let app = app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(BODY_IDLE_TIMEOUT));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES);
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
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
    Ok(())
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
    let backend = Backend::start(config).await?;
    println!("gavel backend listening on http://{}", backend.addr);
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
