//! [`AppState`]: what every handler reaches — the queue and its listener,
//! the blob store, the settings, the webhook egress policy, and this
//! instance's caches. It names only modules below the handlers, so any
//! module above may take it.

use std::sync::Arc;

use blobstore::BlobStore;
use queue::{Listener, Queue};
use tokio::sync::watch;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::normal_oj::signing::Signer;
use crate::problem_store::ProblemCache;
use crate::webhook_target::WebhookEgress;

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub queue: Queue,
    pub listener: Listener,
    pub blobs: BlobStore,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// Signs the Normal-OJ dialect's code URLs (a key shared through Redis).
    pub code_urls: Signer,
    /// Problem records as last read, for building submissions.
    pub problems: ProblemCache,
    /// Turns true when the backend is shutting down: long-polls and event
    /// streams end.
    pub shutdown: watch::Receiver<bool>,
    /// Where webhooks may post (`PUT /webhook` vets each URL with it).
    pub webhook_egress: WebhookEgress,
}
