//! The runner side of the pull protocol (SPEC §4) over HTTP: one call per
//! endpoint, typed with `protocol`, and blob downloads streamed to disk with
//! their SHA-256 checked.

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use protocol::runner::{
    CompleteRequest, EventsRequest, HeartbeatRequest, HeartbeatResponse, Job, JobResult,
    RegisterRequest, RegisterResponse, RunnerEvent,
};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The token is unknown or expired: register again.
    #[error("the backend does not know this runner's token (401)")]
    Unauthorized,
    /// The lease is stale: stop the job, do not report it.
    #[error("the lease is no longer valid (409)")]
    Stale,
    /// The backend still counts a lease against every slot (a result is on
    /// its way): poll again shortly.
    #[error("the backend counts every slot as busy (409 slots_full)")]
    SlotsFull,
    #[error("the backend answered {status}: {body}")]
    Status { status: StatusCode, body: String },
    #[error("the backend could not be reached: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("blob {digest}: {reason}")]
    Blob { digest: String, reason: String },
    #[error("writing a download: {0}")]
    Io(#[from] std::io::Error),
}

/// What a 409 means, from its `{error, detail}` body: a full set of slots
/// (from `jobs/next`), else a stale lease.
fn conflict(body: &str) -> ClientError {
    match serde_json::from_str::<protocol::ErrorBody>(body) {
        Ok(body) if body.error == "slots_full" => ClientError::SlotsFull,
        _ => ClientError::Stale,
    }
}

/// An HTTP client for one backend.
#[derive(Debug, Clone)]
pub struct BackendClient {
    http: reqwest::Client,
    api: String,
}

/// A registered runner's identity: its id and bearer token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub runner_id: String,
    pub token: String,
}

impl BackendClient {
    /// A client for the backend at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        let api = format!("{}{}", base.trim_end_matches('/'), protocol::API_BASE);
        Ok(BackendClient { http, api })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    async fn check(response: reqwest::Response) -> Result<reqwest::Response, ClientError> {
        match response.status() {
            s if s.is_success() => Ok(response),
            StatusCode::UNAUTHORIZED => Err(ClientError::Unauthorized),
            StatusCode::CONFLICT => Err(conflict(&response.text().await.unwrap_or_default())),
            status => {
                let body = response.text().await.unwrap_or_default();
                Err(ClientError::Status { status, body: body.chars().take(500).collect() })
            }
        }
    }

    pub async fn register(
        &self,
        registration_token: &str,
        request: &RegisterRequest,
    ) -> Result<RegisterResponse, ClientError> {
        let response = self
            .http
            .post(self.url("/runners/register"))
            .bearer_auth(registration_token)
            .json(request)
            .timeout(Duration::from_secs(30))
            .send()
            .await?;
        Ok(Self::check(response).await?.json().await?)
    }

    pub async fn heartbeat(
        &self,
        me: &Identity,
        request: &HeartbeatRequest,
    ) -> Result<HeartbeatResponse, ClientError> {
        let response = self
            .http
            .post(self.url(&format!("/runners/{}/heartbeat", me.runner_id)))
            .bearer_auth(&me.token)
            .json(request)
            .timeout(Duration::from_secs(30))
            .send()
            .await?;
        Ok(Self::check(response).await?.json().await?)
    }

    /// Long-polls for a job; `None` when the wait ended without one.
    pub async fn next_job(
        &self,
        me: &Identity,
        wait: Duration,
    ) -> Result<Option<Job>, ClientError> {
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        let response = self
            .http
            .get(self.url(&format!("/runners/{}/jobs/next?wait_ms={wait_ms}", me.runner_id)))
            .bearer_auth(&me.token)
            .timeout(wait + Duration::from_secs(30))
            .send()
            .await?;
        let response = Self::check(response).await?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        Ok(Some(response.json().await?))
    }

    pub async fn events(
        &self,
        me: &Identity,
        job_id: &str,
        lease: &str,
        events: Vec<RunnerEvent>,
    ) -> Result<(), ClientError> {
        let body = EventsRequest { lease: lease.to_string(), events };
        let response = self
            .http
            .post(self.url(&format!("/runners/{}/jobs/{job_id}/events", me.runner_id)))
            .bearer_auth(&me.token)
            .json(&body)
            .timeout(Duration::from_secs(30))
            .send()
            .await?;
        Self::check(response).await.map(drop)
    }

    pub async fn complete(
        &self,
        me: &Identity,
        job_id: &str,
        lease: &str,
        result: &JobResult,
    ) -> Result<(), ClientError> {
        let body = CompleteRequest { lease: lease.to_string(), result: result.clone() };
        let response = self
            .http
            .put(self.url(&format!("/runners/{}/jobs/{job_id}/complete", me.runner_id)))
            .bearer_auth(&me.token)
            .json(&body)
            .timeout(Duration::from_secs(60))
            .send()
            .await?;
        Self::check(response).await.map(drop)
    }

    pub async fn deregister(&self, me: &Identity) -> Result<(), ClientError> {
        let response = self
            .http
            .delete(self.url(&format!("/runners/{}", me.runner_id)))
            .bearer_auth(&me.token)
            .timeout(Duration::from_secs(10))
            .send()
            .await?;
        Self::check(response).await.map(drop)
    }

    /// Streams blob `digest` into `dest`, refusing more than `max_bytes` and
    /// any content whose SHA-256 is not `digest`.
    pub async fn download(
        &self,
        me: &Identity,
        digest: &str,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<u64, ClientError> {
        let fail = |reason: String| ClientError::Blob { digest: digest.to_string(), reason };
        let response = self
            .http
            .get(self.url(&format!("/blobs/{digest}")))
            .bearer_auth(&me.token)
            .timeout(Duration::from_secs(600))
            .send()
            .await?;
        let response = Self::check(response).await?;
        let mut file = tokio::fs::File::create(dest).await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(fail(format!("larger than {max_bytes} bytes")));
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.sync_all().await?;
        let actual = hex::encode(hasher.finalize());
        if actual != digest {
            return Err(fail(format!("the download hashes to {actual}")));
        }
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_409_is_a_stale_lease_unless_it_says_slots_full() {
        let slots = r#"{"error":"slots_full","detail":"the runner already holds a lease for each of its slots"}"#;
        assert!(matches!(conflict(slots), ClientError::SlotsFull));
        let stale = r#"{"error":"stale_lease","detail":"stop the job"}"#;
        assert!(matches!(conflict(stale), ClientError::Stale));
        assert!(matches!(conflict("not json"), ClientError::Stale));
    }
}
