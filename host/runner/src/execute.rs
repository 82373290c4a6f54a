//! Running one job: fetch what it names through the blob cache, rebuild the
//! problem package, and judge with exactly the code path of `gavel judge`
//! (its language, a Wasm plugin or the Docker executor, and its checker
//! resolved by `catalog::resolve`, then judge-core's loop), reporting each
//! case as it ends.
//! A code run's job instead runs its program once, streaming its output
//! (`crate::code_run`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use catalog::Catalog;
use catalog::resolve::{self, Language};
use judge_core::judge::{Judges, Progress, judge};
use judge_core::problem::{self, CheckerRef, PackageFiles};
use judge_core::report::JudgeReport;
use plugin_host::CancelToken;
use protocol::runner::{CaseProgress, Job, JobResult, JobSpec, ProblemManifest, RunnerEvent};
use protocol::runs::{RunJob, RunReport};
use tokio::sync::mpsc;

use crate::cache::{BlobCache, Pinned};
use crate::client::{BackendClient, ClientError, Identity};
use crate::code_run;

/// The largest manifest (the list of a problem's files) accepted.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// The largest file `PackageFiles::read` hands to the judge.
const MAX_FILE_BYTES: u64 = 512 << 20;

/// What a job needs from the runner.
#[derive(Clone)]
pub struct Context {
    pub client: BackendClient,
    pub cache: Arc<BlobCache>,
    pub catalog: Arc<RwLock<Catalog>>,
    /// The Docker executor of the native languages, when available.
    pub native: Option<Arc<native::Native>>,
}

/// How a job ended.
#[derive(Debug)]
pub enum Outcome {
    /// A verdict (or a run's report) to deliver.
    Done(JobResult),
    /// The backend could not give us the job's files: drop the job (its
    /// lease runs out and it is retried, counting an attempt).
    Abandoned(String),
}

/// A problem package whose files are cached blobs.
struct CachedPackage {
    files: BTreeMap<String, PathBuf>,
}

impl PackageFiles for CachedPackage {
    fn list(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        let file = self.files.get(path).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("{path}: not in the package"))
        })?;
        read_capped(file, MAX_FILE_BYTES)
    }
}

/// Reads a cached blob (written and verified by us) of at most `cap` bytes.
fn read_capped(path: &std::path::Path, cap: u64) -> std::io::Result<Vec<u8>> {
    if std::fs::metadata(path)?.len() > cap {
        return Err(std::io::Error::other(format!("{} is over {cap} bytes", path.display())));
    }
    std::fs::read(path)
}

/// Runs `job`, sending progress to `events`.
pub async fn run(
    context: &Context,
    me: &Identity,
    job: &Job,
    cancel: &CancelToken,
    events: mpsc::UnboundedSender<RunnerEvent>,
) -> Outcome {
    let (language, source, source_text, problem, shared_checker) = match &job.spec {
        JobSpec::Judge { language, source, source_text, problem, compiled_checker } => {
            (language, source, source_text, problem, compiled_checker)
        }
        JobSpec::Run(run) => {
            return Outcome::Done(run_code(context, run, cancel, events).await.into());
        }
    };
    let fetched = fetch(context, me, &problem.manifest.digest, &source.digest, source_text).await;
    let (package, source, _pins) = match fetched {
        Ok(fetched) => fetched,
        Err(e) => return Outcome::Abandoned(format!("fetching the job's files: {e}")),
    };
    let shared = match shared_checker {
        Some(blob) => match fetch_checker(context, me, &blob.digest).await {
            Ok(wasm) => Some(wasm),
            Err(e) => return Outcome::Abandoned(format!("fetching the compiled checker: {e}")),
        },
        None => None,
    };
    let (language, problem_id) = (language.clone(), problem.id.clone());
    let judged = with_languages(context, cancel, move |languages| {
        judge_files(languages, &package, &problem_id, &source, &language, shared, &events)
    })
    .await;
    let (report, compiled_here) = judged.unwrap_or_else(|panic| {
        let report =
            JudgeReport::judgement_error(format!("the runner failed while judging: {panic}"));
        (report, None)
    });
    // A checker compiled here for a job that carried none is shared: later
    // jobs of the revision carry it, and runners without Docker run it.
    if let (None, Some(wasm)) = (shared_checker, compiled_here) {
        let revision = &problem.manifest.digest;
        if let Err(e) = context.client.put_compiled_checker(me, revision, wasm).await {
            tracing::warn!(revision, error = %e, "could not share the compiled checker");
        }
    }
    Outcome::Done(report.into())
}

/// Runs `work` over the job's languages on a blocking thread with a big
/// stack and the job's cancel token in force; `Err` if it panicked.
async fn with_languages<T: Send + 'static>(
    context: &Context,
    cancel: &CancelToken,
    work: impl FnOnce(&Languages<'_>) -> T + Send + 'static,
) -> Result<T, String> {
    let (catalog, native, cancel) =
        (context.catalog.clone(), context.native.clone(), cancel.clone());
    tokio::task::spawn_blocking(move || {
        plugin_host::on_big_stack(|| {
            plugin_host::with_cancel(&cancel, || {
                let cancelled = || cancel.is_cancelled();
                let languages = Languages {
                    catalog: &catalog,
                    native: native.as_deref(),
                    cancelled: &cancelled,
                };
                work(&languages)
            })
        })
    })
    .await
    .map_err(|panic| panic.to_string())
}

/// Runs a code run's program once, its output streamed as `output` events.
async fn run_code(
    context: &Context,
    job: &RunJob,
    cancel: &CancelToken,
    events: mpsc::UnboundedSender<RunnerEvent>,
) -> RunReport {
    let run = code_run::code_run(job);
    let transcript = Arc::new(code_run::Transcript::default());
    let tap = transcript.tap(move |chunk| {
        let _ = events.send(RunnerEvent::Output(chunk));
    });
    let language = job.language.clone();
    let ran = with_languages(context, cancel, move |languages| {
        languages.resolve(&language)?.code_runner().run_code(&run, tap)
    })
    .await
    .unwrap_or_else(|panic| Err(format!("the runner failed while running: {panic}")));
    code_run::report(ran, transcript.output())
}

/// A job's source: inline in the job, or a cached blob.
enum Source {
    Inline(Vec<u8>),
    Cached(PathBuf),
}

impl Source {
    fn read(&self) -> std::io::Result<Vec<u8>> {
        match self {
            Source::Inline(text) => Ok(text.clone()),
            Source::Cached(path) => read_capped(path, MAX_FILE_BYTES),
        }
    }
}

/// Downloads the manifest, every file it names and the source (unless the
/// job carries it).
async fn fetch(
    context: &Context,
    me: &Identity,
    manifest_digest: &str,
    source_digest: &str,
    source_text: &Option<String>,
) -> Result<(CachedPackage, Source, Vec<Pinned>), ClientError> {
    let client = &context.client;
    let manifest_blob = context.cache.get(client, me, manifest_digest).await?;
    let manifest: ProblemManifest = read_capped(&manifest_blob.path, MAX_MANIFEST_BYTES)
        .map_err(ClientError::Io)
        .and_then(|bytes| {
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Blob {
                digest: manifest_digest.into(),
                reason: format!("not a problem manifest: {e}"),
            })
        })?;
    let mut pins = vec![manifest_blob];
    let mut files = BTreeMap::new();
    for (path, blob) in &manifest.files {
        let pinned = context.cache.get(client, me, &blob.digest).await?;
        files.insert(path.clone(), pinned.path.clone());
        pins.push(pinned);
    }
    let source = match source_text {
        Some(text) => Source::Inline(text.clone().into_bytes()),
        None => {
            let blob = context.cache.get(client, me, source_digest).await?;
            let path = blob.path.clone();
            pins.push(blob);
            Source::Cached(path)
        }
    };
    Ok((CachedPackage { files }, source, pins))
}

/// What a job resolves its language and checker with (`catalog::resolve`).
struct Languages<'a> {
    catalog: &'a RwLock<Catalog>,
    native: Option<&'a native::Native>,
    /// Whether the job was cancelled (Wasm calls see the token themselves).
    cancelled: &'a (dyn Fn() -> bool + Sync),
}

impl<'a> Languages<'a> {
    /// The language `id`, stopped by the job's cancellation. `Err` says why
    /// it is not here (→ JE).
    fn resolve(&self, id: &str) -> Result<Language<'a>, String> {
        let catalog = self.catalog.read().unwrap_or_else(|e| e.into_inner());
        resolve::language(&catalog, self.native, id)
            .map(|language| language.cancelled_by(self.cancelled))
            .map_err(|e| format!("language: {e:#}"))
    }

    /// The problem's interactor. `Err` says why it is not here (→ JE).
    fn interactor(
        &self,
        spec: &judge_core::problem::Interactor,
        package: &CachedPackage,
    ) -> Result<plugin_host::WasiInteractor, String> {
        let catalog = self.catalog.read().unwrap_or_else(|e| e.into_inner());
        resolve::interactor(&catalog, self.native, spec, package).map_err(|e| format!("{e:#}"))
    }

    /// The problem's checker. `Err` says why it is not here (→ JE).
    fn checker(
        &self,
        reference: &CheckerRef,
        package: &CachedPackage,
        shared: Option<&[u8]>,
    ) -> Result<resolve::Checker, String> {
        let catalog = self.catalog.read().unwrap_or_else(|e| e.into_inner());
        resolve::checker(&catalog, self.native, reference, package, shared)
            .map_err(|e| format!("checker: {e:#}"))
    }
}

/// A compiled checker a job carries: a cached blob, read whole (capped).
async fn fetch_checker(
    context: &Context,
    me: &Identity,
    digest: &str,
) -> Result<Vec<u8>, ClientError> {
    let blob = context.cache.get(&context.client, me, digest).await?;
    read_capped(&blob.path, catalog::clang_wasm::MAX_PROGRAM_BYTES).map_err(ClientError::Io)
}

/// Loads the problem and plugins and judges: the same calls as `gavel judge`.
/// Also returns the checker program's module when this runner built it
/// from source (to share it).
fn judge_files(
    languages: &Languages<'_>,
    package: &CachedPackage,
    problem_id: &str,
    source: &Source,
    language_id: &str,
    shared_checker: Option<Vec<u8>>,
    events: &mpsc::UnboundedSender<RunnerEvent>,
) -> (JudgeReport, Option<Vec<u8>>) {
    let failed = |message: String| (JudgeReport::judgement_error(message), None);
    let problem = match problem::load(package, problem_id) {
        Ok(problem) => problem,
        Err(e) => return failed(format!("the problem is invalid: {e}")),
    };
    let source = match source.read() {
        Ok(source) => source,
        Err(e) => return failed(format!("reading the source: {e}")),
    };
    let checker = languages.checker(&problem.checker.plugin, package, shared_checker.as_deref());
    let interactor = match problem.interactor.as_ref().map(|i| languages.interactor(i, package)) {
        Some(Err(e)) => return failed(e),
        Some(Ok(interactor)) => Some(interactor),
        None => None,
    };
    let language = match languages.resolve(language_id) {
        Ok(language) => language,
        Err(e) => return failed(e),
    };
    let language = language.executor();
    let mut checker = match checker {
        Ok(checker) => checker,
        Err(e) => return failed(e),
    };
    let compiled = match &mut checker {
        resolve::Checker::Program { compiled, .. } => compiled.take(),
        resolve::Checker::Plugin(_) => None,
    };
    let report = judge(
        &problem,
        package,
        &source,
        language,
        Judges {
            checker: checker.as_checker(),
            interactor: interactor.as_ref().map(|i| i as &dyn judge_core::interactive::Interactor),
        },
        &mut |progress: &Progress| {
            let _ = events.send(match progress {
                Progress::Compiled { message } => {
                    RunnerEvent::Compiled { message: message.clone() }
                }
                Progress::Case { task, case } => RunnerEvent::Case(CaseProgress {
                    task: *task,
                    case: case.name.clone(),
                    status: case.status,
                    score: case.score,
                    time_ms: case.time_ms,
                    memory_kb: case.memory_kb,
                    message: case.message.clone(),
                }),
            });
        },
    );
    (report, compiled)
}
