//! Normal-OJ's runner against the real backend, byte for byte: every request
//! is the body their runner sends (`docs/normal-oj.md`), written out as
//! text, and every answer is checked for the status codes, field names and
//! casing their runner reads. Then one submission is judged both by a Gavel
//! runner and through this dialect (a scripted runner of theirs that judges
//! with `gavel judge` on what it downloaded), with the same verdict.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use e2e::api::Client;
use e2e::fleet::{RunnerOptions, RunnerProcess};
use e2e::package::{self, file};
use e2e::stack::{REGISTRATION_TOKEN, Stack};
use judge_core::verdict::Status;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const SANDBOX_TOKEN: &str = "e2e-sandbox-token";
const PREFIX: &str = "/compat/normal-oj";

/// Their meta data of problem 1001 (and its tasks in a job payload).
const TASKS: &str = r#"[{"taskScore":40,"memoryLimit":65536,"timeLimit":1000,"caseCount":1},{"taskScore":60,"memoryLimit":65536,"timeLimit":1000,"caseCount":2}]"#;

/// A problem in Normal-OJ's format: task 0 adds small numbers, task 1
/// numbers whose sum overflows a 32-bit int.
fn their_problem() -> Vec<u8> {
    package::zip(&[
        file("meta.json", format!(r#"{{"tasks":{TASKS}}}"#)),
        file("0000.in", "1 2\n"),
        file("0000.out", "3\n"),
        file("0100.in", "2000000000 2000000000\n"),
        file("0100.out", "4000000000\n"),
        file("0101.in", "1500000000 1500000000\n"),
        file("0101.out", "3000000000\n"),
    ])
}

/// Right on task 0, wrong on task 1 (int overflow): WA, 40 points.
const OVERFLOWING_C: &str = "#include <stdio.h>\nint main(void){int a,b;scanf(\"%d %d\",&a,&b);printf(\"%d\\n\",a+b);return 0;}\n";

/// Their runner: plain HTTP, their bodies.
struct TheirRunner {
    http: reqwest::blocking::Client,
    base: String,
    id: String,
    token: String,
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(15))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

fn body(response: Response) -> (u16, Vec<u8>) {
    let status = response.status().as_u16();
    (status, response.bytes().unwrap().to_vec())
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

fn register_raw(base: &str, raw: &str) -> (u16, Vec<u8>) {
    body(
        client()
            .post(format!("{base}{PREFIX}/runners/register"))
            .header("Content-Type", "application/json")
            .body(raw.to_string())
            .send()
            .unwrap(),
    )
}

impl TheirRunner {
    #[track_caller]
    fn register(stack: &Stack, name: &str) -> TheirRunner {
        let raw = format!(r#"{{"registration_token": "{REGISTRATION_TOKEN}", "name": "{name}"}}"#);
        let (status, bytes) = register_raw(&stack.url(), &raw);
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&bytes));
        let answer = json_of(&bytes);
        let id = answer["runner_id"].as_str().expect("top-level runner_id").to_string();
        let token = answer["token"].as_str().expect("top-level token").to_string();
        assert!(id.starts_with("rn_") && id.len() == 29, "runner id {id:?}");
        assert!(
            token.starts_with("rk_")
                && token.len() == 46
                && token[3..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "token {token:?}"
        );
        let config = &answer["config"];
        assert!(config["heartbeat_interval_sec"].as_u64().is_some(), "{answer}");
        assert_eq!(config["poll_interval_sec"], 3, "{answer}");
        assert_eq!(config["max_concurrent_jobs"], 8, "{answer}");
        TheirRunner { http: client(), base: stack.url(), id, token }
    }

    fn url(&self, rest: &str) -> String {
        format!("{}{PREFIX}/runners/{}{rest}", self.base, self.id)
    }

    fn heartbeat(&self, raw: &str) -> u16 {
        let request = self.http.post(self.url("/heartbeat")).bearer_auth(&self.token);
        let (status, bytes) = body(
            request
                .header("Content-Type", "application/json")
                .body(raw.to_string())
                .send()
                .unwrap(),
        );
        if status == 204 {
            assert!(bytes.is_empty(), "204 with a body");
        }
        status
    }

    /// `next-job`: the job (200) or `None` (204).
    #[track_caller]
    fn next_job(&self) -> Option<Value> {
        let (status, bytes) =
            body(self.http.get(self.url("/next-job")).bearer_auth(&self.token).send().unwrap());
        match status {
            204 => None,
            200 => Some(json_of(&bytes)),
            other => panic!("next-job: {other} {}", String::from_utf8_lossy(&bytes)),
        }
    }

    /// Polls `next-job` (as their runner does, faster) until a job comes.
    #[track_caller]
    fn wait_job(&self, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(job) = self.next_job() {
                return job;
            }
            assert!(Instant::now() < deadline, "no job within {limit:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs `work` while heartbeating for `job_id` every 300 ms, as their
    /// runner does while it judges.
    fn heartbeating<T>(&self, job_id: &str, work: impl FnOnce() -> T) -> T {
        let done = AtomicBool::new(false);
        let renew = format!(r#"{{"active_job_ids": ["{job_id}"]}}"#);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    assert_eq!(self.heartbeat(&renew), 204);
                    std::thread::sleep(Duration::from_millis(300));
                }
            });
            let result = work();
            done.store(true, Ordering::Relaxed);
            result
        })
    }

    fn put(&self, job_id: &str, action: &str, raw: &str) -> (u16, Vec<u8>) {
        let request =
            self.http.put(self.url(&format!("/jobs/{job_id}/{action}"))).bearer_auth(&self.token);
        body(
            request
                .header("Content-Type", "application/json")
                .body(raw.to_string())
                .send()
                .unwrap(),
        )
    }

    fn complete(&self, job_id: &str, raw: &str) -> u16 {
        self.put(job_id, "complete", raw).0
    }

    fn abort(&self, job_id: &str, reason: &str) -> u16 {
        self.put(job_id, "abort", &format!(r#"{{"reason": "{reason}"}}"#)).0
    }
}

/// One case of a completion, as their runner writes it.
fn case(status: &str, exec_time: u64) -> String {
    format!(
        r#"{{"stdout": "", "stderr": "", "exitCode": 0, "execTime": {exec_time}, "memoryUsage": 2048, "status": "{status}"}}"#
    )
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..archive.len())
        .map(|i| {
            let entry = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            let name = entry.name().unwrap().to_string();
            std::io::copy(&mut entry.take(1 << 20), &mut content).unwrap();
            (name, content)
        })
        .collect()
}

fn testdata(stack: &Stack, pid: &str, what: &str, token: &str) -> (u16, Vec<u8>) {
    body(
        client()
            .get(format!("{}{PREFIX}/problem/{pid}/{what}?token={token}", stack.url()))
            .send()
            .unwrap(),
    )
}

/// What their runner computes from what it fetched: md5 of the zip followed
/// by `json.dumps` of the meta answer's `data` — by Python itself, on the
/// answer's bytes (key order included).
fn their_checksum(zip: &[u8], meta_answer: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("testdata.zip"), zip).unwrap();
    std::fs::write(dir.path().join("meta.json"), meta_answer).unwrap();
    let script = "import hashlib, json, sys\n\
                  data = open(sys.argv[1] + '/testdata.zip', 'rb').read()\n\
                  meta = json.dumps(json.load(open(sys.argv[1] + '/meta.json'))['data'])\n\
                  print(hashlib.md5(data + meta.encode()).hexdigest())\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, dir.path().to_str().unwrap()])
        .output()
        .expect("python3 (Debian's; their runner is Python)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn stack() -> Stack {
    Stack::start_with(&[("--normal-oj-sandbox-token", SANDBOX_TOKEN), ("--max-attempts", "2")])
}

#[test]
fn their_runner_is_served_byte_for_byte() {
    let stack = stack();
    let admin = stack.admin();
    admin.create_problem("1001", "application/zip", their_problem());
    admin.create_problem(
        "a-plus-b",
        "application/zip",
        package::zip(&package::example("a-plus-b")),
    );

    // Register: wrong secret and a malformed body are refused; 401 is fatal for them.
    let bad = r#"{"registration_token": "nope", "name": "x"}"#;
    assert_eq!(register_raw(&stack.url(), bad).0, 401);
    assert_eq!(register_raw(&stack.url(), r#"{"name": "x"}"#).0, 400);
    let a = TheirRunner::register(&stack, "noj-a");
    let b = TheirRunner::register(&stack, "noj-b");

    // Heartbeat: 204; a wrong token, another runner's token or none: 401, never 403.
    assert_eq!(a.heartbeat(r#"{"active_job_ids": []}"#), 204);
    let forged =
        TheirRunner { token: "rk_forged".into(), ..TheirRunner::register(&stack, "noj-c") };
    assert_eq!(forged.heartbeat(r#"{"active_job_ids": []}"#), 401);
    let borrowed = TheirRunner {
        token: b.token.clone(),
        http: client(),
        base: a.base.clone(),
        id: a.id.clone(),
    };
    assert_eq!(borrowed.heartbeat(r#"{"active_job_ids": []}"#), 401);
    assert_eq!(
        client().post(a.url("/heartbeat")).body("{}").send().unwrap().status().as_u16(),
        401
    );
    assert_eq!(
        client().get(a.url("/next-job")).bearer_auth("rk_nobody").send().unwrap().status().as_u16(),
        401
    );

    // Nothing queued: 204. A problem their runners cannot judge stays Gavel's.
    assert!(a.next_job().is_none());
    let user = admin.create_client("user");
    user.submit_ok("a-plus-b", "c", OVERFLOWING_C);
    assert!(a.next_job().is_none(), "a-plus-b has no numeric id and the tokens checker");

    // next-job: the payload, with their types.
    let source = "a, b = map(int, input().split())\nprint(a + b)\n";
    let sid = user.submit_ok("1001", "python3", source);
    let job = a.next_job().expect("the job");
    let job_id = job["job_id"].as_str().unwrap().to_string();
    assert!(
        job_id.starts_with("jb_")
            && job_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    );
    assert_eq!(job["submission_id"], sid.as_str());
    assert_eq!(job["problem_id"], 1001, "a number: {job}");
    assert_eq!(job["language"], 2);
    assert_eq!(job["tasks"], serde_json::from_str::<Value>(TASKS).unwrap());
    let code_url = job["code_url"].as_str().unwrap();
    assert!(code_url.starts_with(&format!("{}{PREFIX}/code/{job_id}?", stack.url())), "{code_url}");
    assert!(b.next_job().is_none(), "leased to a");

    // The code: a zip holding only main.py, fetched without auth; a forged URL is refused.
    let (status, zip) = body(client().get(code_url).send().unwrap());
    assert_eq!(status, 200);
    assert_eq!(unzip(&zip), [("main.py".to_string(), source.as_bytes().to_vec())]);
    let forged = format!("{}0", code_url.trim_end_matches(|c: char| c.is_ascii_hexdigit()));
    assert_eq!(client().get(forged).send().unwrap().status().as_u16(), 401);

    // Their testdata channel: envelope, zip layout, checksum rule.
    let (status, meta_answer) = testdata(&stack, "1001", "meta", SANDBOX_TOKEN);
    assert_eq!(status, 200);
    let meta = json_of(&meta_answer);
    assert_eq!((meta["status"].as_str(), meta["message"].as_str()), (Some("ok"), Some("")));
    assert_eq!(meta["data"]["tasks"], serde_json::from_str::<Value>(TASKS).unwrap());
    let (status, data) = testdata(&stack, "1001", "testdata", SANDBOX_TOKEN);
    assert_eq!(status, 200);
    let names: Vec<String> = unzip(&data).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["0000.in", "0000.out", "0100.in", "0100.out", "0101.in", "0101.out"]);
    let (status, checksum) = testdata(&stack, "1001", "checksum", SANDBOX_TOKEN);
    assert_eq!(status, 200);
    let checksum = json_of(&checksum);
    assert_eq!(checksum["status"], "ok");
    assert_eq!(checksum["data"].as_str().unwrap(), their_checksum(&data, &meta_answer));
    assert_eq!(testdata(&stack, "1001", "meta", "wrong").0, 401);
    assert_eq!(testdata(&stack, "4242", "meta", SANDBOX_TOKEN).0, 404);
    assert_eq!(testdata(&stack, "a-plus-b", "testdata", SANDBOX_TOKEN).0, 404);

    // Complete: someone else's job is 409; the owner's 204; their scoring.
    let results =
        format!("{{\"tasks\": [[{}], [{}, {}]]}}", case("AC", 5), case("AC", 7), case("WA", 6));
    assert_eq!(b.complete(&job_id, &results), 409);
    assert_eq!(a.complete(&job_id, r#"{"tasks": [[]]}"#), 400, "the wrong shape");
    assert_eq!(a.complete(&job_id, &results), 204);
    let view = user.submission(&sid);
    assert_eq!((view.status, view.score), (Status::WrongAnswer, 40.0));
    assert_eq!(view.tasks[0].cases[0].name, "0000");
    assert_eq!(
        (view.tasks[1].status, view.tasks[1].score, view.time_ms),
        (Status::WrongAnswer, 0.0, 7)
    );
    let events: Vec<String> =
        user.events(&sid).until_end(Duration::from_secs(5)).into_iter().map(|e| e.event).collect();
    assert_eq!(events, ["queued", "started", "finished"]);
    // A repeat is 404 (or 409), never 400, 5xx or 200.
    let again = a.complete(&job_id, &results);
    assert!(again == 404 || again == 409, "repeat: {again}");

    // Abort: drain gives the attempt back; prep_failed spends it, JE after the limit (2).
    let sid = user.submit_ok("1001", "c", OVERFLOWING_C);
    let job_id = a.next_job().unwrap()["job_id"].as_str().unwrap().to_string();
    assert_eq!(b.abort(&job_id, "drain"), 409);
    assert_eq!(a.abort(&job_id, "tired"), 400);
    assert_eq!(a.abort(&job_id, "drain"), 202);
    let view = user.submission(&sid);
    assert_eq!((view.status, view.attempt), (Status::Pending, 0));
    let retry = a.next_job().expect("the same runner may claim it again");
    assert_eq!(retry["job_id"], job_id.as_str());
    assert_eq!(user.submission(&sid).attempt, 1);
    assert_eq!(a.abort(&job_id, "prep_failed"), 202);
    assert_eq!(b.next_job().unwrap()["job_id"], job_id.as_str());
    assert_eq!(b.abort(&job_id, "prep_failed"), 202);
    let view = user.submission(&sid);
    assert_eq!(view.status, Status::JudgementError);
    assert!(view.message.contains("prep_failed"), "{}", view.message);
    assert_eq!(a.abort("jb_01NOSUCHJOB", "drain"), 404);

    // Lease expiry (2 s here): heartbeats keep it; silence loses it to another runner.
    let sid = user.submit_ok("1001", "cpp", "int main() {}\n");
    let job = a.next_job().unwrap();
    let job_id = job["job_id"].as_str().unwrap().to_string();
    let renew = format!(r#"{{"active_job_ids": ["{job_id}"]}}"#);
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(a.heartbeat(&renew), 204);
        assert!(b.next_job().is_none(), "a's heartbeats keep the lease");
    }
    let reclaimed = b.wait_job(Duration::from_secs(10));
    assert_eq!(reclaimed["job_id"], job_id.as_str());
    assert_eq!(user.submission(&sid).attempt, 2);
    let late =
        format!("{{\"tasks\": [[{}], [{}, {}]]}}", case("AC", 1), case("AC", 1), case("AC", 1));
    assert_eq!(a.complete(&job_id, &late), 409, "a's lease expired");
    assert_eq!(b.complete(&job_id, &late), 204);
    assert_eq!(
        (user.submission(&sid).status, user.submission(&sid).score),
        (Status::Accepted, 100.0)
    );
}

/// Their status of one of `gavel judge --json`'s cases.
fn their_status(gavel: &str) -> &str {
    match gavel {
        "PE" => "WA",
        other => other,
    }
}

/// Judges a job as their runner would, with `gavel judge` on what the
/// channel serves: the code zip, the testdata zip and the meta data laid
/// out as a Normal-OJ package. Returns the completion body.
fn judge_as_them(stack: &Stack, job: &Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (_, code) = body(client().get(job["code_url"].as_str().unwrap()).send().unwrap());
    let pid = job["problem_id"].to_string();
    let (_, data) = testdata(stack, &pid, "testdata", SANDBOX_TOKEN);
    let (_, meta) = testdata(stack, &pid, "meta", SANDBOX_TOKEN);
    let problem = dir.path().join(&pid);
    std::fs::create_dir(&problem).unwrap();
    for (name, content) in unzip(&data) {
        std::fs::write(problem.join(name), content).unwrap();
    }
    std::fs::write(problem.join("meta.json"), json_of(&meta)["data"].to_string()).unwrap();
    let (name, source) = unzip(&code).remove(0);
    std::fs::File::create(dir.path().join(&name)).unwrap().write_all(&source).unwrap();
    let language = ["c", "cpp", "python3"][job["language"].as_u64().unwrap() as usize];
    let source_path = dir.path().join(&name);
    let out = e2e::gavel(
        &[
            "judge",
            problem.to_str().unwrap(),
            source_path.to_str().unwrap(),
            "--language",
            language,
            "--json",
        ],
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = json_of(&out.stdout);
    let tasks: Vec<Value> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| {
            task["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    json!({
                        "stdout": "", "stderr": c["message"], "exitCode": 0,
                        "execTime": c["time_ms"], "memoryUsage": c["memory_kb"],
                        "status": their_status(c["status"].as_str().unwrap()),
                    })
                })
                .collect()
        })
        .collect();
    json!({ "tasks": tasks }).to_string()
}

#[test]
fn one_submission_gets_the_same_verdict_from_a_gavel_runner_and_through_their_dialect() {
    if !e2e::docker::available() {
        return;
    }
    let stack = stack();
    let admin = stack.admin();
    admin.create_problem("1002", "application/zip", their_problem());
    let user: Client = admin.create_client("user");

    // A Gavel runner (native languages in Docker) judges it first.
    let mut gavel = RunnerProcess::start(&stack.url(), RunnerOptions::new("gavel-native"));
    gavel.wait_listed(&admin, Duration::from_secs(30));
    let sid = user.submit_ok("1002", "c", OVERFLOWING_C);
    let final_verdict = |v: &protocol::client::SubmissionView| v.status.is_final_verdict();
    let by_gavel = user.wait_for(&sid, Duration::from_secs(120), final_verdict);
    assert_eq!((by_gavel.status, by_gavel.score), (Status::WrongAnswer, 40.0), "{by_gavel:?}");
    gavel.terminate(Duration::from_secs(30));

    // Then, rejudged, through their dialect.
    let theirs = TheirRunner::register(&stack, "noj");
    user.post(&format!("/submissions/{sid}/rejudge"), &json!({})).expect(200);
    let job = theirs.wait_job(Duration::from_secs(10));
    let job_id = job["job_id"].as_str().unwrap();
    let results = theirs.heartbeating(job_id, || judge_as_them(&stack, &job));
    assert_eq!(theirs.complete(job_id, &results), 204);
    let by_them = user.wait_for(&sid, Duration::from_secs(10), final_verdict);
    assert_eq!((by_them.status, by_them.score), (by_gavel.status, by_gavel.score));
    let statuses = |v: &protocol::client::SubmissionView| -> Vec<Vec<Status>> {
        v.tasks.iter().map(|t| t.cases.iter().map(|c| c.status).collect()).collect()
    };
    assert_eq!(statuses(&by_them), statuses(&by_gavel));
    assert!(e2e::docker::orphaned_containers().is_empty());
}
