//! Normal-OJ's runner dialect, served under `/compat/normal-oj`
//! (`docs/normal-oj.md`): their runner, unchanged, pulls from the same
//! queue as Gavel's runners — same leases, reclaims and attempts; only the
//! wire format differs.
//!
//! - `runners`: register, heartbeat, next-job, complete, abort, and the
//!   signed code download (`signing`);
//! - `testdata`: their testdata channel (checksum, zip, meta) with the
//!   sandbox token in the query string, as their runner sends it;
//! - `rules`: which jobs their runners get (the `noj` payload a submission
//!   carries, computed at submit) and how their results are scored (pure);
//! - `wire`: their JSON bodies and zips.
//!
//! `rules`, `signing` and `wire` sit below every handler (the submissions
//! handler computes the payload through `rules`); `runners` and `testdata`
//! are handlers and import neither each other nor Gavel's handlers.
//!
//! Their runner exits on 401 and retries anything else, so every auth
//! failure here is 401, never 403 or 404.

pub mod rules;
pub(crate) mod runners;
pub mod signing;
pub(crate) mod testdata;
pub mod wire;

use axum::Router;
use axum::routing::{get, post, put};

use crate::state::AppState;

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
