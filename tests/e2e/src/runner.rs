//! A scripted runner: it speaks the runner protocol (`docs/contract.md` §4) with the
//! protocol crate's types, and does exactly what a test tells it (claim and
//! go silent, renew, complete late), never anything on its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use judge_core::report::{CaseReport, JudgeReport, TaskReport};
use judge_core::verdict::Status;
use protocol::client::ProblemView;
use protocol::runner::{
    ActiveJob, CompleteRequest, EventsRequest, HeartbeatRequest, HeartbeatResponse, Job, JobResult,
    PluginKind, PluginRef, RegisterRequest, RegisterResponse, RunnerEvent,
};
use reqwest::Method;
use sha2::{Digest, Sha256};

use crate::api::{Http, Reply};
use crate::stack::REGISTRATION_TOKEN;

/// The language every test runner offers.
pub const LANGUAGE: &str = "javascript";

/// A registered runner, driven by hand. Cheap to clone into threads.
#[derive(Clone)]
pub struct TestRunner {
    http: Http,
    pub id: String,
    pub token: String,
}

/// SHA-256 of `data`, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

impl TestRunner {
    /// Registers a runner with one slot that offers JavaScript and the
    /// `tokens` checker.
    #[track_caller]
    pub fn register(http: &Http, name: &str) -> TestRunner {
        TestRunner::register_with_slots(http, name, 1)
    }

    /// [`TestRunner::register`] with `slots` slots.
    #[track_caller]
    pub fn register_with_slots(http: &Http, name: &str, slots: u32) -> TestRunner {
        let request = RegisterRequest {
            name: name.to_string(),
            labels: Vec::new(),
            slots,
            languages: vec![LANGUAGE.to_string()],
            plugins: vec![PluginRef {
                id: "tokens".into(),
                kind: PluginKind::Checker,
                digest: sha256_hex(b"the tokens checker"),
            }],
        };
        let reply =
            http.json(Method::POST, "/runners/register", Some(REGISTRATION_TOKEN), &request);
        let registered: RegisterResponse = reply.expect(201).json();
        assert!(registered.runner_id.starts_with("rn_"), "{registered:?}");
        assert!(registered.token.starts_with("rk_"), "{registered:?}");
        TestRunner { http: http.clone(), id: registered.runner_id, token: registered.token }
    }

    fn path(&self, rest: &str) -> String {
        format!("/runners/{}{rest}", self.id)
    }

    /// `POST /runners/{rid}/heartbeat` naming `jobs` as active.
    pub fn heartbeat(&self, jobs: &[&Job]) -> Reply {
        self.http.send(format!("POST /runners/{}/heartbeat", self.id), self.heartbeat_request(jobs))
    }

    fn heartbeat_request(&self, jobs: &[&Job]) -> reqwest::blocking::RequestBuilder {
        let request = HeartbeatRequest {
            active_jobs: jobs
                .iter()
                .map(|j| ActiveJob { job_id: j.job_id.clone(), lease: j.lease.clone() })
                .collect(),
            ..HeartbeatRequest::default()
        };
        self.http.request(Method::POST, &self.path("/heartbeat"), Some(&self.token)).json(&request)
    }

    /// Heartbeats every 300 ms on a thread until the guard drops, renewing
    /// the leases of `jobs` (none: the runner stays registered, but every
    /// job it holds is left to expire). Failures are ignored: the backend
    /// may be down for a while.
    pub fn keep_alive(&self, jobs: Vec<Job>) -> KeepAlive {
        let stop = Arc::new(AtomicBool::new(false));
        let (runner, stopping) = (self.clone(), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let jobs: Vec<&Job> = jobs.iter().collect();
            while !stopping.load(Ordering::Relaxed) {
                let what = format!("POST /runners/{}/heartbeat (keep-alive)", runner.id);
                let _ = runner.http.try_send(what, runner.heartbeat_request(&jobs));
                for _ in 0..6 {
                    if stopping.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        });
        KeepAlive { stop, thread: Some(thread) }
    }

    /// A heartbeat that must succeed: the jobs the backend says to stop.
    #[track_caller]
    pub fn heartbeat_ok(&self, jobs: &[&Job]) -> Vec<String> {
        self.heartbeat(jobs).expect(200).json::<HeartbeatResponse>().cancel
    }

    /// `GET /runners/{rid}/jobs/next?wait_ms=…`, whatever the answer.
    pub fn poll(&self, wait: Duration) -> Reply {
        let path = self.path(&format!("/jobs/next?wait_ms={}", wait.as_millis()));
        let builder = self
            .http
            .request(Method::GET, &path, Some(&self.token))
            .timeout(wait + Duration::from_secs(10));
        self.http.send(format!("GET {path}"), builder)
    }

    /// `GET /runners/{rid}{rest}` with this runner's token, whatever the answer.
    pub fn get(&self, rest: &str) -> Reply {
        self.http.get(&self.path(rest), Some(&self.token))
    }

    /// A long-poll: the job (200) or `None` (204).
    #[track_caller]
    pub fn next_job(&self, wait: Duration) -> Option<Job> {
        let reply = self.poll(wait);
        match reply.status {
            200 => {
                let job: Job = reply.json();
                assert!(job.job_id.starts_with("jb_") && !job.lease.is_empty(), "{job:?}");
                Some(job)
            }
            204 => None,
            other => panic!("{}: unexpected {other}: {}", reply.what, reply.text()),
        }
    }

    /// A job that must come within `wait`.
    #[track_caller]
    pub fn claim(&self, wait: Duration) -> Job {
        self.next_job(wait).unwrap_or_else(|| panic!("runner {} got no job in {wait:?}", self.id))
    }

    /// `POST /runners/{rid}/jobs/{jid}/events` with the job's lease.
    pub fn events(&self, job: &Job, events: Vec<RunnerEvent>) -> Reply {
        self.events_with_lease(&job.job_id, &job.lease, events)
    }

    pub fn events_with_lease(&self, job_id: &str, lease: &str, events: Vec<RunnerEvent>) -> Reply {
        let request = EventsRequest { lease: lease.to_string(), events };
        let path = self.path(&format!("/jobs/{job_id}/events"));
        self.http.json(Method::POST, &path, Some(&self.token), &request)
    }

    /// `PUT /runners/{rid}/jobs/{jid}/complete` with the job's lease and a
    /// verdict (a `JudgeReport`) or a run's report.
    pub fn complete(&self, job: &Job, result: &(impl Clone + Into<JobResult>)) -> Reply {
        self.send_completion(job, result, false)
    }

    /// [`TestRunner::complete`] asking for the next job in the same step
    /// (`next: true`); the answer is a `CompleteResponse`.
    pub fn complete_and_take_next(
        &self,
        job: &Job,
        result: &(impl Clone + Into<JobResult>),
    ) -> Reply {
        self.send_completion(job, result, true)
    }

    fn send_completion(
        &self,
        job: &Job,
        result: &(impl Clone + Into<JobResult>),
        next: bool,
    ) -> Reply {
        let request =
            CompleteRequest { lease: job.lease.clone(), result: result.clone().into(), next };
        let path = self.path(&format!("/jobs/{}/complete", job.job_id));
        self.http.json(Method::PUT, &path, Some(&self.token), &request)
    }

    /// `GET /blobs/{digest}` with this runner's token.
    pub fn blob(&self, digest: &str) -> Reply {
        self.http.get(&format!("/blobs/{digest}"), Some(&self.token))
    }
}

/// Heartbeats of a [`TestRunner::keep_alive`]; they stop when this drops.
pub struct KeepAlive {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A result where every case of `problem` ends with `status` (score 1 for
/// AC, else 0), as a runner would report it.
pub fn report(problem: &ProblemView, status: Status) -> JudgeReport {
    let tasks = problem
        .tasks
        .iter()
        .map(|task| {
            let cases = task
                .cases
                .iter()
                .map(|name| CaseReport {
                    name: name.clone(),
                    status,
                    score: if status == Status::Accepted { 1.0 } else { 0.0 },
                    time_ms: 3,
                    memory_kb: 1024,
                    fuel: None,
                    wall_ms: None,
                    message: String::new(),
                    transcript: None,
                })
                .collect();
            TaskReport::score(task.score, cases)
        })
        .collect();
    JudgeReport::from_tasks(String::new(), tasks)
}
