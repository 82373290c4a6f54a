//! Submissions and code runs, the records clients create and read: creating
//! one (once per idempotency key) and queueing its job, reading it back,
//! listing the newest, rejudging and cancelling, and reading its event log.
//! Both kinds share one hash per record (`kind` tells them apart), one
//! script to create them and one event log each.

use std::collections::BTreeMap;
use std::time::Duration;

use judge_core::report::{JudgeReport, TaskReport};
use judge_core::verdict::Status;
use protocol::client::{RecordKind, SubmissionSummary, SubmissionView, Summary};
use protocol::runner::JobSpec;
use protocol::runs::{ArtifactInfo, RunReport, RunStatus, RunSummary, RunView};
use redis::AsyncCommands;

use crate::{Queue, QueueError, Refusal, Result, keys, scripts};

/// A submission about to be queued.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub id: String,
    pub job_id: String,
    pub problem_id: String,
    /// Digest of the problem's manifest blob.
    pub revision: String,
    /// Digest of the source blob.
    pub source: String,
    pub language: String,
    pub checker: Option<String>,
    pub labels: Vec<String>,
    pub owner: String,
    pub max_score: f64,
    pub spec: JobSpec,
    /// What Normal-OJ's runners need to run it (JSON), when they can.
    pub normal_oj: Option<String>,
    /// The client's idempotency key, if it sent one.
    pub idempotency: Option<Idempotency>,
    /// Its estimated runner time (ms; cases × time limit), what fair
    /// dispatch charges its owner.
    pub cost: u64,
}

/// A code run about to be queued.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub id: String,
    pub job_id: String,
    pub language: String,
    pub labels: Vec<String>,
    pub owner: String,
    /// A [`JobSpec::Run`].
    pub spec: JobSpec,
    /// The client's idempotency key, if it sent one.
    pub idempotency: Option<Idempotency>,
    /// Its estimated runner time (ms; its time limit).
    pub cost: u64,
}

/// How long an idempotency key is remembered. A client retries a create
/// whose answer it lost within seconds or minutes (a backend killed or
/// restarted, a network cut, Redis restarted from its AOF); a day covers
/// any such outage and a retry the next morning, as Stripe's keys do, while
/// each key costs Redis only a small hash (about 200 bytes) until it
/// expires.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

/// A client's idempotency key on a create (`POST /submissions`, `POST
/// /runs`), scoped by the record's owner: the same key again is the same
/// create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// What the client sent (the HTTP layer checks its shape).
    pub key: String,
    /// Names the request (SHA-256 of its canonical form): the key with
    /// another fingerprint is a conflict, not a retry.
    pub fingerprint: String,
}

/// What a create did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Recorded and queued, under this id.
    Created(String),
    /// The owner's key was used before for the same request: nothing new;
    /// the id created then.
    Replayed(String),
    /// The owner's key was used before for another request (this id):
    /// nothing changed.
    Conflict(String),
    /// The problem is no longer at the submission's revision (replaced
    /// since its record was read), or gone: nothing changed.
    ProblemChanged,
    /// No runner offered the language within [`LANGUAGE_MEMORY`]: nothing
    /// changed.
    UnknownLanguage,
    /// The owner is over a quota: nothing changed (the refusal is counted).
    OverQuota(Refusal),
}

/// How recently a runner must have offered a language for a submission or
/// run in it to be accepted.
pub const LANGUAGE_MEMORY: Duration = Duration::from_secs(24 * 3600);

/// A stored code run, with its report once it has one.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub view: RunView,
    pub owner: String,
    pub report: Option<RunReport>,
}

/// The `kind` of a code run's record (a submission's is empty).
pub(crate) const RUN_KIND: &str = "run";

/// A stored submission.
#[derive(Debug, Clone)]
pub struct SubmissionRecord {
    pub view: SubmissionView,
    pub owner: String,
}

/// A submission's summary and its owner (who may see it).
#[derive(Debug, Clone)]
pub struct SummaryRecord {
    pub summary: Summary,
    pub owner: String,
}

/// Which listing [`Queue::recent_summaries`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Submissions,
    Runs,
}

/// How many of the newest submissions [`Queue::recent_summaries`] looks
/// through for one owner's, and how many per round trip.
pub const SUMMARY_SCAN: usize = 10_000;
const SUMMARY_PAGE: usize = 500;

/// The outcome of a rejudge or cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Done,
    UnknownSubmission,
    /// Cancel of a submission that already has its final verdict.
    AlreadyFinal,
}

/// A job's spec as `lua/submit.lua` stores it.
fn spec_json(spec: &JobSpec) -> Result<String> {
    serde_json::to_string(spec).map_err(|e| QueueError::Corrupt(format!("spec: {e}")))
}

/// `lua/submit.lua`'s answer.
fn submitted(outcome: &str, id: String) -> Result<Submitted> {
    match outcome {
        "created" => Ok(Submitted::Created(id)),
        "replayed" => Ok(Submitted::Replayed(id)),
        "conflict" => Ok(Submitted::Conflict(id)),
        "problem_changed" => Ok(Submitted::ProblemChanged),
        "unknown_language" => Ok(Submitted::UnknownLanguage),
        "queue_full" | "rate_limited" => Ok(Submitted::OverQuota(Refusal::read(outcome, &id)?)),
        other => Err(QueueError::Corrupt(format!("submit.lua answered {other:?}"))),
    }
}

impl Queue {
    /// Records a submission and queues its job, unless its idempotency key
    /// was used before, its owner is over a quota, its problem is no
    /// longer at its revision, or no runner offers its language (then
    /// nothing changes).
    pub async fn submit(&self, submission: &NewSubmission) -> Result<Submitted> {
        self.create(&scripts::Submit {
            id: &submission.id,
            job_id: &submission.job_id,
            problem_id: &submission.problem_id,
            revision: &submission.revision,
            source: &submission.source,
            language: &submission.language,
            checker: submission.checker.as_deref().unwrap_or(""),
            labels: &submission.labels,
            owner: &submission.owner,
            max_score: Some(submission.max_score),
            spec_json: spec_json(&submission.spec)?,
            normal_oj: submission.normal_oj.as_deref().unwrap_or(""),
            kind: "",
            idempotency: submission.idempotency.as_ref(),
            idempotency_ttl: IDEMPOTENCY_TTL,
            language_memory: LANGUAGE_MEMORY,
            cost: submission.cost,
            default_quotas: self.config.quotas,
        })
        .await
    }

    /// Records a code run and queues its job (`spec` is a
    /// [`JobSpec::Run`]), unless its idempotency key was used before or no
    /// runner offers its language.
    pub async fn submit_run(&self, run: &NewRun) -> Result<Submitted> {
        self.create(&scripts::Submit {
            id: &run.id,
            job_id: &run.job_id,
            problem_id: "",
            revision: "",
            source: "",
            language: &run.language,
            checker: "",
            labels: &run.labels,
            owner: &run.owner,
            max_score: None,
            spec_json: spec_json(&run.spec)?,
            // Normal-OJ's runners do not run code.
            normal_oj: "",
            kind: RUN_KIND,
            idempotency: run.idempotency.as_ref(),
            idempotency_ttl: IDEMPOTENCY_TTL,
            language_memory: LANGUAGE_MEMORY,
            cost: run.cost,
            default_quotas: self.config.quotas,
        })
        .await
    }

    /// Runs `lua/submit.lua`: the one path of both kinds of create.
    async fn create(&self, call: &scripts::Submit<'_>) -> Result<Submitted> {
        let (outcome, id): (String, String) = self.script(call).await?;
        submitted(&outcome, id)
    }

    /// What an earlier create under `owner`'s key did, if there was one:
    /// [`Submitted::Replayed`] when it had the same fingerprint,
    /// [`Submitted::Conflict`] otherwise. A read only: [`submit`](Self::submit)
    /// decides again, atomically, so two racing requests still make one
    /// record; this lets a retry be answered before its request is checked
    /// again (the problem or language may be gone since).
    pub async fn earlier_create(
        &self,
        owner: &str,
        idempotency: &Idempotency,
    ) -> Result<Option<Submitted>> {
        // The key of `idempotency_key` in lua/lib.lua.
        let key = keys::idempotency(self.prefix(), owner, &idempotency.key);
        let (fingerprint, id): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(key)
            .arg("fingerprint")
            .arg("id")
            .query_async(&mut self.conn())
            .await?;
        let Some(id) = id else { return Ok(None) };
        if fingerprint.as_deref() != Some(idempotency.fingerprint.as_str()) {
            return Ok(Some(Submitted::Conflict(id)));
        }
        // Answered as stored: only once the replicas have it (the first
        // answer may have been a 503 for want of them).
        self.replicated().await?;
        Ok(Some(Submitted::Replayed(id)))
    }

    /// A stored code run (`None` for missing ids and submissions' ids).
    pub async fn run(&self, run_id: &str) -> Result<Option<RunRecord>> {
        let fields: BTreeMap<String, String> =
            self.conn().hgetall(keys::submission(self.prefix(), run_id)).await?;
        if fields.get("kind").map(String::as_str) != Some(RUN_KIND) {
            return Ok(None);
        }
        run_record(run_id, &fields).map(Some)
    }

    /// Code run ids, newest first.
    pub async fn recent_runs(&self, count: usize) -> Result<Vec<String>> {
        let stop = isize::try_from(count).unwrap_or(isize::MAX) - 1;
        Ok(self.conn().zrevrange(keys::runs(self.prefix()), 0, stop).await?)
    }

    /// Supersedes the submission's job with `new_job_id`, in its owner's
    /// dispatch queue, or behind every live job for the admin's rejudges
    /// (`behind_live`).
    pub async fn rejudge(
        &self,
        submission_id: &str,
        new_job_id: &str,
        behind_live: bool,
    ) -> Result<Change> {
        let call = scripts::Rejudge { submission_id, new_job_id, behind_live };
        let reply: String = self.script(&call).await?;
        Ok(if reply == "ok" { Change::Done } else { Change::UnknownSubmission })
    }

    pub async fn cancel(&self, submission_id: &str) -> Result<Change> {
        let reply: String = self.script(&scripts::Cancel { submission_id }).await?;
        Ok(match reply.as_str() {
            "ok" => Change::Done,
            "final" => Change::AlreadyFinal,
            _ => Change::UnknownSubmission,
        })
    }

    pub async fn submission(&self, submission_id: &str) -> Result<Option<SubmissionRecord>> {
        let fields: BTreeMap<String, String> =
            self.conn().hgetall(keys::submission(self.prefix(), submission_id)).await?;
        if fields.is_empty() || fields.get("kind").is_some_and(|kind| kind == RUN_KIND) {
            return Ok(None);
        }
        submission_record(submission_id, &fields).map(Some)
    }

    /// Submission ids, newest first.
    pub async fn recent_submissions(&self, count: usize) -> Result<Vec<String>> {
        let stop = isize::try_from(count).unwrap_or(isize::MAX) - 1;
        Ok(self.conn().zrevrange(keys::submissions(self.prefix()), 0, stop).await?)
    }

    /// Summaries of the newest submissions of `owner` (everyone's for
    /// `None`), newest first, at most `limit`. The index is global, so an
    /// owner's are looked for a page at a time among the newest
    /// [`SUMMARY_SCAN`] submissions: one `ZREVRANGE` and one pipelined round
    /// trip of `HMGET`s per page, never one call per submission.
    pub async fn recent_summaries(
        &self,
        listing: Listing,
        owner: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SummaryRecord>> {
        let index = match listing {
            Listing::Submissions => keys::submissions(self.prefix()),
            Listing::Runs => keys::runs(self.prefix()),
        };
        let page = if owner.is_some() { SUMMARY_PAGE } else { limit.max(1) };
        let mut found = Vec::new();
        let mut start = 0;
        while found.len() < limit && start < SUMMARY_SCAN {
            let stop = isize::try_from(start + page).unwrap_or(isize::MAX) - 1;
            let first = isize::try_from(start).unwrap_or(isize::MAX);
            let ids: Vec<String> = self.conn().zrevrange(&index, first, stop).await?;
            let exhausted = ids.len() < page;
            let records = self.summaries(&ids).await?;
            let visible = records.into_iter().filter(|r| owner.is_none_or(|o| r.owner == o));
            found.extend(visible.take(limit - found.len()));
            if exhausted {
                break;
            }
            start += page;
        }
        Ok(found)
    }

    /// Summaries of these submissions and runs, in order, with their
    /// owners, in one pipelined round trip; missing ones (and those with an
    /// unreadable status) are left out.
    pub async fn summaries(&self, ids: &[String]) -> Result<Vec<SummaryRecord>> {
        const FIELDS: [&str; 9] = [
            "kind",
            "owner",
            "problem",
            "language",
            "status",
            "score",
            "max_score",
            "created_at",
            "finished_at",
        ];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("HMGET").arg(keys::submission(self.prefix(), id)).arg(&FIELDS);
        }
        let rows: Vec<Vec<Option<String>>> = pipe.query_async(&mut self.conn()).await?;
        let summaries = ids.iter().zip(rows).filter_map(|(id, row)| {
            let [kind, owner, problem, language, status, score, max_score, created, finished] =
                <[Option<String>; 9]>::try_from(row).ok()?;
            let number = |v: Option<String>| v.and_then(|v| v.parse::<f64>().ok());
            let int = |v: Option<String>| v.and_then(|v| v.parse::<u64>().ok());
            // `kind` is '' (or absent) for a submission, 'run' for a code run.
            if kind.as_deref() == Some(RUN_KIND) {
                return Some(SummaryRecord {
                    owner: owner?,
                    summary: Summary::Run(RunSummary {
                        kind: RecordKind::Run,
                        run_id: id.clone(),
                        language: language.unwrap_or_default(),
                        status: RunStatus::from_code(status.as_deref()?)?,
                        created_at_ms: int(created).unwrap_or(0),
                        finished_at_ms: int(finished),
                    }),
                });
            }
            Some(SummaryRecord {
                owner: owner?,
                summary: Summary::Submission(SubmissionSummary {
                    kind: RecordKind::Submission,
                    submission_id: id.clone(),
                    problem_id: problem.unwrap_or_default(),
                    language: language.unwrap_or_default(),
                    status: Status::from_code(status.as_deref()?)?,
                    score: number(score).unwrap_or(0.0),
                    max_score: number(max_score).unwrap_or(0.0),
                    created_at_ms: int(created).unwrap_or(0),
                    finished_at_ms: int(finished),
                }),
            })
        });
        Ok(summaries.collect())
    }

    /// The submission's event log from position `from` (0-based), as JSON
    /// [`protocol::client::SubmissionEvent`]s, and the log's length.
    pub async fn events(&self, submission_id: &str, from: usize) -> Result<(Vec<String>, usize)> {
        let key = keys::submission_events(self.prefix(), submission_id);
        let start = isize::try_from(from).unwrap_or(isize::MAX);
        let (events, len): (Vec<String>, usize) =
            redis::pipe().lrange(&key, start, -1).llen(&key).query_async(&mut self.conn()).await?;
        Ok((events, len))
    }
}

fn submission_record(id: &str, fields: &BTreeMap<String, String>) -> Result<SubmissionRecord> {
    let text = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let number = |name: &str| fields.get(name).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let int = |name: &str| fields.get(name).and_then(|v| v.parse::<u64>().ok());
    let status = Status::from_code(&text("status")).ok_or_else(|| {
        QueueError::Corrupt(format!("submission {id}: status {:?}", text("status")))
    })?;
    let report: Option<JudgeReport> = match fields.get("result").map(String::as_str) {
        None | Some("") => None,
        Some(json) => Some(
            serde_json::from_str(json)
                .map_err(|e| QueueError::Corrupt(format!("submission {id} result: {e}")))?,
        ),
    };
    let (time_ms, memory_kb, compile_message, tasks): (u64, u64, String, Vec<TaskReport>) =
        match report {
            Some(r) => (r.time_ms, r.memory_kb, r.compile_message, r.tasks),
            None => (0, 0, String::new(), Vec::new()),
        };
    Ok(SubmissionRecord {
        owner: text("owner"),
        view: SubmissionView {
            submission_id: id.to_string(),
            problem_id: text("problem"),
            language: text("language"),
            status,
            score: number("score"),
            max_score: number("max_score"),
            job_id: text("job"),
            attempt: int("attempt").and_then(|a| u32::try_from(a).ok()).unwrap_or(0),
            created_at_ms: int("created_at").unwrap_or(0),
            finished_at_ms: int("finished_at"),
            time_ms,
            memory_kb,
            compile_message,
            message: text("message"),
            tasks,
        },
    })
}

fn run_record(id: &str, fields: &BTreeMap<String, String>) -> Result<RunRecord> {
    let text = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let int = |name: &str| fields.get(name).and_then(|v| v.parse::<u64>().ok());
    let status = RunStatus::from_code(&text("status"))
        .ok_or_else(|| QueueError::Corrupt(format!("run {id}: status {:?}", text("status"))))?;
    let report: Option<RunReport> = match fields.get("result").map(String::as_str) {
        None | Some("") => None,
        Some(json) => Some(
            serde_json::from_str(json)
                .map_err(|e| QueueError::Corrupt(format!("run {id} result: {e}")))?,
        ),
    };
    let artifacts = report.as_ref().map_or_else(Vec::new, |r| {
        r.artifacts
            .iter()
            .map(|a| ArtifactInfo {
                name: a.name.clone(),
                // base64 without decoding: 3 bytes per 4 characters, less padding.
                size: (a.content_base64.len() / 4 * 3).saturating_sub(
                    a.content_base64.bytes().rev().take_while(|b| *b == b'=').count(),
                ) as u64,
            })
            .collect()
    });
    let view = RunView {
        run_id: id.to_string(),
        language: text("language"),
        status,
        exit_code: report.as_ref().and_then(|r| r.exit_code),
        time_ms: report.as_ref().map_or(0, |r| r.time_ms),
        memory_kb: report.as_ref().map_or(0, |r| r.memory_kb),
        message: text("message"),
        job_id: text("job"),
        attempt: int("attempt").and_then(|a| u32::try_from(a).ok()).unwrap_or(0),
        created_at_ms: int("created_at").unwrap_or(0),
        finished_at_ms: int("finished_at"),
        artifacts,
        artifacts_dropped: report.as_ref().map_or_else(Vec::new, |r| r.artifacts_dropped.clone()),
    };
    Ok(RunRecord { view, owner: text("owner"), report })
}
