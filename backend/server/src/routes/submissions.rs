//! Submissions (`docs/contract.md` §5): create, read, rejudge, cancel, and the live event
//! stream (SSE) that replays the log to late subscribers and then follows it
//! through Redis pub/sub, so it works from any backend instance.

use std::convert::Infallible;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use protocol::client::{SubmissionSummary, SubmissionView, SubmitRequest, SubmitResponse, Summary};
use protocol::runner::{JobSpec, ProblemRef};
use queue::{Change, NewSubmission, Submitted};
use sha2::{Digest, Sha256};

use crate::auth::{Caller, new_id};
use crate::error::{ApiError, ApiResult};
use crate::idempotency;
use crate::json::ApiJson;
use crate::problem_store::ProblemRecord;
use crate::records::{self, Start, cancel_record, check_labels, follow, unknown_language};
use crate::responses::{CallerErrors, NotFound, OverQuota, TooLarge};
use crate::state::AppState;

/// Sources up to this size are sent inside the job instead of as a blob.
const INLINE_SOURCE_BYTES: usize = 64 << 10;

#[utoipa::path(post, path = "/api/v1/submissions", tag = "submissions", request_body = protocol::client::SubmitRequest, params(("Idempotency-Key" = Option<String>, Header, description = "1 to 200 printable ASCII characters naming this create: the same key again (a retry, to any instance, for a day) answers the first 201 instead of making a second submission")), responses((status = 201, body = protocol::client::SubmitResponse, headers(("Idempotent-Replayed" = String, description = "`true` when the answer is a replay of an earlier create with the same Idempotency-Key"))), TooLarge, (status = 422, description = "unknown_problem, unknown_language; idempotency_conflict: the Idempotency-Key was used for another request", body = protocol::ErrorBody), OverQuota, CallerErrors, (status = 400, description = "Malformed request; invalid_header: a malformed Idempotency-Key", body = protocol::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> ApiResult<Response> {
    let created = |submission_id| SubmitResponse { submission_id };
    let idempotency =
        match records::start_create(&state, &caller, &headers, "submission", &request, created)
            .await?
        {
            Start::Answered(earlier) => return Ok(earlier),
            Start::New(idempotency) => idempotency,
        };
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
    let mut record = state
        .problems
        .record(&state.queue, &request.problem_id, false)
        .await?
        .ok_or_else(unknown_problem)?;
    // Small sources travel inside the job (durable in Redis with it); only
    // large ones are stored as blobs, which costs a file write and fsync.
    let (source, source_text) = if request.source.len() <= INLINE_SOURCE_BYTES {
        let digest = hex::encode(Sha256::digest(request.source.as_bytes()));
        let size = request.source.len() as u64;
        (protocol::runner::BlobRef { digest, size }, Some(request.source))
    } else {
        // Stored only for a language a runner offers and a client within
        // its quotas, so a refused submission leaves no file behind.
        let offered = state.queue.languages(queue::LANGUAGE_MEMORY).await?;
        if !offered.contains(&request.language) {
            return Err(unknown_language(&state, &request.language).await);
        }
        records::check_quota(&state, &caller).await?;
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
            compiled_checker: None,
        },
        normal_oj: None,
        idempotency,
        cost: 1,
    };
    let mut fresh = false;
    let outcome = loop {
        let compiled = compiled_checker(&state, &record).await?;
        if compiled.is_none() {
            require_a_compiling_runner(&state, &record).await?;
        }
        for_problem(&mut submission, &record, compiled)?;
        match state.queue.submit(&submission).await? {
            Submitted::ProblemChanged if !fresh => {
                fresh = true;
                record = state
                    .problems
                    .record(&state.queue, &request.problem_id, true)
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
            Submitted::OverQuota(refusal) => return Err(records::over_quota(refusal)),
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

/// The compiled checker program of the record's revision, when its checker
/// is C/C++ source and a runner has compiled it (`PUT
/// /runners/{rid}/checkers/{revision}`).
async fn compiled_checker(
    state: &AppState,
    record: &ProblemRecord,
) -> ApiResult<Option<protocol::runner::BlobRef>> {
    let needs = judge_core::checker_program::runner_needs(&record.view.checker.plugin);
    if needs != Some(judge_core::checker_program::COMPILER_CAPABILITY) {
        return Ok(None);
    }
    let Some(json) = state.queue.compiled_checker(&record.manifest.digest).await? else {
        return Ok(None);
    };
    Ok(serde_json::from_str(&json).ok())
}

/// A problem whose checker is C/C++ source and not compiled yet is judged
/// only by runners that compile it (those with Docker, which also offer
/// `cpp-wasm`): with none seen within the language memory, the submission
/// would wait forever, so it is refused with `422 no_compiling_runner`.
async fn require_a_compiling_runner(state: &AppState, record: &ProblemRecord) -> ApiResult<()> {
    if needs(record) != Some(judge_core::checker_program::COMPILER_CAPABILITY) {
        return Ok(());
    }
    let offered = state.queue.languages(queue::LANGUAGE_MEMORY).await?;
    if offered.iter().any(|l| l == judge_core::checker_program::COMPILING_RUNNERS_OFFER) {
        return Ok(());
    }
    Err(ApiError::unprocessable(
        "no_compiling_runner",
        format!(
            "problem {:?} has a checker or interactor in C/C++ source, compiled by runners \
             with Docker and the sandbox image; no such runner is connected",
            record.view.id
        ),
    ))
}

/// What a runner must offer to judge the problem's submissions (its
/// checker's id, or that it compiles C/C++ source: a checker not yet
/// compiled, or an interactor).
fn needs(record: &ProblemRecord) -> Option<&str> {
    judge_core::checker_program::problem_runner_needs(
        &record.view.checker.plugin,
        record.view.interactor.as_ref(),
    )
}

/// Fills in what a submission takes from its problem's record.
/// With the checker compiled (`compiled`), any runner can judge: it needs
/// no compiling runner.
fn for_problem(
    submission: &mut NewSubmission,
    record: &ProblemRecord,
    compiled: Option<protocol::runner::BlobRef>,
) -> ApiResult<()> {
    submission.problem_id.clone_from(&record.view.id);
    submission.revision.clone_from(&record.manifest.digest);
    let source_interactor =
        record.view.interactor.as_ref().is_some_and(|i| !i.path.ends_with(".wasm"));
    submission.checker = match &compiled {
        Some(_) if !source_interactor => None,
        _ => needs(record).map(str::to_string),
    };
    submission.max_score = record.view.max_score;
    submission.cost = records::judge_cost(&record.view.tasks);
    if let JobSpec::Judge { problem, compiled_checker, .. } = &mut submission.spec {
        *problem = ProblemRef { id: record.view.id.clone(), manifest: record.manifest.clone() };
        *compiled_checker = compiled;
    }
    // Normal-OJ's runners may take it too when they can judge it.
    submission.normal_oj = crate::normal_oj::rules::payload(&record.view, &submission.language)
        .map(|payload| serde_json::to_string(&payload))
        .transpose()
        .map_err(ApiError::internal)?;
    Ok(())
}

/// The submission if the caller may see it; others' are 404, like missing ones.
async fn visible(state: &AppState, caller: &Caller, id: &str) -> ApiResult<SubmissionView> {
    match state.queue.submission(id).await? {
        Some(record) if caller.may_see(&record.owner) => Ok(record.view),
        _ => Err(ApiError::not_found(format!("no submission {id}"))),
    }
}

#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "submissions", params(("id" = String, Path)), responses((status = 200, body = protocol::client::SubmissionView), NotFound, CallerErrors), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Caller,
) -> ApiResult<ApiJson<SubmissionView>> {
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
#[utoipa::path(get, path = "/api/v1/submissions", tag = "submissions", params(("limit" = Option<u32>, Query, description = "How many (default 50, 1 to 200)")), responses((status = 200, body = Vec<protocol::client::SubmissionSummary>), CallerErrors, (status = 400, description = "Malformed request, or `limit` out of range", body = protocol::ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
    caller: Caller,
) -> ApiResult<ApiJson<Vec<SubmissionSummary>>> {
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

#[utoipa::path(post, path = "/api/v1/submissions/{id}/rejudge", tag = "submissions", params(("id" = String, Path)), responses((status = 200, body = protocol::client::SubmissionView), NotFound, CallerErrors), security(("bearer" = [])))]
pub async fn rejudge(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Caller,
) -> ApiResult<ApiJson<SubmissionView>> {
    visible(&state, &caller, &id).await?;
    let job_id = new_id("jb_");
    // The admin's rejudges (often many at once) wait behind live work.
    let behind_live = matches!(caller, Caller::Admin);
    if state.queue.rejudge(&id, &job_id, behind_live).await? != Change::Done {
        return Err(ApiError::not_found(format!("no submission {id}")));
    }
    tracing::info!(submission_id = id, job_id, "rejudge queued");
    Ok(ApiJson(visible(&state, &caller, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/submissions/{id}/cancel", tag = "submissions", params(("id" = String, Path)), responses((status = 200, body = protocol::client::SubmissionView), NotFound, (status = 409, description = "already_final", body = protocol::ErrorBody), CallerErrors), security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Caller,
) -> ApiResult<ApiJson<SubmissionView>> {
    visible(&state, &caller, &id).await?;
    cancel_record(&state, "submission", &id).await?;
    Ok(ApiJson(visible(&state, &caller, &id).await?))
}

/// `GET /submissions/{id}/events`: every event of the current job so far,
/// then live ones, ending after `finished`.
#[utoipa::path(get, path = "/api/v1/submissions/{id}/events", tag = "submissions", params(("id" = String, Path)), responses((status = 200, description = "SSE: queued, started, compiled, case, finished; each `data` is a SubmissionEvent", content_type = "text/event-stream", body = protocol::client::SubmissionEvent), NotFound, CallerErrors), security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    visible(&state, &caller, &id).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(follow(state, id, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|logged| (Ok(logged.into_event()), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
