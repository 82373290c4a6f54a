//! Webhooks end to end: a real backend posts a submission's final verdict
//! to a receiver (a plain TCP server here), signed as documented; a
//! receiver that fails is retried with backoff until it answers 2xx, a down
//! one is retried and its attempts are visible through the API.
//!
//! And the egress policy: the receivers listen on 127.0.0.1, which a
//! backend refuses by default, so the tests that deliver start theirs with
//! `--webhook-allow` for loopback ([`LOOPBACK`]); without it, loopback URLs
//! (an address, `localhost`, `[::1]`, disguised forms) are refused at
//! `PUT /webhook`, and a name that resolves to a refused address only
//! after it was set is refused at delivery, with the reason in
//! `last_error`. Names are resolved through the backend's test hook
//! (`--test-webhook-hosts`, a hosts file the test rewrites), never DNS.
//! Nothing here connects anywhere but 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use e2e::api::Client;
use e2e::package;
use e2e::runner::{TestRunner, report};
use e2e::stack::Stack;
use hmac::{Hmac, Mac};
use judge_core::verdict::Status;
use protocol::client::{DeliveryState, DeliveryView, WebhookCreated, WebhookView};
use serde_json::{Value, json};
use sha2::Sha256;

const PROBLEM: &str = "a-plus-b";
const ZIP: &str = "application/zip";
/// The allowlist of a backend whose webhooks reach the loopback receivers.
const LOOPBACK: &str = "127.0.0.0/8,::1/128";

/// One request as the receiver read it.
struct Received {
    delivery: String,
    signature: String,
    body: String,
}

/// A receiver on a loopback port: answers `500` to the first `failures`
/// requests, then `200`; sends each request it read down the channel.
fn receiver(failures: usize) -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut length, mut delivery, mut signature) = (0, String::new(), String::new());
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap(),
                    "gavel-delivery" => delivery = value.trim().to_string(),
                    "gavel-signature" => signature = value.trim().to_string(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let status = if n < failures { "500 Internal Server Error" } else { "200 OK" };
            let answer =
                format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            stream.write_all(answer.as_bytes()).unwrap();
            let body = String::from_utf8(body).unwrap();
            if tx.send(Received { delivery, signature, body }).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

/// The documented check: `t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
/// compared in constant time, `t` within five minutes of now.
fn verify(secret: &str, header: &str, body: &str) -> bool {
    let Some((t, v1)) = header.split_once(',') else { return false };
    let (Some(t), Some(v1)) = (t.strip_prefix("t="), v1.strip_prefix("v1=")) else { return false };
    let (Ok(t), Ok(v1)) = (t.parse::<u64>(), hex::decode(v1)) else { return false };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    now.abs_diff(t) <= 300 && mac.verify_slice(&v1).is_ok()
}

fn set_webhook(client: &Client, url: &str) -> WebhookCreated {
    client
        .http
        .json(reqwest::Method::PUT, "/webhook", Some(&client.token), &json!({ "url": url }))
        .expect(200)
        .json()
}

fn webhook(client: &Client) -> WebhookView {
    client.get("/webhook").expect(200).json()
}

/// A backend that may post to loopback, with the example problem, a client
/// and a scripted runner.
fn setup(client: &str) -> (Stack, Client, TestRunner) {
    setup_with(client, &[("--webhook-allow", LOOPBACK)])
}

/// [`setup`] with the backend's flags `flags`.
fn setup_with(client: &str, flags: &[(&str, &str)]) -> (Stack, Client, TestRunner) {
    let stack = Stack::start_with(flags);
    let admin = stack.admin();
    admin.create_problem(PROBLEM, ZIP, package::zip(&package::example(PROBLEM)));
    let client = admin.create_client(client);
    let runner = TestRunner::register(&stack.http(), "scripted");
    (stack, client, runner)
}

/// Submits and has a scripted runner judge it AC; the submission id.
fn judged(stack: &Stack, client: &Client, runner: &TestRunner) -> String {
    let problem = stack.admin().get(&format!("/problems/{PROBLEM}")).expect(200).json();
    let sid = client.submit_ok(PROBLEM, "javascript", "console.log(3)");
    let job = runner.claim(Duration::from_secs(5));
    runner.complete(&job, &report(&problem, Status::Accepted)).expect(200);
    sid
}

#[test]
fn a_final_verdict_is_posted_signed_and_retried_until_the_receiver_takes_it() {
    let (stack, client, runner) = setup("hooked");
    let admin = stack.admin();

    // Bad URLs are refused; no webhook is 404, and only one's own is seen.
    let bad = json!({ "url": "ftp://example" });
    client.http.json(reqwest::Method::PUT, "/webhook", Some(&client.token), &bad).expect_error(400);
    client.get("/webhook").expect_error(404);

    let (url, received) = receiver(2);
    let created = set_webhook(&client, &url);
    assert!(created.secret.starts_with("whsec_"), "{}", created.secret);
    admin.get("/webhook").expect_error(404);
    let sid = judged(&stack, &client, &runner);

    // Two 500s, then a 200: three posts of the same delivery, each signed.
    let posts: Vec<Received> =
        (0..3).map(|_| received.recv_timeout(Duration::from_secs(15)).expect("a post")).collect();
    for post in &posts {
        assert_eq!(
            (post.delivery.as_str(), post.body.as_str()),
            (posts[0].delivery.as_str(), posts[0].body.as_str())
        );
        assert!(verify(&created.secret, &post.signature, &post.body), "{}", post.signature);
    }
    let body: Value = serde_json::from_str(&posts[0].body).unwrap();
    assert_eq!(body["type"], "submission.finished");
    assert_eq!(body["submission_id"], sid.as_str());
    assert_eq!(body["delivery_id"], posts[0].delivery.as_str());
    assert_eq!((body["status"].as_str(), body["score"].as_f64()), (Some("AC"), Some(100.0)));
    // A forged body or a wrong secret does not pass the documented check.
    let forged = posts[0].body.replace("\"AC\"", "\"WA\"");
    assert!(!verify(&created.secret, &posts[0].signature, &forged));
    assert!(!verify("whsec_guess", &posts[0].signature, &posts[0].body));

    let view = webhook(&client);
    assert_eq!(view.url, url);
    let delivery = &view.deliveries[0];
    assert_eq!((delivery.state, delivery.attempts), (DeliveryState::Delivered, 3), "{delivery:?}");
    assert_eq!(
        (delivery.last_status_code, delivery.submission_id.as_str()),
        (Some(200), sid.as_str())
    );
    assert!(received.recv_timeout(Duration::from_secs(2)).is_err(), "delivered once");
}

#[test]
fn a_down_receiver_is_retried_and_its_attempts_are_visible() {
    let (stack, client, runner) = setup("down");
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    set_webhook(&client, &format!("http://{closed}/hook"));
    let sid = judged(&stack, &client, &runner);

    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let delivery = loop {
        let view = webhook(&client);
        if let Some(d) = view.deliveries.first().filter(|d| d.attempts >= 2) {
            break d.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no second attempt: {view:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (delivery.state, delivery.submission_id.as_str()),
        (DeliveryState::Pending, sid.as_str())
    );
    assert_eq!(delivery.last_status_code, None);
    assert!(!delivery.last_error.is_empty());
    assert!(delivery.next_attempt_at_ms.is_some_and(|at| at > delivery.created_at_ms));
    // Removing the webhook ends it.
    client
        .http
        .send(
            "DELETE /webhook".into(),
            client.http.request(reqwest::Method::DELETE, "/webhook", Some(&client.token)),
        )
        .expect(204);
    client.get("/webhook").expect_error(404);
}

#[test]
fn a_code_runs_end_is_posted_as_run_finished() {
    let (_stack, client, runner) = setup("run-hooked");
    let (url, received) = receiver(0);
    let secret = set_webhook(&client, &url).secret;
    let body = json!({"language": "javascript", "files": {"a.js": "print(1)"}});
    let created: Value = client.post("/runs", &body).expect(201).json();
    let run_id = created["run_id"].as_str().unwrap().to_string();
    let job = runner.claim(Duration::from_secs(5));
    assert_eq!(job.submission_id, run_id);
    let mut report = protocol::runs::RunReport::system_error("");
    report.status = protocol::runs::RunStatus::Ok;
    report.exit_code = Some(0);
    runner.complete(&job, &report).expect(200);

    let hook = received.recv_timeout(Duration::from_secs(10)).expect("a delivery");
    assert!(verify(&secret, &hook.signature, &hook.body), "{}", hook.signature);
    let event: Value = serde_json::from_str(&hook.body).unwrap();
    assert_eq!(event["type"], "run.finished");
    assert_eq!(event["run_id"], run_id.as_str());
    assert_eq!(event["status"], "OK");
    // The backend records the delivery once it has read the receiver's answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while webhook(&client).deliveries[0].state != DeliveryState::Delivered {
        assert!(std::time::Instant::now() < deadline, "{:?}", webhook(&client).deliveries);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A hosts file for the backend's test hook, holding `text`.
fn hosts_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts");
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap().to_string();
    (dir, path)
}

/// The deliveries of `client`'s webhook once `done` holds for the newest,
/// within 15 s.
fn newest_delivery(client: &Client, done: impl Fn(&DeliveryView) -> bool) -> DeliveryView {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let view = webhook(client);
        if let Some(d) = view.deliveries.first().filter(|d| done(d)) {
            return d.clone();
        }
        assert!(std::time::Instant::now() < deadline, "not yet: {view:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn webhooks_at_loopback_and_other_refused_ranges_are_refused_when_set() {
    let (_hosts_dir, hosts) = hosts_file("127.0.0.1 localhost\n::1 localhost\n");
    let (stack, client, runner) = setup_with("egress", &[("--test-webhook-hosts", &hosts)]);
    let (url, received) = receiver(0);
    let port = url.trim_start_matches("http://127.0.0.1:").trim_end_matches("/hook");
    let refused = [
        (format!("http://127.0.0.1:{port}/hook"), "127.0.0.1 is loopback (127.0.0.0/8)"),
        (
            format!("http://localhost:{port}/hook"),
            "localhost resolves to 127.0.0.1, ::1, and 127.0.0.1 is loopback (127.0.0.0/8)",
        ),
        (format!("http://[::1]:{port}/hook"), "::1 is loopback (::1/128)"),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/hook"),
            "::ffff:127.0.0.1 carries 127.0.0.1, which is loopback (127.0.0.0/8)",
        ),
        (format!("http://2130706433:{port}/hook"), "127.0.0.1 is loopback (127.0.0.0/8)"),
        (format!("http://0:{port}/hook"), "0.0.0.0 is unspecified (0.0.0.0/32)"),
        (
            "http://169.254.169.254/latest/meta-data/".into(),
            "169.254.169.254 is link-local (169.254.0.0/16)",
        ),
        ("https://10.0.0.1/hook".into(), "10.0.0.1 is private (10.0.0.0/8)"),
        ("https://[fd00::1]/hook".into(), "fd00::1 is unique-local (fc00::/7)"),
        ("http://nowhere.test/hook".into(), "nowhere.test does not resolve"),
    ];
    for (url, why) in &refused {
        let error = client
            .http
            .json(reqwest::Method::PUT, "/webhook", Some(&client.token), &json!({ "url": url }))
            .expect_error(422);
        assert_eq!(error.error, "webhook_target_refused", "{url}: {}", error.detail);
        assert!(error.detail.contains(why), "{url}: {:?} does not say {why:?}", error.detail);
        assert!(error.detail.contains("--webhook-allow"), "{url}: {}", error.detail);
    }
    // Nothing was set, so a verdict posts nothing.
    client.get("/webhook").expect_error(404);
    judged(&stack, &client, &runner);
    assert!(received.recv_timeout(Duration::from_secs(2)).is_err(), "a refused URL was posted to");
}

/// The name is set while it resolves to an allowed address (127.0.0.2, the
/// only one this backend may reach: so even a sender that did not look
/// again would stay on this machine), then resolves to 127.0.0.1: the
/// delivery is refused with the reason, retried, and never connects.
#[test]
fn a_name_that_resolves_to_loopback_only_after_it_was_set_is_refused_at_delivery() {
    let (_hosts_dir, hosts) = hosts_file("127.0.0.2 rebind.test\n");
    let flags = [("--webhook-allow", "127.0.0.2/32"), ("--test-webhook-hosts", hosts.as_str())];
    let (stack, client, runner) = setup_with("rebound", &flags);
    let (url, received) = receiver(0);
    let url = url.replace("127.0.0.1", "rebind.test");
    set_webhook(&client, &url);
    std::fs::write(&hosts, "127.0.0.1 rebind.test\n").unwrap();
    let sid = judged(&stack, &client, &runner);

    let delivery = newest_delivery(&client, |d| d.attempts >= 2);
    assert_eq!(
        (delivery.state, delivery.submission_id.as_str(), delivery.last_status_code),
        (DeliveryState::Pending, sid.as_str(), None),
        "retried as any failed delivery: {delivery:?}"
    );
    assert_eq!(
        delivery.last_error,
        "not sent: rebind.test resolves to 127.0.0.1, and 127.0.0.1 is loopback (127.0.0.0/8)"
    );
    assert!(received.recv_timeout(Duration::from_millis(500)).is_err(), "the receiver was reached");
}

#[test]
fn with_the_allowlist_a_name_is_posted_to_the_loopback_address_it_resolves_to() {
    let (_hosts_dir, hosts) = hosts_file("127.0.0.1 receiver.test\n");
    let flags = [("--webhook-allow", LOOPBACK), ("--test-webhook-hosts", hosts.as_str())];
    let (stack, client, runner) = setup_with("named", &flags);
    let (url, received) = receiver(0);
    let secret = set_webhook(&client, &url.replace("127.0.0.1", "receiver.test")).secret;
    let sid = judged(&stack, &client, &runner);

    let post = received.recv_timeout(Duration::from_secs(10)).expect("a delivery");
    assert!(verify(&secret, &post.signature, &post.body), "{}", post.signature);
    let body: Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(body["submission_id"], sid.as_str());
    let delivery = newest_delivery(&client, |d| d.state == DeliveryState::Delivered);
    assert_eq!((delivery.attempts, delivery.last_status_code), (1, Some(200)), "{delivery:?}");
}
