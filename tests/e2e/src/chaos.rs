//! The chaos harness: a whole Gavel deployment as real processes — Redis
//! (AOF, `appendfsync always`), an S3-protocol server holding the blobs,
//! two backend instances on both (no proxy: clients alternate between
//! them) and three `gavel runner`s (two slots each) — judging a stream of
//! the example solutions, whose verdicts are known, while faults are
//! injected on a schedule. Each problem is pushed through one instance
//! only (alternately A and B), so runners read its blobs through the other
//! instance too, under the faults below:
//!
//! - **kill -9 a runner** (the busiest), and start it again on its data dir
//!   (its identity and outbox);
//! - **kill -9 a backend** instance, and start it again on its address;
//! - **restart Redis** from its AOF (SIGKILL, then a new server on the same
//!   port and files); or, with [`Config::sentinel`] (Redis as a primary,
//!   two replicas and three Sentinels, the backends following failovers and
//!   acknowledging writes once a replica has them), **kill -9 the Redis
//!   primary**: the Sentinels promote a replica, the backends move to it,
//!   and the dead node is started again once a new primary is named (it
//!   rejoins as a replica);
//! - **pause a runner** (SIGSTOP) past its lease, then resume it (SIGCONT):
//!   its jobs are reclaimed and judged elsewhere, its late results refused;
//! - **drop a backend while runners hold results**: kill an instance while
//!   its runners judge, keep it down until they hold results in their
//!   outboxes (and 1–8 s in all: within or past the 2 s leases), bring it
//!   back.
//!
//! The client sends each submission with an `Idempotency-Key` of its own; a
//! POST that gets no answer (or a `5xx`) is sent again with the same key,
//! on the other instance, a bounded number of times, so a submission stored
//! by a backend killed before it answered is answered by the retry (a
//! replay) instead of being stored twice; a `429` (over a quota) is sent
//! again with the same key once its `Retry-After` has passed.
//!
//! A second client sends a few submissions now and then while the first
//! keeps its stream going: fair dispatch must hand each of them to a runner
//! before the first client has had [`FAIRNESS_BOUND`] more judged, faults
//! or not — counted over the time it waited in the queue (polled as
//! `PENDING`: from its create to its lease, and again after a reclaim),
//! against the backend's finish times of the first client's. The count
//! from its create to its verdict is reported too; it also holds the time
//! a fault kept the job or its result from the backend (a runner paused
//! with it, a backend down while its runner holds the result), which no
//! dispatch can shorten.
//!
//! Then it checks the promises of `docs/contract.md` §9: every accepted submission (a
//! `201`; a POST that failed after its retries is not accepted) reaches
//! exactly one final verdict ("lost" otherwise), the expected one ("wrong"
//! otherwise); no completion is counted twice (a second `finished` event,
//! or the backend's `completed` counter above the number of completed jobs:
//! "duplicates"); Redis holds exactly the accepted submissions (one more is
//! a retry's duplicate, or a create whose answer was lost for good); no job
//! is left pending or leased; every runner's outbox empties; and with the
//! native languages, no container is left over.
//!
//! [`run`] returns a [`Summary`] whose [`line`](Summary::line) is the one
//! line `cargo xtask chaos --minutes N` ends with (`src/bin/chaos.rs`);
//! `tests/chaos.rs` runs a short schedule in the test suite. Progress (each
//! fault, the counts) goes to stderr. A run is replayable in its choices
//! (not its timing) from the seed it prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use judge_core::language;
use judge_core::verdict::Status;
use protocol::client::{SubmissionView, SubmitRequest, SubmitResponse};
use reqwest::Method;

use crate::api::{Client, Http};
use crate::fleet::{RunnerOptions, RunnerProcess};
use crate::package::{self, Entry, ZIP};
use crate::stack::{ADMIN_TOKEN, Stack};

/// What a run does.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long faults are injected. However short, every kind of fault
    /// happens at least once.
    pub duration: Duration,
    /// Seeds the choice of submissions and of faults.
    pub seed: u64,
    /// Whether the native languages (Docker) are in the mix.
    pub native: bool,
    /// How long to wait for the last verdicts once the faults stop.
    pub settle: Duration,
    /// At most this many submissions wait for a verdict: the stream backs
    /// off rather than piling up a queue during outages.
    pub max_outstanding: usize,
    /// Redis as a primary with two replicas behind three Sentinels (the
    /// fault is then a kill of the primary) instead of one server (the
    /// fault: a restart from its AOF).
    pub sentinel: bool,
}

impl Config {
    /// A schedule of `duration`, Wasm languages only, a seed from the clock.
    pub fn new(duration: Duration) -> Config {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Config {
            duration,
            seed,
            native: false,
            settle: Duration::from_secs(180),
            max_outstanding: 12,
            sentinel: false,
        }
    }
}

/// What a run found.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Submissions the backends accepted (`201`).
    pub accepted: usize,
    /// Accepted submissions that reached a final verdict.
    pub judged: usize,
    /// Completions counted beyond one per job.
    pub duplicates: usize,
    /// Accepted submissions that never reached a final verdict.
    pub lost: usize,
    /// Final verdicts other than the expected one.
    pub wrong: usize,
    /// Faults injected.
    pub faults: usize,
    /// Faults injected, by kind (`KillRunner`, `PauseRunner`, …).
    pub fault_kinds: BTreeMap<String, usize>,
    /// Every failed check, in a sentence (the counts above included).
    pub violations: Vec<String>,
    /// Submissions of the second client judged, and the most of the first
    /// client's judged while one of them was queued, and from its create to
    /// its verdict.
    pub second_client: (usize, usize, usize),
}

impl Summary {
    /// `chaos: accepted=N judged=N duplicates=0 lost=0 wrong=0 faults=N`.
    pub fn line(&self) -> String {
        format!(
            "chaos: accepted={} judged={} duplicates={} lost={} wrong={} faults={}",
            self.accepted, self.judged, self.duplicates, self.lost, self.wrong, self.faults
        )
    }

    /// Whether every invariant held.
    pub fn holds(&self) -> bool {
        self.violations.is_empty()
    }
}

/// One example solution with its expected verdict.
#[derive(Debug, Clone)]
pub struct Solution {
    /// `PROBLEM/NAME`, as under `examples/solutions/`.
    pub name: String,
    pub problem: String,
    pub language: String,
    pub source: String,
    /// `STATUS SCORE`, or alternatives (`TLE|MLE 0`: either status).
    pub expected: Vec<String>,
}

/// Every example solution (`examples/solutions/PROBLEM/NAME/`: `main.*`,
/// `expected`, optional `language`), the native ones only when `native`.
/// Whether example problem `id` needs Docker whatever the language: its
/// checker or interactor is C/C++ source, compiled in the sandbox image.
pub fn needs_docker(id: &str) -> bool {
    // (An example whose checker component is built from source does not
    // load before the build: it needs no Docker either way.)
    let dir = crate::root().join("examples/problems").join(id);
    judge_core::problem::DirPackage::new(&dir)
        .ok()
        .and_then(|package| judge_core::problem::load(&package, id).ok())
        .is_some_and(|p| judge_core::checker_program::problem_needs_compiling(&p))
}

pub fn example_solutions(native: bool) -> Vec<Solution> {
    let root = crate::root().join("examples/solutions");
    let mut out = Vec::new();
    for problem in sorted_dirs(&root) {
        let problem_id = problem.file_name().unwrap().to_string_lossy().into_owned();
        for dir in sorted_dirs(&problem) {
            let expected = std::fs::read_to_string(dir.join("expected"))
                .unwrap_or_else(|e| panic!("{}/expected: {e}", dir.display()));
            let first = expected.lines().next().unwrap_or_default().trim();
            let (statuses, score) = first.split_once(' ').unwrap_or((first, ""));
            let source = sorted_files(&dir)
                .into_iter()
                .find(|p| p.file_stem().is_some_and(|s| s == "main"))
                .unwrap_or_else(|| panic!("{}: no main.* source", dir.display()));
            let named = std::fs::read_to_string(dir.join("language")).ok();
            let file_name = source.file_name().unwrap().to_string_lossy();
            let language = match named.as_deref() {
                Some(language) => language.trim(),
                None => language::guess(&file_name)
                    .unwrap_or_else(|| panic!("{}: no language for its name", source.display())),
            };
            if (language::is_native(language) || needs_docker(&problem_id)) && !native {
                continue;
            }
            out.push(Solution {
                name: format!("{problem_id}/{}", dir.file_name().unwrap().to_string_lossy()),
                problem: problem_id.clone(),
                language: language.to_string(),
                source: std::fs::read_to_string(&source).expect("a UTF-8 source"),
                expected: statuses.split('|').map(|s| format!("{s} {score}")).collect(),
            });
        }
    }
    assert!(!out.is_empty(), "no example solutions under {}", root.display());
    out
}

fn sorted_dirs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    dirs.sort();
    dirs
}

fn sorted_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// `STATUS SCORE` of a view, the score rounded to 3 decimals (as the
/// `expected` files write it).
fn outcome(view: &SubmissionView) -> String {
    format!("{} {}", view.status.code(), (view.score * 1000.0).round() / 1000.0)
}

fn is_final(status: Status) -> bool {
    !matches!(status, Status::Pending | Status::Judging)
}

/// Whether Docker runs here with the native languages' image; says why not.
pub fn native_available() -> Result<(), String> {
    let out = std::process::Command::new(crate::gavel_bin())
        .args(["image", "status", "--json"])
        .output()
        .map_err(|e| format!("running gavel image status: {e}"))?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("gavel image status printed no JSON: {e}"))?;
    if json["available"] == true {
        Ok(())
    } else {
        Err(json["reason"].as_str().unwrap_or("no reason given").to_string())
    }
}

/// A small deterministic generator (xorshift64*): the harness needs
/// replayable choices, not good randomness.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 of the seed: every seed gives a distinct, non-zero state.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)).max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(low + self.next() % (high - low + 1))
    }
}

/// The kinds of fault, in the order the summary lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    KillRunner,
    KillBackend,
    RestartRedis,
    KillRedisPrimary,
    PauseRunner,
    DropBackendWithResults,
}

impl Fault {
    /// Every kind a run injects: the Redis fault is the topology's.
    fn all(sentinel: bool) -> [Fault; 5] {
        [
            Fault::KillRunner,
            Fault::KillBackend,
            if sentinel { Fault::KillRedisPrimary } else { Fault::RestartRedis },
            Fault::PauseRunner,
            Fault::DropBackendWithResults,
        ]
    }
}

/// The lease every backend of the harness hands out, in seconds (with
/// heartbeats every second): reclaims happen within the run.
const LEASE_TTL_S: u64 = 2;
/// Claims of one job before it ends as JE. The default (3) is a policy a
/// long chaos run may legitimately exhaust; a JE is then no lost result,
/// but it would be counted as wrong.
const MAX_ATTEMPTS: &str = "20";
/// Redis's key prefix (backend/queue/lua/lib.lua).
const PREFIX: &str = "{gavel}:";
/// How long a runner may take to start and register.
const REGISTER_LIMIT: Duration = Duration::from_secs(30);
/// How many times a POST that got no answer is sent again with its key,
/// and the first pause before it (doubling, at most [`RETRY_PAUSE_MAX`]):
/// about 20 s in all, longer than any outage the schedule makes (a backend
/// is down at most 8 s; both answer while Redis restarts, with 503s).
const CREATE_RETRIES: u32 = 12;
const RETRY_PAUSE: Duration = Duration::from_millis(250);
const RETRY_PAUSE_MAX: Duration = Duration::from_secs(2);
/// The most submissions of the first client that may be judged while one
/// of the second client's waits (from its creation to its verdict).
pub const FAIRNESS_BOUND: usize = 40;
/// How many submissions the second client sends, and how far apart.
const SECOND_CLIENT_SUBMISSIONS: usize = 8;
const SECOND_CLIENT_GAP_MS: (u64, u64) = (3000, 6000);

/// An accepted submission.
struct Accepted {
    /// Which client sent it (0: the stream, 1: the second client).
    client: usize,
    solution: usize,
    /// The first final verdict polled (`STATUS SCORE`).
    first_final: Option<String>,
    /// When it was seen queued (ms since the epoch, this host's clock as
    /// the backend's): closed spans, and the open one (second client only).
    queued: Vec<(u64, u64)>,
    queued_since: Option<u64>,
}

/// Now, in ms since the epoch (the clock Redis's `TIME` reads here too).
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// What the client threads saw.
#[derive(Default)]
struct Book {
    accepted: BTreeMap<String, Accepted>,
    /// POSTs not accepted, by answer (`503`, `no answer`, …), after their
    /// retries.
    refused: BTreeMap<String, usize>,
    /// POSTs sent again with their key, by the answer that made us (`503`,
    /// `no answer`).
    retried: BTreeMap<String, usize>,
    /// Accepted submissions whose `201` was a replay: the backend had
    /// stored them when an earlier send of the POST got no answer.
    replayed: usize,
}

impl Book {
    fn outstanding(&self) -> usize {
        self.accepted.values().filter(|a| a.first_final.is_none()).count()
    }

    fn judged(&self) -> usize {
        self.accepted.len() - self.outstanding()
    }

    fn refused(&self) -> usize {
        self.refused.values().sum()
    }
}

fn lock(book: &Mutex<Book>) -> MutexGuard<'_, Book> {
    book.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sets a flag when dropped (also on a panic), so the client threads stop.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Prints progress with the time since the start.
#[derive(Clone, Copy)]
struct Clock(Instant);

impl Clock {
    fn say(&self, what: &str) {
        eprintln!("[chaos {:>7.1}s] {what}", self.0.elapsed().as_secs_f64());
    }
}

/// Runs the harness: starts everything, injects faults for
/// `config.duration`, waits for the verdicts, checks, tears down.
pub fn run(config: &Config) -> Summary {
    let clock = Clock(Instant::now());
    let solutions = Arc::new(example_solutions(config.native));
    clock.say(&format!(
        "seed {}, {} example solutions ({}), faults for {:?}",
        config.seed,
        solutions.len(),
        if config.native { "Wasm and native" } else { "Wasm only" },
        config.duration
    ));

    let flags = [
        ("--lease-ttl-s", LEASE_TTL_S.to_string()),
        ("--heartbeat-interval-s", "1".into()),
        ("--max-attempts", MAX_ATTEMPTS.into()),
    ];
    let flags: Vec<(&str, &str)> = flags.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut stack = match config.sentinel {
        true => Stack::start_replicated_on_s3(2, &flags),
        false => Stack::start_on_s3(&flags),
    };
    let second = stack.start_another_backend();
    let backends = [stack.http(), second.clone()];
    let urls = [stack.url(), second.root_url("")];
    upload_problems(&backends, &solutions);
    let tokens =
        [stack.admin().create_client("chaos").token, stack.admin().create_client("chaos-b").token];

    // Runners 1 and 3 talk to backend A, runner 2 to backend B.
    let mut runners: Vec<Runner> = (0..3)
        .map(|n| {
            let backend = n % 2;
            let options = RunnerOptions::new(&format!("chaos-{}", n + 1)).slots(2);
            Runner { process: RunnerProcess::start(&urls[backend], options), backend }
        })
        .collect();
    for runner in &runners {
        runner.process.wait_listed(&stack.admin(), REGISTER_LIMIT);
    }
    clock.say(&format!(
        "up: redis {} {}, backends A {} and B {}, runners chaos-1→A chaos-2→B chaos-3→A",
        if config.sentinel { "(primary + 2 replicas + 3 sentinels) primary" } else { "(AOF)" },
        stack.redis_url(),
        urls[0],
        urls[1]
    ));

    let book = Arc::new(Mutex::new(Book::default()));
    let stop_submitting = Arc::new(AtomicBool::new(false));
    let stop_polling = Arc::new(AtomicBool::new(false));
    let _stop_guards = (StopOnDrop(stop_submitting.clone()), StopOnDrop(stop_polling.clone()));
    let submitter = {
        let (backends, token, solutions) = (backends.clone(), tokens[0].clone(), solutions.clone());
        let (book, stop, seed, cap) =
            (book.clone(), stop_submitting.clone(), config.seed, config.max_outstanding);
        std::thread::spawn(move || {
            submit_stream(&backends, &token, &solutions, &book, &stop, seed, cap)
        })
    };
    let second_client = {
        let (backends, token, solutions) = (backends.clone(), tokens[1].clone(), solutions.clone());
        let (book, stop, seed) = (book.clone(), stop_submitting.clone(), config.seed);
        std::thread::spawn(move || submit_few(&backends, &token, &solutions, &book, &stop, seed))
    };
    let poller = {
        let (backends, tokens, book, stop) =
            (backends.clone(), tokens.clone(), book.clone(), stop_polling.clone());
        std::thread::spawn(move || poll_verdicts(&backends, &tokens, &book, &stop))
    };

    // The fault schedule: the kinds in a shuffled round, round after round,
    // with quiet gaps between faults.
    let rng = Rng::new(config.seed.wrapping_add(1));
    let mut faults = 0;
    let mut kinds: BTreeMap<Fault, usize> = BTreeMap::new();
    let mut bag: Vec<Fault> = Vec::new();
    let schedule = Instant::now();
    let mut world = World { stack: &mut stack, runners: &mut runners, backends: &backends, rng };
    let all = Fault::all(config.sentinel);
    while schedule.elapsed() < config.duration || kinds.len() < all.len() {
        std::thread::sleep(world.rng.millis(2000, 5000));
        if bag.is_empty() {
            bag = all.to_vec();
            for i in (1..bag.len()).rev() {
                let j = world.rng.below(i + 1);
                bag.swap(i, j);
            }
        }
        let fault = bag.pop().expect("a refilled bag");
        let what = world.inject(fault);
        faults += 1;
        *kinds.entry(fault).or_default() += 1;
        let book = lock(&book);
        clock.say(&format!(
            "fault {faults}: {what} | accepted {} judged {} waiting {} not accepted {}",
            book.accepted.len(),
            book.judged(),
            book.outstanding(),
            book.refused()
        ));
    }
    stop_submitting.store(true, Ordering::SeqCst);
    let _ = submitter.join();
    let _ = second_client.join();
    clock
        .say(&format!("faults over after {:?}; waiting for the last verdicts", schedule.elapsed()));

    // Every accepted submission should now reach its verdict.
    let settling = Instant::now();
    let mut said = Instant::now();
    loop {
        let (outstanding, accepted) = {
            let book = lock(&book);
            (book.outstanding(), book.accepted.len())
        };
        if outstanding == 0 || settling.elapsed() > config.settle {
            clock.say(&format!("{outstanding} of {accepted} still without a verdict"));
            break;
        }
        if said.elapsed() > Duration::from_secs(10) {
            clock.say(&format!("{outstanding} of {accepted} still waiting"));
            said = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    stop_polling.store(true, Ordering::SeqCst);
    let _ = poller.join();

    let book = std::mem::take(&mut *lock(&book));
    let mut summary = check(&stack, &runners, &backends, &tokens, &solutions, &book, config);
    summary.faults = faults;
    summary.fault_kinds = kinds.iter().map(|(k, n)| (format!("{k:?}"), *n)).collect();
    let (judged_b, queued_b, to_verdict_b) = summary.second_client;
    clock.say(&format!(
        "second client: {judged_b} judged; the first client had at most {queued_b} judged while \
         one of them was queued (bound {FAIRNESS_BOUND}), {to_verdict_b} from its create to its \
         verdict"
    ));
    clock.say(&format!(
        "POSTs sent again: {:?}, answered as replays: {}; not accepted: {:?}; leases \
         reclaimed: {}; faults: {kinds:?}",
        book.retried,
        book.replayed,
        book.refused,
        metric(&backends, "gavel_reclaims_total").map_or("?".into(), |v| v.to_string()),
    ));

    // Tear down: runners first (killed), then whatever containers they left
    // (none, if the check passed), then Redis and the backends.
    let owners: Vec<String> = runners.iter().map(|r| r.owner()).collect();
    drop(runners);
    if config.native {
        for owner in &owners {
            let left = crate::docker::containers_owned_by(owner);
            if !left.is_empty() {
                let _ =
                    std::process::Command::new("docker").args(["rm", "-f"]).args(&left).output();
            }
        }
    }
    drop(stack);
    summary
}

/// A runner process and the backend (0: A, 1: B) it talks to.
struct Runner {
    process: RunnerProcess,
    backend: usize,
}

impl Runner {
    /// The `gavel.owner` label of its containers.
    fn owner(&self) -> String {
        let dir = self.process.data_dir();
        format!("runner:{}", dir.canonicalize().unwrap_or(dir).display())
    }
}

/// Uploads every problem the solutions need through one instance,
/// alternately A and B: the blob store is shared, so the other instance
/// serves its blobs too.
fn upload_problems(backends: &[Http; 2], solutions: &[Solution]) {
    let problems: BTreeSet<&str> = solutions.iter().map(|s| s.problem.as_str()).collect();
    for (n, problem) in problems.into_iter().enumerate() {
        let mut entries = package::example(problem);
        let dir = crate::root().join("examples/problems").join(problem);
        let manifest = std::fs::read_to_string(dir.join("problem.toml")).unwrap_or_default();
        if manifest.contains("checker.wasm") {
            // The example's own checker, built from source by the build.
            let built = builtin_plugins::fixture_path("custom_checker");
            let wasm = std::fs::read(&built).unwrap_or_else(|e| panic!("{}: {e}", built.display()));
            entries.push(Entry::File("checker.wasm".into(), wasm));
        }
        let archive = package::zip(&entries);
        let reply =
            Client::new(backends[n % 2].clone(), ADMIN_TOKEN).put_problem(problem, ZIP, archive);
        assert!(
            matches!(reply.status, 200 | 201),
            "uploading {problem}: {} {}",
            reply.status,
            reply.text()
        );
    }
}

/// What one send of a POST got.
enum Answer {
    /// `201`: the id, and whether it was a replay.
    Accepted(String, bool),
    /// No answer, or a `5xx`: worth sending again with the same key.
    Unanswered(String),
    /// `429`: over a quota; worth sending again after the wait.
    Later(Duration),
    /// Anything else.
    Refused(String),
}

/// `POST /submissions` on one instance with idempotency key `key`.
fn submit(http: &Http, token: &str, solution: &Solution, key: &str) -> Answer {
    let request = SubmitRequest {
        problem_id: solution.problem.clone(),
        language: solution.language.clone(),
        source: solution.source.clone(),
        labels: Vec::new(),
    };
    let builder = http
        .request(Method::POST, "/submissions", Some(token))
        .header("Idempotency-Key", key)
        .json(&request);
    match http.try_send("POST /submissions".into(), builder) {
        Ok(reply) if reply.status == 201 => {
            let replayed = reply.headers.get("idempotent-replayed").is_some_and(|v| v == "true");
            match serde_json::from_slice::<SubmitResponse>(&reply.body) {
                Ok(created) => Answer::Accepted(created.submission_id, replayed),
                Err(e) => Answer::Refused(format!("201 without an id ({e})")),
            }
        }
        Ok(reply) if reply.status >= 500 => Answer::Unanswered(reply.status.to_string()),
        Ok(reply) if reply.status == 429 => {
            let after = reply.headers.get("retry-after").and_then(|v| v.to_str().ok());
            Answer::Later(Duration::from_secs(after.and_then(|v| v.parse().ok()).unwrap_or(1)))
        }
        Ok(reply) => Answer::Refused(reply.status.to_string()),
        Err(_) => Answer::Unanswered("no answer".into()),
    }
}

/// `POST /submissions` under a fresh key, first on instance `first`, sent
/// again with the same key (alternating instances, backing off) while it
/// gets no answer, or once its `Retry-After` passed after a `429`, at most
/// [`CREATE_RETRIES`] times.
fn submit_with_retries(
    backends: &[Http; 2],
    token: &str,
    solution: &Solution,
    key: &str,
    first: usize,
    book: &Mutex<Book>,
) -> Answer {
    let mut pause = RETRY_PAUSE;
    let mut answer = submit(&backends[first % 2], token, solution, key);
    for retry in 1..=CREATE_RETRIES {
        match &answer {
            Answer::Unanswered(why) => {
                *lock(book).retried.entry(why.clone()).or_default() += 1;
                std::thread::sleep(pause);
                pause = (pause * 2).min(RETRY_PAUSE_MAX);
            }
            Answer::Later(wait) => {
                *lock(book).retried.entry("429".into()).or_default() += 1;
                std::thread::sleep(*wait);
            }
            Answer::Accepted(..) | Answer::Refused(_) => break,
        }
        answer = submit(&backends[(first + retry as usize) % 2], token, solution, key);
    }
    if let Answer::Later(_) = answer {
        return Answer::Refused("429".into());
    }
    answer
}

/// `GET /submissions/{id}` on one instance, if it answers.
fn view(http: &Http, token: &str, id: &str) -> Option<SubmissionView> {
    let path = format!("/submissions/{id}");
    let reply = http.try_send(format!("GET {path}"), http.request(Method::GET, &path, Some(token)));
    match reply {
        Ok(reply) if reply.status == 200 => serde_json::from_slice(&reply.body).ok(),
        _ => None,
    }
}

/// The view from whichever instance answers, starting with `first`.
fn view_anywhere(
    backends: &[Http; 2],
    token: &str,
    id: &str,
    first: usize,
) -> Option<SubmissionView> {
    (0..2).find_map(|k| view(&backends[(first + k) % 2], token, id))
}

/// Submits random example solutions, alternating between the instances,
/// until `stop`; backs off while `cap` submissions wait for verdicts.
fn submit_stream(
    backends: &[Http; 2],
    token: &str,
    solutions: &[Solution],
    book: &Mutex<Book>,
    stop: &AtomicBool,
    seed: u64,
    cap: usize,
) {
    let mut rng = Rng::new(seed);
    let mut turn = 0;
    while !stop.load(Ordering::SeqCst) {
        if lock(book).outstanding() >= cap {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        let index = rng.below(solutions.len());
        let key = format!("chaos-{seed}-{turn}");
        let answer = submit_with_retries(backends, token, &solutions[index], &key, turn, book);
        turn += 1;
        record(book, answer, 0, index, None);
        std::thread::sleep(rng.millis(50, 250));
    }
}

/// Books what a create of client `client` (of solution `index`) got;
/// `sent`: when it was sent, to follow its time in the queue.
fn record(book: &Mutex<Book>, answer: Answer, client: usize, index: usize, sent: Option<u64>) {
    let mut book = lock(book);
    match answer {
        Answer::Accepted(id, replayed) => {
            book.replayed += usize::from(replayed);
            let accepted = Accepted {
                client,
                solution: index,
                first_final: None,
                queued: Vec::new(),
                queued_since: sent,
            };
            book.accepted.insert(id, accepted);
        }
        Answer::Unanswered(why) | Answer::Refused(why) => {
            *book.refused.entry(why).or_default() += 1;
        }
        Answer::Later(_) => *book.refused.entry("429".into()).or_default() += 1,
    }
}

/// The second client: a few submissions, seconds apart, until `stop`.
fn submit_few(
    backends: &[Http; 2],
    token: &str,
    solutions: &[Solution],
    book: &Mutex<Book>,
    stop: &AtomicBool,
    seed: u64,
) {
    let mut rng = Rng::new(seed.wrapping_add(2));
    for turn in 0..SECOND_CLIENT_SUBMISSIONS {
        let (low, high) = SECOND_CLIENT_GAP_MS;
        let wake = Instant::now() + rng.millis(low, high);
        while Instant::now() < wake {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let index = rng.below(solutions.len());
        let key = format!("chaos-b-{seed}-{turn}");
        let sent = now_ms();
        let answer = submit_with_retries(backends, token, &solutions[index], &key, turn, book);
        record(book, answer, 1, index, Some(sent));
    }
}

/// Polls the submissions without a verdict yet, on either instance, until
/// `stop`.
fn poll_verdicts(
    backends: &[Http; 2],
    tokens: &[String; 2],
    book: &Mutex<Book>,
    stop: &AtomicBool,
) {
    let mut turn = 0;
    while !stop.load(Ordering::SeqCst) {
        let waiting: Vec<(String, usize)> = lock(book)
            .accepted
            .iter()
            .filter(|(_, a)| a.first_final.is_none())
            .map(|(id, a)| (id.clone(), a.client))
            .collect();
        for (id, client) in waiting {
            turn += 1;
            let Some(view) = view_anywhere(backends, &tokens[client], &id, turn % 2) else {
                continue;
            };
            let (now, mut book) = (now_ms(), lock(book));
            let Some(accepted) = book.accepted.get_mut(&id) else { continue };
            if client == 1 {
                follow_queued(accepted, view.status == Status::Pending, now);
            }
            if is_final(view.status) {
                accepted.first_final = Some(outcome(&view));
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Opens or closes a submission's span in the queue as a poll at `now`
/// saw it queued or not.
fn follow_queued(accepted: &mut Accepted, queued: bool, now: u64) {
    match (queued, accepted.queued_since) {
        (true, None) => accepted.queued_since = Some(now),
        (false, Some(since)) => {
            accepted.queued.push((since, now));
            accepted.queued_since = None;
        }
        _ => {}
    }
}

/// A sample of a metric without labels, from whichever instance answers.
fn metric(backends: &[Http; 2], name: &str) -> Option<f64> {
    backends.iter().find_map(|http| {
        let request = http.request(Method::GET, "/metrics", Some(ADMIN_TOKEN));
        let reply = http.try_send("GET /metrics".into(), request).ok()?;
        (reply.status == 200).then_some(())?;
        reply
            .text()
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    })
}

/// The processes the faults act on.
struct World<'a> {
    stack: &'a mut Stack,
    runners: &'a mut [Runner],
    backends: &'a [Http; 2],
    rng: Rng,
}

const NAMES: [&str; 2] = ["A", "B"];

impl World<'_> {
    /// Injects one fault and undoes it; says what happened.
    fn inject(&mut self, fault: Fault) -> String {
        match fault {
            Fault::KillRunner => {
                let n = self.busiest_runner();
                let busy = self.active_jobs(n);
                let down = self.rng.millis(500, 3000);
                self.runners[n].process.kill();
                std::thread::sleep(down);
                self.runners[n].process.restart();
                format!(
                    "kill -9 runner {} ({busy} jobs), started again after {down:?}",
                    self.runners[n].process.name()
                )
            }
            Fault::KillBackend => {
                let b = self.rng.below(2);
                let down = self.rng.millis(300, 2500);
                self.kill_backend(b);
                std::thread::sleep(down);
                self.start_backend(b);
                format!("kill -9 backend {}, started again after {down:?}", NAMES[b])
            }
            Fault::RestartRedis => {
                let started = Instant::now();
                self.stack.restart_redis();
                format!("kill -9 redis, restarted from its AOF in {:?}", started.elapsed())
            }
            Fault::KillRedisPrimary => {
                let set = self.stack.replica_set();
                let old = set.primary_port().expect("the sentinels name a primary");
                set.kill_node(old);
                let killed = Instant::now();
                let failed_over = set.wait_until(Duration::from_secs(60), |set| {
                    set.primary_port().is_some_and(|port| port != old)
                });
                let took = killed.elapsed();
                set.restart_node(old).expect("starting the old primary again");
                match failed_over {
                    Ok(()) => format!(
                        "kill -9 the redis primary (port {old}); the sentinels named port {} \
                         after {took:?}; the old one started again (a replica now)",
                        set.primary_port().unwrap_or(0)
                    ),
                    Err(e) => format!("kill -9 the redis primary (port {old}): no failover: {e}"),
                }
            }
            Fault::PauseRunner => {
                let n = self.busiest_runner();
                let busy = self.active_jobs(n);
                let paused = Duration::from_secs(LEASE_TTL_S) + self.rng.millis(1000, 3000);
                self.runners[n].process.signal("STOP");
                std::thread::sleep(paused);
                self.runners[n].process.signal("CONT");
                format!(
                    "SIGSTOP runner {} ({busy} jobs) for {paused:?} (lease {LEASE_TTL_S} s), then SIGCONT",
                    self.runners[n].process.name()
                )
            }
            Fault::DropBackendWithResults => {
                let b = self.rng.below(2);
                let target = self.rng.millis(1000, 8000);
                // Waits (a little) until one of its runners is judging.
                let deadline = Instant::now() + Duration::from_secs(5);
                let mut busy = 0;
                while Instant::now() < deadline {
                    busy = (0..self.runners.len())
                        .filter(|&n| self.runners[n].backend == b)
                        .map(|n| self.active_jobs(n))
                        .sum::<u64>();
                    if busy > 0 {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                self.kill_backend(b);
                let dropped = Instant::now();
                let mut held = 0;
                // Down for the target time, and until its runners hold a
                // result (at most 10 s).
                while dropped.elapsed() < target
                    || (held == 0 && busy > 0 && dropped.elapsed() < Duration::from_secs(10))
                {
                    let now: usize = self
                        .runners
                        .iter()
                        .filter(|r| r.backend == b)
                        .map(|r| r.process.outbox().len())
                        .sum();
                    held = held.max(now);
                    std::thread::sleep(Duration::from_millis(100));
                }
                let down = dropped.elapsed();
                self.start_backend(b);
                format!(
                    "backend {} dropped while its runners judged {busy} jobs; down {down:?}, \
                     they held up to {held} results",
                    NAMES[b]
                )
            }
        }
    }

    fn kill_backend(&mut self, b: usize) {
        if b == 0 {
            self.stack.kill_backend();
        } else {
            self.stack.kill_another_backend(0);
        }
    }

    fn start_backend(&mut self, b: usize) {
        if b == 0 {
            self.stack.start_backend_again();
        } else {
            self.stack.start_another_backend_again(0);
        }
    }

    /// The runners as listed (either instance), or none.
    fn listed(&self) -> Vec<protocol::ops::RunnerInfo> {
        self.backends
            .iter()
            .find_map(|http| {
                let reply = http
                    .try_send(
                        "GET /runners".into(),
                        http.request(Method::GET, "/runners", Some(ADMIN_TOKEN)),
                    )
                    .ok()?;
                (reply.status == 200).then(|| serde_json::from_slice(&reply.body).ok())?
            })
            .unwrap_or_default()
    }

    /// Jobs the `n`th runner holds (the most of its registrations listed).
    fn active_jobs(&self, n: usize) -> u64 {
        let name = self.runners[n].process.name();
        self.listed().iter().filter(|r| r.name == name).map(|r| r.active_jobs).max().unwrap_or(0)
    }

    /// The runner holding the most jobs (ties: random).
    fn busiest_runner(&mut self) -> usize {
        let listed = self.listed();
        let start = self.rng.below(self.runners.len());
        (0..self.runners.len())
            .map(|k| (start + k) % self.runners.len())
            .max_by_key(|&n| {
                let name = self.runners[n].process.name();
                listed.iter().filter(|r| r.name == name).map(|r| r.active_jobs).max().unwrap_or(0)
            })
            .expect("a runner")
    }
}

/// Checks every invariant once the verdicts are in.
fn check(
    stack: &Stack,
    runners: &[Runner],
    backends: &[Http; 2],
    tokens: &[String; 2],
    solutions: &[Solution],
    book: &Book,
    config: &Config,
) -> Summary {
    let mut summary = Summary { accepted: book.accepted.len(), ..Summary::default() };
    let mut violations = Vec::new();

    // Every accepted submission: final, as expected, and the verdict the
    // client first saw is the one that stayed.
    let mut wrong = Vec::new();
    let mut lost = Vec::new();
    let mut changed = Vec::new();
    // (client, created, finished) of each judged submission.
    let mut judged = Vec::new();
    // The second client's spans in the queue, by submission.
    let mut queued_spans = Vec::new();
    for (n, (id, accepted)) in book.accepted.iter().enumerate() {
        let solution = &solutions[accepted.solution];
        let Some(view) = view_anywhere(backends, &tokens[accepted.client], id, n % 2) else {
            lost.push(format!("{id} ({}): unreadable", solution.name));
            continue;
        };
        if !is_final(view.status) {
            lost.push(format!(
                "{id} ({}): still {:?}, attempt {}",
                solution.name, view.status, view.attempt
            ));
            continue;
        }
        summary.judged += 1;
        judged.push((accepted.client, view.created_at_ms, view.finished_at_ms.unwrap_or(0)));
        if accepted.client == 1 {
            queued_spans.push(accepted.queued.clone());
        }
        let got = outcome(&view);
        if !solution.expected.contains(&got) {
            wrong.push(format!(
                "{id} ({}): expected {}, got {got} (attempt {}) {:?}",
                solution.name,
                solution.expected.join(" or "),
                view.attempt,
                view.message
            ));
        }
        if accepted.first_final.as_ref().is_some_and(|first| *first != got) {
            changed.push(format!("{id}: first {:?}, then {got}", accepted.first_final));
        }
    }
    summary.lost = lost.len();
    summary.wrong = wrong.len();
    let waits = first_client_judged_while_second_waited(&judged);
    let finished_first: Vec<u64> =
        judged.iter().filter(|(client, ..)| *client == 0).map(|(_, _, done)| *done).collect();
    let queued: Vec<usize> =
        queued_spans.iter().map(|spans| judged_within(&finished_first, spans)).collect();
    let worst = |counts: &[usize]| counts.iter().copied().max().unwrap_or(0);
    summary.second_client = (queued.len(), worst(&queued), worst(&waits));
    if worst(&queued) >= FAIRNESS_BOUND {
        violations.push(format!(
            "a submission of the second client waited in the queue while {} of the first \
             client's were judged (bound {FAIRNESS_BOUND}): {queued:?} (to its verdict: {waits:?})",
            worst(&queued)
        ));
    }
    if !lost.is_empty() {
        violations.push(format!("{} accepted submission(s) lost: {}", lost.len(), lost.join("; ")));
    }
    if !wrong.is_empty() {
        violations.push(format!("{} wrong verdict(s): {}", wrong.len(), wrong.join("; ")));
    }

    // Exactly one completion per job: one `finished` event per accepted
    // submission, and the completed counter equals the jobs completed (of
    // every submission stored, including any whose POST failed after the
    // backend had stored it).
    let mut duplicates = changed.len();
    // A submission whose POST failed after the backend stored it (a
    // violation below) is judged too, maybe later than the accepted ones:
    // wait for those (a little).
    let deadline = Instant::now() + Duration::from_secs(30);
    let facts = loop {
        let facts = redis_facts(&stack.redis_url(), book.accepted.keys());
        let settled = facts.as_ref().is_ok_and(|f| f.not_final.is_empty());
        if settled || Instant::now() > deadline {
            break facts;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    match facts {
        Ok(facts) => {
            let extra_finished: Vec<String> = facts
                .finished_events
                .iter()
                .filter(|(_, n)| **n > 1)
                .map(|(id, n)| format!("{id}: {n} finished events"))
                .collect();
            duplicates +=
                facts.finished_events.values().map(|n| n.saturating_sub(1)).sum::<usize>();
            let extra_completions = facts.completed.saturating_sub(facts.jobs_done);
            duplicates += extra_completions as usize;
            if !extra_finished.is_empty() {
                violations.push(format!("duplicate verdicts: {}", extra_finished.join("; ")));
            }
            if facts.completed != facts.jobs_done {
                violations.push(format!(
                    "the completed counter says {} completions, {} jobs were completed",
                    facts.completed, facts.jobs_done
                ));
            }
            if !facts.not_final.is_empty() {
                violations.push(format!(
                    "stored submission(s) without a final verdict: {}",
                    facts.not_final.join(", ")
                ));
            }
            // Every record in Redis is one a client was answered for: a
            // retried POST made no second one, and none was left behind by
            // a POST that never got its answer.
            let unknown: Vec<&String> =
                facts.stored.iter().filter(|id| !book.accepted.contains_key(*id)).collect();
            if facts.stored.len() != book.accepted.len() || !unknown.is_empty() {
                violations.push(format!(
                    "{} submissions stored, {} accepted; stored but never answered: {unknown:?}",
                    facts.stored.len(),
                    book.accepted.len()
                ));
            }
            eprintln!(
                "chaos: {} submissions stored ({} accepted, {} stored but never answered), \
                 {} jobs completed by runners, completed counter {}",
                facts.stored.len(),
                book.accepted.len(),
                unknown.len(),
                facts.jobs_done,
                facts.completed
            );
        }
        Err(e) => violations.push(format!("reading Redis: {e}")),
    }
    if !changed.is_empty() {
        violations
            .push(format!("verdicts that changed after they were final: {}", changed.join("; ")));
    }
    summary.duplicates = duplicates;

    // No job left pending or leased.
    let queue = backends.iter().find_map(|http| {
        let reply = http
            .try_send("GET /queue".into(), http.request(Method::GET, "/queue", Some(ADMIN_TOKEN)))
            .ok()?;
        serde_json::from_slice::<serde_json::Value>(&reply.body).ok()
    });
    match queue {
        Some(queue) if queue["pending"] == 0 && queue["leased"] == 0 => {}
        Some(queue) => violations.push(format!("jobs left in the queue: {queue}")),
        None => violations.push("GET /queue answered on neither instance".into()),
    }

    // Every runner delivered or dropped every stored result.
    let deadline = Instant::now() + Duration::from_secs(10);
    while runners.iter().any(|r| !r.process.outbox().is_empty()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    for runner in runners {
        let left = runner.process.outbox();
        if !left.is_empty() {
            violations.push(format!(
                "runner {} kept {} results in its outbox",
                runner.process.name(),
                left.len()
            ));
        }
    }

    // No container left over.
    if config.native {
        let deadline = Instant::now() + Duration::from_secs(15);
        let left = || -> Vec<String> {
            runners.iter().flat_map(|r| crate::docker::containers_owned_by(&r.owner())).collect()
        };
        while !left().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        let left = left();
        if !left.is_empty() {
            violations.push(format!("containers left over: {}", left.join(", ")));
        }
    }
    summary.violations = violations;
    summary
}

/// How many of the `finished` times fall within one of `spans` (closed).
fn judged_within(finished: &[u64], spans: &[(u64, u64)]) -> usize {
    finished
        .iter()
        .filter(|done| spans.iter().any(|(from, to)| from <= *done && *done <= to))
        .count()
}

/// For each judged submission of the second client (1), how many of the
/// first client's (0) were judged after it was created and before or when
/// it was: `judged` is (client, created at, finished at), in the backend's
/// milliseconds.
fn first_client_judged_while_second_waited(judged: &[(usize, u64, u64)]) -> Vec<usize> {
    judged
        .iter()
        .filter(|(client, ..)| *client == 1)
        .map(|(_, created, finished)| {
            judged
                .iter()
                .filter(|(client, _, done)| *client == 0 && done > created && done <= finished)
                .count()
        })
        .collect()
}

/// What Redis holds, read directly (the key schema of
/// `backend/queue/lua/lib.lua`).
pub struct RedisFacts {
    /// The ids of the submissions stored.
    pub stored: BTreeSet<String>,
    /// Jobs whose state is `done` (completed by a runner).
    pub jobs_done: u64,
    /// The `completed` counter.
    pub completed: u64,
    /// `finished` events per accepted submission.
    pub finished_events: BTreeMap<String, usize>,
    /// Stored submissions that are not final.
    pub not_final: Vec<String>,
}

/// What Redis at `url` holds of every submission, with the `finished`
/// events of those in `accepted`.
pub fn redis_facts<'a>(
    url: &str,
    accepted: impl IntoIterator<Item = &'a String>,
) -> redis::RedisResult<RedisFacts> {
    let client = redis::Client::open(url)?;
    let mut redis = client.get_connection_with_timeout(Duration::from_secs(5))?;
    let ids: Vec<String> = redis::cmd("ZRANGE")
        .arg(format!("{PREFIX}submissions"))
        .arg(0)
        .arg(-1)
        .query(&mut redis)?;
    let mut jobs_done = 0;
    let mut not_final = Vec::new();
    for id in &ids {
        let (job, status): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(format!("{PREFIX}sub:{id}"))
            .arg("job")
            .arg("status")
            .query(&mut redis)?;
        if matches!(status.as_deref(), None | Some("PENDING" | "JUDGING")) {
            not_final.push(format!("{id} ({status:?})"));
        }
        if let Some(job) = job {
            let state: Option<String> = redis::cmd("HGET")
                .arg(format!("{PREFIX}job:{job}"))
                .arg("state")
                .query(&mut redis)?;
            jobs_done += u64::from(state.as_deref() == Some("done"));
        }
    }
    let completed: Option<u64> =
        redis::cmd("HGET").arg(format!("{PREFIX}stats")).arg("completed").query(&mut redis)?;
    let mut finished_events = BTreeMap::new();
    for id in accepted {
        let events: Vec<String> = redis::cmd("LRANGE")
            .arg(format!("{PREFIX}sub:{id}:events"))
            .arg(0)
            .arg(-1)
            .query(&mut redis)?;
        let finished = events
            .iter()
            .filter_map(|e| serde_json::from_str::<serde_json::Value>(e).ok())
            .filter(|e| e["type"] == "finished")
            .count();
        finished_events.insert(id.clone(), finished);
    }
    Ok(RedisFacts {
        stored: ids.iter().cloned().collect(),
        jobs_done,
        completed: completed.unwrap_or(0),
        finished_events,
        not_final,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_is_the_one_the_acceptance_criterion_names() {
        let summary = Summary { accepted: 7, judged: 7, faults: 5, ..Summary::default() };
        assert_eq!(
            summary.line(),
            "chaos: accepted=7 judged=7 duplicates=0 lost=0 wrong=0 faults=5"
        );
        assert!(summary.holds());
    }

    #[test]
    fn every_example_solution_has_a_language_and_an_expected_verdict() {
        let all = example_solutions(true);
        let wasm = example_solutions(false);
        assert!(wasm.len() < all.len(), "the native examples are left out without Docker");
        assert!(wasm.iter().all(|s| !language::is_native(&s.language)));
        for solution in &all {
            assert!(!solution.expected.is_empty(), "{solution:?}");
            for expected in &solution.expected {
                let (status, score) = expected.split_once(' ').expect("STATUS SCORE");
                assert!(status.chars().all(|c| c.is_ascii_uppercase()), "{solution:?}");
                assert!(score.parse::<f64>().is_ok(), "{solution:?}");
            }
        }
    }

    #[test]
    fn the_first_clients_verdicts_are_counted_within_each_wait_of_the_second() {
        let judged =
            [(0, 0, 5), (1, 10, 30), (0, 1, 11), (0, 2, 30), (0, 3, 31), (1, 40, 41), (0, 4, 10)];
        assert_eq!(first_client_judged_while_second_waited(&judged), [2, 0]);
    }

    #[test]
    fn the_time_in_the_queue_is_followed_from_polls() {
        let mut accepted = Accepted {
            client: 1,
            solution: 0,
            first_final: None,
            queued: Vec::new(),
            queued_since: Some(100),
        };
        follow_queued(&mut accepted, true, 150);
        follow_queued(&mut accepted, false, 200);
        follow_queued(&mut accepted, false, 250);
        follow_queued(&mut accepted, true, 300);
        follow_queued(&mut accepted, false, 320);
        assert_eq!(accepted.queued, [(100, 200), (300, 320)]);
        assert_eq!(judged_within(&[99, 100, 150, 201, 310, 400], &accepted.queued), 3);
    }

    #[test]
    fn the_choices_replay_from_the_seed() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..20).map(|_| rng.below(5)).collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }
}
