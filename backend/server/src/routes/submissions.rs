//! Submissions (`docs/contract.md` §5): create, read, rejudge, cancel, and the live event
//! stream (SSE) that replays the log to late subscribers and then follows it
//! through Redis pub/sub, so it works from any backend instance.

use std::convert::Infallible;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use judge_core::problem::CheckerRef;
use protocol::client::{SubmissionSummary, SubmissionView, SubmitRequest, SubmitResponse, Summary};
use protocol::runner::{JobSpec, ProblemRef};
use queue::{Change, NewSubmission, Submitted};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::auth::{Caller, new_id};
use crate::error::{ApiError, ApiResult};
use crate::idempotency;
use crate::json::ApiJson;
use crate::routes::problems::ProblemRecord;

/// Sources up to this size are sent inside the job instead of as a blob.
const INLINE_SOURCE_BYTES: usize = 64 << 10;

#[utoipa::path(post, path = "/api/v1/submissions", tag = "submissions", request_body = protocol::client::SubmitRequest, params(("Idempotency-Key" = Option<String>, Header, description = "1 to 200 printable ASCII characters naming this create: the same key again (a retry, to any instance, for a day) answers the first 201 instead of making a second submission")), responses((status = 201, body = protocol::client::SubmitResponse, headers(("Idempotent-Replayed" = String, description = "`true` when the answer is a replay of an earlier create with the same Idempotency-Key"))), (status = 413, body = protocol::ErrorBody), (status = 422, description = "unknown_problem, unknown_language; idempotency_conflict: the Idempotency-Key was used for another request", body = protocol::ErrorBody), (status = 400, description = "Malformed request; invalid_header: a malformed Idempotency-Key", body = protocol::ErrorBody), (status = 401, description = "Missing or unknown token", body = protocol::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> ApiResult<Response> {
    let caller = state.caller(&headers).await?;
    let idempotency = idempotency::from_request(&headers, "submission", &request)?;
    let created = |submission_id| SubmitResponse { submission_id };
    if let Some(earlier) =
        idempotency::earlier(&state.queue, caller.owner(), idempotency.as_ref(), created).await?
    {
        return Ok(earlier);
    }
    let limit = state.config.max_source_bytes;
    if request.source.len() as u64 > limit {
        return Err(ApiError::too_large(format!("source: larger than {limit} bytes")));
    }
    check_labels(&request.labels)?;
    let unknown_problem = || {
        ApiError::unprocessable(
            "unknown_problem",
            format!("problem {:?} does not exist", request.problem_id),
        )
    };
    // The job is built from the problem's record as this instance last read
    // it; the submit script checks it is still the problem's revision (and
    // that a runner offers the language), so a submission takes one round
    // trip, and one more only after the problem was replaced.
    let mut record = ProblemRecord::cached(&state, &request.problem_id, false)
        .await?
        .ok_or_else(unknown_problem)?;
    // Small sources travel inside the job (durable in Redis with it); only
    // large ones are stored as blobs, which costs a file write and fsync.
    let (source, source_text) = if request.source.len() <= INLINE_SOURCE_BYTES {
        let digest = hex::encode(Sha256::digest(request.source.as_bytes()));
        let size = request.source.len() as u64;
        (protocol::runner::BlobRef { digest, size }, Some(request.source))
    } else {
        // Stored only for a language a runner offers, so a refused
        // submission leaves no file behind.
        let offered = state.queue.languages(queue::LANGUAGE_MEMORY).await?;
        if !offered.contains(&request.language) {
            return Err(unknown_language(&state, &request.language).await);
        }
        let blob = state.blobs.put_bytes(request.source.as_bytes()).await?;
        (protocol::runner::BlobRef { digest: blob.digest, size: blob.size }, None)
    };
    let language = request.language;
    // The problem's parts are filled in from its record below.
    let mut submission = NewSubmission {
        id: new_id("sb_"),
        job_id: new_id("jb_"),
        problem_id: String::new(),
        revision: String::new(),
        source: source.digest.clone(),
        language: language.clone(),
        checker: None,
        labels: request.labels,
        owner: caller.owner().to_string(),
        max_score: 0.0,
        spec: JobSpec::Judge {
            language: language.clone(),
            source,
            source_text,
            problem: ProblemRef {
                id: String::new(),
                manifest: protocol::runner::BlobRef { digest: String::new(), size: 0 },
            },
        },
        normal_oj: None,
        idempotency,
    };
    let mut fresh = false;
    let outcome = loop {
        for_problem(&mut submission, &record)?;
        match state.queue.submit(&submission).await? {
            Submitted::ProblemChanged if !fresh => {
                fresh = true;
                record = ProblemRecord::cached(&state, &request.problem_id, true)
                    .await?
                    .ok_or_else(unknown_problem)?;
            }
            Submitted::ProblemChanged => {
                return Err(ApiError::conflict(
                    "problem_changed",
                    format!(
                        "problem {:?} was replaced while the submission was made; send it again",
                        request.problem_id
                    ),
                ));
            }
            Submitted::UnknownLanguage => return Err(unknown_language(&state, &language).await),
            outcome => break outcome,
        }
    };
    if matches!(outcome, Submitted::Created(_)) {
        tracing::info!(
            submission_id = submission.id,
            job_id = submission.job_id,
            problem_id = submission.problem_id,
            "submission queued"
        );
    }
    idempotency::answer(outcome, created)
}

/// Fills in what a submission takes from its problem's record.
fn for_problem(submission: &mut NewSubmission, record: &ProblemRecord) -> ApiResult<()> {
    submission.problem_id.clone_from(&record.view.id);
    submission.revision.clone_from(&record.manifest.digest);
    submission.checker = match &record.view.checker.plugin {
        CheckerRef::Builtin(id) => Some(id.clone()),
        CheckerRef::Package(_) => None,
    };
    submission.max_score = record.view.max_score;
    if let JobSpec::Judge { problem, .. } = &mut submission.spec {
        *problem = ProblemRef { id: record.view.id.clone(), manifest: record.manifest.clone() };
    }
    // Normal-OJ's runners may take it too when they can judge it.
    submission.normal_oj = crate::normal_oj::payload(&record.view, &submission.language)
        .map(|payload| serde_json::to_string(&payload))
        .transpose()
        .map_err(ApiError::internal)?;
    Ok(())
}

/// Refuses labels that are not ids (400): a runner must carry each.
pub(crate) fn check_labels(labels: &[String]) -> ApiResult<()> {
    match labels.iter().find(|l| !queue::is_valid_word(l)) {
        Some(bad) => {
            Err(ApiError::bad_request("invalid_field", format!("labels: {bad:?} is not an id")))
        }
        None => Ok(()),
    }
}

/// The 422 answer for a language no runner offers, naming those that are.
pub(crate) async fn unknown_language(state: &AppState, language: &str) -> ApiError {
    match state.queue.languages(queue::LANGUAGE_MEMORY).await {
        Ok(languages) => ApiError::unprocessable(
            "unknown_language",
            format!(
                "language {language:?} is not offered by any runner (known: {})",
                languages.join(", ")
            ),
        ),
        Err(e) => e.into(),
    }
}

/// The submission if the caller may see it; others' are 404, like missing ones.
async fn visible(state: &AppState, caller: &Caller, id: &str) -> ApiResult<SubmissionView> {
    match state.queue.submission(id).await? {
        Some(record) if caller.may_see(&record.owner) => Ok(record.view),
        _ => Err(ApiError::not_found(format!("no submission {id}"))),
    }
}

#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "submissions", params(("id" = String, Path)), responses((status = 200, body = protocol::client::SubmissionView), (status = 404, body = protocol::ErrorBody), (status = 400, description = "Malformed request", body = protocol::ErrorBody), (status = 401, description = "Missing or unknown token", body = protocol::ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<ApiJson<SubmissionView>> {
    let caller = state.caller(&headers).await?;
    Ok(ApiJson(visible(&state, &caller, &id).await?))
}

/// Default and largest `limit` of `GET /submissions`.
const LIST_DEFAULT: u32 = 50;
const LIST_MAX: u32 = 200;

#[derive(Debug, serde::Deserialize)]
pub struct ListQuery {
    limit: Option<u32>,
}

/// `GET /submissions?limit=N`: summaries of the newest submissions the
/// caller may see (the admin: everyone's), newest first.
#[utoipa::path(get, path = "/api/v1/submissions", tag = "submissions", params(("limit" = Option<u32>, Query, description = "How many (default 50, 1 to 200)")), responses((status = 200, body = Vec<protocol::client::SubmissionSummary>), (status = 400, description = "Malformed request, or `limit` out of range", body = protocol::ErrorBody), (status = 401, description = "Missing or unknown token", body = protocol::ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> ApiResult<ApiJson<Vec<SubmissionSummary>>> {
    let caller = state.caller(&headers).await?;
    let limit = query.limit.unwrap_or(LIST_DEFAULT);
    if !(1..=LIST_MAX).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("limit: {limit} is not between 1 and {LIST_MAX}"),
        ));
    }
    let owner = match &caller {
        Caller::Admin => None,
        Caller::Client(id) => Some(id.as_str()),
    };
    let records =
        state.queue.recent_summaries(queue::Listing::Submissions, owner, limit as usize).await?;
    let summaries = records.into_iter().filter_map(|r| match r.summary {
        Summary::Submission(summary) => Some(summary),
        Summary::Run(_) => None,
    });
    Ok(ApiJson(summaries.collect()))
}

#[utoipa::path(post, path = "/api/v1/submissions/{id}/rejudge", tag = "submissions", params(("id" = String, Path)), responses((status = 200, body = protocol::client::SubmissionView), (status = 404, body = protocol::ErrorBody), (status = 400, description = "Malformed request", body = protocol::ErrorBody), (status = 401, description = "Missing or unknown token", body = protocol::ErrorBody)), security(("bearer" = [])))]
pub async fn rejudge(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<ApiJson<SubmissionView>> {
    let caller = state.caller(&headers).await?;
    visible(&state, &caller, &id).await?;
    let job_id = new_id("jb_");
    if state.queue.rejudge(&id, &job_id).await? != Change::Done {
        return Err(ApiError::not_found(format!("no submission {id}")));
    }
    tracing::info!(submission_id = id, job_id, "rejudge queued");
    Ok(ApiJson(visible(&state, &caller, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/submissions/{id}/cancel", tag = "submissions", params(("id" = String, Path)), responses((status = 200, body = protocol::client::SubmissionView), (status = 404, body = protocol::ErrorBody), (status = 409, description = "already_final", body = protocol::ErrorBody), (status = 400, description = "Malformed request", body = protocol::ErrorBody), (status = 401, description = "Missing or unknown token", body = protocol::ErrorBody)), security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<ApiJson<SubmissionView>> {
    let caller = state.caller(&headers).await?;
    visible(&state, &caller, &id).await?;
    cancel_record(&state, "submission", &id).await?;
    Ok(ApiJson(visible(&state, &caller, &id).await?))
}

/// Cancels submission or run `id` (`noun` names which, for messages): `409
/// already_final` once it ended, `404` when it is gone.
pub(crate) async fn cancel_record(state: &AppState, noun: &str, id: &str) -> ApiResult<()> {
    match state.queue.cancel(id).await? {
        Change::Done => {
            tracing::info!(id, "{noun} cancelled");
            Ok(())
        }
        Change::AlreadyFinal => {
            Err(ApiError::conflict("already_final", format!("{noun} {id} has already ended")))
        }
        Change::UnknownSubmission => Err(ApiError::not_found(format!("no {noun} {id}"))),
    }
}

/// `GET /submissions/{id}/events`: every event of the current job so far,
/// then live ones, ending after `finished`.
#[utoipa::path(get, path = "/api/v1/submissions/{id}/events", tag = "submissions", params(("id" = String, Path)), responses((status = 200, description = "SSE: queued, started, compiled, case, finished; each `data` is a SubmissionEvent", content_type = "text/event-stream", body = protocol::client::SubmissionEvent), (status = 404, body = protocol::ErrorBody), (status = 400, description = "Malformed request", body = protocol::ErrorBody), (status = 401, description = "Missing or unknown token", body = protocol::ErrorBody)), security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let caller = state.caller(&headers).await?;
    visible(&state, &caller, &id).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(follow(state, id, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|logged| (Ok(logged.into_event()), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// One event of a submission's (or run's) log, as [`follow`] reads it.
pub(crate) struct Logged {
    /// Its `type`.
    pub kind: String,
    pub seq: u64,
    /// The whole event, JSON.
    pub json: String,
}

impl Logged {
    /// The SSE event: named by its type, with its seq as the id.
    pub fn into_event(self) -> Event {
        Event::default().event(self.kind).id(self.seq.to_string()).data(self.json)
    }
}

/// Sends the log of submission (or run) `id` to `tx` from the start, then
/// each new event as pub/sub says the log grew, until `finished` or the
/// client leaves.
pub(crate) async fn follow(state: AppState, id: String, tx: tokio::sync::mpsc::Sender<Logged>) {
    // Subscribed before the first read, so nothing appended in between is missed.
    let mut grew = state.listener.events();
    let mut shutdown = state.shutdown.clone();
    let (mut next_index, mut last_seq) = (0usize, 0u64);
    loop {
        // Reads from the last event sent, to check it is still there: a
        // rejudge replaces the log with a new one (whose seqs are all newer),
        // which may already be as long as the old one; then it is read from
        // the start.
        let from = next_index.saturating_sub(1);
        let (events, _) = match state.queue.events(&id, from).await {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(submission_id = id, error = %e, "reading events failed");
                return;
            }
        };
        let seq_of =
            |json: &String| serde_json::from_str::<serde_json::Value>(json).ok()?["seq"].as_u64();
        if next_index > 0 && events.first().and_then(seq_of) != Some(last_seq) {
            next_index = 0;
            continue;
        }
        let mut finished = false;
        next_index = from + events.len();
        for json in events {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&json) else { continue };
            let seq = value["seq"].as_u64().unwrap_or(0);
            if seq <= last_seq {
                continue;
            }
            last_seq = seq;
            let kind = value["type"].as_str().unwrap_or("message").to_string();
            finished = kind == "finished";
            if tx.send(Logged { kind, seq, json }).await.is_err() {
                return; // the client left
            }
        }
        if finished {
            return;
        }
        loop {
            tokio::select! {
                message = grew.recv() => match message {
                    Ok(sid) if *sid == *id || &*sid == "*" => break,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return,
                },
                () = tx.closed() => return,
                _ = shutdown.wait_for(|stopping| *stopping) => return,
            }
        }
    }
}
