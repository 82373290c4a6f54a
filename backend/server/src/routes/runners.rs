//! The runner protocol (`docs/contract.md` §4): register, heartbeat, long-poll for a job,
//! progress events, fenced completion, deregistration.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::runner::{
    CompleteRequest, CompleteResponse, EventsRequest, HeartbeatRequest, HeartbeatResponse,
    PluginKind, PluginRef, RegisterRequest, RegisterResponse,
};
use queue::{Capabilities, Claim, Fence, LeaseRef, NewRunner};
use serde::Deserialize;

use crate::auth::{Registration, Runner, hash_token, new_id, new_token};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::records::check_result;
use crate::responses::{RegistrationErrors, RunnerErrors, TooLarge};
use crate::runner_access::{check_name, handed_out, no_longer_registered};
use crate::state::AppState;

/// The longest a long-poll may wait.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// The wait when the runner does not say.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// Most slots, labels, languages or plugins a runner may advertise.
const MAX_LIST: usize = 256;

fn check_words(field: &str, words: &[String]) -> ApiResult<()> {
    if words.len() > MAX_LIST {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("{field}: at most {MAX_LIST} entries"),
        ));
    }
    match words.iter().find(|w| !queue::is_valid_word(w)) {
        Some(bad) => Err(ApiError::bad_request(
            "invalid_field",
            format!("{field}: {bad:?} is not an id (1-64 of A-Z a-z 0-9 . _ : + -)"),
        )),
        None => Ok(()),
    }
}

fn check_plugins(plugins: &[PluginRef]) -> ApiResult<Vec<String>> {
    let ids: Vec<String> = plugins.iter().map(|p| p.id.clone()).collect();
    check_words("plugins[].id", &ids)?;
    if let Some(bad) = plugins.iter().find(|p| !protocol::is_digest(&p.digest)) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("plugins[{}].digest: not a SHA-256 hex digest", bad.id),
        ));
    }
    Ok(plugins.iter().filter(|p| p.kind == PluginKind::Checker).map(|p| p.id.clone()).collect())
}

fn plugins_json(plugins: &[PluginRef]) -> String {
    serde_json::to_string(plugins).unwrap_or_else(|_| "[]".into())
}

#[utoipa::path(post, path = "/api/v1/runners/register", tag = "runners", request_body = protocol::runner::RegisterRequest, responses((status = 201, body = protocol::runner::RegisterResponse), RegistrationErrors), security(("bearer" = [])))]
pub async fn register(
    State(state): State<AppState>,
    _: Registration,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> ApiResult<Response> {
    check_name(&request.name)?;
    if !(1..=1024).contains(&request.slots) {
        return Err(ApiError::bad_request("invalid_field", "slots: 1 to 1024"));
    }
    check_words("labels", &request.labels)?;
    check_words("languages", &request.languages)?;
    let checkers = check_plugins(&request.plugins)?;
    let runner_id = new_id("rn_");
    let token = new_token("rk_");
    state
        .queue
        .register_runner(&NewRunner {
            id: runner_id.clone(),
            token_hash: hash_token(&token),
            name: request.name.clone(),
            labels: request.labels,
            slots: request.slots,
            languages: request.languages,
            checkers,
            plugins_json: plugins_json(&request.plugins),
            dialect: "",
            ttl: state.queue.config().runner_ttl(),
        })
        .await?;
    tracing::info!(runner_id, name = request.name, "runner registered");
    let config = state.queue.config();
    let body = RegisterResponse {
        runner_id,
        token,
        heartbeat_interval_s: config.heartbeat_interval.as_secs(),
        lease_ttl_s: config.lease_ttl.as_secs(),
    };
    Ok((StatusCode::CREATED, ApiJson(body)).into_response())
}

#[utoipa::path(post, path = "/api/v1/runners/{rid}/heartbeat", tag = "runners", params(("rid" = String, Path)), request_body = protocol::runner::HeartbeatRequest, responses((status = 200, body = protocol::runner::HeartbeatResponse), RunnerErrors), security(("bearer" = [])))]
pub async fn heartbeat(
    State(state): State<AppState>,
    Runner { id: runner_id }: Runner,
    ApiJson(request): ApiJson<HeartbeatRequest>,
) -> ApiResult<ApiJson<HeartbeatResponse>> {
    if request.active_jobs.len() > 4096 {
        return Err(ApiError::bad_request("invalid_field", "active_jobs: at most 4096"));
    }
    for job in &request.active_jobs {
        check_lease("active_jobs[].lease", &job.lease)?;
    }
    if let Some(languages) = &request.languages {
        check_words("languages", languages)?;
    }
    let checkers = request.plugins.as_deref().map(check_plugins).transpose()?;
    let capabilities = Capabilities {
        languages: request.languages,
        checkers,
        plugins_json: request.plugins.as_deref().map(plugins_json),
    };
    match state.queue.heartbeat(&runner_id, &request.active_jobs, &capabilities).await? {
        Some(cancel) => Ok(ApiJson(HeartbeatResponse {
            cancel,
            heartbeat_interval_s: Some(state.queue.config().heartbeat_interval.as_secs()),
        })),
        None => Err(no_longer_registered()),
    }
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    wait_ms: Option<u64>,
}

/// Long-poll: answers the moment a job this runner can run is queued (woken
/// through Redis pub/sub, one long-poll per job, never by polling), or 204
/// when the wait is over.
#[utoipa::path(get, path = "/api/v1/runners/{rid}/jobs/next", tag = "runners", params(("rid" = String, Path), ("wait_ms" = Option<u64>, Query, description = "Long-poll wait (default 30000, at most 60000)")), responses((status = 200, body = protocol::runner::Job), (status = 204, description = "No job within the wait"), (status = 409, description = "slots_full", body = protocol::ErrorBody), RunnerErrors), security(("bearer" = [])))]
pub async fn next_job(
    State(state): State<AppState>,
    Query(query): Query<NextQuery>,
    Runner { id: runner_id }: Runner,
) -> ApiResult<Response> {
    let wait = query.wait_ms.map_or(DEFAULT_WAIT, Duration::from_millis).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    let mut shutdown = state.shutdown.clone();
    // Parked before the first look, so a job queued in between wakes us.
    let mut waiter = state.listener.park();
    loop {
        let Some(woken_for) = waiter.take_wakes() else {
            // Woken for a job someone else has leased since: wait on.
            if !wait_for_wake(&waiter, deadline, &mut shutdown).await {
                return Ok(StatusCode::NO_CONTENT.into_response());
            }
            continue;
        };
        match state.queue.claim(&runner_id, &new_token("ls_"), &woken_for).await? {
            Claim::Job(leased) => {
                waiter.leased(&leased.job.job_id);
                handed_out(&state, &runner_id, &leased.job);
                return Ok(ApiJson(leased.job).into_response());
            }
            Claim::Nothing(idle) => waiter.found_nothing(idle.offer, &idle.still_queued),
            Claim::SlotsFull => {
                return Err(ApiError::conflict(
                    "slots_full",
                    "the runner already holds a lease for each of its slots",
                ));
            }
            Claim::UnknownRunner => return Err(no_longer_registered()),
        }
        if !wait_for_wake(&waiter, deadline, &mut shutdown).await {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
    }
}

/// Waits until the long-poll is woken (true), or its wait is over or the
/// backend is stopping (false).
async fn wait_for_wake(
    waiter: &queue::Waiter,
    deadline: tokio::time::Instant,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        () = waiter.woken() => true,
        () = tokio::time::sleep_until(deadline) => false,
        _ = shutdown.wait_for(|stopping| *stopping) => false,
    }
}

/// A lease is the token a claim handed out; never empty (an empty one would
/// name "whatever the runner holds", the Normal-OJ dialect's fence).
fn check_lease(field: &str, lease: &str) -> ApiResult<()> {
    if lease.is_empty() || lease.len() > 128 {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("{field}: 1 to 128 characters"),
        ));
    }
    Ok(())
}

fn fence_answer(fence: Fence, job_id: &str) -> ApiResult<StatusCode> {
    match fence {
        Fence::Accepted | Fence::Repeated => Ok(StatusCode::OK),
        Fence::WrongKind => Err(ApiError::bad_request(
            "wrong_kind",
            format!(
                "result: {job_id} is a code run's job and takes a run's report, or the other way round"
            ),
        )),
        Fence::Dropped | Fence::Unknown | Fence::Stale => Err(ApiError::conflict(
            "stale_lease",
            format!(
                "the lease on {job_id} is no longer valid (expired, reclaimed, rejudged or cancelled); stop the job"
            ),
        )),
    }
}

#[utoipa::path(post, path = "/api/v1/runners/{rid}/jobs/{jid}/events", tag = "runners", params(("rid" = String, Path), ("jid" = String, Path)), request_body = protocol::runner::EventsRequest, responses((status = 200), (status = 409, description = "stale_lease", body = protocol::ErrorBody), RunnerErrors), security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    Path((_, job_id)): Path<(String, String)>,
    Runner { id: runner_id }: Runner,
    ApiJson(request): ApiJson<EventsRequest>,
) -> ApiResult<StatusCode> {
    if request.events.len() > 10_000 {
        return Err(ApiError::bad_request("invalid_field", "events: at most 10000 per call"));
    }
    check_lease("lease", &request.lease)?;
    let fence =
        state.queue.post_events(&runner_id, &job_id, &request.lease, &request.events).await?;
    fence_answer(fence, &job_id)
}

#[utoipa::path(put, path = "/api/v1/runners/{rid}/jobs/{jid}/complete", tag = "runners", params(("rid" = String, Path), ("jid" = String, Path)), request_body = protocol::runner::CompleteRequest, responses((status = 200, description = "Accepted, or a repeat of the accepted completion; with `next: true`, the runner's next job if one was queued", body = protocol::runner::CompleteResponse), (status = 409, description = "stale_lease", body = protocol::ErrorBody), RunnerErrors), security(("bearer" = [])))]
pub async fn complete(
    State(state): State<AppState>,
    Path((_, job_id)): Path<(String, String)>,
    Runner { id: runner_id }: Runner,
    ApiJson(request): ApiJson<CompleteRequest>,
) -> ApiResult<ApiJson<CompleteResponse>> {
    let status = check_result(&request.result)?;
    check_lease("lease", &request.lease)?;
    let (fence, claim) = if request.next {
        let next_lease = new_token("ls_");
        state
            .queue
            .complete_then_claim(&runner_id, &job_id, &request.lease, &request.result, &next_lease)
            .await?
    } else {
        let lease = LeaseRef::Token(&request.lease);
        (state.queue.complete(&runner_id, &job_id, lease, &request.result).await?, None)
    };
    if fence == Fence::Accepted {
        tracing::info!(runner_id, job_id, status, "job completed");
    }
    fence_answer(fence, &job_id)?;
    let next = match claim {
        Some(Claim::Job(leased)) => {
            handed_out(&state, &runner_id, &leased.job);
            Some(leased.job)
        }
        _ => None,
    };
    Ok(ApiJson(CompleteResponse { next }))
}

#[utoipa::path(delete, path = "/api/v1/runners/{rid}", tag = "runners", params(("rid" = String, Path)), responses((status = 200, description = "`{requeued}`: the runner's jobs went back to the queue"), RunnerErrors), security(("bearer" = [])))]
pub async fn deregister(
    State(state): State<AppState>,
    Runner { id: runner_id }: Runner,
) -> ApiResult<ApiJson<serde_json::Value>> {
    let requeued = state.queue.deregister(&runner_id).await?.unwrap_or(0);
    tracing::info!(runner_id, requeued, "runner deregistered");
    Ok(ApiJson(serde_json::json!({ "requeued": requeued })))
}

/// The largest compiled checker program a runner may share.
pub const MAX_COMPILED_CHECKER_BYTES: usize = 64 << 20;

#[utoipa::path(put, path = "/api/v1/runners/{rid}/checkers/{revision}", tag = "runners", params(("rid" = String, Path), ("revision" = String, Path, description = "The problem revision (manifest digest) whose checker this is")), request_body(content = Vec<u8>, content_type = "application/wasm", description = "The WASI module the runner compiled from the problem's C/C++ checker source"), responses((status = 204, description = "Stored: later jobs of the revision carry it, so runners without Docker can run it"), TooLarge, (status = 422, body = protocol::ErrorBody, description = "not_wasm, unknown_revision"), RunnerErrors), security(("bearer" = [])))]
pub async fn put_compiled_checker(
    State(state): State<AppState>,
    Path((_, revision)): Path<(String, String)>,
    _: Runner,
    body: axum::body::Body,
) -> ApiResult<StatusCode> {
    if !protocol::is_digest(&revision) {
        return Err(ApiError::bad_request("invalid_field", "revision: not a SHA-256 hex digest"));
    }
    let bytes = axum::body::to_bytes(body, MAX_COMPILED_CHECKER_BYTES).await.map_err(|_| {
        ApiError::too_large(format!(
            "a compiled checker is at most {MAX_COMPILED_CHECKER_BYTES} bytes"
        ))
    })?;
    if !bytes.starts_with(b"\0asm\x01\0\0\0") {
        return Err(ApiError::unprocessable(
            "not_wasm",
            "a compiled checker is a WebAssembly core module (`\\0asm`, version 1)",
        ));
    }
    if !state.queue.revision_exists(&revision).await? {
        return Err(ApiError::unprocessable(
            "unknown_revision",
            format!("no problem revision {revision} is stored"),
        ));
    }
    let blob = state.blobs.put_bytes(&bytes).await?;
    let reference = protocol::runner::BlobRef { digest: blob.digest.clone(), size: blob.size };
    let json = serde_json::to_string(&reference).map_err(ApiError::internal)?;
    state.queue.put_compiled_checker(&revision, &blob.digest, &json).await?;
    tracing::info!(revision, digest = blob.digest, "compiled checker stored");
    Ok(StatusCode::NO_CONTENT)
}
