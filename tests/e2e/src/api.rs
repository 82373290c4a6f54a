//! A blocking HTTP client for the backend's API with bounded waits:
//! [`Http`] sends requests and returns every answer as a [`Reply`] (status,
//! headers, body), [`Client`] is a bearer token's view of the client API, and
//! [`Sse`] reads an event stream on a thread of its own, so a test waits on
//! it with a timeout.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use protocol::ErrorBody;
use protocol::client::{
    ClientView, CreateClientRequest, CreateClientResponse, ProblemView, SubmissionEvent,
    SubmissionView, SubmitRequest, SubmitResponse, UpdateClientRequest,
};
use reqwest::Method;
use reqwest::blocking::RequestBuilder;
use reqwest::header::{self, HeaderMap};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The longest any request may take, unless it says otherwise (long-polls).
pub const REQUEST_LIMIT: Duration = Duration::from_secs(15);

/// A blocking client for one backend. Cheap to clone and to share between
/// threads. Connections are not pooled, so a killed and restarted backend
/// never meets a dead socket.
#[derive(Clone)]
pub struct Http {
    client: reqwest::blocking::Client,
    base: String,
}

/// An answer, whatever its status.
#[derive(Debug)]
pub struct Reply {
    /// `METHOD PATH`, for messages.
    pub what: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Http {
    /// A client for the backend at `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Http {
        Http::with_ca(base, None)
    }

    /// A client for the backend at `base` (`https://127.0.0.1:PORT`) that
    /// trusts the PEM CA certificate `ca` besides the public CAs.
    pub fn with_ca(base: &str, ca: Option<&[u8]>) -> Http {
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(REQUEST_LIMIT)
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(0);
        if let Some(pem) = ca {
            let cert = reqwest::Certificate::from_pem(pem).expect("a PEM CA certificate");
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().expect("building the HTTP client");
        Http { client, base: base.trim_end_matches('/').to_string() }
    }

    /// The URL of `path` at the server's root (`/healthz`).
    pub fn root_url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The URL of `path` under `/api/v1` (`/submissions`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}{path}", self.base, protocol::API_BASE)
    }

    /// A request to `path` under `/api/v1`, with `token` as bearer if given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends a request and reads the whole answer; panics if there is none
    /// within the request's time limit.
    pub fn send(&self, what: String, builder: RequestBuilder) -> Reply {
        self.try_send(what.clone(), builder).unwrap_or_else(|e| panic!("{what}: {e:#}"))
    }

    /// [`send`](Self::send), or the transport error (refused connection,
    /// timeout).
    pub fn try_send(&self, what: String, builder: RequestBuilder) -> Result<Reply, String> {
        let response = builder.send().map_err(|e| format!("{e}: {:?}", e.source_chain()))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().map_err(|e| format!("reading the body: {e}"))?.to_vec();
        Ok(Reply { what, status, headers, body })
    }

    /// `GET` an API path.
    pub fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(format!("GET {path}"), self.request(Method::GET, path, token))
    }

    /// `GET` a path at the server's root (`/healthz`, `/metrics`).
    pub fn get_root(&self, path: &str) -> Reply {
        self.send(format!("GET {path}"), self.client.get(self.root_url(path)))
    }

    /// `method` an API path with a JSON body.
    pub fn json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &impl Serialize,
    ) -> Reply {
        let what = format!("{method} {path}");
        self.send(what, self.request(method, path, token).json(body))
    }

    /// `method` an API path with raw bytes of `content_type`.
    pub fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let what = format!("{method} {path} ({content_type}, {} bytes)", body.len());
        let builder =
            self.request(method, path, token).header(header::CONTENT_TYPE, content_type).body(body);
        self.send(what, builder)
    }

    /// Opens `GET path` as an event stream; a non-200 answer is returned
    /// whole instead.
    pub fn sse(&self, path: &str, token: Option<&str>) -> Result<Sse, Box<Reply>> {
        Sse::open(self, path, token)
    }
}

/// Formats an error with its sources, one per `: `.
trait SourceChain {
    fn source_chain(&self) -> Vec<String>;
}

impl SourceChain for reqwest::Error {
    fn source_chain(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut source = std::error::Error::source(self);
        while let Some(e) = source {
            out.push(e.to_string());
            source = e.source();
        }
        out
    }
}

impl Reply {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the status; returns the reply for more checks.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(
            self.status,
            status,
            "{}: expected {status}, got body {}",
            self.what,
            self.text()
        );
        self
    }

    /// The body as JSON of type `T`.
    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{}: the body is not the expected JSON ({e}): {}", self.what, self.text())
        })
    }

    /// Asserts an error answer with `status`: a JSON body with a non-empty
    /// `error` code and `detail` sentence, and nothing else. Returns it.
    #[track_caller]
    pub fn expect_error(self, status: u16) -> ErrorBody {
        let reply = self.expect(status);
        let content_type =
            reply.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(
            content_type.starts_with("application/json"),
            "{}: error content type {content_type:?}",
            reply.what
        );
        let value: serde_json::Value = reply.json();
        let object = value.as_object().unwrap_or_else(|| panic!("{}: {value}", reply.what));
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["detail", "error"], "{}: {value}", reply.what);
        let body: ErrorBody = reply.json();
        assert!(!body.error.is_empty() && !body.detail.is_empty(), "{}: {value}", reply.what);
        body
    }
}

/// A bearer token's view of the client API (the admin or a client).
#[derive(Clone)]
pub struct Client {
    pub http: Http,
    pub token: String,
}

impl Client {
    pub fn new(http: Http, token: &str) -> Client {
        Client { http, token: token.to_string() }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.http.get(path, Some(&self.token))
    }

    pub fn post(&self, path: &str, body: &impl Serialize) -> Reply {
        self.http.json(Method::POST, path, Some(&self.token), body)
    }

    /// `PUT /problems/{id}` with an archive of `content_type`.
    pub fn put_problem(&self, id: &str, content_type: &str, archive: Vec<u8>) -> Reply {
        self.http.raw(
            Method::PUT,
            &format!("/problems/{id}"),
            Some(&self.token),
            content_type,
            archive,
        )
    }

    /// Waits (admin) until `GET /queue` shows no job pending or leased,
    /// failing after `limit`.
    #[track_caller]
    pub fn wait_drained(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let queue: serde_json::Value = self.get("/queue").expect(200).json();
            if queue["pending"] == 0 && queue["leased"] == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "not drained: {queue}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Uploads a package that must be accepted as a new problem (201).
    #[track_caller]
    pub fn create_problem(&self, id: &str, content_type: &str, archive: Vec<u8>) -> ProblemView {
        self.put_problem(id, content_type, archive).expect(201).json()
    }

    /// `POST /clients` (admin): a new client with its token.
    #[track_caller]
    pub fn create_client(&self, name: &str) -> Client {
        self.create_client_with_id(name).1
    }

    /// `POST /clients` (admin): a new client's id, and the client.
    #[track_caller]
    pub fn create_client_with_id(&self, name: &str) -> (String, Client) {
        let request = CreateClientRequest { name: name.to_string() };
        let created: CreateClientResponse = self.post("/clients", &request).expect(201).json();
        assert!(created.token.starts_with("ck_"), "client token {:?}", created.token);
        assert!(created.client_id.starts_with("cl_"), "client id {:?}", created.client_id);
        (created.client_id, Client::new(self.http.clone(), &created.token))
    }

    /// `PATCH /clients/{id}` (admin), whatever the answer.
    pub fn update_client(&self, id: &str, update: &UpdateClientRequest) -> Reply {
        self.http.json(Method::PATCH, &format!("/clients/{id}"), Some(&self.token), update)
    }

    /// `PATCH /clients/{id}` (admin) that must be accepted: the client now.
    #[track_caller]
    pub fn set_client(&self, id: &str, update: &UpdateClientRequest) -> ClientView {
        self.update_client(id, update).expect(200).json()
    }

    /// `POST /submissions`, whatever the answer.
    pub fn submit(&self, problem_id: &str, language: &str, source: &str) -> Reply {
        let request = SubmitRequest {
            problem_id: problem_id.to_string(),
            language: language.to_string(),
            source: source.to_string(),
            labels: Vec::new(),
        };
        self.post("/submissions", &request)
    }

    /// A submission that must be accepted (201); its id.
    #[track_caller]
    pub fn submit_ok(&self, problem_id: &str, language: &str, source: &str) -> String {
        let created: SubmitResponse = self.submit(problem_id, language, source).expect(201).json();
        assert!(created.submission_id.starts_with("sb_"), "id {:?}", created.submission_id);
        created.submission_id
    }

    /// `GET /submissions/{id}`, which must be visible.
    #[track_caller]
    pub fn submission(&self, id: &str) -> SubmissionView {
        self.get(&format!("/submissions/{id}")).expect(200).json()
    }

    /// Polls the submission until `done` holds or `limit` passes (then
    /// panics with the last view).
    #[track_caller]
    pub fn wait_for(
        &self,
        id: &str,
        limit: Duration,
        done: impl Fn(&SubmissionView) -> bool,
    ) -> SubmissionView {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let view = self.submission(id);
            if done(&view) {
                return view;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "submission {id} did not reach the expected state within {limit:?}: {view:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `GET /submissions/{id}/events` as a stream, which must open.
    #[track_caller]
    pub fn events(&self, id: &str) -> Sse {
        match self.http.sse(&format!("/submissions/{id}/events"), Some(&self.token)) {
            Ok(sse) => sse,
            Err(reply) => panic!("{}: {} {}", reply.what, reply.status, reply.text()),
        }
    }

    /// `GET /problems`: the problem ids.
    #[track_caller]
    pub fn problem_ids(&self) -> Vec<String> {
        self.get("/problems").expect(200).json()
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// `event:` (empty when absent).
    pub event: String,
    /// `id:` (empty when absent).
    pub id: String,
    /// The `data:` lines, joined by newlines.
    pub data: String,
}

impl SseEvent {
    /// The data as a submission event.
    #[track_caller]
    pub fn submission_event(&self) -> SubmissionEvent {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event {:?} is not a SubmissionEvent: {e}", self.data))
    }
}

enum SseItem {
    Event(SseEvent),
    /// The server ended the stream.
    End,
    /// The connection failed.
    Failed(String),
}

/// An open event stream, read by a thread of its own; events are taken with
/// a time limit. Dropping it leaves the reading thread to end with the
/// connection (the backend's death ends it at the latest).
pub struct Sse {
    rx: mpsc::Receiver<SseItem>,
    ended: bool,
}

/// How long a stream may stay silent before a read fails (the backend sends
/// a keep-alive comment every 15 s).
const SSE_READ_LIMIT: Duration = Duration::from_secs(30);

impl Sse {
    fn open(http: &Http, path: &str, token: Option<&str>) -> Result<Sse, Box<Reply>> {
        let what = format!("GET {path} (SSE)");
        let response = http
            .request(Method::GET, path, token)
            .header(header::ACCEPT, "text/event-stream")
            .timeout(SSE_READ_LIMIT)
            .send()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if status != 200 {
            let body = response.bytes().map(|b| b.to_vec()).unwrap_or_default();
            return Err(Box::new(Reply { what, status, headers, body }));
        }
        let content_type =
            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(content_type.starts_with("text/event-stream"), "{what}: {content_type:?}");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || read_events(BufReader::new(response), &tx));
        Ok(Sse { rx, ended: false })
    }

    /// The next event, or `None` once the server ended the stream. Panics if
    /// nothing comes within `limit` or the connection fails.
    #[track_caller]
    pub fn next(&mut self, limit: Duration) -> Option<SseEvent> {
        if self.ended {
            return None;
        }
        match self.rx.recv_timeout(limit) {
            Ok(SseItem::Event(event)) => Some(event),
            Ok(SseItem::End) => {
                self.ended = true;
                None
            }
            Ok(SseItem::Failed(why)) => panic!("the event stream failed: {why}"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("no event and no end of the stream within {limit:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the stream reader died"),
        }
    }

    /// Every event until the server ends the stream, which must happen
    /// within `limit`.
    #[track_caller]
    pub fn until_end(&mut self, limit: Duration) -> Vec<SseEvent> {
        let deadline = std::time::Instant::now() + limit;
        let mut events = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(!left.is_zero(), "the stream did not end within {limit:?}; got {events:?}");
            match self.next(left) {
                Some(event) => events.push(event),
                None => return events,
            }
        }
    }
}

/// Parses `text/event-stream` line by line (WHATWG rules for the fields we
/// use: `event`, `id`, `data`; `:` comments skipped; a blank line dispatches).
fn read_events(reader: impl BufRead, tx: &mpsc::Sender<SseItem>) {
    let mut event = SseEvent { event: String::new(), id: String::new(), data: String::new() };
    let mut has_data = false;
    for line in reader.lines() {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                let _ = tx.send(SseItem::Failed(e.to_string()));
                return;
            }
        };
        if line.is_empty() {
            if has_data || !event.event.is_empty() {
                let done = std::mem::replace(
                    &mut event,
                    SseEvent { event: String::new(), id: String::new(), data: String::new() },
                );
                has_data = false;
                if tx.send(SseItem::Event(done)).is_err() {
                    return;
                }
            }
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match field {
            "event" => event.event = value.to_string(),
            "id" => event.id = value.to_string(),
            "data" => {
                if has_data {
                    event.data.push('\n');
                }
                event.data.push_str(value);
                has_data = true;
            }
            _ => {}
        }
    }
    let _ = tx.send(SseItem::End);
}

/// How long to wait for one thing that should happen at once (an event, an
/// answer): generous under load, yet bounded.
pub const SOON: Duration = Duration::from_secs(5);
