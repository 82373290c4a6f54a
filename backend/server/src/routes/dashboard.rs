//! The live dashboard (`docs/contract.md` §5, `GET /`): one self-contained page
//! (`dashboard.html`, inline CSS and JavaScript, embedded in the binary; no
//! external resources) and the stream it reads, `GET /api/v1/events`.
//!
//! The page itself needs no token; it asks for one (admin or client), keeps
//! it in `sessionStorage` and sends it only in `Authorization: Bearer`.
//! `EventSource` cannot send that header, so the page reads the stream with
//! `fetch` and a small parser, and reconnects with backoff when it drops.
//!
//! The stream starts with a `snapshot` (runners, queue, recent submissions
//! and code runs), then sends a `submission` (or `run`) summary whenever a
//! submission (or run) the caller may see changes, and `runners` and `queue` snapshots every [`TICK`]. Changes
//! come from the listener's broadcast of grown event logs (every backend
//! instance publishes them through Redis); a burst is coalesced into one
//! pipelined read per [`COALESCE`], and more than [`MAX_BATCH`] changed
//! submissions (or missed messages) are sent as a fresh `snapshot` instead.
//! It ends when the client leaves or the backend shuts down.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use protocol::client::{RecordKind, Summary};
use protocol::ops::RunnerStatus;
use queue::Listing;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::responses::CallerErrors;
use crate::state::AppState;

/// The page: HTML with its CSS and JavaScript inline.
const PAGE: &str = include_str!("dashboard.html");

/// How often the stream sends `runners` and `queue`.
pub const TICK: Duration = Duration::from_secs(2);
/// How long changes are gathered before they are read and sent.
pub const COALESCE: Duration = Duration::from_millis(150);
/// More changed submissions than this in one window are sent as a snapshot.
pub const MAX_BATCH: usize = 100;
/// Submissions in a snapshot.
const SNAPSHOT_SUBMISSIONS: usize = 50;

/// The page's Content-Security-Policy: nothing loads from anywhere, and only
/// the page's own inline script and style run (by their SHA-256).
static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = |tag: &str| {
        let open = format!("<{tag}>");
        let start = PAGE.find(&open).map(|i| i + open.len()).expect("the page has the tag");
        let end = start + PAGE[start..].find(&format!("</{tag}>")).expect("the tag is closed");
        use base64::Engine;
        let digest = Sha256::digest(&PAGE.as_bytes()[start..end]);
        format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
    };
    format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; img-src data:; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        hash("script"),
        hash("style")
    )
});

/// `GET /`: the dashboard page (no token needed to load it).
#[utoipa::path(get, path = "/", tag = "operations", responses((status = 200, description = "The live dashboard: one self-contained HTML page", content_type = "text/html")))]
pub async fn page() -> Response {
    let csp = HeaderValue::from_str(&CSP).expect("the policy is ASCII");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        PAGE,
    )
        .into_response()
}

/// The queue's gauges, as `GET /queue` answers them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QueueState {
    pub pending: u64,
    pub leased: u64,
    pub runners_alive: u64,
}

/// The stream's first event (and what it sends again after missing changes).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Snapshot {
    /// The registered runners; `null` for a client token (runners are the
    /// admin's to see).
    pub runners: Option<Vec<RunnerStatus>>,
    pub queue: QueueState,
    /// The newest submissions the caller may see, newest first.
    pub submissions: Vec<Summary>,
    /// The newest code runs the caller may see, newest first.
    pub runs: Vec<Summary>,
}

/// `GET /api/v1/events`: the dashboard's live stream.
#[utoipa::path(get, path = "/api/v1/events", tag = "operations", responses((status = 200, description = "SSE: `snapshot` (a Snapshot) first; then `submission` (a SubmissionSummary) or `run` (a RunSummary) when a submission or code run the caller may see changes, and `runners` (admin only: RunnerStatus list) and `queue` (QueueState) every 2 s", content_type = "text/event-stream", body = Snapshot), CallerErrors), security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(feed(state, caller, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// An SSE event named `name` carrying `data` as JSON.
fn event(name: &str, data: &impl Serialize) -> Event {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
    Event::default().event(name).data(json)
}

/// What the caller may see of everyone's submissions.
fn owner_filter(caller: &Caller) -> Option<&str> {
    match caller {
        Caller::Admin => None,
        Caller::Client(id) => Some(id),
    }
}

async fn queue_state(state: &AppState) -> queue::Result<QueueState> {
    let stats = state.queue.stats().await?;
    Ok(QueueState {
        pending: stats.pending,
        leased: stats.leased,
        runners_alive: stats.runners_alive,
    })
}

async fn runners(state: &AppState, caller: &Caller) -> queue::Result<Option<Vec<RunnerStatus>>> {
    match caller {
        Caller::Admin => Ok(Some(state.queue.runner_board().await?)),
        Caller::Client(_) => Ok(None),
    }
}

async fn snapshot(state: &AppState, caller: &Caller) -> queue::Result<Snapshot> {
    let owner = owner_filter(caller);
    let (runners, queue, submissions, runs) = tokio::try_join!(
        runners(state, caller),
        queue_state(state),
        state.queue.recent_summaries(Listing::Submissions, owner, SNAPSHOT_SUBMISSIONS),
        state.queue.recent_summaries(Listing::Runs, owner, SNAPSHOT_SUBMISSIONS),
    )?;
    let summaries = |records: Vec<queue::SummaryRecord>| records.into_iter().map(|r| r.summary);
    Ok(Snapshot {
        runners,
        queue,
        submissions: summaries(submissions).collect(),
        runs: summaries(runs).collect(),
    })
}

/// Changes seen and not sent yet.
#[derive(Default)]
struct Pending {
    ids: BTreeSet<Arc<str>>,
    /// Too many changes, or some were missed: send a snapshot.
    resync: bool,
    /// When to send them.
    due: Option<Instant>,
}

impl Pending {
    fn add(&mut self, id: Arc<str>) {
        if &*id == "*" || self.ids.len() >= MAX_BATCH {
            self.resync = true;
            self.ids.clear();
        } else if !self.resync {
            self.ids.insert(id);
        }
        self.due.get_or_insert_with(|| Instant::now() + COALESCE);
    }

    fn missed(&mut self) {
        self.add(Arc::from("*"));
    }
}

/// Feeds one dashboard stream until the client leaves or the backend shuts
/// down.
async fn feed(state: AppState, caller: Caller, tx: mpsc::Sender<Event>) {
    // Subscribed before the snapshot is read, so no change in between is lost.
    let mut grew = state.listener.events();
    let mut shutdown = state.shutdown.clone();
    let mut pending = Pending::default();
    match snapshot(&state, &caller).await {
        Ok(first) => {
            if tx.send(event("snapshot", &first)).await.is_err() {
                return;
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "reading the dashboard snapshot failed");
            pending.missed();
        }
    }
    let mut tick = tokio::time::interval_at(Instant::now() + TICK, TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let due = pending.due;
        tokio::select! {
            message = grew.recv() => match message {
                Ok(id) => pending.add(id),
                Err(RecvError::Lagged(_)) => pending.missed(),
                Err(RecvError::Closed) => return,
            },
            () = async { tokio::time::sleep_until(due.unwrap_or_else(Instant::now)).await },
                if due.is_some() =>
            {
                let sent = match flush(&state, &caller, &mut pending).await {
                    Ok(events) => send_all(&tx, events).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading dashboard changes failed");
                        // Tried again on the next tick.
                        pending.resync = true;
                        pending.due = Some(Instant::now() + TICK);
                        true
                    }
                };
                if !sent {
                    return;
                }
            }
            _ = tick.tick() => {
                let (runners, queue) = tokio::join!(runners(&state, &caller), queue_state(&state));
                let mut events = Vec::new();
                match runners {
                    Ok(Some(runners)) => events.push(event("runners", &runners)),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "reading runners failed"),
                }
                match queue {
                    Ok(queue) => events.push(event("queue", &queue)),
                    Err(e) => tracing::warn!(error = %e, "reading the queue failed"),
                }
                if !send_all(&tx, events).await {
                    return;
                }
            }
            () = tx.closed() => return,
            // Mapped to `()`: the guard `wait_for` yields is not `Send`.
            () = async { drop(shutdown.wait_for(|stopping| *stopping).await) } => return,
        }
    }
}

/// The events for what `pending` holds (one pipelined read, or a snapshot),
/// leaving it empty.
async fn flush(
    state: &AppState,
    caller: &Caller,
    pending: &mut Pending,
) -> queue::Result<Vec<Event>> {
    if pending.resync {
        let fresh = snapshot(state, caller).await?;
        *pending = Pending::default();
        return Ok(vec![event("snapshot", &fresh)]);
    }
    let ids: Vec<String> = pending.ids.iter().map(|id| id.to_string()).collect();
    let records = state.queue.summaries(&ids).await?;
    *pending = Pending::default();
    Ok(records
        .into_iter()
        .filter(|record| caller.may_see(&record.owner))
        .map(|record| {
            let name = match record.summary.kind() {
                RecordKind::Submission => "submission",
                RecordKind::Run => "run",
            };
            event(name, &record.summary)
        })
        .collect())
}

/// Sends every event; false once the client has left.
async fn send_all(tx: &mpsc::Sender<Event>, events: Vec<Event>) -> bool {
    for event in events {
        if tx.send(event).await.is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_self_contained() {
        for external in ["src=", "href=\"http", "@import", "url(http", "//cdn"] {
            assert!(!PAGE.contains(external), "the page loads something: {external}");
        }
        assert!(!PAGE.contains("?token="), "a token never travels in a URL");
        assert!(PAGE.contains("sessionStorage"));
        assert_eq!(PAGE.matches("<script>").count(), 1);
        assert_eq!(PAGE.matches("<style>").count(), 1);
    }

    #[test]
    fn the_policy_names_the_inline_script_and_style() {
        let policy = CSP.as_str();
        assert!(policy.starts_with("default-src 'none'; script-src 'sha256-"), "{policy}");
        assert!(policy.contains("style-src 'sha256-"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
    }

    #[test]
    fn a_burst_of_changes_is_bounded() {
        let mut pending = Pending::default();
        pending.add(Arc::from("sb_1"));
        pending.add(Arc::from("sb_1"));
        assert_eq!(pending.ids.len(), 1);
        let due = pending.due.expect("a flush is due");
        for n in 0..(MAX_BATCH * 3) {
            pending.add(Arc::from(format!("sb_{n}")));
        }
        assert!(pending.resync && pending.ids.is_empty());
        assert_eq!(pending.due, Some(due), "more changes do not delay the flush");
        let mut missed = Pending::default();
        missed.add(Arc::from("*"));
        assert!(missed.resync);
    }
}
