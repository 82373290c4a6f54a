//! Operations and listings: health, Prometheus metrics, languages, runners,
//! the queue, and client tokens.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::client::{CreateClientRequest, CreateClientResponse};

use crate::auth::{Admin, Caller, hash_token, new_id, new_token};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::responses::{AdminErrors, CallerErrors};
use crate::state::AppState;

/// `{"redis": true}`, or 503 with `{"redis": false}`.
#[utoipa::path(get, path = "/api/v1/healthz", tag = "operations", responses((status = 200, description = "`{\"redis\": true}`"), (status = 503, description = "`{\"redis\": false}`")))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let redis = state.queue.ping().await;
    let status = if redis { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, ApiJson(serde_json::json!({ "redis": redis }))).into_response()
}

#[utoipa::path(get, path = "/api/v1/metrics", tag = "operations", responses((status = 200, description = "Prometheus text", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let stats = state.queue.stats().await?;
    let text = state.metrics.render(&stats);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// Languages some runner offered in the last day.
#[utoipa::path(get, path = "/api/v1/languages", tag = "operations", responses((status = 200, body = Vec<String>, description = "Languages runners offered in the last day")))]
pub async fn languages(State(state): State<AppState>) -> ApiResult<ApiJson<Vec<String>>> {
    Ok(ApiJson(state.queue.languages(std::time::Duration::from_secs(24 * 3600)).await?))
}

#[utoipa::path(get, path = "/api/v1/runners", tag = "operations", responses((status = 200, body = Vec<protocol::ops::RunnerStatus>), AdminErrors), security(("bearer" = [])))]
pub async fn runners(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<ApiJson<Vec<protocol::ops::RunnerStatus>>> {
    Ok(ApiJson(state.queue.runner_board().await?))
}

#[utoipa::path(get, path = "/api/v1/queue", tag = "operations", responses((status = 200, description = "`{pending, leased, runners_alive}`"), CallerErrors), security(("bearer" = [])))]
pub async fn queue_state(
    State(state): State<AppState>,
    _: Caller,
) -> ApiResult<ApiJson<serde_json::Value>> {
    let stats = state.queue.stats().await?;
    Ok(ApiJson(serde_json::json!({
        "pending": stats.pending,
        "leased": stats.leased,
        "runners_alive": stats.runners_alive,
    })))
}

/// `POST /clients` (admin): a new client token, shown once.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", request_body = protocol::client::CreateClientRequest, responses((status = 201, body = protocol::client::CreateClientResponse), AdminErrors), security(("bearer" = [])))]
pub async fn create_client(
    State(state): State<AppState>,
    _: Admin,
    ApiJson(request): ApiJson<CreateClientRequest>,
) -> ApiResult<Response> {
    if request.name.trim().is_empty() || request.name.len() > 128 {
        return Err(ApiError::bad_request("invalid_field", "name: 1 to 128 characters"));
    }
    let client_id = new_id("cl_");
    let token = new_token("ck_");
    state.queue.create_client(&client_id, &request.name, &hash_token(&token)).await?;
    tracing::info!(client_id, name = request.name, "client token issued");
    let body = CreateClientResponse { client_id, token };
    Ok((StatusCode::CREATED, ApiJson(body)).into_response())
}
