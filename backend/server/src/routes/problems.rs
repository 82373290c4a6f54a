//! Problems (`docs/contract.md` §5, §6): `PUT /problems/{id}` takes a package archive
//! (zip or tar.gz, native or Normal-OJ format), streams it to disk under a
//! size cap, unpacks and validates it with `problem-package` (zip-slip,
//! symlinks, bombs, judge-core's rules), stores every file as a blob, then
//! switches the problem to the new revision in one Redis script: a refused
//! package changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use problem_package::{ArchiveKind, PackageError};
use protocol::client::ProblemView;
use protocol::runner::{BlobRef, ProblemManifest};
use tokio::io::AsyncWriteExt;

use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::problem_store::ProblemRecord;
use crate::responses::{AdminErrors, CallerErrors, NotFound, TooLarge};
use crate::state::AppState;

impl From<PackageError> for ApiError {
    fn from(error: PackageError) -> Self {
        match StatusCode::from_u16(error.http_status()) {
            Ok(status) if status.is_client_error() => {
                ApiError::new(status, error.code(), error.to_string())
            }
            _ => ApiError::internal(error),
        }
    }
}

#[utoipa::path(put, path = "/api/v1/problems/{id}", tag = "problems", params(("id" = String, Path)), request_body(content = Vec<u8>, content_type = "application/zip", description = "A package: application/zip or application/gzip (tar.gz), native or Normal-OJ format"), responses((status = 201, body = protocol::client::ProblemView), (status = 200, body = protocol::client::ProblemView, description = "Replaced"), TooLarge, (status = 415, body = protocol::ErrorBody), (status = 422, body = protocol::ErrorBody), AdminErrors), security(("bearer" = [])))]
pub async fn put(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _: Admin,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    if !problem_package::is_valid_problem_id(&id) {
        return Err(ApiError::bad_request(
            "invalid_id",
            format!(
                "{id:?} is not a problem id (1-64 of a-z 0-9 _ -, starting with a letter or digit)"
            ),
        ));
    }
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(kind) = ArchiveKind::from_content_type(content_type) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            format!(
                "a package is application/zip or application/gzip (tar.gz), not {content_type:?}"
            ),
        ));
    };
    let limit = state.config.max_package_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
    if declared.is_some_and(|length: u64| length > limit) {
        return Err(ApiError::too_large(format!("the package is larger than {limit} bytes")));
    }
    let uploads = state.config.data_dir.join("uploads");
    tokio::fs::create_dir_all(&uploads).await.map_err(ApiError::internal)?;
    let archive = tempfile::NamedTempFile::new_in(&uploads).map_err(ApiError::internal)?;
    receive(body, archive.path(), limit).await?;

    let unpacked = tempfile::tempdir_in(&uploads).map_err(ApiError::internal)?;
    let (archive_path, dest, problem_id) =
        (archive.path().to_path_buf(), unpacked.path().to_path_buf(), id.clone());
    let limits = state.config.unpack_limits;
    let imported = tokio::task::spawn_blocking(move || {
        problem_package::import(&archive_path, kind, &dest, &problem_id, &limits)
    })
    .await
    .map_err(ApiError::internal)??;

    let mut files = BTreeMap::new();
    let mut bytes = 0;
    for file in &imported.files {
        let blob = state.blobs.put_file(&imported.root.join(&file.path)).await?;
        bytes += blob.size;
        files.insert(file.path.clone(), BlobRef { digest: blob.digest, size: blob.size });
    }
    let manifest = ProblemManifest { id: id.clone(), files };
    let manifest_json = serde_json::to_vec(&manifest).map_err(ApiError::internal)?;
    let manifest_blob = state.blobs.put_bytes(&manifest_json).await?;
    let problem = imported.problem;
    let view = ProblemView {
        id: id.clone(),
        title: problem.title.clone(),
        format: problem.format,
        revision: manifest_blob.digest.clone(),
        max_score: problem.max_score(),
        checker: problem.checker,
        interactor: problem.interactor,
        tasks: problem.tasks,
        case_paths: problem.case_paths,
        origins: problem.origins,
        files: manifest.files.len(),
        bytes,
    };
    let record = ProblemRecord {
        view: view.clone(),
        manifest: BlobRef { digest: manifest_blob.digest.clone(), size: manifest_blob.size },
    };
    let record_json = serde_json::to_string(&record).map_err(ApiError::internal)?;
    let digests = manifest.files.values().map(|b| b.digest.as_str());
    let replaced =
        state.queue.put_problem(&id, &manifest_blob.digest, &record_json, digests).await?;
    state.problems.put(&id, Arc::new(record));
    tracing::info!(
        problem_id = id,
        revision = view.revision,
        files = view.files,
        replaced,
        "problem stored"
    );
    let status = if replaced { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, ApiJson(view)).into_response())
}

/// Streams a request body into `path`, refusing more than `limit` bytes.
async fn receive(body: Body, path: &std::path::Path, limit: u64) -> ApiResult<()> {
    let mut file = tokio::fs::File::create(path).await.map_err(ApiError::internal)?;
    let mut stream = body.into_data_stream();
    let mut received = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request("body", format!("reading the body failed: {e}")))?;
        received += chunk.len() as u64;
        if received > limit {
            return Err(ApiError::too_large(format!("the package is larger than {limit} bytes")));
        }
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.flush().await.map_err(ApiError::internal)?;
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/problems/{id}", tag = "problems", params(("id" = String, Path)), responses((status = 200, body = protocol::client::ProblemView), NotFound, CallerErrors), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _: Caller,
) -> ApiResult<ApiJson<ProblemView>> {
    match ProblemRecord::load(&state.queue, &id).await? {
        Some(record) => Ok(ApiJson(record.view)),
        None => Err(ApiError::not_found(format!("no problem {id}"))),
    }
}

#[utoipa::path(get, path = "/api/v1/problems", tag = "problems", responses((status = 200, body = Vec<String>), CallerErrors), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, _: Caller) -> ApiResult<ApiJson<Vec<String>>> {
    Ok(ApiJson(state.queue.problem_ids().await?))
}
