//! The runner side of the pull protocol (`docs/contract.md` §4) over HTTP: one call per
//! endpoint, typed with `protocol`, and blob downloads streamed to disk with
//! their SHA-256 checked.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use protocol::runner::{
    CompleteRequest, CompleteResponse, EventsRequest, HeartbeatRequest, HeartbeatResponse, Job,
    JobResult, RegisterRequest, RegisterResponse, RunnerEvent,
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
    /// Also a TLS failure (an unknown certificate authority, a name
    /// mismatch): the message carries every cause, which says which.
    #[error("the backend could not be reached: {}", causes(.0))]
    Transport(#[from] reqwest::Error),
    #[error("blob {digest}: {reason}")]
    Blob { digest: String, reason: String },
    #[error("writing a download: {0}")]
    Io(#[from] std::io::Error),
}

/// An error and its causes, `: `-joined (reqwest's own message leaves out
/// why: "error sending request" rather than "invalid peer certificate").
pub fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}

/// The certificates of the PEM file at `path`, as extra roots an HTTP
/// client trusts besides the public ones (`--ca-cert`, for a backend whose
/// certificate a private CA signed). Errors name the file.
pub fn read_ca_certs(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("ca_cert {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("ca_cert {}: not PEM certificates: {}", path.display(), causes(&e)))?;
    if certs.is_empty() {
        return Err(format!(
            "ca_cert {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
            path.display()
        ));
    }
    Ok(certs)
}

/// What a 409 means, from its `{error, detail}` body: a full set of slots
/// (from `jobs/next`), else a stale lease.
fn conflict(body: &str) -> ClientError {
    match serde_json::from_str::<protocol::ErrorBody>(body) {
        Ok(body) if body.error == "slots_full" => ClientError::SlotsFull,
        _ => ClientError::Stale,
    }
}

/// An HTTP client for a backend, reached at one or more base URLs: the
/// instances of one deployment (one Redis, one blob store), any of which
/// serves any call. Calls go to the current instance; a call that cannot
/// connect to it (nothing was sent) is sent to the next at once, and one
/// that failed after it was sent makes the next instance current for the
/// calls after it (the caller retries as it always does). Clones share
/// which instance is current.
#[derive(Debug, Clone)]
pub struct BackendClient {
    http: reqwest::Client,
    /// Each instance's API root (`…/api/v1`).
    apis: Arc<[String]>,
    current: Arc<AtomicUsize>,
}

/// A registered runner's identity: its id and bearer token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub runner_id: String,
    pub token: String,
}

/// `path` under an instance's API root.
fn url(api: &str, path: &str) -> String {
    format!("{api}{path}")
}

impl BackendClient {
    /// A client for the backend at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Result<Self, ClientError> {
        Self::with_roots(&[base.to_string()], &[])
    }

    /// A client for the backend instances at `bases` (`http://` or
    /// `https://`; at least one) that trusts `extra_roots` (see
    /// [`read_ca_certs`]) besides the public CAs.
    pub fn with_roots(
        bases: &[String],
        extra_roots: &[reqwest::Certificate],
    ) -> Result<Self, ClientError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // The backend closes connections idle for 10 s; reusing one it is
            // closing fails the request.
            .pool_idle_timeout(protocol::CLIENT_POOL_IDLE);
        for root in extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let http = builder.build()?;
        let apis: Vec<String> = bases
            .iter()
            .map(|base| format!("{}{}", base.trim_end_matches('/'), protocol::API_BASE))
            .collect();
        assert!(!apis.is_empty(), "a backend client needs at least one URL");
        Ok(BackendClient { http, apis: apis.into(), current: Arc::default() })
    }

    /// The API root calls go to now.
    pub fn current(&self) -> &str {
        &self.apis[self.current.load(Ordering::Relaxed) % self.apis.len()]
    }

    /// Sends the request `build` makes for an instance's API root to the
    /// current instance, failing over as the type's doc says.
    async fn send(
        &self,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let count = self.apis.len();
        let first = self.current.load(Ordering::Relaxed) % count;
        let mut tried = 0;
        loop {
            let at = (first + tried) % count;
            tried += 1;
            match build(&self.http, &self.apis[at]).send().await {
                Ok(response) => {
                    if at != first {
                        self.current.store(at, Ordering::Relaxed);
                        tracing::info!(backend = %self.apis[at], "now calling this backend instance");
                    }
                    return Ok(response);
                }
                Err(e) if e.is_connect() && tried < count => {
                    tracing::warn!(backend = %self.apis[at], error = %causes(&e), "backend instance unreachable: trying the next");
                }
                Err(e) => {
                    let next = (at + 1) % count;
                    let swapped = self.current.compare_exchange(
                        first,
                        next,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                    if count > 1 && swapped.is_ok() {
                        tracing::info!(
                            backend = %self.apis[next],
                            "now calling this backend instance (the last one failed)"
                        );
                    }
                    return Err(e);
                }
            }
        }
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
            .send(|http, api| {
                http.post(url(api, "/runners/register"))
                    .bearer_auth(registration_token)
                    .json(request)
                    .timeout(Duration::from_secs(30))
            })
            .await?;
        Ok(Self::check(response).await?.json().await?)
    }

    pub async fn heartbeat(
        &self,
        me: &Identity,
        request: &HeartbeatRequest,
    ) -> Result<HeartbeatResponse, ClientError> {
        let response = self
            .send(|http, api| {
                http.post(url(api, &format!("/runners/{}/heartbeat", me.runner_id)))
                    .bearer_auth(&me.token)
                    .json(request)
                    .timeout(Duration::from_secs(30))
            })
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
            .send(|http, api| {
                http.get(url(
                    api,
                    &format!("/runners/{}/jobs/next?wait_ms={wait_ms}", me.runner_id),
                ))
                .bearer_auth(&me.token)
                .timeout(wait + Duration::from_secs(30))
            })
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
            .send(|http, api| {
                http.post(url(api, &format!("/runners/{}/jobs/{job_id}/events", me.runner_id)))
                    .bearer_auth(&me.token)
                    .json(&body)
                    .timeout(Duration::from_secs(30))
            })
            .await?;
        Self::check(response).await.map(drop)
    }

    /// Delivers a job's result. With `next`, the backend also leases the
    /// runner's next job in the same step, if one is queued: it is returned.
    pub async fn complete(
        &self,
        me: &Identity,
        job_id: &str,
        lease: &str,
        result: &JobResult,
        next: bool,
    ) -> Result<Option<Job>, ClientError> {
        let body = CompleteRequest { lease: lease.to_string(), result: result.clone(), next };
        let response = self
            .send(|http, api| {
                http.put(url(api, &format!("/runners/{}/jobs/{job_id}/complete", me.runner_id)))
                    .bearer_auth(&me.token)
                    .json(&body)
                    .timeout(Duration::from_secs(60))
            })
            .await?;
        let response = Self::check(response).await?;
        if !next {
            return Ok(None);
        }
        Ok(response.json::<CompleteResponse>().await?.next)
    }

    /// Shares the checker program this runner compiled for problem
    /// revision `revision`, so runners without Docker can run it.
    pub async fn put_compiled_checker(
        &self,
        me: &Identity,
        revision: &str,
        wasm: Vec<u8>,
    ) -> Result<(), ClientError> {
        let response = self
            .send(|http, api| {
                http.put(url(api, &format!("/runners/{}/checkers/{revision}", me.runner_id)))
                    .bearer_auth(&me.token)
                    .header(reqwest::header::CONTENT_TYPE, "application/wasm")
                    .body(wasm.clone())
                    .timeout(Duration::from_secs(120))
            })
            .await?;
        Self::check(response).await.map(drop)
    }

    pub async fn deregister(&self, me: &Identity) -> Result<(), ClientError> {
        let response = self
            .send(|http, api| {
                http.delete(url(api, &format!("/runners/{}", me.runner_id)))
                    .bearer_auth(&me.token)
                    .timeout(Duration::from_secs(10))
            })
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
            .send(|http, api| {
                http.get(url(api, &format!("/blobs/{digest}")))
                    .bearer_auth(&me.token)
                    .timeout(Duration::from_secs(600))
            })
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
    use std::io::{Read, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A server that answers every request with `{"cancel": []}` on
    /// keep-alive connections and never closes one; returns its address and
    /// how many connections it accepted.
    fn counting_server() -> (String, Arc<AtomicUsize>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || serve(stream));
            }
        });
        (addr, accepted)
    }

    fn serve(mut stream: std::net::TcpStream) {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = stream.read(&mut chunk) {
            buffer.extend_from_slice(&chunk[..n]);
            let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
            let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            if buffer.len() < end + 4 + length {
                continue;
            }
            buffer.drain(..end + 4 + length);
            let body = r#"{"cancel":[]}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    }

    #[tokio::test]
    async fn connections_idle_longer_than_the_pool_limit_are_not_reused() {
        let (addr, accepted) = counting_server();
        let client = BackendClient::new(&addr).unwrap();
        let me = Identity { runner_id: "rn_x".into(), token: "rk_x".into() };
        let beat = HeartbeatRequest::default();
        client.heartbeat(&me, &beat).await.unwrap();
        client.heartbeat(&me, &beat).await.unwrap();
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "a busy connection is reused");
        // Past the pool limit (and before the backend's idle close) the
        // client must open a new connection rather than race the backend
        // closing the old one.
        tokio::time::sleep(protocol::CLIENT_POOL_IDLE + Duration::from_secs(1)).await;
        assert!(
            protocol::CLIENT_POOL_IDLE + Duration::from_secs(1) < protocol::IDLE_CONNECTION_CLOSE
        );
        client.heartbeat(&me, &beat).await.unwrap();
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "an idle connection was reused");
    }

    #[tokio::test]
    async fn a_call_that_cannot_connect_goes_to_the_next_instance_and_stays() {
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_url = format!("http://{}", dead.local_addr().unwrap());
        drop(dead);
        let (alive, accepted) = counting_server();
        let client = BackendClient::with_roots(&[dead_url, alive.clone()], &[]).unwrap();
        let me = Identity { runner_id: "rn_x".into(), token: "rk_x".into() };
        let beat = HeartbeatRequest::default();
        client.heartbeat(&me, &beat).await.unwrap();
        assert!(client.current().starts_with(&alive), "{}", client.current());
        client.heartbeat(&me, &beat).await.unwrap();
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "one connection to the live instance");
        // With no live instance at all, the call fails (the caller retries).
        let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let gone_url = format!("http://{}", gone.local_addr().unwrap());
        drop(gone);
        let client = BackendClient::with_roots(&[gone_url.clone(), gone_url], &[]).unwrap();
        assert!(matches!(client.heartbeat(&me, &beat).await, Err(ClientError::Transport(_))));
    }

    #[test]
    fn a_409_is_a_stale_lease_unless_it_says_slots_full() {
        let slots = r#"{"error":"slots_full","detail":"the runner already holds a lease for each of its slots"}"#;
        assert!(matches!(conflict(slots), ClientError::SlotsFull));
        let stale = r#"{"error":"stale_lease","detail":"stop the job"}"#;
        assert!(matches!(conflict(stale), ClientError::Stale));
        assert!(matches!(conflict("not json"), ClientError::Stale));
    }
}
