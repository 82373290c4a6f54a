//! `/webhook`: where the caller's final verdicts are posted (`docs/contract.md` §5), and
//! what became of each notification. One webhook per client token (and one
//! for the admin); `PUT` sets the URL and makes a new signing secret.
//!
//! A URL is set only when the egress policy lets the backend post to it
//! (`webhook_target`): its host a public address or one the operator
//! allowed (`--webhook-allow`), or a name all of whose addresses are; else
//! `422 webhook_target_refused` says which address and range. The sender
//! checks again before each delivery.

use axum::extract::State;
use axum::http::StatusCode;
use protocol::client::{WebhookCreated, WebhookRequest, WebhookView};

use crate::auth::{Caller, new_token};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::responses::{CallerErrors, NotFound};
use crate::state::AppState;
use crate::webhook_target::Vetoed;

/// Longest webhook URL.
const MAX_URL: usize = 2048;

fn check_url(url: &str) -> ApiResult<()> {
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    let host = url.split_once("://").map_or("", |(_, rest)| rest);
    if !scheme_ok || host.is_empty() || url.len() > MAX_URL || url.chars().any(char::is_whitespace)
    {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("url: an http:// or https:// URL of at most {MAX_URL} characters, no spaces"),
        ));
    }
    Ok(())
}

/// The answer to a URL the egress policy refuses.
fn refused(vetoed: &Vetoed) -> ApiError {
    match vetoed {
        Vetoed::BadUrl(why) => ApiError::bad_request("invalid_field", format!("url: {why}")),
        _ => ApiError::unprocessable(
            "webhook_target_refused",
            format!(
                "url: {vetoed}; webhooks may target public addresses only, unless the \
                 backend's operator allows the range (--webhook-allow)"
            ),
        ),
    }
}

#[utoipa::path(put, path = "/api/v1/webhook", tag = "webhooks", request_body = protocol::client::WebhookRequest, responses((status = 200, body = protocol::client::WebhookCreated), (status = 422, body = protocol::ErrorBody, description = "webhook_target_refused: the URL's host is, or resolves to, an address the egress policy refuses (loopback, private, link-local, …: not public and not in the operator's --webhook-allow), or does not resolve"), CallerErrors), security(("bearer" = [])))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<WebhookRequest>,
) -> ApiResult<ApiJson<WebhookCreated>> {
    check_url(&request.url)?;
    if let Err(vetoed) = state.webhook_egress.vet(&request.url).await {
        tracing::info!(owner = caller.owner(), url = request.url, %vetoed, "webhook refused");
        return Err(refused(&vetoed));
    }
    let secret = new_token("whsec_");
    state.queue.set_webhook(caller.owner(), &request.url, &secret).await?;
    tracing::info!(owner = caller.owner(), url = request.url, "webhook set");
    Ok(ApiJson(WebhookCreated { url: request.url, secret }))
}

#[utoipa::path(get, path = "/api/v1/webhook", tag = "webhooks", responses((status = 200, body = protocol::client::WebhookView), NotFound, CallerErrors), security(("bearer" = [])))]
pub async fn get(State(state): State<AppState>, caller: Caller) -> ApiResult<ApiJson<WebhookView>> {
    match state.queue.webhook(caller.owner()).await? {
        Some((url, deliveries)) => Ok(ApiJson(WebhookView { url, deliveries })),
        None => Err(ApiError::not_found("no webhook set for this token")),
    }
}

#[utoipa::path(delete, path = "/api/v1/webhook", tag = "webhooks", responses((status = 204), NotFound, CallerErrors), security(("bearer" = [])))]
pub async fn delete(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    if !state.queue.delete_webhook(caller.owner()).await? {
        return Err(ApiError::not_found("no webhook set for this token"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_of_a_sane_length_are_webhooks() {
        assert!(check_url("https://judge.example/hook").is_ok());
        assert!(check_url("http://127.0.0.1:9000/x").is_ok());
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("http://").is_err());
        assert!(check_url("http://a b").is_err());
        assert!(check_url(&format!("http://{}", "a".repeat(MAX_URL))).is_err());
    }
}
