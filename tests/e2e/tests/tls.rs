//! HTTPS end to end: the real `gavel backend` started with `--tls-cert`
//! and `--tls-key` (a certificate for 127.0.0.1 and localhost that a test
//! CA signed, made here with rcgen), and the real clients trusting that CA
//! with `--ca-cert`.
//!
//! What is promised and checked: a runner registers over HTTPS, `gavel
//! problem push` uploads an example, `gavel submit` submits a solution, the
//! runner judges it and the verdict comes back, all over TLS; the port
//! speaks no plain HTTP; a client without the CA refuses the backend with
//! a message that says why; a runner given the wrong CA logs why it cannot
//! register and keeps retrying instead of exiting; a connection that never
//! finishes its TLS handshake is cut off like a slow request.
//!
//! Run with `cargo build -p gavel && cargo test -p e2e --test tls`.

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use e2e::fleet::{RunnerOptions, RunnerProcess};
use e2e::stack::{ADMIN_TOKEN, Stack};
use judge_core::Status;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// One test at a time: each starts its own backend and runner.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const REGISTER_LIMIT: Duration = Duration::from_secs(20);
/// How long one client command may take, judging included.
const COMMAND_LIMIT: Duration = Duration::from_secs(120);

/// A test CA and the backend's certificate and key it signed, as PEM files.
struct Pki {
    dir: tempfile::TempDir,
    ca_pem: String,
}

impl Pki {
    /// A CA named `name` and, signed by it, a certificate for 127.0.0.1 and
    /// localhost with its key.
    fn new(name: &str) -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, name);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, &ca_key);
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        let dir = tempfile::Builder::new().prefix("gavel-e2e-tls").tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        Pki { dir, ca_pem: ca.pem() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A backend serving HTTPS with this certificate.
    fn stack(&self) -> Stack {
        Stack::start_tls(&self.path("cert.pem"), &self.path("key.pem"), self.ca_pem.as_bytes())
    }
}

/// `gavel ARGS… --backend URL --token TOKEN`, bounded in time.
fn gavel(url: &str, token: &str, args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["--backend", url, "--token", token]);
    e2e::gavel(&all, COMMAND_LIMIT)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the exit code, showing both streams when it differs.
#[track_caller]
fn exited(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn example(path: &str) -> String {
    e2e::root().join("examples").join(path).to_str().unwrap().to_string()
}

#[test]
fn runner_push_submit_and_verdict_all_over_https() {
    let _serial = serial();
    e2e::fleet::warm_plugin_cache();
    let pki = Pki::new("Gavel e2e CA");
    let stack = pki.stack();
    let url = stack.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let ca = pki.path("ca.pem");
    let ca = ca.to_str().unwrap();

    let runner = RunnerProcess::start(
        &url,
        RunnerOptions::new("tls-runner").without_docker().ca_cert(Path::new(ca)),
    );
    runner.wait_listed(&stack.admin(), REGISTER_LIMIT);

    let out = gavel(
        &url,
        ADMIN_TOKEN,
        &["problem", "push", &example("problems/a-plus-b"), "--ca-cert", ca],
    );
    exited(&out, 0);
    let client = stack.admin().create_client("tls-client");
    let source = example("solutions/a-plus-b/ac-js-node/main.js");
    let out =
        gavel(&url, &client.token, &["submit", "a-plus-b", &source, "--json", "--ca-cert", ca]);
    exited(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{}", text(&out.stdout)));
    assert_eq!(report["status"], "AC", "{report}");
    let id = report["submission_id"].as_str().expect("a submission id");
    assert_eq!(client.submission(id).status, Status::Accepted);
    let out = gavel(&url, &client.token, &["watch", id, "--ca-cert", ca]);
    exited(&out, 0);
    assert!(text(&out.stdout).contains("result: AC score 100/100"), "{}", text(&out.stdout));

    // Without the CA the same command refuses the backend, saying why.
    let out = gavel(&url, &client.token, &["watch", id]);
    exited(&out, 1);
    let error = text(&out.stderr).to_lowercase();
    assert!(error.contains("certificate"), "{error}");
    // A CA file that holds no certificate is bad input.
    let out = gavel(&url, &client.token, &["watch", id, "--ca-cert", &example("gavel.toml")]);
    exited(&out, 2);
    assert!(text(&out.stderr).contains("no PEM certificate"), "{}", text(&out.stderr));
    // The port speaks TLS only: plain HTTP gets no API answer.
    let plain = url.replace("https://", "http://");
    let answer = reqwest::blocking::Client::new().get(format!("{plain}/healthz")).send();
    assert!(answer.is_err() || !answer.unwrap().status().is_success());
}

#[test]
fn a_runner_with_the_wrong_ca_says_why_and_keeps_retrying() {
    let _serial = serial();
    e2e::fleet::warm_plugin_cache();
    let pki = Pki::new("Gavel e2e CA");
    let stranger = Pki::new("Some other CA");
    let stack = pki.stack();
    let mut runner = RunnerProcess::start(
        &stack.url(),
        RunnerOptions::new("tls-wrong-ca").without_docker().ca_cert(&stranger.path("ca.pem")),
    );
    runner.wait_for_log("registering failed", 2, Duration::from_secs(30));
    let log = runner.log();
    let failure = log.lines().find(|l| l.contains("registering failed")).unwrap();
    assert!(failure.contains("invalid peer certificate"), "{failure}");
    assert!(runner.is_running(), "the runner exited:\n{}", runner.log_tail());
    assert!(e2e::fleet::listed_runners(&stack.admin()).is_empty());
}

#[test]
fn a_handshake_that_never_comes_is_cut_off() {
    let _serial = serial();
    let pki = Pki::new("Gavel e2e CA");
    let stack = pki.stack();
    let addr = stack.url().trim_start_matches("https://").to_string();
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let opened = Instant::now();
    let mut byte = [0u8; 1];
    let read = idle.read(&mut byte);
    let waited = opened.elapsed();
    assert!(matches!(read, Ok(0)) || read.is_err(), "{read:?}");
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(20),
        "cut off after {waited:?}, not after the 10 s header limit"
    );
    // Meanwhile and after, the backend serves others.
    stack.http().get_root("/healthz").expect(200);
}

#[test]
fn a_bad_certificate_setting_stops_the_backend_at_start_with_exit_code_2() {
    let pki = Pki::new("Gavel e2e CA");
    let other = Pki::new("Some other CA");
    let (cert, key) = (pki.path("cert.pem"), pki.path("key.pem"));
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let other_key = other.path("key.pem");
    let missing = pki.path("missing.pem");
    let cases: [(&[&str], &str); 3] = [
        (&["--tls-cert", cert], "tls_cert is set but tls_key is not"),
        (&["--tls-cert", cert, "--tls-key", other_key.to_str().unwrap()], "does not fit tls_cert"),
        (&["--tls-cert", missing.to_str().unwrap(), "--tls-key", key], "missing.pem: "),
    ];
    for (flags, needle) in cases {
        let mut args =
            vec!["backend", "--listen", "127.0.0.1:0", "--redis-url", "redis://127.0.0.1:1/"];
        args.extend_from_slice(flags);
        let out = e2e::gavel(&args, Duration::from_secs(30));
        exited(&out, 2);
        let error = text(&out.stderr);
        assert!(error.starts_with("error: tls_") && error.contains(needle), "{flags:?}: {error}");
    }
}

#[test]
fn a_pending_handshake_does_not_hold_up_a_graceful_shutdown() {
    let _serial = serial();
    let pki = Pki::new("Gavel e2e CA");
    let mut stack = pki.stack();
    stack.http().get_root("/healthz").expect(200);
    let addr = stack.url().trim_start_matches("https://").to_string();
    let _idle = TcpStream::connect(&addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (status, took) = stack.terminate_backend(Duration::from_secs(15));
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(5), "shutdown waited {took:?} for a handshake");
}
