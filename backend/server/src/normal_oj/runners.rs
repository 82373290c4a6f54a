//! Their runner's calls: register, heartbeat, next-job (one claim, no
//! long-poll: they poll), complete and abort — fenced by the runner's
//! identity, since their runner does not echo leases — and the code
//! download their runner fetches without auth (a signed URL).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::normal_oj::{
    AbortRequest, CompleteRequest, HeartbeatRequest, Job, RegisterRequest, RegisterResponse,
    RunnerConfig, language_extension,
};
use protocol::runner::JobSpec;
use queue::{Abort, Claim, DIALECT_NORMAL_OJ, Fence, LeaseRef, NewRunner};
use serde::Deserialize;

use super::rules::{self, Payload};
use super::signing::CODE_URL_TTL_S;
use super::wire::{their_json, zip_one};
use crate::auth::{TheirRunner, configured_matches, hash_token, new_id, new_token};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::responses::{NotFound, RegistrationErrors, TheirRunnerErrors};
use crate::runner_access::{check_name, handed_out, no_longer_registered};
use crate::state::AppState;

/// Their identity lives this long without a call.
const IDENTITY_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Their runner polls next-job this often.
const POLL_INTERVAL_S: u64 = 3;
/// Jobs one of their runners runs at once.
const MAX_CONCURRENT_JOBS: u32 = 8;
/// Most job ids in one heartbeat.
const MAX_ACTIVE_JOBS: usize = 4096;

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `POST /runners/register`: the secret is in the body, not a header.
#[utoipa::path(post, path = "/compat/normal-oj/runners/register", tag = "normal-oj", request_body = protocol::normal_oj::RegisterRequest, responses((status = 201, body = protocol::normal_oj::RegisterResponse), RegistrationErrors))]
pub async fn register(State(state): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let request: RegisterRequest = their_json(&body)?;
    if !configured_matches(&state.config.registration_token, &request.registration_token) {
        return Err(ApiError::unauthorized("registration_token: not the registration secret"));
    }
    check_name(&request.name)?;
    let runner_id = new_id("rn_");
    let token = new_token("rk_");
    state
        .queue
        .register_runner(&NewRunner {
            id: runner_id.clone(),
            token_hash: hash_token(&token),
            name: request.name.clone(),
            labels: Vec::new(),
            slots: MAX_CONCURRENT_JOBS,
            languages: protocol::normal_oj::LANGUAGES
                .iter()
                .map(|(_, id, _)| id.to_string())
                .collect(),
            checkers: vec![rules::THEIR_CHECKER.to_string()],
            plugins_json: "[]".into(),
            dialect: DIALECT_NORMAL_OJ,
            ttl: IDENTITY_TTL,
        })
        .await?;
    tracing::info!(runner_id, name = request.name, "Normal-OJ runner registered");
    let body = RegisterResponse {
        runner_id,
        token,
        config: RunnerConfig {
            heartbeat_interval_sec: state.queue.config().heartbeat_interval.as_secs(),
            poll_interval_sec: POLL_INTERVAL_S,
            max_concurrent_jobs: MAX_CONCURRENT_JOBS,
        },
    };
    Ok((StatusCode::CREATED, ApiJson(body)).into_response())
}

/// `POST /runners/{rn}/heartbeat`: renews the runner and the leases it holds
/// on the jobs it names (others are ignored); `204`.
#[utoipa::path(post, path = "/compat/normal-oj/runners/{rn}/heartbeat", tag = "normal-oj", params(("rn" = String, Path)), request_body = protocol::normal_oj::HeartbeatRequest, responses((status = 204), TheirRunnerErrors), security(("bearer" = [])))]
pub async fn heartbeat(
    State(state): State<AppState>,
    TheirRunner { id: runner_id }: TheirRunner,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let request: HeartbeatRequest = their_json(&body)?;
    if request.active_job_ids.len() > MAX_ACTIVE_JOBS {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("active_job_ids: at most {MAX_ACTIVE_JOBS}"),
        ));
    }
    if let Some(bad) = request.active_job_ids.iter().find(|id| !is_job_id(id)) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!(
                "active_job_ids: {:?} is not a job id",
                bad.chars().take(80).collect::<String>()
            ),
        ));
    }
    match state.queue.heartbeat_held(&runner_id, &request.active_job_ids).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(no_longer_registered()),
    }
}

/// A job id as the runner uses it: a directory and container name.
fn is_job_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The absolute URL this backend is reached at by the caller.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.clone();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let scheme = if state.config.tls.is_some() { "https" } else { "http" };
    format!("{scheme}://{}", host.map_or_else(|| state.config.listen.to_string(), str::to_string))
}

/// `GET /runners/{rn}/next-job`: `200` with a job their runner can run (its
/// lease taken), or `204`.
#[utoipa::path(get, path = "/compat/normal-oj/runners/{rn}/next-job", tag = "normal-oj", params(("rn" = String, Path)), responses((status = 200, body = protocol::normal_oj::Job), (status = 204), TheirRunnerErrors), security(("bearer" = [])))]
pub async fn next_job(
    State(state): State<AppState>,
    TheirRunner { id: runner_id }: TheirRunner,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let lease = new_token("ls_");
    let leased = match state.queue.claim(&runner_id, &lease, &[]).await? {
        Claim::Job(leased) => leased,
        Claim::Nothing(_) | Claim::SlotsFull => return Ok(StatusCode::NO_CONTENT.into_response()),
        Claim::UnknownRunner => return Err(no_longer_registered()),
    };
    let job = leased.job;
    // Before any abort below: its requeue wakes long-polls afresh.
    handed_out(&state, &runner_id, &job);
    let Some(payload) = Payload::of_job(leased.normal_oj.as_deref()) else {
        // Claims filter on the payload, so this is stored data gone bad:
        // hand the job back untouched rather than lose it.
        state.queue.abort(&runner_id, &job.job_id, false, "no Normal-OJ payload").await?;
        return Err(ApiError::internal(format!(
            "job {} has no valid Normal-OJ payload",
            job.job_id
        )));
    };
    let expires = now_s() + CODE_URL_TTL_S;
    let code_url = format!(
        "{}{}/code/{}?expires={expires}&signature={}",
        public_base(&state, &headers),
        protocol::normal_oj::BASE,
        job.job_id,
        state.code_urls.sign(&job.job_id, &lease, expires),
    );
    Ok(ApiJson(Job {
        job_id: job.job_id,
        submission_id: job.submission_id,
        problem_id: payload.problem_id,
        language: payload.language,
        code_url,
        tasks: payload.tasks,
    })
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct CodeQuery {
    expires: u64,
    signature: String,
}

/// `GET /code/{jb}?expires=&signature=`: the source as a zip holding only
/// `main.<ext>`, while the lease the URL was issued under lasts.
#[utoipa::path(get, path = "/compat/normal-oj/code/{jb}", tag = "normal-oj", params(("jb" = String, Path), ("expires" = u64, Query), ("signature" = String, Query)), responses((status = 200, description = "A zip holding only main.<ext>", content_type = "application/zip"), (status = 401, body = protocol::ErrorBody)))]
pub async fn code(
    State(state): State<AppState>,
    Path(job_id): Path<String>,
    Query(query): Query<CodeQuery>,
) -> ApiResult<Response> {
    let refused =
        || ApiError::unauthorized("the code URL is invalid or expired (or the job's lease ended)");
    let Some(job) = state.queue.job(&job_id).await? else { return Err(refused()) };
    let Some(lease) = job.lease.filter(|_| job.normal_oj.is_some()) else { return Err(refused()) };
    if !state.code_urls.verify(&job_id, &lease, query.expires, &query.signature, now_s()) {
        return Err(refused());
    }
    let JobSpec::Judge { language, source, source_text, .. } = job.spec else {
        return Err(refused()); // a code run: never theirs
    };
    let source = match source_text {
        Some(text) => text.into_bytes(),
        None => state
            .blobs
            .read_small(&source.digest, state.config.max_source_bytes)
            .await?
            .ok_or_else(|| ApiError::internal(format!("job {job_id}: source blob missing")))?,
    };
    let extension = language_extension(&language).ok_or_else(|| {
        ApiError::internal(format!("job {job_id}: language {language} is not theirs"))
    })?;
    let zip = zip_one(&format!("main.{extension}"), &source).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/zip")], zip).into_response())
}

#[derive(Debug, Deserialize)]
pub struct JobPath {
    /// The job (the runner, `rn`, is [`TheirRunner`]'s).
    jb: String,
}

/// `PUT /runners/{rn}/jobs/{jb}/complete`: their results, scored by their
/// rules. `204` (also when the job was superseded meanwhile: the result is
/// dropped); `404` unknown or already completed; `409` not this runner's.
#[utoipa::path(put, path = "/compat/normal-oj/runners/{rn}/jobs/{jb}/complete", tag = "normal-oj", params(("rn" = String, Path), ("jb" = String, Path)), request_body = protocol::normal_oj::CompleteRequest, responses((status = 204), NotFound, (status = 409, body = protocol::ErrorBody), TheirRunnerErrors), security(("bearer" = [])))]
pub async fn complete(
    State(state): State<AppState>,
    Path(JobPath { jb: job_id }): Path<JobPath>,
    TheirRunner { id: runner_id }: TheirRunner,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let request: CompleteRequest = their_json(&body)?;
    let unknown = || {
        ApiError::not_found(format!("no job {job_id} to complete (unknown, or already completed)"))
    };
    let Some(job) = state.queue.job(&job_id).await? else { return Err(unknown()) };
    let payload = Payload::of_job(job.normal_oj.as_deref()).ok_or_else(unknown)?;
    let report = rules::report(&payload, &request.tasks)
        .map_err(|reason| ApiError::bad_request("invalid_field", reason))?;
    let status = report.status.code();
    match state.queue.complete(&runner_id, &job_id, LeaseRef::Held, &report.into()).await? {
        Fence::Accepted => {
            tracing::info!(runner_id, job_id, status, "job completed by a Normal-OJ runner");
            Ok(StatusCode::NO_CONTENT)
        }
        Fence::Dropped => {
            tracing::info!(runner_id, job_id, "result of a superseded or cancelled job dropped");
            Ok(StatusCode::NO_CONTENT)
        }
        // Their jobs are never code runs, so a wrong kind cannot be theirs.
        Fence::Repeated | Fence::Unknown | Fence::WrongKind => Err(unknown()),
        Fence::Stale => Err(ApiError::conflict(
            "not_owner",
            format!(
                "runner {runner_id} does not hold job {job_id} (its lease expired or another runner holds it)"
            ),
        )),
    }
}

/// `PUT /runners/{rn}/jobs/{jb}/abort`: the job goes back to the queue's
/// tail; `drain` does not spend an attempt, the other reasons do (JE once
/// none is left). `202`; `404` unknown; `409` not this runner's.
#[utoipa::path(put, path = "/compat/normal-oj/runners/{rn}/jobs/{jb}/abort", tag = "normal-oj", params(("rn" = String, Path), ("jb" = String, Path)), request_body = protocol::normal_oj::AbortRequest, responses((status = 202), NotFound, (status = 409, body = protocol::ErrorBody), TheirRunnerErrors), security(("bearer" = [])))]
pub async fn abort(
    State(state): State<AppState>,
    Path(JobPath { jb: job_id }): Path<JobPath>,
    TheirRunner { id: runner_id }: TheirRunner,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let reason = their_json::<AbortRequest>(&body)?.reason;
    match state.queue.abort(&runner_id, &job_id, reason.counts_attempt(), reason.as_str()).await? {
        outcome @ (Abort::Requeued | Abort::Failed) => {
            tracing::info!(
                runner_id,
                job_id,
                reason = reason.as_str(),
                ?outcome,
                "job handed back"
            );
            Ok(StatusCode::ACCEPTED)
        }
        Abort::Unknown => Err(ApiError::not_found(format!("no job {job_id} to hand back"))),
        Abort::Stale => Err(ApiError::conflict(
            "not_owner",
            format!("runner {runner_id} does not hold job {job_id}"),
        )),
    }
}
