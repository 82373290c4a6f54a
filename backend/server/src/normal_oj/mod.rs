//! Normal-OJ's runner dialect, served under `/compat/normal-oj`
//! (`docs/normal-oj.md`): their runner, unchanged, pulls from the same
//! queue as Gavel's runners — same leases, reclaims and attempts; only the
//! wire format differs.
//!
//! - `runners`: register, heartbeat, next-job, complete, abort, and the
//!   signed code download (`signing`);
//! - `testdata`: their testdata channel (checksum, zip, meta) with the
//!   sandbox token in the query string, as their runner sends it;
//! - `rules`: which jobs their runners get and how their results are scored
//!   (pure).
//!
//! Their runner exits on 401 and retries anything else, so every auth
//! failure here is 401, never 403 or 404.

mod rules;
pub(crate) mod runners;
mod signing;
pub(crate) mod testdata;

use axum::Router;
use axum::routing::{get, post, put};

pub use rules::payload;
pub use signing::Signer;

use crate::AppState;
use crate::error::ApiError;

/// The routes, relative to [`protocol::normal_oj::BASE`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/runners/register", post(runners::register))
        .route("/runners/{rn}/heartbeat", post(runners::heartbeat))
        .route("/runners/{rn}/next-job", get(runners::next_job))
        .route("/runners/{rn}/jobs/{jb}/complete", put(runners::complete))
        .route("/runners/{rn}/jobs/{jb}/abort", put(runners::abort))
        .route("/code/{jb}", get(runners::code))
        .route("/problem/{pid}/checksum", get(testdata::checksum))
        .route("/problem/{pid}/testdata", get(testdata::testdata))
        .route("/problem/{pid}/meta", get(testdata::meta))
}

/// Parses a JSON body of theirs, after the caller is authenticated (so a
/// stranger gets 401 whatever it sent): one that does not parse or has the
/// wrong shape is `400`, what their runner expects of "malformed". The
/// content type is not checked (their runner sends JSON).
fn their_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("bad_json", format!("the body is not the expected JSON: {e}"))
    })
}
