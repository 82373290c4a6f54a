//! Gavel's native executor: C, C++ and Python 3 submissions in hardened
//! Docker containers, behind the same [`judge_core::Executor`] seam as the
//! Wasm languages. This is the only crate that knows bollard.
//!
//! One container per submission, kept warm across its cases: compiling
//! starts it (supervisor as PID 1, see `host/supervisor`), each case is one
//! request to the supervisor, which forks the program under its limits and
//! reports CPU time, peak memory and how it ended; dropping the compiled
//! [`Program`](judge_core::Program) removes the container. The Docker calls
//! run on a small runtime of this crate's own, so the sync judging loop (in
//! a runner's blocking task or in `gavel judge`) can use it as is.

mod classify;
pub mod image;
pub mod language;
mod sandbox;

use std::sync::Mutex;
use std::time::Duration;

use bollard::Docker;
use judge_core::{Compiled, Executor, Program, RunLimits, RunOutcome};
use supervisor::wire::{Request, Response, RunReport, RunRequest};

pub use classify::signal_name;
pub use language::{LANGUAGES, NativeLanguage};
pub use sandbox::SandboxConfig;

/// How long a supervisor may take beyond a run's own wall limit to answer.
const ANSWER_GRACE: Duration = Duration::from_secs(15);
/// How long creating and starting a container may take.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Memory a container needs beyond what its program may use: the
/// supervisor, and the case's stdin and output files on the `/tmp` tmpfs.
const HEADROOM_BYTES: u64 = 32 << 20;

/// Why the native executor cannot be used here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "native languages (c, cpp, python3) are not available: {}", self.0)
    }
}

impl std::error::Error for Unavailable {}

/// A connection to the Docker engine with the sandbox image present.
pub struct Native {
    runtime: Runtime,
    docker: Docker,
    config: SandboxConfig,
}

impl std::fmt::Debug for Native {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Native").field("config", &self.config).finish()
    }
}

impl Native {
    /// Connects to the local engine and checks that the image exists.
    /// `owner` names the caller in the containers' labels (a runner's name).
    pub fn connect(owner: &str) -> Result<Native, Unavailable> {
        let runtime =
            Runtime::new().map_err(|e| Unavailable(format!("starting a runtime: {e}")))?;
        let docker = runtime.block_on(connect_docker())?;
        let image = image::image_tag();
        if !runtime.block_on(image::exists(&docker, &image)) {
            return Err(Unavailable(format!(
                "the sandbox image {image} is missing: build it with `gavel image build` \
                 (or `cargo xtask images`)"
            )));
        }
        let config = SandboxConfig {
            image,
            owner: owner.to_string(),
            cpus: 1.0,
            pids_limit: 64,
            work_mb: 256,
            io_mb: 512,
        };
        Ok(Native { runtime, docker, config })
    }

    /// Builds the sandbox image if it is missing (minutes the first time);
    /// returns its tag.
    pub fn build_image(progress: &mut dyn FnMut(&str)) -> Result<String, Unavailable> {
        let runtime =
            Runtime::new().map_err(|e| Unavailable(format!("starting a runtime: {e}")))?;
        runtime.block_on(async {
            let docker = connect_docker().await?;
            image::build(&docker, progress).await.map_err(Unavailable)
        })
    }

    /// Removes containers a crashed run of `owner` (or any dead process)
    /// left behind; returns how many.
    pub fn remove_leftovers(&self) -> Result<usize, String> {
        self.runtime.block_on(sandbox::remove_leftovers(&self.docker, &self.config.owner))
    }

    /// The executor of one native language, if it is one.
    pub fn executor(&self, language: &str) -> Option<NativeExecutor<'_>> {
        language::find(language).map(|language| NativeExecutor {
            native: self,
            language,
            cancelled: &|| false,
        })
    }

    /// The image sandboxes run.
    pub fn image(&self) -> &str {
        &self.config.image
    }

    /// Starts a sandbox, exchanges one request with its supervisor and
    /// removes it: proof that sandboxes work here, and what that costs.
    pub fn probe(&self) -> Result<Probe, String> {
        self.runtime.block_on(async {
            let started = std::time::Instant::now();
            let mut sandbox = sandbox::Sandbox::start(&self.docker, &self.config, 64 << 20).await?;
            let request =
                Request::PutFile { name: "probe".into(), data: vec![], executable: false };
            let answer = sandbox.call(&request, ANSWER_GRACE).await;
            let start = started.elapsed();
            let removing = std::time::Instant::now();
            sandbox::remove(&self.docker, &sandbox.id).await;
            match answer? {
                Response::Done => Ok(Probe { start, remove: removing.elapsed() }),
                other => Err(unexpected(&other)),
            }
        })
    }
}

/// What [`Native::probe`] measured.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// Create, attach, start and the first answer of the supervisor.
    pub start: Duration,
    /// Force-removal of the container.
    pub remove: Duration,
}

async fn connect_docker() -> Result<Docker, Unavailable> {
    let docker = Docker::connect_with_local_defaults()
        .map_err(|e| Unavailable(format!("no Docker engine: {e}")))?;
    let docker = docker
        .negotiate_version()
        .await
        .map_err(|e| Unavailable(format!("the Docker engine does not answer: {e}")))?;
    docker
        .ping()
        .await
        .map_err(|e| Unavailable(format!("the Docker engine does not answer: {e}")))?;
    Ok(docker)
}

/// A language run in sandbox containers.
pub struct NativeExecutor<'a> {
    native: &'a Native,
    language: &'static NativeLanguage,
    /// Asked before each compile and case: a cancelled job stops there.
    cancelled: &'a (dyn Fn() -> bool + Sync),
}

impl std::fmt::Debug for NativeExecutor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeExecutor").field("language", &self.language.id).finish()
    }
}

impl<'a> NativeExecutor<'a> {
    /// Stops compiling and running cases once `cancelled` says so (a
    /// runner's job cancelled by the backend); a case already running ends
    /// within its own wall limit.
    pub fn cancelled_by(self, cancelled: &'a (dyn Fn() -> bool + Sync)) -> Self {
        NativeExecutor { cancelled, ..self }
    }
}

/// Why a cancelled job stopped.
const CANCELLED: &str = "cancelled";

impl Executor for NativeExecutor<'_> {
    fn language(&self) -> &str {
        self.language.id
    }

    fn compile(&self, source: &[u8]) -> Result<Compiled<'_>, String> {
        if (self.cancelled)() {
            return Err(CANCELLED.into());
        }
        let native = self.native;
        let memory = (language::COMPILE_MEMORY_MB << 20) + HEADROOM_BYTES;
        let sandbox = native.runtime.block_on(async {
            tokio::time::timeout(
                START_TIMEOUT,
                sandbox::Sandbox::start(&native.docker, &native.config, memory),
            )
            .await
            .map_err(|_| format!("the sandbox did not start within {START_TIMEOUT:?}"))?
        })?;
        let program = NativeProgram {
            native,
            sandbox: Mutex::new(sandbox),
            language: self.language,
            cancelled: self.cancelled,
        };
        let put = Request::PutFile {
            name: self.language.source_file.into(),
            data: source.to_vec(),
            executable: false,
        };
        match program.call(&put, Duration::ZERO)? {
            Response::Done => {}
            other => return Err(format!("writing the source: {}", unexpected(&other))),
        }
        let compile = RunRequest {
            argv: strings(self.language.compile),
            env: strings(language::ENV),
            stdin: Vec::new(),
            cpu_ms: language::COMPILE_TIME_MS,
            wall_ms: language::COMPILE_TIME_MS,
            output_bytes: 1 << 20,
            stack_bytes: 64 << 20,
        };
        let report = program.run_report(compile)?;
        Ok(
            match classify::compile_result(
                &report,
                language::COMPILE_TIME_MS,
                language::COMPILE_MEMORY_MB,
            ) {
                Ok(()) => Compiled::Program(Box::new(program)),
                Err(message) => Compiled::Error(message),
            },
        )
    }
}

/// A compiled submission in its warm container.
struct NativeProgram<'a> {
    native: &'a Native,
    sandbox: Mutex<sandbox::Sandbox>,
    language: &'static NativeLanguage,
    cancelled: &'a (dyn Fn() -> bool + Sync),
}

impl NativeProgram<'_> {
    /// One request; `extra_wait` is how long the request itself may run.
    fn call(&self, request: &Request, extra_wait: Duration) -> Result<Response, String> {
        let mut sandbox = self.sandbox.lock().unwrap_or_else(|e| e.into_inner());
        self.native.runtime.block_on(sandbox.call(request, extra_wait + ANSWER_GRACE))
    }

    fn run_report(&self, request: RunRequest) -> Result<RunReport, String> {
        let wall = Duration::from_millis(request.wall_ms);
        match self.call(&Request::Run(request), wall)? {
            Response::Ran(report) => Ok(report),
            other => Err(unexpected(&other)),
        }
    }

    /// Makes the container's memory limit what this run needs.
    fn fit_memory(&self, bytes: u64) -> Result<(), String> {
        let mut sandbox = self.sandbox.lock().unwrap_or_else(|e| e.into_inner());
        if sandbox.memory_bytes == bytes {
            return Ok(());
        }
        self.native.runtime.block_on(sandbox.set_memory(&self.native.docker, bytes))
    }
}

impl Program for NativeProgram<'_> {
    fn run(&self, stdin: &[u8], limits: &RunLimits) -> RunOutcome {
        let memory = limits.memory_mb.saturating_mul(1 << 20);
        let container_memory =
            memory + HEADROOM_BYTES + stdin.len() as u64 + 2 * limits.output_bytes;
        let wall_ms = limits.time_ms.saturating_mul(3);
        let request = RunRequest {
            argv: strings(self.language.run),
            env: strings(language::ENV),
            stdin: stdin.to_vec(),
            cpu_ms: limits.time_ms,
            wall_ms,
            output_bytes: limits.output_bytes,
            stack_bytes: memory,
        };
        let ran = if (self.cancelled)() {
            Err(CANCELLED.to_string())
        } else {
            self.fit_memory(container_memory).and_then(|()| self.run_report(request))
        };
        match ran {
            Ok(report) => classify::run_outcome(report, limits, wall_ms),
            Err(reason) => RunOutcome {
                end: judge_core::RunEnd::SystemError { reason },
                stdout: Vec::new(),
                stderr: Vec::new(),
                time_ms: 0,
                memory_kb: 0,
                fuel: None,
            },
        }
    }
}

impl Drop for NativeProgram<'_> {
    fn drop(&mut self) {
        let id = &self.sandbox.get_mut().unwrap_or_else(|e| e.into_inner()).id;
        self.native.runtime.block_on(sandbox::remove(&self.native.docker, id));
    }
}

fn unexpected(response: &Response) -> String {
    match response {
        Response::Failed(message) => format!("the supervisor failed: {message}"),
        other => format!("the supervisor answered out of turn: {other:?}"),
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A tokio runtime that is shut down in the background when dropped, so a
/// [`Native`] may be dropped anywhere (even inside another runtime).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    fn new() -> std::io::Result<Runtime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("gavel-docker")
            .enable_all()
            .build()?;
        Ok(Runtime(Some(runtime)))
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.0.as_ref().expect("the runtime lives until drop").block_on(future)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}
