//! The error answers `/openapi.json` lists, defined once: each type here is
//! a set of responses (utoipa's `IntoResponses`) that a handler's
//! `#[utoipa::path(responses(…))]` names instead of restating them.
//!
//! One set per token tier of [`auth`](crate::auth) — the refusals its
//! extractor answers, plus `400` for a malformed request — and the answers
//! many routes share (`404`, `413`). A route with something more to say
//! about a status lists its own tuple after the set: later entries win.
//! Every body is an `ErrorBody` (`{error, detail}`).

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::schema::Ref;
use utoipa::openapi::{Content, RefOr, ResponseBuilder, response::Response};

/// The schema every error body has.
const ERROR_SCHEMA: &str = "ErrorBody";

type Responses = BTreeMap<String, RefOr<Response>>;

/// `status` answered with an `ErrorBody` described by `description`.
fn error(status: u16, description: &str) -> (String, RefOr<Response>) {
    let content = Content::new(Some(Ref::from_schema_name(ERROR_SCHEMA)));
    let response =
        ResponseBuilder::new().description(description).content("application/json", content);
    (status.to_string(), RefOr::T(response.build()))
}

fn malformed() -> (String, RefOr<Response>) {
    error(400, "Malformed request")
}

/// Routes for the admin or a client ([`auth::Caller`](crate::auth::Caller)).
pub struct CallerErrors;

impl IntoResponses for CallerErrors {
    fn responses() -> Responses {
        [malformed(), error(401, "unauthorized: missing or unknown token")].into()
    }
}

/// Admin-only routes ([`auth::Admin`](crate::auth::Admin)).
pub struct AdminErrors;

impl IntoResponses for AdminErrors {
    fn responses() -> Responses {
        [
            malformed(),
            error(401, "unauthorized: missing token"),
            error(403, "forbidden: not the admin token"),
        ]
        .into()
    }
}

/// Runner registration ([`auth::Registration`](crate::auth::Registration),
/// or Normal-OJ's secret in the body).
pub struct RegistrationErrors;

impl IntoResponses for RegistrationErrors {
    fn responses() -> Responses {
        [malformed(), error(401, "unauthorized: not the registration token")].into()
    }
}

/// A Gavel runner's calls about itself ([`auth::Runner`](crate::auth::Runner)).
pub struct RunnerErrors;

impl IntoResponses for RunnerErrors {
    fn responses() -> Responses {
        [
            malformed(),
            error(401, "unauthorized: missing, unknown or expired runner token; register again"),
            error(404, "not_found: the path names another runner than the token's"),
        ]
        .into()
    }
}

/// A Normal-OJ runner's calls about itself
/// ([`auth::TheirRunner`](crate::auth::TheirRunner)): every refusal is 401.
pub struct TheirRunnerErrors;

impl IntoResponses for TheirRunnerErrors {
    fn responses() -> Responses {
        [malformed(), error(401, "unauthorized: not this runner's token; register again")].into()
    }
}

/// Blob reads ([`auth::BlobReader`](crate::auth::BlobReader)): a blob the
/// caller may not read is as missing as one that is not there.
pub struct BlobReaderErrors;

impl IntoResponses for BlobReaderErrors {
    fn responses() -> Responses {
        [
            error(400, "bad_digest: not a SHA-256 hex digest"),
            error(401, "unauthorized: missing token"),
            error(404, "not_found: no such blob, or not the caller's to read"),
        ]
        .into()
    }
}

/// `404`: no such resource, or not the caller's to see.
pub struct NotFound;

impl IntoResponses for NotFound {
    fn responses() -> Responses {
        [error(404, "not_found: no such resource, or not the caller's to see")].into()
    }
}

/// `413`: a body or field over its size limit.
pub struct TooLarge;

impl IntoResponses for TooLarge {
    fn responses() -> Responses {
        [error(413, "too_large: a body or field over its limit")].into()
    }
}

/// `429` with `Retry-After`: a create over its client's quota.
pub struct OverQuota;

impl IntoResponses for OverQuota {
    fn responses() -> Responses {
        let (status, response) = error(
            429,
            "queue_full, rate_limited: the client is over a quota (max_queued, \
             creates_per_minute); nothing was created; retry after `Retry-After` seconds",
        );
        let RefOr::T(mut response) = response else { return [(status, response)].into() };
        let header = utoipa::openapi::HeaderBuilder::new()
            .schema(
                utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::Integer),
            )
            .description(Some("Seconds until a retry may pass"))
            .build();
        response.headers.insert("Retry-After".into(), header);
        [(status, RefOr::T(response))].into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_is_an_error_body() {
        let sets = [
            CallerErrors::responses(),
            AdminErrors::responses(),
            RegistrationErrors::responses(),
            RunnerErrors::responses(),
            TheirRunnerErrors::responses(),
            BlobReaderErrors::responses(),
            NotFound::responses(),
            TooLarge::responses(),
            OverQuota::responses(),
        ];
        for (status, response) in sets.iter().flatten() {
            assert!(status.starts_with('4'), "{status}");
            let json = serde_json::to_value(response).unwrap();
            let schema = &json["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(schema, "#/components/schemas/ErrorBody", "{status}: {json}");
        }
    }
}
