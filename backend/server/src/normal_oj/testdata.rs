//! Their testdata channel: `GET /problem/{pid}/checksum|testdata|meta?token=`
//! with the sandbox token, answers in their `{status, message, data}`
//! envelope (the zip itself raw).
//!
//! The zip holds `{task:02}{case:02}.in|.out` at its root, whatever the
//! problem's own case names; it is built once per problem revision from the
//! blobs (deterministically: fixed times and order) and kept in
//! `<data-dir>/compat/normal-oj/`, with its checksum: md5 of the zip's
//! bytes followed by the meta data as Python's `json.dumps` writes it —
//! what their runner computes from what it fetched. That folder is this
//! instance's cache, safe across instances: a revision is content-addressed
//! and its zip the same bytes wherever it is packed, so each instance packs
//! from the shared blob store what it has not packed yet.

use std::io::Write;
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use judge_core::problem::Problem;
use md5::{Digest, Md5};
use protocol::client::ProblemView;
use protocol::normal_oj::{Envelope, Meta};
use protocol::runner::ProblemManifest;
use serde::Deserialize;
use tokio_util::io::ReaderStream;

use super::rules;
use super::wire::entry_options;
use crate::auth::configured_matches;
use crate::error::ApiError;
use crate::problem_store::ProblemRecord;
use crate::state::AppState;

/// Largest manifest read while packing.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// A refusal in their envelope: `{"status": "err", "message", "data": null}`.
fn refusal(status: StatusCode, message: impl Into<String>) -> Response {
    let body = Envelope { status: "err".into(), message: message.into(), data: () };
    (status, axum::Json(body)).into_response()
}

type Answer = Result<Response, Response>;

fn internal(error: impl std::fmt::Display) -> Response {
    let logged = ApiError::internal(error);
    refusal(logged.status, logged.detail)
}

/// The problem `pid` with its meta data, if the token is the sandbox token
/// and their runners can judge the problem.
async fn problem(
    state: &AppState,
    pid: &str,
    token: &str,
) -> Result<(ProblemRecord, Meta), Response> {
    if !configured_matches(&state.config.normal_oj_sandbox_token, token) {
        return Err(refusal(StatusCode::UNAUTHORIZED, "token: not the sandbox token"));
    }
    let not_found = |why: &str| refusal(StatusCode::NOT_FOUND, format!("problem {pid}: {why}"));
    if rules::numeric_id(pid).is_none() {
        return Err(not_found("not a problem id (a number)"));
    }
    let record = match ProblemRecord::load(&state.queue, pid).await {
        Ok(Some(record)) => record,
        Ok(None) => return Err(not_found("no such problem")),
        Err(e) => return Err(refusal(e.status, e.detail)),
    };
    match rules::meta(&record.view) {
        Some(meta) => Ok((record, meta)),
        None => Err(not_found(
            "Normal-OJ runners cannot judge it (it needs the lines checker without arguments, whole task scores summing to 100, at most 100 tasks of at most 100 cases)",
        )),
    }
}

#[utoipa::path(get, path = "/compat/normal-oj/problem/{pid}/meta", tag = "normal-oj", params(("pid" = u64, Path), ("token" = String, Query)), responses((status = 200, body = protocol::normal_oj::Envelope<protocol::normal_oj::Meta>), (status = 401), (status = 404)))]
pub async fn meta(
    State(state): State<AppState>,
    Path(pid): Path<String>,
    Query(query): Query<TokenQuery>,
) -> Answer {
    let (_, meta) = problem(&state, &pid, &query.token).await?;
    Ok(axum::Json(Envelope::ok(meta)).into_response())
}

/// The problem's testdata, packed (once per revision).
async fn packed(state: &AppState, pid: &str, token: &str) -> Result<Packed, Response> {
    let (record, meta) = problem(state, pid, token).await?;
    pack(state, &record, &meta).await
}

#[utoipa::path(get, path = "/compat/normal-oj/problem/{pid}/checksum", tag = "normal-oj", params(("pid" = u64, Path), ("token" = String, Query)), responses((status = 200, body = protocol::normal_oj::Envelope<String>), (status = 401), (status = 404)))]
pub async fn checksum(
    State(state): State<AppState>,
    Path(pid): Path<String>,
    Query(query): Query<TokenQuery>,
) -> Answer {
    let packed = packed(&state, &pid, &query.token).await?;
    let checksum = tokio::fs::read_to_string(&packed.checksum).await.map_err(internal)?;
    Ok(axum::Json(Envelope::ok(checksum)).into_response())
}

#[utoipa::path(get, path = "/compat/normal-oj/problem/{pid}/testdata", tag = "normal-oj", params(("pid" = u64, Path), ("token" = String, Query)), responses((status = 200, description = "TTCC.in / TTCC.out at the root", content_type = "application/zip"), (status = 401), (status = 404)))]
pub async fn testdata(
    State(state): State<AppState>,
    Path(pid): Path<String>,
    Query(query): Query<TokenQuery>,
) -> Answer {
    let packed = packed(&state, &pid, &query.token).await?;
    let file = tokio::fs::File::open(&packed.zip).await.map_err(internal)?;
    let size = file.metadata().await.map_err(internal)?.len();
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
        ],
        Body::from_stream(ReaderStream::new(file)),
    )
        .into_response())
}

/// A packed revision: its zip and its checksum's file.
struct Packed {
    zip: PathBuf,
    checksum: PathBuf,
}

/// Packs the problem's revision once (a concurrent packer of the same
/// revision writes the same bytes; the rename makes either one whole).
async fn pack(state: &AppState, record: &ProblemRecord, meta: &Meta) -> Result<Packed, Response> {
    let dir = state.config.data_dir.join("compat/normal-oj");
    let revision = &record.view.revision;
    let packed = Packed {
        zip: dir.join(format!("{revision}.zip")),
        checksum: dir.join(format!("{revision}.md5")),
    };
    if tokio::fs::try_exists(&packed.checksum).await.unwrap_or(false) {
        return Ok(packed);
    }
    let manifest = state
        .blobs
        .read_small(&record.manifest.digest, MAX_MANIFEST_BYTES)
        .await
        .map_err(internal)?
        .ok_or_else(|| internal(format!("problem {}: manifest blob missing", record.view.id)))?;
    let manifest: ProblemManifest = serde_json::from_slice(&manifest).map_err(internal)?;
    let (blobs, view, meta_json) =
        (state.blobs.clone(), record.view.clone(), rules::python_json(meta));
    let (zip, checksum) = (packed.zip.clone(), packed.checksum.clone());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        std::fs::create_dir_all(&dir)?;
        let temp = tempfile::NamedTempFile::new_in(&dir)?;
        write_zip(&blobs, &view, &manifest, temp.as_file())?;
        let mut md5 = Md5::new();
        let mut file = std::fs::File::open(temp.path())?;
        std::io::copy(&mut file, &mut md5)?;
        md5.update(meta_json.as_bytes());
        temp.persist(&zip)?;
        let sum = tempfile::NamedTempFile::new_in(&dir)?;
        std::fs::write(sum.path(), hex::encode(md5.finalize()))?;
        sum.persist(&checksum)?;
        Ok(())
    })
    .await
    .map_err(internal)?
    .map_err(|e| internal(format!("packing testdata of problem {}: {e:#}", record.view.id)))?;
    Ok(packed)
}

/// Writes every case as `TTCC.in` / `TTCC.out`, in task and case order.
fn write_zip(
    blobs: &blobstore::BlobStore,
    view: &ProblemView,
    manifest: &ProblemManifest,
    out: &std::fs::File,
) -> anyhow::Result<()> {
    let problem = Problem {
        id: view.id.clone(),
        title: view.title.clone(),
        format: view.format,
        checker: view.checker.clone(),
        interactor: view.interactor.clone(),
        tasks: view.tasks.clone(),
        case_paths: view.case_paths.clone(),
        origins: view.origins.clone(),
    };
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(out));
    for (t, task) in problem.tasks.iter().enumerate() {
        for (c, case) in task.cases.iter().enumerate() {
            let (input, expected) = problem.case_files(case);
            for (path, extension) in [(input, "in"), (expected, "out")] {
                let blob = manifest
                    .files
                    .get(&path)
                    .ok_or_else(|| anyhow::anyhow!("{path} is not in the manifest"))?;
                let (mut file, _) = blobs
                    .open_blocking(&blob.digest)?
                    .ok_or_else(|| anyhow::anyhow!("{path}: blob {} missing", blob.digest))?;
                zip.start_file(format!("{t:02}{c:02}.{extension}"), entry_options())?;
                std::io::copy(&mut file, &mut zip)?;
            }
        }
    }
    zip.finish()?.flush()?;
    Ok(())
}
