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
//!
//! Free code runs ([`judge_core::CodeRunner`]) get a fresh sandbox each, with
//! the same hardening: every file of the run is written into the work dir
//! under its own name and the entry is compiled with the language's command
//! naming it (so compiler messages and tracebacks name the user's file);
//! the other files are there to be included, imported or read. A run whose
//! files are named like a compile output (`main` for C and C++, `main.pyc`
//! for Python) is refused. The program then runs once as a judged case does
//! (same limits, same verdicts), its output streamed to the caller as it is
//! written, and the files it created or changed in the work dir come back as
//! artifacts.

mod classify;
pub mod image;
pub mod language;
mod sandbox;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use bollard::Docker;
use judge_core::code_run::Artifact;
use judge_core::{
    CodeRun, CodeRunOutcome, CodeRunner, Compiled, Executor, OutputTap, Program, Received,
    RunLimits, RunOutcome, SharedChannel, Stream,
};
use supervisor::wire::{OutputStream, Request, Response, RunReport, RunRequest};

pub use classify::signal_name;
pub use language::{LANGUAGES, NativeLanguage, WasmCompiler};
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
        let program = self.start(0)?;
        program.put(self.language.source_file, source)?;
        Ok(match program.compile(strings(self.language.compile))? {
            Ok(()) => Compiled::Program(Box::new(program)),
            Err(message) => Compiled::Error(message),
        })
    }
}

impl<'a> NativeExecutor<'a> {
    /// A fresh sandbox with room to compile, plus `files_bytes` of files in
    /// its work dir (a tmpfs: its pages count against the memory limit).
    fn start(&self, files_bytes: u64) -> Result<NativeProgram<'a>, String> {
        Ok(NativeProgram {
            sandboxed: self.native.start(files_bytes)?,
            language: self.language,
            cancelled: self.cancelled,
        })
    }
}

impl Native {
    /// A fresh sandbox with room to compile, plus `files_bytes` of files in
    /// its work dir (a tmpfs: its pages count against the memory limit).
    fn start(&self, files_bytes: u64) -> Result<Sandboxed<'_>, String> {
        let memory = (language::COMPILE_MEMORY_MB << 20) + HEADROOM_BYTES + files_bytes;
        let sandbox = self.runtime.block_on(async {
            tokio::time::timeout(
                START_TIMEOUT,
                sandbox::Sandbox::start(&self.docker, &self.config, memory),
            )
            .await
            .map_err(|_| format!("the sandbox did not start within {START_TIMEOUT:?}"))?
        })?;
        Ok(Sandboxed { native: self, sandbox: Mutex::new(sandbox) })
    }

    /// Compiles C or C++ to a WASI command module in a fresh sandbox:
    /// `files` (flat names: the source and the headers it includes) are
    /// written to the work dir and `entry` is compiled with `compiler`,
    /// under the compile limits. `Ok(Err(message))` is a compile error (the
    /// compiler's message, or the limit it hit); `Err` the sandbox's failure.
    pub fn compile_to_wasm(
        &self,
        compiler: &WasmCompiler,
        files: &BTreeMap<String, Vec<u8>>,
        entry: &str,
    ) -> Result<Result<Vec<u8>, String>, String> {
        if !files.contains_key(entry) {
            return Err(format!("{entry} is not among the files to compile"));
        }
        if let Some(name) = files.keys().find(|n| n.contains('/') || *n == language::WASM_OUTPUT) {
            return Err(format!("{name:?} cannot be written to the compile's work dir"));
        }
        let files_bytes: u64 = files.values().map(|data| data.len() as u64).sum();
        let sandboxed = self.start(files_bytes)?;
        for (name, data) in files {
            sandboxed.put(name, data)?;
        }
        match sandboxed.call(&Request::Snapshot, Duration::ZERO)? {
            Response::Done => {}
            other => return Err(format!("taking a snapshot: {}", unexpected(&other))),
        }
        if let Err(message) = sandboxed.compile(compiler.command_for(entry))? {
            return Ok(Err(message));
        }
        sandboxed.fit_memory(
            (language::COMPILE_MEMORY_MB << 20) + HEADROOM_BYTES + files_bytes + 2 * MAX_WASM_BYTES,
        )?;
        let collect = Request::Collect { max_files: 4, max_bytes: MAX_WASM_BYTES };
        match sandboxed.call(&collect, Duration::ZERO)? {
            Response::Files { files, dropped } => {
                if dropped.iter().any(|name| name == language::WASM_OUTPUT) {
                    return Ok(Err(format!(
                        "the compiled program is over {} MiB",
                        MAX_WASM_BYTES >> 20
                    )));
                }
                files
                    .into_iter()
                    .find(|(name, _)| name == language::WASM_OUTPUT)
                    .map(|(_, wasm)| Ok(wasm))
                    .ok_or_else(|| format!("the compiler wrote no {}", language::WASM_OUTPUT))
            }
            other => Err(format!("collecting {}: {}", language::WASM_OUTPUT, unexpected(&other))),
        }
    }
}

/// The largest module a Wasm compile may produce.
pub const MAX_WASM_BYTES: u64 = 64 << 20;

impl CodeRunner for NativeExecutor<'_> {
    /// One fresh sandbox: the files, the compile (a compile error ends it),
    /// a snapshot of the work dir, the run with its output sent to `tap`
    /// every ≤ 50 ms while it runs, then what changed in the work dir.
    fn run_code(&self, run: &CodeRun, tap: OutputTap) -> Result<CodeRunOutcome, String> {
        run.validate()?;
        let language = self.language;
        if let Some(name) =
            run.files.keys().find(|n| language.compile_outputs.contains(&n.as_str()))
        {
            return Err(format!(
                "files: {name:?} is where the {} compiler writes its output; rename the file",
                language.id
            ));
        }
        if (self.cancelled)() {
            return Err(CANCELLED.into());
        }
        let files_bytes: u64 = run.files.values().map(|data| data.len() as u64).sum();
        let program = self.start(files_bytes)?;
        for (name, data) in &run.files {
            program.put(name, data)?;
        }
        if let Err(message) = program.compile(language.compile_command(&run.entry))? {
            return Ok(CodeRunOutcome::CompileError(message));
        }
        match program.call(&Request::Snapshot, Duration::ZERO)? {
            Response::Done => {}
            other => return Err(format!("taking a snapshot: {}", unexpected(&other))),
        }
        if (self.cancelled)() {
            return Err(CANCELLED.into());
        }
        let (mut request, memory) = case_request(language, &run.stdin, &run.limits);
        request.argv.extend(run.args.iter().cloned());
        request.env.extend(strings(language.code_run_env));
        request.env.extend(run.env.iter().map(|(key, value)| format!("{key}={value}")));
        request.stream = true;
        let wall_ms = request.wall_ms;
        program.fit_memory(memory + files_bytes)?;
        let mut on_output = |stream: OutputStream, data: &[u8]| {
            let stream = match stream {
                OutputStream::Stdout => Stream::Stdout,
                OutputStream::Stderr => Stream::Stderr,
            };
            tap(stream, data);
        };
        let report = program.run_report_streaming(request, &mut on_output)?;
        let outcome = classify::run_outcome(report, &run.limits, wall_ms);
        // The supervisor holds the files it returns (and their frame) in
        // memory: make room beyond what the program had.
        let limits = run.artifacts;
        let room = limits.max_bytes.min(self.native.config.work_mb << 20);
        program.fit_memory(memory + files_bytes + 2 * room)?;
        let collect =
            Request::Collect { max_files: limits.max_files as u64, max_bytes: limits.max_bytes };
        match program.call(&collect, Duration::ZERO)? {
            Response::Files { files, dropped } => Ok(CodeRunOutcome::Ran {
                outcome,
                artifacts: files.into_iter().map(|(name, data)| Artifact { name, data }).collect(),
                artifacts_dropped: dropped,
            }),
            other => Err(format!("collecting artifacts: {}", unexpected(&other))),
        }
    }
}

/// The request of one run of `language`'s program as a judged case runs it,
/// and the container memory it needs.
fn case_request(language: &NativeLanguage, stdin: &[u8], limits: &RunLimits) -> (RunRequest, u64) {
    let memory = limits.memory_mb.saturating_mul(1 << 20);
    let container_memory = memory + HEADROOM_BYTES + stdin.len() as u64 + 2 * limits.output_bytes;
    let request = RunRequest {
        argv: strings(language.run),
        env: strings(language::ENV),
        stdin: stdin.to_vec(),
        cpu_ms: limits.time_ms,
        wall_ms: limits.time_ms.saturating_mul(3),
        output_bytes: limits.output_bytes,
        stack_bytes: memory,
        stream: false,
        interactive: false,
    };
    (request, container_memory)
}

/// A compiled submission in its warm container.
struct NativeProgram<'a> {
    sandboxed: Sandboxed<'a>,
    language: &'static NativeLanguage,
    cancelled: &'a (dyn Fn() -> bool + Sync),
}

impl<'a> std::ops::Deref for NativeProgram<'a> {
    type Target = Sandboxed<'a>;

    fn deref(&self) -> &Sandboxed<'a> {
        &self.sandboxed
    }
}

/// One sandbox container, removed on drop, and the requests it serves.
struct Sandboxed<'a> {
    native: &'a Native,
    sandbox: Mutex<sandbox::Sandbox>,
}

impl Sandboxed<'_> {
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

    /// A streaming run: each output chunk goes to `on_output` as it comes.
    fn run_report_streaming(
        &self,
        request: RunRequest,
        on_output: sandbox::OnOutput<'_>,
    ) -> Result<RunReport, String> {
        let wall = Duration::from_millis(request.wall_ms);
        let mut sandbox = self.sandbox.lock().unwrap_or_else(|e| e.into_inner());
        let request = Request::Run(request);
        let call = sandbox.call_streaming(&request, wall + ANSWER_GRACE, Some(on_output));
        match self.native.runtime.block_on(call)? {
            Response::Ran(report) => Ok(report),
            other => Err(unexpected(&other)),
        }
    }

    /// Writes a file into the work dir.
    fn put(&self, name: &str, data: &[u8]) -> Result<(), String> {
        let put = Request::PutFile { name: name.into(), data: data.to_vec(), executable: false };
        match self.call(&put, Duration::ZERO)? {
            Response::Done => Ok(()),
            other => Err(format!("writing {name}: {}", unexpected(&other))),
        }
    }

    /// Runs the compile command `argv`: `Ok(Err(message))` is a compile
    /// error, `Err` the sandbox's failure.
    fn compile(&self, argv: Vec<String>) -> Result<Result<(), String>, String> {
        let compile = RunRequest {
            argv,
            env: strings(language::ENV),
            stdin: Vec::new(),
            cpu_ms: language::COMPILE_TIME_MS,
            wall_ms: language::COMPILE_TIME_MS,
            output_bytes: 1 << 20,
            stack_bytes: 64 << 20,
            stream: false,
            interactive: false,
        };
        let report = self.run_report(compile)?;
        Ok(classify::compile_result(
            &report,
            language::COMPILE_TIME_MS,
            language::COMPILE_MEMORY_MB,
        ))
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
        let (request, container_memory) = case_request(self.language, stdin, limits);
        let wall_ms = request.wall_ms;
        let ran = if (self.cancelled)() {
            Err(CANCELLED.to_string())
        } else {
            self.fit_memory(container_memory).and_then(|()| self.run_report(request))
        };
        match ran {
            Ok(report) => classify::run_outcome(report, limits, wall_ms),
            Err(reason) => RunOutcome::system_error(reason),
        }
    }

    fn interact(&self, channel: SharedChannel, limits: &RunLimits) -> RunOutcome {
        if (self.cancelled)() {
            return RunOutcome::system_error(CANCELLED);
        }
        self.interact_here(&channel, limits).unwrap_or_else(RunOutcome::system_error)
    }
}

/// How long an interactive run may last in the sandbox, beyond 3× its
/// time limit: a backstop only (the host's idleness rules and its case
/// backstop stop it first, with a `Stop`; time spent waiting for the
/// interactor is not the program's).
const INTERACTIVE_WALL_GRACE_MS: u64 = 600_000;
/// How long the bridge waits for the interactor's output before it looks
/// whether the case was stopped.
const BRIDGE_POLL: Duration = Duration::from_millis(25);

impl NativeProgram<'_> {
    /// An interactive run: the interactor's output goes to the program's
    /// stdin as `Input` frames the moment it is written (a bridge thread
    /// blocks on the channel), the program's output comes back as `Output`
    /// frames and goes to the channel at once, and each `Status` frame tells
    /// the channel whether the program used CPU and took all its input.
    fn interact_here(
        &self,
        channel: &SharedChannel,
        limits: &RunLimits,
    ) -> Result<RunOutcome, String> {
        let (mut request, container_memory) = case_request(self.language, &[], limits);
        request.interactive = true;
        request.wall_ms = limits.time_ms.saturating_mul(3) + INTERACTIVE_WALL_GRACE_MS;
        let wall_ms = request.wall_ms;
        self.fit_memory(container_memory)?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let bridge = {
            let channel = channel.clone();
            std::thread::Builder::new()
                .name("gavel-bridge".into())
                .spawn(move || bridge(&channel, &tx))
                .map_err(|e| format!("starting the bridge: {e}"))?
        };
        let mut cpu_us = 0;
        let mut on_frame = |frame: Response| match frame {
            Response::Output { data, .. } => {
                // A stopped case is told to the sandbox by the bridge.
                let _ = channel.send(&data);
            }
            Response::Status { cpu_us: now, drained } => {
                if now > cpu_us {
                    cpu_us = now;
                    channel.ran();
                }
                channel.drained(drained);
            }
            _ => {}
        };
        let answer = {
            let mut sandbox = self.sandbox.lock().unwrap_or_else(|e| e.into_inner());
            let timeout = Duration::from_millis(wall_ms) + ANSWER_GRACE;
            let request = Request::Run(request);
            let call = sandbox.interact(&request, timeout, &mut rx, &mut on_frame);
            self.native.runtime.block_on(call)
        };
        drop(rx);
        channel.close();
        let _ = bridge.join();
        match answer? {
            Response::Ran(report) => Ok(classify::run_outcome(report, limits, wall_ms)),
            other => Err(unexpected(&other)),
        }
    }
}

/// Carries what the interactor writes to the sandbox as `Input` frames,
/// then the end of input, and a `Stop` once the case is stopped; ends when
/// the run has ended (the receiver is gone).
fn bridge(channel: &SharedChannel, tx: &tokio::sync::mpsc::UnboundedSender<Request>) {
    let mut ended = false;
    loop {
        if tx.is_closed() {
            return;
        }
        if ended {
            if channel.stopped().is_some() {
                let _ = tx.send(Request::Stop);
                return;
            }
            std::thread::sleep(BRIDGE_POLL);
            continue;
        }
        let next = match channel.receive(wire_chunk(), Some(BRIDGE_POLL)) {
            Ok(Received::Data(data)) => Request::Input { data },
            Ok(Received::Nothing) => continue,
            Ok(Received::End) => {
                ended = true;
                Request::CloseInput
            }
            Err(_) => Request::Stop,
        };
        let stop = next == Request::Stop;
        if tx.send(next).is_err() || stop {
            return;
        }
    }
}

fn wire_chunk() -> usize {
    supervisor::wire::MAX_CHUNK
}

impl Drop for Sandboxed<'_> {
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
