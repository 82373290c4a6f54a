//! `ApiJson<T>`: a JSON body in, or a JSON answer out, with rejections in our
//! error format. Every request body of the API is a JSON object: anything
//! else (an array, a string, nothing) is refused before it is parsed, since
//! serde would otherwise read a struct from a positional array.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body in, or a JSON answer out.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "content_type",
                "expected a request with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            let code =
                if status == StatusCode::PAYLOAD_TOO_LARGE { "too_large" } else { "bad_body" };
            ApiError::new(status, code, rejection.body_text())
        })?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::bad_request("bad_json", "the body must be a JSON object"));
        }
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(ApiJson(value))
    }
}

/// Whether the request says its body is JSON: `application/json` or a
/// `+json` type, parameters aside (as axum's `Json` decides).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json"
        || essence.strip_prefix("application/").is_some_and(|sub| sub.ends_with("+json"))
}

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        headers
    }

    #[test]
    fn json_content_types_are_told_apart() {
        for yes in
            ["application/json", "Application/JSON; charset=utf-8", "application/problem+json"]
        {
            assert!(is_json(&headers(yes)), "{yes}");
        }
        for no in
            ["text/plain", "application/x-www-form-urlencoded", "text/json", "application/jsonx"]
        {
            assert!(!is_json(&headers(no)), "{no}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }

    #[derive(Debug, serde::Deserialize)]
    struct Pair {
        a: u32,
    }

    async fn parse(body: &'static str) -> Result<u32, ApiError> {
        let request = Request::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(body))
            .unwrap();
        ApiJson::<Pair>::from_request(request, &()).await.map(|ApiJson(pair)| pair.a)
    }

    #[tokio::test]
    async fn only_objects_are_read() {
        assert_eq!(parse(" {\"a\": 1}").await.unwrap(), 1);
        let error = parse("[1]").await.unwrap_err();
        assert_eq!((error.status, error.code), (StatusCode::BAD_REQUEST, "bad_json"));
        let error = parse("").await.unwrap_err();
        assert_eq!((error.status, error.code), (StatusCode::BAD_REQUEST, "bad_json"));
        let error = parse("{\"a\": \"x\"}").await.unwrap_err();
        assert_eq!((error.status, error.code), (StatusCode::UNPROCESSABLE_ENTITY, "bad_json"));
    }
}
