//! What both runner dialects share — Gavel's (`routes::runners`) and
//! Normal-OJ's (`normal_oj::runners`) runners pull from one queue, so they
//! share how a runner is named, how a job handed out is booked, and the
//! answer to a runner the queue no longer knows. (Who a runner is — its
//! token — is [`auth`](crate::auth)'s `Runner` and `TheirRunner`.)

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A runner's name in listings: 1 to 128 characters, not all blank.
pub fn check_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() || name.len() > 128 {
        return Err(ApiError::bad_request("invalid_field", "name: 1 to 128 characters"));
    }
    Ok(())
}

/// Books a job leased to `runner_id` (either dialect): a wake still on its
/// way for it is withdrawn (the job is no longer queued), and it is logged.
pub fn handed_out(state: &AppState, runner_id: &str, job: &protocol::runner::Job) {
    state.listener.waiters().withdraw(&job.job_id);
    tracing::info!(
        runner_id,
        job_id = job.job_id,
        submission_id = job.submission_id,
        attempt = job.attempt,
        "job leased"
    );
}

/// The 401 for a runner whose registration expired or was removed
/// between its token check and its call: it registers again.
pub fn no_longer_registered() -> ApiError {
    ApiError::unauthorized("runner no longer registered; register again")
}
