//! Who is calling. Four kinds of bearer token (`docs/contract.md` §5): the admin token and
//! the runner registration token (configured, compared in constant time),
//! runner tokens `rk_…` and client tokens `ck_…` (issued by us; only their
//! SHA-256 is stored). Tokens are read from the `Authorization` header only.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

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

/// A fresh id: `prefix` and a ULID (sortable by creation time).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", ulid::Ulid::new())
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

impl AppState {
    /// The admin, or 401/403.
    pub fn require_admin(&self, headers: &HeaderMap) -> ApiResult<()> {
        let token = require_bearer(headers)?;
        if configured_matches(&self.config.admin_token, token) {
            Ok(())
        } else {
            Err(ApiError::forbidden("this endpoint needs the admin token"))
        }
    }

    /// A registration call, or 401.
    pub fn require_registration(&self, headers: &HeaderMap) -> ApiResult<()> {
        let token = require_bearer(headers)?;
        if configured_matches(&self.config.registration_token, token) {
            Ok(())
        } else {
            Err(ApiError::unauthorized("registering needs the runner registration token"))
        }
    }

    /// The admin or a client, or 401.
    pub async fn caller(&self, headers: &HeaderMap) -> ApiResult<Caller> {
        let token = require_bearer(headers)?;
        if configured_matches(&self.config.admin_token, token) {
            return Ok(Caller::Admin);
        }
        match self.queue.client_for_token(&hash_token(token)).await? {
            Some(client) => Ok(Caller::Client(client)),
            None => Err(ApiError::unauthorized("this endpoint needs a client or admin token")),
        }
    }

    /// Checks that the token is runner `runner_id`'s: an unknown token is
    /// 401 (the runner re-registers), another runner's id is 404.
    pub async fn require_runner(&self, headers: &HeaderMap, runner_id: &str) -> ApiResult<()> {
        let token = require_bearer(headers)?;
        match self.queue.authenticate_runner(runner_id, &hash_token(token), "").await? {
            queue::RunnerAuth::Valid => Ok(()),
            queue::RunnerAuth::UnknownToken => {
                Err(ApiError::unauthorized("unknown or expired runner token; register again"))
            }
            queue::RunnerAuth::Foreign => {
                Err(ApiError::not_found(format!("no runner {runner_id} for this token")))
            }
        }
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
