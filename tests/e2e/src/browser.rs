//! A real headless browser for end-to-end tests: Debian's `chromium`
//! driven by `chromedriver` over the W3C WebDriver protocol (plain HTTP and
//! JSON, spoken here with blocking reqwest; no WebDriver crate).
//!
//! [`Browser::start`] spawns `chromedriver` on a free loopback port in a
//! process group of its own and opens a session (headless Chromium with a
//! temp profile). When the [`Browser`] drops, also when a test panics, the
//! session is closed and the whole process group (chromedriver and every
//! Chromium process it started) is killed.
//!
//! Pages are read through `execute/sync` (what the DOM shows), clicks and
//! typing go through WebDriver element commands, like a user's.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// Set to `1` to skip the browser tests on a machine without Chromium
/// (they fail otherwise: `cargo xtask test` installs it).
pub const SKIP_ENV: &str = "GAVEL_SKIP_BROWSER_TESTS";

/// The W3C name of an element reference in JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long chromedriver and the browser may take to start.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How long one WebDriver command may take.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);

/// Whether the browser tests can run here; panics with the fix when
/// `chromium` or `chromedriver` is missing, unless [`SKIP_ENV`] says to skip.
pub fn available() -> bool {
    let missing: Vec<&str> =
        ["chromium", "chromedriver"].into_iter().filter(|c| find_on_path(c).is_none()).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var(SKIP_ENV).is_ok_and(|v| v == "1"),
        "{} not on PATH: install them with `apt-get install chromium chromium-driver` (`cargo \
         xtask test` does), or set {SKIP_ENV}=1 to skip the browser tests",
        missing.join(" and ")
    );
    eprintln!("skipping: {} not on PATH", missing.join(" and "));
    false
}

fn find_on_path(command: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|dir| dir.join(command)).find(|p| p.is_file())
}

/// A headless Chromium session, and the chromedriver serving it.
pub struct Browser {
    driver: Option<Child>,
    http: reqwest::blocking::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    session: String,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a window of
    /// `width`×`height`.
    pub fn start(width: u32, height: u32) -> Browser {
        let profile =
            tempfile::Builder::new().prefix("gavel-e2e-chromium").tempdir().expect("temp dir");
        let http = reqwest::blocking::Client::builder()
            .timeout(COMMAND_LIMIT)
            .build()
            .expect("building the WebDriver client");
        let mut browser = Browser { driver: None, http, session: String::new(), profile };
        let port = free_port();
        let log = std::fs::File::create(browser.profile.path().join("chromedriver.log"))
            .expect("the chromedriver log");
        use std::os::unix::process::CommandExt;
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log"))
            .stderr(log)
            // Its own process group, so every Chromium process it starts
            // dies with it (see Drop).
            .process_group(0)
            .spawn()
            .expect("starting chromedriver");
        browser.driver = Some(driver);
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + START_LIMIT;
        loop {
            let ready = browser
                .http
                .get(format!("{base}/status"))
                .send()
                .ok()
                .and_then(|r| r.json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver was not ready within {START_LIMIT:?}:\n{}",
                browser.driver_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let user_data = browser.profile.path().join("profile");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": find_on_path("chromium").expect("chromium on PATH"),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", user_data.display()),
                ],
            },
        }}});
        let created = browser.command("POST", &format!("{base}/session"), Some(capabilities));
        let id = created["sessionId"].as_str().expect("a session id");
        browser.session = format!("{base}/session/{id}");
        browser
    }

    /// Sends one WebDriver command; returns its `value`, panics on an error
    /// answer.
    #[track_caller]
    fn command(&self, method: &str, url: &str, body: Option<Value>) -> Value {
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let response = request.send().unwrap_or_else(|e| panic!("WebDriver {method} {url}: {e}"));
        let status = response.status();
        let value: Value =
            response.json().unwrap_or_else(|e| panic!("WebDriver {method} {url}: not JSON ({e})"));
        assert!(status.is_success(), "WebDriver {method} {url}: {status} {value}");
        value["value"].clone()
    }

    fn session_command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.command(method, &format!("{}{path}", self.session), body)
    }

    /// Opens `url` and waits for it to load.
    pub fn open(&self, url: &str) {
        self.session_command("POST", "/url", Some(json!({ "url": url })));
    }

    /// The address bar's URL.
    pub fn url(&self) -> String {
        self.session_command("GET", "/url", None).as_str().unwrap_or_default().to_string()
    }

    /// The element `css` selects (the first), or a panic.
    #[track_caller]
    fn find(&self, css: &str) -> String {
        let found = self.session_command(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        found[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {found}")).to_string()
    }

    /// Clicks the element `css` selects, as a user would.
    #[track_caller]
    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.session_command("POST", &format!("/element/{element}/click"), None);
    }

    /// Types `text` into the element `css` selects.
    #[track_caller]
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.session_command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the
    /// page and returns what it returns.
    pub fn eval(&self, script: &str, args: &[Value]) -> Value {
        self.session_command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Polls `script` until it returns something truthy (not `null`,
    /// `false`, `0` or `""`) and returns that; panics after `limit` with
    /// `what`, the last value, and a screenshot saved beside the test binary.
    #[track_caller]
    pub fn wait_until(&self, what: &str, limit: Duration, script: &str, args: &[Value]) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let value = self.eval(script, args);
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                let shot = crate::target_dir().join("dashboard-failure.png");
                let saved = std::fs::write(&shot, self.screenshot()).map(|()| shot.display());
                panic!("{what}: not within {limit:?} (last value {value}); screenshot: {saved:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Polls `script` until it returns `expected`; panics after `limit` with
    /// `what` and the last value (and saves a screenshot, as
    /// [`wait_until`](Self::wait_until) does).
    #[track_caller]
    pub fn wait_for_value(
        &self,
        what: &str,
        limit: Duration,
        script: &str,
        args: &[Value],
        expected: &Value,
    ) {
        let deadline = Instant::now() + limit;
        loop {
            let value = self.eval(script, args);
            if value == *expected {
                return;
            }
            if Instant::now() > deadline {
                let shot = crate::target_dir().join("dashboard-failure.png");
                let saved = std::fs::write(&shot, self.screenshot()).map(|()| shot.display());
                panic!("{what}: not within {limit:?} (shows {value}); screenshot: {saved:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let encoded = self.session_command("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("base64 PNG"))
            .expect("the screenshot is base64")
    }

    /// Saves a screenshot to `path`.
    pub fn save_screenshot(&self, path: &Path) {
        let png = self.screenshot();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "the screenshot is not a PNG");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    fn driver_log(&self) -> String {
        std::fs::read_to_string(self.profile.path().join("chromedriver.log")).unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            // Closes Chromium cleanly; bounded by the client's timeout.
            let _ = self.http.delete(&self.session).timeout(Duration::from_secs(5)).send();
        }
        if let Some(mut driver) = self.driver.take() {
            // The whole group: chromedriver and whatever Chromium left.
            let group = format!("-{}", driver.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = driver.kill();
            let _ = driver.wait();
        }
        if std::thread::panicking() {
            let log = self.driver_log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(30)..].join("\n");
            eprintln!("---- chromedriver log (last lines) ----\n{tail}\n----");
        }
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("its address").port()
}
