//! `GET /openapi.json`: the HTTP API described from the handlers' own types
//! (utoipa: each handler's `#[utoipa::path]`, the protocol types' schemas),
//! so the document cannot drift from the code; a test checks that every
//! route of the router is in it. The error answers the paths list are the
//! shared sets of `responses`.

use std::sync::LazyLock;

use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::normal_oj;
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gavel",
        description = "A job runner for online judges: problems, submissions with live events, \
                       the pull protocol of runner hosts, webhooks, and Normal-OJ's runner dialect. \
                       Tokens travel in `Authorization: Bearer`; every error is `{error, detail}`."
    ),
    paths(
        routes::runners::register, routes::runners::heartbeat, routes::runners::next_job,
        routes::runners::events, routes::runners::complete, routes::runners::deregister,
        routes::runners::put_compiled_checker,
        routes::ops::healthz, routes::ops::metrics, routes::ops::languages, routes::ops::runners,
        routes::ops::queue_state, routes::ops::create_client, routes::ops::get_client,
        routes::ops::update_client, routes::blobs::get,
        routes::problems::put, routes::problems::get, routes::problems::list,
        routes::submissions::create, routes::submissions::get, routes::submissions::rejudge,
        routes::submissions::cancel, routes::submissions::events, routes::submissions::list,
        routes::dashboard::page, routes::dashboard::events,
        routes::runs::create, routes::runs::get, routes::runs::events, routes::runs::log,
        routes::runs::artifact, routes::runs::cancel,
        routes::webhooks::put, routes::webhooks::get, routes::webhooks::delete,
        normal_oj::runners::register, normal_oj::runners::heartbeat, normal_oj::runners::next_job,
        normal_oj::runners::code, normal_oj::runners::complete, normal_oj::runners::abort,
        normal_oj::testdata::meta, normal_oj::testdata::checksum, normal_oj::testdata::testdata,
        serve,
    ),
    // Every error body, whichever response set names it (`responses`).
    components(schemas(protocol::ErrorBody)),
    modifiers(&Bearer),
)]
struct ApiDoc;

/// The `bearer` security scheme the paths name.
struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Paths served twice: at the root for probes and scrapers, and under the API base.
const ALIASES: [(&str, &str); 3] = [
    ("/healthz", "/api/v1/healthz"),
    ("/metrics", "/api/v1/metrics"),
    ("/api/v1/openapi.json", "/openapi.json"),
];

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    for (alias, path) in ALIASES {
        if let Some(item) = doc.paths.paths.get(path).cloned() {
            doc.paths.paths.insert(alias.into(), item);
        }
    }
    doc
}

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| document().to_json().expect("the OpenAPI document serializes"));

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json")))]
pub async fn serve() -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(method, path)` of every `.route("PATH", …)` in `source`, prefixed.
    fn routes_in(source: &str, prefix: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for (at, _) in source.match_indices(".route(") {
            let rest = source[at + 7..].trim_start();
            let Some(rest) = rest.strip_prefix('"') else { continue };
            let path = &rest[..rest.find('"').unwrap()];
            // The handler expression: up to the `)` closing `.route(`.
            let (mut depth, mut end) = (1, 0);
            for (i, c) in rest.char_indices() {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let expression = &rest[..end];
            for method in ["get", "post", "put", "delete"] {
                let call = format!("{method}(");
                let hits = expression.match_indices(&call).filter(|(i, _)| {
                    *i == 0
                        || !expression.as_bytes()[i - 1].is_ascii_alphanumeric()
                            && expression.as_bytes()[i - 1] != b'_'
                            && expression.as_bytes()[i - 1] != b':'
                });
                if hits.count() > 0 {
                    // axum's catch-all `{*name}` is OpenAPI's `{name}`.
                    let path = path.replace("{*", "{");
                    found.push((method.to_string(), format!("{prefix}{path}")));
                }
            }
        }
        found
    }

    #[test]
    fn every_route_of_the_router_is_in_the_document() {
        let lib = include_str!("lib.rs");
        let (api, root) = lib.split_at(lib.find("Router::new()\n        .nest(").unwrap());
        let mut routes = routes_in(api, "/api/v1");
        routes.extend(routes_in(root, ""));
        routes.extend(routes_in(include_str!("normal_oj/mod.rs"), "/compat/normal-oj"));
        assert!(routes.len() > 35, "{routes:?}");
        let doc = serde_json::to_value(document()).unwrap();
        let missing: Vec<_> =
            routes.iter().filter(|(method, path)| doc["paths"][path][method].is_null()).collect();
        assert!(missing.is_empty(), "not in /openapi.json: {missing:?}");
    }

    #[test]
    fn bodies_refer_to_schemas_that_exist() {
        let doc = serde_json::to_value(document()).unwrap();
        let text = doc.to_string();
        let schemas = &doc["components"]["schemas"];
        for name in ["SubmissionView", "Job", "JudgeReport", "Status", "ErrorBody", "WebhookView"] {
            assert!(schemas[name].is_object(), "schema {name} missing");
        }
        for reference in text.split("\"#/components/schemas/").skip(1) {
            let name = &reference[..reference.find('"').unwrap()];
            assert!(schemas[name].is_object(), "{name} is referred to but not defined");
        }
    }
}
