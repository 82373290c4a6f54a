//! Operations and listings: health, Prometheus metrics, languages, runners,
//! the queue, and clients (their tokens; their priority class, weight and
//! quotas, set by the admin).

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::client::{
    ClientView, CreateClientRequest, CreateClientResponse, UpdateClientRequest,
};

use crate::auth::{Admin, Caller, hash_token, new_id, new_token};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::responses::{AdminErrors, CallerErrors, NotFound};
use crate::state::AppState;

/// `{"redis": true, "redis_topology": {...}}`, or 503 with `{"redis":
/// false, ...}`. `redis_topology` says which node calls go to, its role
/// (`primary`, or `replica` while a failover is under way), its connected
/// replicas, the replicas an acknowledged write needs, and whether
/// Sentinels are followed.
#[utoipa::path(get, path = "/api/v1/healthz", tag = "operations", responses((status = 200, description = "`{\"redis\": true, \"redis_topology\": {\"primary\", \"role\", \"replicas\", \"min_replicas\", \"sentinel\"}}`"), (status = 503, description = "`{\"redis\": false, ...}`")))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    // One round trip: `ROLE` answering is Redis answering.
    let topology = state.queue.redis_status().await;
    let redis = topology.answered();
    let status = if redis { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::json!({ "redis": redis, "redis_topology": topology });
    (status, ApiJson(body)).into_response()
}

#[utoipa::path(get, path = "/api/v1/metrics", tag = "operations", responses((status = 200, description = "Prometheus text", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let stats = state.queue.stats().await?;
    let owners = state.queue.owner_counts().await?;
    let mut text = state.metrics.render(&stats, &owners);
    crate::metrics::render_redis(&mut text, &state.queue.redis_status().await);
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

/// A client as the admin sees it.
async fn client_view(state: &AppState, client_id: &str) -> ApiResult<ClientView> {
    let settings = state
        .queue
        .client(client_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no client {client_id}")))?;
    Ok(ClientView {
        client_id: client_id.to_string(),
        name: settings.name,
        class: settings.class,
        weight: settings.weight,
        creates_per_minute: settings.quotas.creates_per_minute,
        max_queued: settings.quotas.max_queued,
    })
}

/// `GET /clients/{id}` (admin): the client's class, weight and quotas.
#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = String, Path)), responses((status = 200, body = protocol::client::ClientView), NotFound, AdminErrors), security(("bearer" = [])))]
pub async fn get_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    _: Admin,
) -> ApiResult<ApiJson<ClientView>> {
    Ok(ApiJson(client_view(&state, &client_id).await?))
}

/// `PATCH /clients/{id}` (admin): changes the client's class, weight or
/// quotas, effective at once (the next claim, the next create).
#[utoipa::path(patch, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = String, Path)), request_body = protocol::client::UpdateClientRequest, responses((status = 200, body = protocol::client::ClientView), NotFound, AdminErrors, (status = 400, description = "Malformed request; invalid_field: weight or a quota out of range", body = protocol::ErrorBody)), security(("bearer" = [])))]
pub async fn update_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    _: Admin,
    ApiJson(request): ApiJson<UpdateClientRequest>,
) -> ApiResult<ApiJson<ClientView>> {
    let update = checked_update(request)?;
    if !state.queue.update_client(&client_id, &update).await? {
        return Err(ApiError::not_found(format!("no client {client_id}")));
    }
    tracing::info!(client_id, ?update, "client settings changed");
    Ok(ApiJson(client_view(&state, &client_id).await?))
}

/// The admin's change with its numbers checked: weight 1 to
/// [`queue::MAX_WEIGHT`], quotas 1 to [`queue::QUOTA_CEILING`].
fn checked_update(request: UpdateClientRequest) -> ApiResult<queue::ClientUpdate> {
    let check = |field: &str, value: Option<u32>, max: u32| match value {
        Some(v) if !(1..=max).contains(&v) => Err(ApiError::bad_request(
            "invalid_field",
            format!("{field}: {v} is not between 1 and {max}"),
        )),
        _ => Ok(value),
    };
    Ok(queue::ClientUpdate {
        class: request.class,
        weight: check("weight", request.weight, queue::MAX_WEIGHT)?,
        creates_per_minute: check(
            "creates_per_minute",
            request.creates_per_minute,
            queue::QUOTA_CEILING,
        )?,
        max_queued: check("max_queued", request.max_queued, queue::QUOTA_CEILING)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_out_of_range_is_refused_naming_the_field() {
        let update = |weight, creates_per_minute, max_queued| UpdateClientRequest {
            class: None,
            weight,
            creates_per_minute,
            max_queued,
        };
        let ok = checked_update(update(Some(3), Some(60), None)).unwrap();
        assert_eq!((ok.weight, ok.creates_per_minute, ok.max_queued), (Some(3), Some(60), None));
        for (bad, field) in [
            (update(Some(0), None, None), "weight"),
            (update(Some(1001), None, None), "weight"),
            (update(None, Some(0), None), "creates_per_minute"),
            (update(None, None, Some(100_001)), "max_queued"),
        ] {
            let error = checked_update(bad).unwrap_err();
            assert_eq!(error.code, "invalid_field");
            assert!(error.detail.starts_with(field), "{}", error.detail);
        }
    }
}
