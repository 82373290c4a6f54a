//! `Idempotency-Key` on the creates (`POST /submissions`, `POST /runs`): a
//! client that lost an answer (the backend was killed after storing, the
//! connection dropped) sends the same request with the same key again, to
//! any backend instance, and gets the first answer back — `201`, the same
//! id, and `Idempotent-Replayed: true` — instead of a second record.
//!
//! A key is scoped by the caller (two clients never collide) and remembered
//! for [`queue::IDEMPOTENCY_TTL`] with the [fingerprint](fingerprint) of its
//! request: the same key with another request is refused with `422
//! idempotency_conflict` and changes nothing. The check and the insert are
//! one Lua script (`lua/submit.lua`), so racing retries make one record.
//! Without the header a create behaves as it always did.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use queue::{Idempotency, Submitted};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;

/// The request header a client names a create with.
pub const KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// The answer header of a replay (`true`); absent on a first answer.
pub const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The longest key (printable ASCII, like Stripe's 255 but tighter: a
/// UUID or a random token fits many times over).
pub const MAX_KEY_LEN: usize = 200;

/// The caller's key with the fingerprint of its `request` (of `kind`:
/// `submission`, `run`); `None` without the header, `400 invalid_header`
/// when it is not 1 to [`MAX_KEY_LEN`] printable ASCII characters or sent
/// twice.
pub fn from_request(
    headers: &HeaderMap,
    kind: &str,
    request: &impl serde::Serialize,
) -> ApiResult<Option<Idempotency>> {
    let mut values = headers.get_all(&KEY_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid =
        |why: &str| ApiError::bad_request("invalid_header", format!("Idempotency-Key: {why}"));
    if values.next().is_some() {
        return Err(invalid("sent more than once"));
    }
    let key = value.as_bytes();
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(invalid(&format!("{} characters; it must have 1 to {MAX_KEY_LEN}", key.len())));
    }
    if !key.iter().all(|b| (b' '..=b'~').contains(b)) {
        return Err(invalid("only printable ASCII characters are allowed"));
    }
    let key = String::from_utf8_lossy(key).into_owned();
    Ok(Some(Idempotency { key, fingerprint: fingerprint(kind, request)? }))
}

/// SHA-256 (hex) of `kind` and the request as parsed, serialized again:
/// the canonical form, in which the same request always reads the same
/// (defaults filled in, maps ordered), whatever its JSON looked like.
pub fn fingerprint(kind: &str, request: &impl serde::Serialize) -> ApiResult<String> {
    let json = serde_json::to_vec(request).map_err(ApiError::internal)?;
    let mut hash = Sha256::new();
    hash.update(kind.as_bytes());
    hash.update(b"\n");
    hash.update(&json);
    Ok(hex::encode(hash.finalize()))
}

/// The answer to a create that happened before under the caller's key, if
/// one did: the replay, or the conflict. Asked before the request is
/// checked again, so a retry gets its first answer even if the problem or
/// language has gone since.
pub async fn earlier<B: serde::Serialize>(
    queue: &queue::Queue,
    owner: &str,
    idempotency: Option<&Idempotency>,
    body: impl FnOnce(String) -> B,
) -> ApiResult<Option<Response>> {
    let Some(idempotency) = idempotency else {
        return Ok(None);
    };
    match queue.earlier_create(owner, idempotency).await? {
        Some(earlier) => answer(earlier, body).map(Some),
        None => Ok(None),
    }
}

/// The answer to a create: `201` with `body(id)`, plus
/// `Idempotent-Replayed: true` for a replay; `422 idempotency_conflict`.
pub fn answer<B: serde::Serialize>(
    outcome: Submitted,
    body: impl FnOnce(String) -> B,
) -> ApiResult<Response> {
    match outcome {
        Submitted::Created(id) => Ok((StatusCode::CREATED, ApiJson(body(id))).into_response()),
        Submitted::Replayed(id) => {
            tracing::info!(id, "idempotent create replayed");
            let replayed = [(REPLAYED_HEADER, HeaderValue::from_static("true"))];
            Ok((StatusCode::CREATED, replayed, ApiJson(body(id))).into_response())
        }
        Submitted::Conflict(id) => Err(ApiError::unprocessable(
            "idempotency_conflict",
            format!(
                "Idempotency-Key was already used for another request (which created {id}); \
                 use a new key for a new request"
            ),
        )),
        // The create handlers answer these themselves.
        Submitted::ProblemChanged | Submitted::UnknownLanguage | Submitted::OverQuota(_) => {
            Err(ApiError::internal(format!("a refused create reached its answer: {outcome:?}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(KEY_HEADER, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    #[test]
    fn keys_are_read_and_bad_ones_refused_naming_the_header() {
        assert_eq!(from_request(&HeaderMap::new(), "run", &1).unwrap(), None);
        let key = from_request(&headers(&[b"a-1 b"]), "run", &1).unwrap().unwrap();
        assert_eq!((key.key.as_str(), key.fingerprint.len()), ("a-1 b", 64));
        let long = "k".repeat(MAX_KEY_LEN + 1);
        for bad in
            [&[b"" as &[u8]][..], &[long.as_bytes()], &["é".as_bytes()], &[b"a\tb"], &[b"a", b"b"]]
        {
            let error = from_request(&headers(bad), "run", &1).unwrap_err();
            assert_eq!((error.status, error.code), (StatusCode::BAD_REQUEST, "invalid_header"));
            assert!(error.detail.starts_with("Idempotency-Key: "), "{}", error.detail);
        }
    }

    #[test]
    fn fingerprints_tell_kinds_and_requests_apart() {
        let same = fingerprint("run", &("a", 1)).unwrap();
        assert_eq!(same, fingerprint("run", &("a", 1)).unwrap());
        assert_ne!(same, fingerprint("submission", &("a", 1)).unwrap());
        assert_ne!(same, fingerprint("run", &("a", 2)).unwrap());
    }
}
