//! The one error type of the HTTP layer: every failure becomes a status code
//! and a JSON `{error, detail}` body. Internal causes (Redis down, disk
//! errors) are logged, never shown to clients.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::ErrorBody;

/// An error answer: status, stable machine code, human sentence, and for a
/// refusal that passes with time (429) when to retry.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// Sent as `Retry-After` (whole seconds, rounded up).
    pub retry_after: Option<std::time::Duration>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError { status, code, detail: detail.into(), retry_after: None }
    }

    /// `429`: the caller is over a quota; it may retry after `retry_after`.
    pub fn too_many(
        code: &'static str,
        detail: impl Into<String>,
        retry_after: std::time::Duration,
    ) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, detail)
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", detail)
    }

    /// A failure of ours: logged with its cause; the client sees a 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the backend failed; see its log")
    }
}

impl From<queue::QueueError> for ApiError {
    fn from(error: queue::QueueError) -> Self {
        // A stalled Redis: it did not answer within the backend's
        // `redis_timeout_ms`. A busy one answers in time.
        if error.is_timeout() {
            tracing::warn!(error = %error, "redis did not answer in time");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the backend's store (Redis) did not answer in time; retry later \
                 (a create with the same Idempotency-Key is stored at most once)",
            );
        }
        match error {
            queue::QueueError::NotReplicated { acked, wanted, timeout_ms } => {
                tracing::warn!(acked, wanted, "a write was refused: too few replicas have it");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not_replicated",
                    format!(
                        "the change reached {acked} of the {wanted} Redis replica(s) required \
                         within {timeout_ms} ms, so it is not acknowledged; retry later \
                         (a create with the same Idempotency-Key is stored at most once)"
                    ),
                )
            }
            queue::QueueError::Redis(e) => {
                tracing::error!(error = %e, "redis call failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the backend's store (Redis) is unavailable; retry later",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<blobstore::BlobError> for ApiError {
    fn from(error: blobstore::BlobError) -> Self {
        match error {
            blobstore::BlobError::TooLarge { limit } => {
                ApiError::too_large(format!("the body is larger than {limit} bytes"))
            }
            blobstore::BlobError::InvalidDigest(d) => {
                ApiError::bad_request("bad_digest", format!("{d:?} is not a SHA-256 hex digest"))
            }
            blobstore::BlobError::DigestMismatch { expected, actual } => ApiError::bad_request(
                "digest_mismatch",
                format!("the body hashes to {actual}, not {expected}"),
            ),
            blobstore::BlobError::Source(e) => {
                ApiError::bad_request("body", format!("reading the body failed: {e}"))
            }
            blobstore::BlobError::Remote(e) => {
                tracing::warn!(error = %e, "the blob store failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "blob_store_unavailable",
                    "the backend's blob store is unavailable; retry later",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

/// A rejected JSON body: malformed, wrong shape, wrong content type, or
/// over the size limit (413).
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "content_type",
            _ => "bad_json",
        };
        ApiError::new(status, code, rejection.body_text())
    }
}

/// Middleware (`axum::middleware::map_response`): axum answers some bad
/// requests itself before any handler runs — a method the route does not
/// take (405, empty body), a path segment or query string that does not
/// parse (400, plain text). This puts those answers in the one error format
/// too, keeping their status and headers (`Allow`); JSON answers pass as
/// they are.
pub async fn as_api_error(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let detail = match text.is_empty() {
        true => status.canonical_reason().unwrap_or("the request was refused").to_string(),
        false => text,
    };
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "content_type",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let mut fixed = ApiError::new(status, code, detail).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    fixed.headers_mut().extend(parts.headers);
    fixed
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.code.to_string(), detail: self.detail };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(after) = self.retry_after {
            let seconds = retry_after_seconds(after);
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// `Retry-After`'s value for a wait: whole seconds, rounded up, at least 1
/// (a client that retries at once would only be refused again).
pub fn retry_after_seconds(wait: std::time::Duration) -> u64 {
    wait.as_millis().div_ceil(1000).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redis_error(kind: std::io::ErrorKind) -> queue::QueueError {
        queue::QueueError::Redis(std::io::Error::from(kind).into())
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_never_zero() {
        use std::time::Duration;
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_seconds(Duration::from_millis(59_814)), 60);
        let response =
            ApiError::too_many("rate_limited", "x", Duration::from_millis(2500)).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        let plain = ApiError::conflict("c", "x").into_response();
        assert!(plain.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn redis_timing_out_or_gone_is_503_unavailable_saying_which() {
        let stalled = ApiError::from(redis_error(std::io::ErrorKind::TimedOut));
        let gone = ApiError::from(redis_error(std::io::ErrorKind::ConnectionRefused));
        for error in [&stalled, &gone] {
            assert_eq!(
                (error.status, error.code),
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            );
        }
        assert!(stalled.detail.contains("did not answer in time"), "{}", stalled.detail);
        assert!(gone.detail.contains("is unavailable"), "{}", gone.detail);
        let short = ApiError::from(queue::QueueError::NotReplicated {
            acked: 0,
            wanted: 1,
            timeout_ms: 1000,
        });
        assert_eq!((short.status, short.code), (StatusCode::SERVICE_UNAVAILABLE, "not_replicated"));
        assert!(short.detail.contains("0 of the 1 Redis replica(s)"), "{}", short.detail);
        let corrupt = ApiError::from(queue::QueueError::Corrupt("x".into()));
        assert_eq!(corrupt.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
