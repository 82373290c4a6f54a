//! Free code runs (`docs/contract.md` §5, `/runs`): create, read, cancel, the live output
//! stream (SSE `stdout`/`stderr` chunks as they are produced, then `end`),
//! the combined log and the artifacts.
//!
//! A run is queued like a submission (same queue, leases, reclaims and
//! event log; its record has `kind = run`), so everything that keeps a
//! submission from being lost or stuck holds for runs too.

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures_util::{Stream, StreamExt};
use protocol::runner::JobSpec;
use protocol::runs::{self, RunCreated, RunJob, RunRequest, RunView};
use queue::{NewRun, RunRecord, Submitted};

use crate::auth::{Caller, new_id};
use crate::error::{ApiError, ApiResult};
use crate::idempotency;
use crate::json::ApiJson;
use crate::records::{self, Logged, Start, cancel_record, check_labels, follow, unknown_language};
use crate::responses::{CallerErrors, NotFound, OverQuota, TooLarge};
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/runs", tag = "runs", request_body = protocol::runs::RunRequest, params(("Idempotency-Key" = Option<String>, Header, description = "1 to 200 printable ASCII characters naming this create: the same key again (a retry, to any instance, for a day) answers the first 201 instead of making a second run")), responses((status = 201, body = protocol::runs::RunCreated, headers(("Idempotent-Replayed" = String, description = "`true` when the answer is a replay of an earlier create with the same Idempotency-Key"))), TooLarge, (status = 422, description = "unknown_language; idempotency_conflict: the Idempotency-Key was used for another request", body = protocol::ErrorBody), OverQuota, CallerErrors, (status = 400, description = "Malformed request: files, entry, args, env, limits; invalid_header: a malformed Idempotency-Key", body = protocol::ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RunRequest>,
) -> ApiResult<Response> {
    let created = |run_id| RunCreated { run_id };
    let idempotency =
        match records::start_create(&state, &caller, &headers, "run", &request, created).await? {
            Start::Answered(earlier) => return Ok(earlier),
            Start::New(idempotency) => idempotency,
        };
    check_labels(&request.labels)?;
    let labels = request.labels.clone();
    let job = run_job(request, state.config.max_source_bytes)?;
    // One run at its time limit: what fair dispatch charges.
    let cost = job.time_ms.max(1);
    let run = NewRun {
        id: new_id("ru_"),
        job_id: new_id("jb_"),
        language: job.language.clone(),
        labels,
        owner: caller.owner().to_string(),
        spec: JobSpec::Run(job),
        idempotency,
        cost,
    };
    let outcome = match state.queue.submit_run(&run).await? {
        Submitted::UnknownLanguage => return Err(unknown_language(&state, &run.language).await),
        Submitted::OverQuota(refusal) => return Err(records::over_quota(refusal)),
        outcome => outcome,
    };
    if matches!(outcome, Submitted::Created(_)) {
        tracing::info!(run_id = run.id, job_id = run.job_id, language = run.language, "run queued");
    }
    idempotency::answer(outcome, created)
}

/// The request with its defaults applied, checked: what the runner gets.
fn run_job(request: RunRequest, max_files_bytes: u64) -> ApiResult<RunJob> {
    let invalid = |detail: String| ApiError::bad_request("invalid_field", detail);
    let entry = match (request.entry, request.files.len()) {
        (Some(entry), _) => entry,
        // No file at all: validation below names that.
        (None, 0 | 1) => request.files.keys().next().cloned().unwrap_or_default(),
        (None, _) => return Err(invalid("entry: required when there are several files".into())),
    };
    judge_core::code_run::validate_parts(request.files.keys(), &entry, &request.args, &request.env)
        .map_err(invalid)?;
    let files_bytes: u64 = request.files.values().map(|text| text.len() as u64).sum();
    if files_bytes > max_files_bytes {
        return Err(ApiError::too_large(format!(
            "files: {files_bytes} bytes together, at most {max_files_bytes}"
        )));
    }
    if request.stdin.len() > runs::MAX_STDIN_BYTES {
        return Err(ApiError::too_large(format!(
            "stdin: larger than {} bytes",
            runs::MAX_STDIN_BYTES
        )));
    }
    let limit = |field: &str, value: Option<u64>, default: u64, max: u64| match value {
        None => Ok(default),
        Some(v) if (1..=max).contains(&v) => Ok(v),
        Some(v) => Err(invalid(format!("limits.{field}: {v} is not between 1 and {max}"))),
    };
    let limits = request.limits;
    Ok(RunJob {
        language: request.language,
        files: request.files,
        entry,
        stdin: request.stdin,
        args: request.args,
        env: request.env,
        time_ms: limit("time_ms", limits.time_ms, runs::DEFAULT_TIME_MS, runs::MAX_TIME_MS)?,
        memory_mb: limit(
            "memory_mb",
            limits.memory_mb,
            runs::DEFAULT_MEMORY_MB,
            runs::MAX_MEMORY_MB,
        )?,
        output_bytes: limit(
            "output_kb",
            limits.output_kb,
            runs::DEFAULT_OUTPUT_KB,
            runs::MAX_OUTPUT_KB,
        )? * 1024,
        max_artifacts: runs::MAX_ARTIFACTS,
        max_artifact_bytes: runs::MAX_ARTIFACT_BYTES,
    })
}

/// The run if the caller may see it; others' are 404, like missing ones.
async fn visible(state: &AppState, caller: &Caller, id: &str) -> ApiResult<RunRecord> {
    match state.queue.run(id).await? {
        Some(record) if caller.may_see(&record.owner) => Ok(record),
        _ => Err(ApiError::not_found(format!("no run {id}"))),
    }
}

#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs", params(("id" = String, Path)), responses((status = 200, body = protocol::runs::RunView), NotFound, CallerErrors), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Caller,
) -> ApiResult<ApiJson<RunView>> {
    Ok(ApiJson(visible(&state, &caller, &id).await?.view))
}

#[utoipa::path(post, path = "/api/v1/runs/{id}/cancel", tag = "runs", params(("id" = String, Path)), responses((status = 200, body = protocol::runs::RunView), NotFound, (status = 409, description = "already_final", body = protocol::ErrorBody), CallerErrors), security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Caller,
) -> ApiResult<ApiJson<RunView>> {
    visible(&state, &caller, &id).await?;
    cancel_record(&state, "run", &id).await?;
    Ok(ApiJson(visible(&state, &caller, &id).await?.view))
}

/// `GET /runs/{id}/events`: the log so far, then live events: `queued`,
/// `started`, `stdout`/`stderr` (`{stream, data}` as the program writes),
/// and a last `end` carrying the run's final [`RunView`].
#[utoipa::path(get, path = "/api/v1/runs/{id}/events", tag = "runs", params(("id" = String, Path)), responses((status = 200, description = "SSE: queued, started, stdout, stderr, end (its data is the final RunView)", content_type = "text/event-stream"), NotFound, CallerErrors), security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    visible(&state, &caller, &id).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(follow(state.clone(), id.clone(), tx));
    let logged = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|logged| (logged, rx))
    });
    let stream = logged.then(move |logged| {
        let (state, id) = (state.clone(), id.clone());
        async move { Ok(run_event(&state, &id, logged).await) }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// A run's log event as its SSE event: output is named by its stream, and
/// `finished` becomes `end` with the final view.
async fn run_event(state: &AppState, id: &str, mut logged: Logged) -> Event {
    match logged.kind.as_str() {
        "output" => {
            let stream = serde_json::from_str::<serde_json::Value>(&logged.json)
                .ok()
                .and_then(|v| v["stream"].as_str().map(str::to_string));
            logged.kind = stream.unwrap_or_else(|| "stdout".into());
        }
        "finished" => {
            logged.kind = "end".into();
            match state.queue.run(id).await {
                Ok(Some(record)) => {
                    logged.json = serde_json::to_string(&record.view).unwrap_or(logged.json);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(run_id = id, error = %e, "reading the run failed"),
            }
        }
        _ => {}
    }
    logged.into_event()
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/log", tag = "runs", params(("id" = String, Path)), responses((status = 200, description = "stdout and stderr interleaved as written (so far, while it runs)", content_type = "text/plain"), NotFound, CallerErrors), security(("bearer" = [])))]
pub async fn log(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Caller,
) -> ApiResult<Response> {
    let record = visible(&state, &caller, &id).await?;
    let text = match &record.report {
        Some(report) => report.text(None),
        // Still running: what the live events carried so far.
        None => {
            let (events, _) = state.queue.events(&id, 0).await?;
            events
                .iter()
                .filter_map(|json| serde_json::from_str::<serde_json::Value>(json).ok())
                .filter(|event| event["type"] == "output")
                .filter_map(|event| event["data"].as_str().map(str::to_string))
                .collect()
        }
    };
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/artifacts/{name}", tag = "runs", params(("id" = String, Path), ("name" = String, Path, description = "The artifact's name; may contain `/`")), responses((status = 200, description = "The file's bytes", content_type = "application/octet-stream"), NotFound, CallerErrors), security(("bearer" = [])))]
pub async fn artifact(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    caller: Caller,
) -> ApiResult<Response> {
    let record = visible(&state, &caller, &id).await?;
    let found = record
        .report
        .iter()
        .flat_map(|report| &report.artifacts)
        .find(|artifact| artifact.name == name)
        .ok_or_else(|| ApiError::not_found(format!("run {id} has no artifact {name:?}")))?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(&found.content_base64)
        .map_err(ApiError::internal)?;
    let file_name = name.rsplit('/').next().unwrap_or(&name).replace('"', "");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
        ],
        data,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use axum::http::StatusCode;

    fn request(files: &[(&str, &str)]) -> RunRequest {
        RunRequest {
            language: "python3".into(),
            files: files.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect(),
            entry: None,
            stdin: String::new(),
            args: Vec::new(),
            env: BTreeMap::new(),
            limits: Default::default(),
            labels: Vec::new(),
        }
    }

    #[test]
    fn one_file_is_the_entry_and_limits_take_their_defaults() {
        let job = run_job(request(&[("hello.py", "print(1)")]), 1 << 20).unwrap();
        assert_eq!(job.entry, "hello.py");
        assert_eq!(job.time_ms, runs::DEFAULT_TIME_MS);
        assert_eq!(job.output_bytes, runs::DEFAULT_OUTPUT_KB * 1024);
    }

    #[test]
    fn bad_requests_name_what_is_wrong() {
        let detail = |r: RunRequest| run_job(r, 1 << 20).unwrap_err().detail;
        assert!(detail(request(&[("a.py", ""), ("b.py", "")])).starts_with("entry: required"));
        assert!(detail(request(&[("../x.py", "")])).contains("not a plain file name"));
        let mut slow = request(&[("a.py", "")]);
        slow.limits.time_ms = Some(runs::MAX_TIME_MS + 1);
        assert!(detail(slow).starts_with("limits.time_ms"));
        let mut big = request(&[("a.py", "")]);
        big.stdin = "x".repeat(runs::MAX_STDIN_BYTES + 1);
        assert!(detail(big).starts_with("stdin"));
        let error = run_job(request(&[("a.py", "12345")]), 4).unwrap_err();
        assert_eq!(error.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
