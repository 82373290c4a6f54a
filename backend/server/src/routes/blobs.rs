//! `GET /blobs/{sha256}`: content-addressed blobs, streamed from the blob
//! store (verified as they pass) and cacheable forever. The admin reads any blob; a runner only those of jobs
//! it holds a live lease on; everyone else gets 404.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;

use crate::auth::BlobReader;
use crate::error::{ApiError, ApiResult};
use crate::responses::BlobReaderErrors;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/blobs/{digest}", tag = "runners", params(("digest" = String, Path, description = "SHA-256, hex")), responses((status = 200, description = "The bytes", content_type = "application/octet-stream"), BlobReaderErrors), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Path(digest): Path<String>,
    reader: BlobReader,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found(format!("no blob {digest}"));
    if !protocol::is_digest(&digest) {
        return Err(ApiError::bad_request(
            "bad_digest",
            format!("{digest:?} is not a SHA-256 hex digest"),
        ));
    }
    let may_read = match &reader {
        BlobReader::Admin => true,
        BlobReader::Runner(runner_id) => state.queue.runner_may_read(runner_id, &digest).await?,
        BlobReader::Stranger => false,
    };
    if !may_read {
        return Err(not_found());
    }
    let Some((stream, size)) = state.blobs.open_blob(&digest).await? else {
        return Err(not_found());
    };
    // A stream that fails midway (the store failed, or its bytes are not
    // the digest's) aborts the response: the reader sees a short body.
    let stream = stream.inspect_err(|e| tracing::error!(error = %e, "streaming a blob failed"));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{digest}\"")) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}
