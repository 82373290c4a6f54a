//! Who is calling. Four kinds of bearer token (`docs/contract.md` §5): the
//! admin token and the runner registration token (configured, compared in
//! constant time), runner tokens `rk_…` and client tokens `ck_…` (issued by
//! us; only their SHA-256 is stored). Tokens are read from the
//! `Authorization` header only.
//!
//! Each tier a route takes is an axum extractor here, so a handler names
//! its tier in its signature and never reads the header itself: [`Admin`],
//! [`Registration`], [`Caller`] (the admin or a client), [`Runner`] (a
//! Gavel runner about itself), [`TheirRunner`] (a Normal-OJ runner about
//! itself: every refusal 401) and [`BlobReader`] (the admin or a runner).
//! They run after the path and query are parsed and before the body is.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use queue::DIALECT_NORMAL_OJ;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A client-API caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
    Client(String),
}

impl Caller {
    /// The owner recorded on what this caller creates.
    pub fn owner(&self) -> &str {
        match self {
            Caller::Admin => "admin",
            Caller::Client(id) => id,
        }
    }

    /// Whether the caller may see something owned by `owner`.
    pub fn may_see(&self, owner: &str) -> bool {
        matches!(self, Caller::Admin) || self.owner() == owner
    }
}

/// SHA-256 of a token, hex: what the store keeps.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh secret: `prefix` and 32 random bytes as 43 url-safe base64
/// characters (the shape Normal-OJ's runners expect of `rk_` tokens too).
pub fn new_token(prefix: &str) -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A fresh id: `prefix` and a ULID, sortable by creation time. One
/// monotonic generator per process, so ids made within one millisecond
/// still sort in the order they were made (listings rely on it).
pub fn new_id(prefix: &str) -> String {
    static IDS: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    let mut ids = IDS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let id = ids
        .get_or_insert_with(ulid::Generator::new)
        .generate()
        // The random part overflows only after 2^80 ids in one millisecond.
        .unwrap_or_else(|_| ulid::Ulid::new());
    format!("{prefix}{id}")
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim()).filter(|t| !t.is_empty())
}

fn require_bearer(headers: &HeaderMap) -> ApiResult<&str> {
    bearer(headers)
        .ok_or_else(|| ApiError::unauthorized("missing `Authorization: Bearer <token>` header"))
}

pub(crate) fn configured_matches(configured: &str, given: &str) -> bool {
    !configured.is_empty() && queue::constant_time_eq(configured.as_bytes(), given.as_bytes())
}

/// The admin token: 401 without a token, 403 with another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = require_bearer(&parts.headers)?;
        if configured_matches(&state.config.admin_token, token) {
            Ok(Admin)
        } else {
            Err(ApiError::forbidden("this endpoint needs the admin token"))
        }
    }
}

/// The runner registration token: 401 without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration;

impl FromRequestParts<AppState> for Registration {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = require_bearer(&parts.headers)?;
        if configured_matches(&state.config.registration_token, token) {
            Ok(Registration)
        } else {
            Err(ApiError::unauthorized("registering needs the runner registration token"))
        }
    }
}

/// The admin or a client: 401 for anything else.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = require_bearer(&parts.headers)?;
        if configured_matches(&state.config.admin_token, token) {
            return Ok(Caller::Admin);
        }
        match state.queue.client_for_token(&hash_token(token)).await? {
            Some(client) => Ok(Caller::Client(client)),
            None => Err(ApiError::unauthorized("this endpoint needs a client or admin token")),
        }
    }
}

/// The path's runner id (`{rid}` or `{rn}`), rejected as axum's `Path`
/// would reject it (the error middleware words the answer).
async fn path_runner_id(parts: &mut Parts, name: &str) -> Result<String, Response> {
    let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, &())
        .await
        .map_err(IntoResponse::into_response)?;
    params
        .remove(name)
        .ok_or_else(|| ApiError::internal(format!("no `{{{name}}}` in the route")).into_response())
}

/// What the token says of runner `id` of `dialect`.
async fn runner_auth(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    dialect: &str,
) -> ApiResult<queue::RunnerAuth> {
    let token = require_bearer(headers)?;
    Ok(state.queue.authenticate_runner(id, &hash_token(token), dialect).await?)
}

/// A Gavel runner calling about itself: the token is runner `{rid}`'s. An
/// unknown token is 401 (the runner registers again), another runner's id
/// is 404.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runner {
    pub id: String,
}

impl FromRequestParts<AppState> for Runner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let id = path_runner_id(parts, "rid").await?;
        let refusal = match runner_auth(state, &parts.headers, &id, "").await {
            Ok(queue::RunnerAuth::Valid) => return Ok(Runner { id }),
            Ok(queue::RunnerAuth::UnknownToken) => {
                ApiError::unauthorized("unknown or expired runner token; register again")
            }
            Ok(queue::RunnerAuth::Foreign) => {
                ApiError::not_found(format!("no runner {id} for this token"))
            }
            Err(e) => e,
        };
        Err(refusal.into_response())
    }
}

/// A Normal-OJ runner calling about itself: the token is runner `{rn}`'s.
/// Anything else is 401, since their runner treats 403 and 404 as
/// retryable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TheirRunner {
    pub id: String,
}

impl FromRequestParts<AppState> for TheirRunner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let id = path_runner_id(parts, "rn").await?;
        let refusal = match runner_auth(state, &parts.headers, &id, DIALECT_NORMAL_OJ).await {
            Ok(queue::RunnerAuth::Valid) => return Ok(TheirRunner { id }),
            Ok(_) => ApiError::unauthorized(format!(
                "the token is not Normal-OJ runner {id}'s (unknown, expired or another runner's); register again"
            )),
            Err(e) => e,
        };
        Err(refusal.into_response())
    }
}

/// Who reads blobs: the admin, or a runner (which may read only what a job
/// it holds a live lease on names). 401 without a token; any other token
/// is `Stranger`, whom the blob route answers 404.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobReader {
    Admin,
    Runner(String),
    Stranger,
}

impl FromRequestParts<AppState> for BlobReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = require_bearer(&parts.headers)?;
        if configured_matches(&state.config.admin_token, token) {
            return Ok(BlobReader::Admin);
        }
        Ok(match state.queue.runner_for_token(&hash_token(token)).await? {
            Some(runner_id) => BlobReader::Runner(runner_id),
            None => BlobReader::Stranger,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed_to_hex() {
        let (a, b) = (new_token("rk_"), new_token("rk_"));
        assert!(a.starts_with("rk_") && a.len() == 46, "{a}");
        assert!(a[3..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(a, b);
        assert_eq!(hash_token("abc").len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }

    #[test]
    fn only_the_authorization_header_carries_a_bearer_token() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
        headers.insert("authorization", "Bearer ck_1".parse().unwrap());
        assert_eq!(bearer(&headers), Some("ck_1"));
    }

    #[test]
    fn an_unset_configured_token_never_matches() {
        assert!(!configured_matches("", ""));
        assert!(configured_matches("s3cret", "s3cret"));
        assert!(!configured_matches("s3cret", "s3cre"));
    }
}
