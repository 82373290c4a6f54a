//! The HTTP side of the client commands (`run`, `submit`, `watch`,
//! `runners`, `problem push`): one backend's API with a token ([`Api`]),
//! creates sent again safely ([`Api::create`]), and server-sent event streams
//! followed across dropped connections ([`Api::follow`]).
//!
//! Every answer is read with a cap. The backend's answer decides what an
//! error is: a `4xx` is the caller's fault ([`BadInput`], exit code 2, with
//! the backend's `{error, detail}`), a `5xx` or no answer at all is not (exit
//! code 1, naming the backend's URL), and a `429` ([`OverQuota`]: the
//! client is over a quota) passes with time: a create waits as its
//! `Retry-After` says and sends again. The endpoints are in docs/API.md.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use protocol::ErrorBody;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::BadInput;

/// How long connecting to the backend may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Ordinary requests (create, read, artifacts).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The most bytes of a JSON answer read.
const MAX_ANSWER_BYTES: u64 = 16 << 20;
/// The longest line of an event stream read (an event's `data` is one line).
const MAX_EVENT_LINE: u64 = 4 << 20;
/// Sends of one create before giving up on a backend that fails to answer,
/// and the first pause between two (doubling): about 3.5 s in all, enough
/// for a restarted backend or Redis to come back.
const CREATE_ATTEMPTS: u32 = 4;
const CREATE_BACKOFF: Duration = Duration::from_millis(500);
/// The longest a create waits in all for a quota to let it through (a
/// rate quota frees room within a minute; a full queue as runners work).
const QUOTA_PATIENCE: Duration = Duration::from_secs(300);
/// The pause before an event stream that ended early is opened again.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);

/// The default backend, as `gavel up` and `gavel backend` listen.
const DEFAULT_BACKEND: &str = "http://127.0.0.1:8080";

/// `--backend` and a client's `--token` (a client token or the admin token).
#[derive(Debug, clap::Args)]
pub struct ClientTarget {
    /// The backend's base URL (`http://` or `https://`).
    #[arg(long, env = "GAVEL_BACKEND", default_value = DEFAULT_BACKEND)]
    pub backend: String,
    /// A client token (or the admin token).
    #[arg(long, env = "GAVEL_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Trust the CA certificates of this PEM file besides the public ones
    /// (an `https://` backend whose certificate a private CA signed).
    #[arg(long, env = "GAVEL_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
}

/// `--backend` and the admin `--token`, for admin-only calls.
#[derive(Debug, clap::Args)]
pub struct AdminTarget {
    /// The backend's base URL (`http://` or `https://`).
    #[arg(long, env = "GAVEL_BACKEND", default_value = DEFAULT_BACKEND)]
    pub backend: String,
    /// The backend's admin token.
    #[arg(long, env = "GAVEL_ADMIN_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Trust the CA certificates of this PEM file besides the public ones
    /// (an `https://` backend whose certificate a private CA signed).
    #[arg(long, env = "GAVEL_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
}

impl ClientTarget {
    pub fn api(&self) -> anyhow::Result<Api> {
        Api::with_ca(&self.backend, &self.token, self.ca_cert.as_deref())
    }
}

impl AdminTarget {
    pub fn api(&self) -> anyhow::Result<Api> {
        Api::with_ca(&self.backend, &self.token, self.ca_cert.as_deref())
    }
}

/// A backend's API (`<backend>/api/v1`) with a token.
pub struct Api {
    pub http: reqwest::blocking::Client,
    /// The backend's URL as given, for messages.
    origin: String,
    base: String,
    token: String,
}

impl Api {
    #[cfg(test)]
    pub fn new(backend: &str, token: &str) -> anyhow::Result<Api> {
        Api::with_ca(backend, token, None)
    }

    /// The API at `backend` with `token`, trusting the certificates of the
    /// PEM file `ca_cert` (if any) besides the public CAs; an unreadable
    /// file is bad input.
    pub fn with_ca(backend: &str, token: &str, ca_cert: Option<&Path>) -> anyhow::Result<Api> {
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(protocol::CLIENT_POOL_IDLE);
        if let Some(path) = ca_cert {
            for root in runner::client::read_ca_certs(path).map_err(BadInput)? {
                builder = builder.add_root_certificate(root);
            }
        }
        let http = builder.build().context("building the HTTP client")?;
        let origin = backend.trim_end_matches('/').to_string();
        let base = format!("{origin}{}", protocol::API_BASE);
        Ok(Api { http, origin, base, token: token.to_string() })
    }

    /// The URL of an API path (`/runs` → `<backend>/api/v1/runs`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path`; the answer's JSON.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(self.http.get(self.url(path)))
    }

    /// `POST path` with `body` under a fresh `Idempotency-Key`, sent again
    /// with the same key while the backend fails to answer (transport
    /// errors, `5xx`), at most [`CREATE_ATTEMPTS`] times, and after each
    /// `429` once its `Retry-After` has passed (for up to
    /// [`QUOTA_PATIENCE`] in all): one create, however many sends.
    pub fn create<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<T> {
        let key = server::auth::new_token("gavel-");
        self.create_with_key(path, body, &key)
    }

    fn create_with_key<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        key: &str,
    ) -> anyhow::Result<T> {
        let (mut attempt, mut pause, mut waited) = (1, CREATE_BACKOFF, Duration::ZERO);
        loop {
            let post = self.http.post(self.url(path)).header("Idempotency-Key", key).json(body);
            let error = match self.send(post) {
                Err(e) => e,
                answer => return answer,
            };
            match error.downcast_ref::<OverQuota>().map(|over| over.retry_after) {
                Some(wait) if waited + wait <= QUOTA_PATIENCE => {
                    tracing::warn!(error = %format!("{error:#}"), "over a quota; waiting to send the create again");
                    std::thread::sleep(wait);
                    waited += wait;
                }
                None if attempt < CREATE_ATTEMPTS && is_transient(&error) => {
                    tracing::warn!(error = %format!("{error:#}"), attempt, "create failed; sending it again");
                    std::thread::sleep(pause);
                    (attempt, pause) = (attempt + 1, pause * 2);
                }
                _ => return Err(error),
            }
        }
    }

    /// Sends a request with the default timeout; a 2xx answer's JSON (see
    /// [`Api::call`] for the rest).
    pub fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::blocking::RequestBuilder,
    ) -> anyhow::Result<T> {
        let response = self.call(request.timeout(REQUEST_TIMEOUT))?;
        read_json(response)
    }

    /// Sends a request with the token; the response when it is 2xx, a 4xx as
    /// [`BadInput`] with the backend's words, a 5xx as [`ServerFailed`], no
    /// answer as an error naming the backend.
    pub fn call(
        &self,
        request: reqwest::blocking::RequestBuilder,
    ) -> anyhow::Result<reqwest::blocking::Response> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .map_err(|e| anyhow::Error::new(e.without_url()))
            .with_context(|| format!("could not reach the backend at {}", self.origin))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let text = read_capped(response, MAX_ANSWER_BYTES).unwrap_or_default();
        let detail = match serde_json::from_slice::<ErrorBody>(&text) {
            Ok(body) => format!("{} ({})", body.detail, body.error),
            Err(_) => String::from_utf8_lossy(&text).trim().to_string(),
        };
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            Err(OverQuota { retry_after: retry_after(&headers), detail }.into())
        } else if status.is_client_error() {
            Err(BadInput(format!("the backend refused: {detail} [{status}]")).into())
        } else {
            Err(ServerFailed { status, detail }.into())
        }
    }

    /// Follows the event stream at `path` until `on` returns `Some` for an
    /// event or `done` says the stream's subject ended. Events already
    /// handed to `on` (by their `id:`) are skipped when the stream is opened
    /// again: after it drops or ends early, or when `done` says to go on.
    pub fn follow<T>(
        &self,
        path: &str,
        deadline: Instant,
        on: &mut dyn FnMut(&SseEvent) -> anyhow::Result<Option<T>>,
        done: &mut dyn FnMut() -> anyhow::Result<Option<T>>,
    ) -> anyhow::Result<T> {
        let mut last_seq = 0u64;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(TimedOut.into());
            }
            let response = self.call(self.http.get(self.url(path)).timeout(left))?;
            match read_events(response, &mut last_seq, on) {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => {}
                Err(e) if e.downcast_ref::<StreamBroke>().is_some() => {
                    tracing::warn!(error = %format!("{e:#}"), "the event stream broke; reconnecting");
                }
                Err(e) => return Err(e),
            }
            if let Some(found) = done()? {
                return Ok(found);
            }
            std::thread::sleep(RECONNECT_PAUSE);
        }
    }
}

/// A response's JSON body, read with a cap.
pub fn read_json<T: DeserializeOwned>(response: reqwest::blocking::Response) -> anyhow::Result<T> {
    let text =
        read_capped(response, MAX_ANSWER_BYTES + 1).context("reading the backend's answer")?;
    if text.len() as u64 > MAX_ANSWER_BYTES {
        anyhow::bail!("the backend's answer is over {MAX_ANSWER_BYTES} bytes");
    }
    serde_json::from_slice(&text).context("reading the backend's answer")
}

/// At most `cap` bytes of `reader`.
fn read_capped(reader: impl Read, cap: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::copy(&mut reader.take(cap), &mut bytes)?;
    Ok(bytes)
}

/// Whether a failed call may succeed when sent again: no answer at all
/// (refused, reset, timed out) or the backend's own failure (`5xx`).
pub fn is_transient(error: &anyhow::Error) -> bool {
    error.downcast_ref::<reqwest::Error>().is_some()
        || error.downcast_ref::<ServerFailed>().is_some()
}

/// How long a `429`'s `Retry-After` (whole seconds) says to wait: 1 s when
/// it is missing or not a number (a date is not sent by Gavel).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Duration {
    let seconds = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    Duration::from_secs(seconds.unwrap_or(1).max(1))
}

/// A `429`: the client is over a quota; a retry may pass after
/// `retry_after`.
#[derive(Debug)]
pub struct OverQuota {
    pub retry_after: Duration,
    detail: String,
}

impl std::fmt::Display for OverQuota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the backend refused for now: {} [429 Too Many Requests; Retry-After {} s]",
            self.detail,
            self.retry_after.as_secs()
        )
    }
}

impl std::error::Error for OverQuota {}

/// A `5xx` answer.
#[derive(Debug)]
pub struct ServerFailed {
    status: reqwest::StatusCode,
    detail: String,
}

impl std::fmt::Display for ServerFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the backend failed ({}): {}", self.status, self.detail)
    }
}

impl std::error::Error for ServerFailed {}

/// The wait for an event stream's end ran out.
#[derive(Debug)]
pub struct TimedOut;

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("it did not end within --wait-s; it goes on without us")
    }
}

impl std::error::Error for TimedOut {}

/// A connection that broke mid-stream (opened again by [`Api::follow`]).
#[derive(Debug)]
struct StreamBroke(std::io::Error);

impl std::fmt::Display for StreamBroke {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reading the event stream: {}", self.0)
    }
}

impl std::error::Error for StreamBroke {}

/// One server-sent event: its `event:` name, `id:` (0 without one) and
/// `data:` lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub name: String,
    pub id: u64,
    pub data: String,
}

/// Reads one SSE connection, handing each event with an id above
/// `last_seq` (or without one) to `on`, until `on` returns `Some` (then
/// that) or the stream ends (`None`). Comments and keep-alives are skipped.
pub fn read_events<T>(
    body: impl Read,
    last_seq: &mut u64,
    on: &mut dyn FnMut(&SseEvent) -> anyhow::Result<Option<T>>,
) -> anyhow::Result<Option<T>> {
    let mut reader = BufReader::new(body);
    let mut event = SseEvent { name: String::new(), id: 0, data: String::new() };
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader.by_ref().take(MAX_EVENT_LINE).read_line(&mut line);
        match read {
            Ok(0) => return Ok(None),
            Ok(_) if !line.ends_with('\n') && line.len() as u64 >= MAX_EVENT_LINE => {
                anyhow::bail!("the event stream sent a line over {MAX_EVENT_LINE} bytes");
            }
            Ok(_) => {}
            Err(e) => return Err(StreamBroke(e).into()),
        }
        let line = line.trim_end_matches(['\n', '\r']);
        if let Some(value) = line.strip_prefix("event:") {
            event.name = value.trim_start().to_string();
        } else if let Some(value) = line.strip_prefix("id:") {
            event.id = value.trim().parse().unwrap_or(0);
        } else if let Some(value) = line.strip_prefix("data:") {
            if !event.data.is_empty() {
                event.data.push('\n');
            }
            event.data.push_str(value.strip_prefix(' ').unwrap_or(value));
        } else if line.is_empty() && !event.data.is_empty() {
            let whole = std::mem::replace(
                &mut event,
                SseEvent { name: String::new(), id: 0, data: String::new() },
            );
            if whole.id != 0 && whole.id <= *last_seq {
                continue; // handed over before a reconnect
            }
            *last_seq = whole.id.max(*last_seq);
            if let Some(found) = on(&whole)? {
                return Ok(Some(found));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_to_answer_are_sent_again() {
        let failed = ServerFailed { status: reqwest::StatusCode::BAD_GATEWAY, detail: "x".into() };
        assert!(is_transient(&anyhow::Error::new(failed).context("creating")));
        assert!(!is_transient(&BadInput("refused".into()).into()));
        let refused = reqwest::blocking::Client::new().get("http://127.0.0.1:1/").send();
        let refused = anyhow::Error::new(refused.unwrap_err()).context("reaching the backend");
        assert!(is_transient(&refused));
    }

    #[test]
    fn sse_events_are_parsed_and_repeats_skipped() {
        let stream = ": keep-alive\n\nevent: queued\nid: 1\ndata: {}\n\n\
                      event: case\r\nid: 2\r\ndata: a\r\ndata: b\r\n\r\n\
                      event: end\nid: 3\ndata: last\n\n";
        let mut seen = Vec::new();
        let mut last = 0;
        let mut on = |e: &SseEvent| {
            seen.push(e.clone());
            Ok((e.name == "end").then(|| e.data.clone()))
        };
        let found = read_events(stream.as_bytes(), &mut last, &mut on).unwrap();
        assert_eq!((found.as_deref(), last), (Some("last"), 3));
        let names: Vec<_> = seen.iter().map(|e| (e.name.as_str(), e.id)).collect();
        assert_eq!(names, [("queued", 1), ("case", 2), ("end", 3)]);
        assert_eq!(seen[1].data, "a\nb");

        let mut after_two = 2;
        let mut names = Vec::new();
        let mut on = |e: &SseEvent| {
            names.push(e.name.clone());
            Ok(None::<()>)
        };
        assert!(read_events(stream.as_bytes(), &mut after_two, &mut on).unwrap().is_none());
        assert_eq!(names, ["end"], "events handed over before a reconnect are skipped");
    }

    /// A backend on a loopback port that answers each request with the
    /// next of `answers` (status line and headers, then a JSON body) and
    /// sends back each request's head.
    fn scripted_backend(answers: Vec<&'static str>) -> (String, std::sync::mpsc::Receiver<String>) {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for answer in answers {
                let (mut stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let (mut head, mut length) = (String::new(), 0usize);
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                tx.send(head).unwrap();
                let (status, body) = answer.split_once("\n\n").unwrap();
                let reply = format!(
                    "{status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(reply.as_bytes()).unwrap();
            }
        });
        (url, rx)
    }

    #[test]
    fn a_create_over_a_quota_waits_as_told_and_sends_the_same_key_again() {
        let refused = "HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\n\n\
                       {\"error\":\"rate_limited\",\"detail\":\"slow down\"}";
        let created = "HTTP/1.1 201 Created\n\n{\"submission_id\":\"sb_1\"}";
        let (url, heads) = scripted_backend(vec![refused, created]);
        let api = Api::new(&url, "t").unwrap();
        let started = Instant::now();
        let answer: serde_json::Value = api.create("/submissions", &1).unwrap();
        assert_eq!(answer["submission_id"], "sb_1");
        assert!(started.elapsed() >= Duration::from_secs(1), "waited as Retry-After said");
        let key = |head: String| {
            let line = head.lines().find(|l| l.to_ascii_lowercase().starts_with("idempotency-key"));
            line.map(str::to_string)
        };
        let (first, second) = (key(heads.recv().unwrap()), key(heads.recv().unwrap()));
        assert!(first.is_some());
        assert_eq!(first, second, "one create: the same key");
    }

    #[test]
    fn a_429_names_when_to_retry_and_is_not_bad_input() {
        let refused = "HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\n\n\
                       {\"error\":\"queue_full\",\"detail\":\"wait\"}";
        let (url, _heads) = scripted_backend(vec![refused]);
        let api = Api::new(&url, "t").unwrap();
        let err = api.get::<serde_json::Value>("/queue").unwrap_err();
        let over = err.downcast_ref::<OverQuota>().expect("an OverQuota");
        assert_eq!(over.retry_after, Duration::from_secs(7));
        assert!(err.to_string().contains("wait (queue_full)"), "{err}");
        assert!(err.downcast_ref::<BadInput>().is_none());
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers), Duration::from_secs(1));
        headers.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), Duration::from_secs(1));
    }

    #[test]
    fn an_unreachable_backend_is_named_and_not_bad_input() {
        let api = Api::new("http://127.0.0.1:1/", "t").unwrap();
        let err = api.get::<serde_json::Value>("/runners").unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("could not reach the backend at http://127.0.0.1:1:"), "{text}");
        assert!(err.downcast_ref::<BadInput>().is_none());
    }
}
