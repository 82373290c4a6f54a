//! The burst load: a backend on its own Redis and eight `gavel runner`
//! processes (one slot each) take a burst of submissions — by default
//! 10,000, sent as fast as eight client threads can — of a one-case
//! JavaScript problem, one in ten a wrong answer. Then it checks that every
//! accepted submission was judged (none "stuck" without a final verdict)
//! with the expected verdict, and measures:
//!
//! - **throughput**: judged submissions per second, from the first accepted
//!   submission to the last verdict;
//! - **latency** of each submission, from its creation to its verdict (the
//!   backend's own `created_at_ms`/`finished_at_ms`): p50, p90, p99, max;
//! - the **backend's memory**: its resident set before the burst, its peak
//!   (`VmHWM`) and at the end, and Redis's `used_memory` (where the records
//!   live; the backend keeps none of them).
//!
//! [`run`] returns a [`Summary`] whose [`line`](Summary::line) is the one
//! line `cargo xtask burst` ends with (`src/bin/burst.rs`); `tests/burst.rs`
//! runs a smaller burst in the test suite. Progress goes to stderr.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use judge_core::verdict::Status;
use protocol::client::{SubmissionView, SubmitRequest, SubmitResponse};
use reqwest::Method;

use crate::api::{Client, Http};
use crate::fleet::{RunnerOptions, RunnerProcess};
use crate::package::{self, ZIP, file};
use crate::stack::Stack;

/// The problem every submission is for: one case, `1 2` → `3`.
const PROBLEM: &str = "burst";
const LANGUAGE: &str = "javascript";
const ACCEPTED: &str = "const [a, b] = readline().split(' ').map(Number);\nprint(a + b);\n";
const WRONG: &str = "print(0);\n";
/// Every `WRONG_EVERY`-th submission is the wrong answer.
const WRONG_EVERY: usize = 10;

/// What a burst does.
#[derive(Debug, Clone)]
pub struct Config {
    /// How many submissions the burst sends.
    pub submissions: usize,
    /// How many `gavel runner` processes judge them (one slot each).
    pub runners: usize,
    /// How many client threads send them.
    pub senders: usize,
    /// How long the burst may take to be judged before what is left counts
    /// as stuck.
    pub limit: Duration,
}

impl Config {
    /// `submissions` sent by 8 threads to 8 runners, within 20 minutes.
    pub fn new(submissions: usize) -> Config {
        Config { submissions, runners: 8, senders: 8, limit: Duration::from_secs(1200) }
    }
}

/// Latency figures, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

impl Latency {
    /// The percentiles of `samples` (nearest rank); zeros when empty.
    pub fn of(mut samples: Vec<u64>) -> Latency {
        samples.sort_unstable();
        let rank = |q: f64| {
            let n = samples.len();
            if n == 0 { 0 } else { samples[((q * n as f64).ceil() as usize).clamp(1, n) - 1] }
        };
        Latency { p50: rank(0.50), p90: rank(0.90), p99: rank(0.99), max: rank(1.0) }
    }
}

/// What a burst found.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Submissions the backend accepted (`201`).
    pub submitted: usize,
    /// Accepted submissions that reached a final verdict.
    pub judged: usize,
    /// Accepted submissions without a final verdict at the end.
    pub stuck: usize,
    /// Final verdicts other than the expected one.
    pub wrong: usize,
    /// Seconds from the first submission to the last verdict.
    pub seconds: f64,
    /// Seconds the senders took to have every submission accepted.
    pub submit_seconds: f64,
    /// Creation → verdict, per submission.
    pub latency: Latency,
    /// The backend's resident set before the burst, at its peak and at the
    /// end, in MiB.
    pub backend_rss_mib: [f64; 3],
    /// Redis's `used_memory` at the end, in MiB.
    pub redis_used_mib: f64,
    /// Every failed check, in a sentence.
    pub violations: Vec<String>,
}

impl Summary {
    /// Judged submissions per second.
    pub fn throughput(&self) -> f64 {
        if self.seconds > 0.0 { self.judged as f64 / self.seconds } else { 0.0 }
    }

    /// `burst: submitted=N judged=N stuck=0 wrong=0 …` with the figures.
    pub fn line(&self) -> String {
        let [rss_before, rss_peak, rss_end] = self.backend_rss_mib;
        format!(
            "burst: submitted={} judged={} stuck={} wrong={} seconds={:.1} throughput={:.0}/s \
             latency_ms p50={} p90={} p99={} max={} backend_rss_mib before={rss_before:.0} \
             peak={rss_peak:.0} end={rss_end:.0} redis_used_mib={:.0}",
            self.submitted,
            self.judged,
            self.stuck,
            self.wrong,
            self.seconds,
            self.throughput(),
            self.latency.p50,
            self.latency.p90,
            self.latency.p99,
            self.latency.max,
            self.redis_used_mib,
        )
    }

    /// Whether everything was judged, as expected.
    pub fn holds(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Runs one burst (see the module's doc).
pub fn run(config: &Config) -> Summary {
    // Production lease and heartbeat times: a loaded machine must not turn
    // into reclaims.
    let stack = Stack::start_with(&[("--lease-ttl-s", "30"), ("--heartbeat-interval-s", "10")]);
    let admin = stack.admin();
    let problem = package::zip(&[
        file("problem.toml", package::minimal_problem_toml(PROBLEM, &["01"])),
        file("tests/01.in", "1 2\n"),
        file("tests/01.out", "3\n"),
    ]);
    admin.create_problem(PROBLEM, ZIP, problem);
    let (client_id, client) = admin.create_client_with_id("burst");
    // A burst is what quotas stop: the admin gives this client room for it.
    let room = protocol::client::UpdateClientRequest {
        creates_per_minute: Some(queue::QUOTA_CEILING),
        max_queued: Some(queue::QUOTA_CEILING),
        ..Default::default()
    };
    admin.set_client(&client_id, &room);
    let runners: Vec<RunnerProcess> = (0..config.runners)
        .map(|n| RunnerProcess::start(&stack.url(), RunnerOptions::new(&format!("burst-{n}"))))
        .collect();
    for runner in &runners {
        runner.wait_listed(&admin, Duration::from_secs(60));
    }
    let pid = stack.backend_pid().expect("the backend runs");
    let rss_before = memory_mib(pid, "VmRSS");
    eprintln!(
        "burst: {} submissions, {} runners, backend at {rss_before:.0} MiB",
        config.submissions, config.runners
    );

    let started = Instant::now();
    let accepted = send(&stack.http(), &client.token, config);
    let submit_seconds = started.elapsed().as_secs_f64();
    eprintln!("burst: {} accepted in {submit_seconds:.1} s", accepted.len());
    wait_until_drained(&admin, started + config.limit);

    let views = fetch_views(&stack.http(), &client.token, &accepted, config.senders);
    let mut summary = Summary {
        submitted: accepted.len(),
        submit_seconds,
        backend_rss_mib: [rss_before, memory_mib(pid, "VmHWM"), memory_mib(pid, "VmRSS")],
        redis_used_mib: redis_used_mib(&stack.redis_url()).unwrap_or(f64::NAN),
        ..Summary::default()
    };
    tally(&mut summary, config, &accepted, &views);
    let lost_backend: usize = runners.iter().map(|r| r.log_count("could not be reached")).sum();
    if lost_backend > 0 {
        summary.violations.push(format!(
            "runners failed to reach the backend {lost_backend} times during the burst"
        ));
    }
    drop(runners);
    summary
}

/// Sends `config.submissions` submissions from `config.senders` threads;
/// returns the accepted ones (id → whether it is the wrong answer), and
/// says on stderr what was refused.
fn send(http: &Http, token: &str, config: &Config) -> BTreeMap<String, bool> {
    let accepted = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for sender in 0..config.senders {
            let accepted = &accepted;
            scope.spawn(move || {
                for n in (sender..config.submissions).step_by(config.senders) {
                    let wrong = n % WRONG_EVERY == WRONG_EVERY - 1;
                    let request = SubmitRequest {
                        problem_id: PROBLEM.into(),
                        language: LANGUAGE.into(),
                        source: if wrong { WRONG } else { ACCEPTED }.into(),
                        labels: Vec::new(),
                    };
                    let builder =
                        http.request(Method::POST, "/submissions", Some(token)).json(&request);
                    match http.try_send("POST /submissions".into(), builder) {
                        Ok(reply) if reply.status == 201 => {
                            let id = reply.json::<SubmitResponse>().submission_id;
                            accepted.lock().unwrap().insert(id, wrong);
                        }
                        Ok(reply) => eprintln!("burst: refused: {} {}", reply.status, reply.text()),
                        Err(why) => eprintln!("burst: no answer: {why}"),
                    }
                }
            });
        }
    });
    accepted.into_inner().unwrap()
}

/// Waits until the queue holds nothing pending or leased (every accepted
/// submission's job has ended), or `deadline`; says the progress every 5 s.
fn wait_until_drained(admin: &Client, deadline: Instant) {
    let mut said = Instant::now();
    loop {
        let stats: serde_json::Value = admin.get("/queue").expect(200).json();
        let count = |field: &str| stats[field].as_u64().unwrap_or(u64::MAX);
        let (pending, leased) = (count("pending"), count("leased"));
        if pending == 0 && leased == 0 {
            return;
        }
        if Instant::now() >= deadline {
            eprintln!("burst: out of time with {pending} pending, {leased} leased");
            return;
        }
        if said.elapsed() >= Duration::from_secs(5) {
            eprintln!("burst: {pending} pending, {leased} leased");
            said = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every accepted submission's view, fetched by `threads` threads.
fn fetch_views(
    http: &Http,
    token: &str,
    accepted: &BTreeMap<String, bool>,
    threads: usize,
) -> BTreeMap<String, SubmissionView> {
    let ids: Vec<&String> = accepted.keys().collect();
    let views = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for chunk in ids.chunks(ids.len().div_ceil(threads.max(1)).max(1)) {
            let views = &views;
            scope.spawn(move || {
                for id in chunk {
                    let path = format!("/submissions/{id}");
                    let request = http.request(Method::GET, &path, Some(token));
                    if let Ok(reply) = http.try_send(format!("GET {path}"), request)
                        && reply.status == 200
                    {
                        views.lock().unwrap().insert((*id).clone(), reply.json());
                    }
                }
            });
        }
    });
    views.into_inner().unwrap()
}

/// Counts the verdicts into `summary`: judged, stuck, wrong, latencies,
/// the time from the first creation to the last verdict, and the
/// violations.
fn tally(
    summary: &mut Summary,
    config: &Config,
    accepted: &BTreeMap<String, bool>,
    views: &BTreeMap<String, SubmissionView>,
) {
    let mut latencies = Vec::new();
    let (mut first, mut last) = (u64::MAX, 0);
    for (id, wrong) in accepted {
        let Some(view) = views.get(id).filter(|v| v.status.is_final_verdict()) else {
            summary.stuck += 1;
            continue;
        };
        summary.judged += 1;
        let expected = if *wrong { Status::WrongAnswer } else { Status::Accepted };
        if view.status != expected {
            summary.wrong += 1;
            if summary.wrong <= 5 {
                summary.violations.push(format!(
                    "{id}: {:?} where {expected:?} was expected ({})",
                    view.status, view.message
                ));
            }
        }
        let finished = view.finished_at_ms.unwrap_or(view.created_at_ms);
        latencies.push(finished.saturating_sub(view.created_at_ms));
        first = first.min(view.created_at_ms);
        last = last.max(finished);
    }
    summary.latency = Latency::of(latencies);
    summary.seconds = last.saturating_sub(first) as f64 / 1000.0;
    if summary.submitted < config.submissions {
        summary.violations.push(format!(
            "{} of {} submissions were refused",
            config.submissions - summary.submitted,
            config.submissions
        ));
    }
    if summary.stuck > 0 {
        summary.violations.push(format!("{} submissions have no final verdict", summary.stuck));
    }
    if summary.wrong > 5 {
        summary.violations.push(format!("{} wrong verdicts in all", summary.wrong));
    }
}

/// A `/proc/PID/status` memory line (`VmRSS`, `VmHWM`) in MiB; NaN when
/// unreadable.
pub fn memory_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB")?.trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Redis's `used_memory`, in MiB.
fn redis_used_mib(url: &str) -> redis::RedisResult<f64> {
    let client = redis::Client::open(url)?;
    let mut redis = client.get_connection_with_timeout(Duration::from_secs(5))?;
    let info: String = redis::cmd("INFO").arg("memory").query(&mut redis)?;
    Ok(info
        .lines()
        .find_map(|line| line.strip_prefix("used_memory:")?.trim().parse::<f64>().ok())
        .map_or(f64::NAN, |bytes| bytes / (1024.0 * 1024.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let latency = Latency::of((1..=100).rev().collect());
        assert_eq!(latency, Latency { p50: 50, p90: 90, p99: 99, max: 100 });
        assert_eq!(Latency::of(vec![7]), Latency { p50: 7, p90: 7, p99: 7, max: 7 });
        assert_eq!(Latency::of(Vec::new()), Latency::default());
    }

    #[test]
    fn the_summary_line_starts_with_the_counts() {
        let summary = Summary { submitted: 10, judged: 10, seconds: 2.0, ..Summary::default() };
        assert!(
            summary.line().starts_with(
                "burst: submitted=10 judged=10 stuck=0 wrong=0 seconds=2.0 throughput=5/s"
            ),
            "{}",
            summary.line()
        );
    }

    #[test]
    fn memory_lines_are_read_in_mib() {
        let rss = memory_mib(std::process::id(), "VmRSS");
        assert!(rss > 1.0 && rss < 65536.0, "{rss}");
        assert!(memory_mib(std::process::id(), "NoSuchField").is_nan());
    }
}
