//! Language plugins (WIT world `language`) as [`judge_core::Executor`]s.

use bytes::Bytes;
use judge_core::{
    CodeRun, CodeRunOutcome, CodeRunner, Compiled, OutputTap, Program, RunEnd, RunLimits,
    RunOutcome,
};
use wasmtime::Engine;

use crate::call::{Call, CallIo, CallReport, Failure};
use crate::limits::CallLimits;
use crate::{PluginError, PluginInfo, Refusal, on_big_stack};

mod bindings {
    wasmtime::component::bindgen!({ path: "../../wit", world: "language" });
}

/// Budgets for language plugins beyond what a problem's limits say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LanguageLimits {
    /// Fuel per millisecond of time limit: the deterministic CPU budget.
    /// A run ends as TLE when its fuel (`time_ms × fuel_per_ms`) is spent.
    pub fuel_per_ms: u64,
    /// Budgets of the `compile` call.
    pub compile: CallLimits,
}

/// A loaded language toolchain.
#[derive(Clone)]
pub struct LanguagePlugin {
    engine: Engine,
    pre: bindings::LanguagePre<crate::call::CallState>,
    info: PluginInfo,
    source_file: String,
    limits: LanguageLimits,
}

impl std::fmt::Debug for LanguagePlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanguagePlugin").field("info", &self.info).finish()
    }
}

impl LanguagePlugin {
    pub(crate) fn new(
        engine: &Engine,
        pre: wasmtime::component::InstancePre<crate::call::CallState>,
        digest: String,
        limits: LanguageLimits,
    ) -> Result<Self, PluginError> {
        let pre = bindings::LanguagePre::new(pre).map_err(|e| PluginError::wrong_world(&e))?;
        let mut call = Call::new(engine, crate::INFO_LIMITS, Bytes::new(), &[]);
        // Instantiating runs the component's start functions: a failure
        // there is told apart from one in `info`.
        let result = match pre.instantiate(&mut call.store) {
            Ok(l) => l.call_info(&mut call.store).map_err(|e| (PluginError::Info as Refusal, e)),
            Err(e) => Err((PluginError::Start as Refusal, e)),
        };
        let info = match result {
            Ok(info) => info,
            Err((refusal, e)) => return Err(refusal(call.finish(Some(e)).failure_reason())),
        };
        let source_file = info.source_file;
        if source_file.is_empty() || source_file.contains(['/', '\\']) {
            return Err(PluginError::Invalid(format!(
                "source file name {source_file:?} is not a plain file name"
            )));
        }
        let info =
            PluginInfo::new(info.id, info.name, info.version, digest, crate::PluginKind::Language)?;
        Ok(LanguagePlugin { engine: engine.clone(), pre, info, source_file, limits })
    }

    /// What the language says about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The file name a submission is stored under, e.g. `main.js`.
    pub fn source_file(&self) -> &str {
        &self.source_file
    }

    /// The extension of [`Self::source_file`], e.g. `js`.
    pub fn extension(&self) -> Option<&str> {
        self.source_file.rsplit_once('.').map(|(_, ext)| ext)
    }

    /// Compiles `source` into the program `run` takes, or the message for
    /// the contestant (CE).
    fn compile_program(&self, source: &[u8]) -> Result<Vec<u8>, String> {
        let mut call = Call::new(&self.engine, self.limits.compile, Bytes::new(), &[]);
        let result = self
            .pre
            .instantiate(&mut call.store)
            .and_then(|l| l.call_compile(&mut call.store, source));
        match result {
            Ok(compiled) => match call.finish(None).failure {
                Some(f) => Err(format!("compiler failed: {}", f.reason())),
                None => compiled,
            },
            Err(e) => {
                let report = call.finish(Some(e));
                let mut message = format!("compiler failed: {}", report.failure_reason());
                append_stderr(&mut message, &report.stderr);
                Err(message)
            }
        }
    }

    fn compile_here(&self, source: &[u8]) -> Result<Compiled<'_>, String> {
        Ok(match self.compile_program(source) {
            Ok(program) => Compiled::Program(Box::new(WasmProgram { plugin: self, program })),
            Err(message) => Compiled::Error(message),
        })
    }

    fn run_here(&self, program: &[u8], limits: &RunLimits, io: CallIo<'_>) -> RunOutcome {
        let call_limits = CallLimits {
            wall_ms: wall_backstop_ms(limits.time_ms),
            fuel: limits.time_ms.saturating_mul(self.limits.fuel_per_ms),
            memory_bytes: limits.memory_mb.saturating_mul(1 << 20),
            output_bytes: limits.output_bytes,
        };
        let args = io.args;
        let mut call = Call::with_io(&self.engine, call_limits, io);
        let result = self
            .pre
            .instantiate(&mut call.store)
            .and_then(|l| l.call_run(&mut call.store, program, args));
        let (report, status) = match result {
            Ok(status) => (call.finish(None), Some(status)),
            Err(e) => (call.finish(Some(e)), None),
        };
        tracing::debug!(
            language = %self.info.id,
            wall_ms = report.elapsed.as_millis() as u64,
            fuel = report.fuel_used,
            "run finished"
        );
        let end = match (&report.failure, status) {
            (None, Some(code)) => RunEnd::Exited { code: code.into() },
            (Some(Failure::Exit(code)), _) => RunEnd::Exited { code: *code },
            (Some(Failure::Time(reason)), _) => RunEnd::TimeLimit { reason: reason.clone() },
            (Some(Failure::Memory(reason)), _) => RunEnd::MemoryLimit { reason: reason.clone() },
            (Some(Failure::Output(reason)), _) => RunEnd::OutputLimit { reason: reason.clone() },
            (Some(Failure::Crash(reason)), _) => RunEnd::Crashed { reason: reason.clone() },
            (None, None) => unreachable!("a call without a status failed"),
        };
        RunOutcome {
            end,
            // Deterministic CPU time: the fuel burnt, in the same unit as the
            // limit, so the time shown always agrees with the TLE decision.
            time_ms: report.fuel_used.div_ceil(self.limits.fuel_per_ms.max(1)),
            memory_kb: report.peak_memory.div_ceil(1024),
            fuel: Some(report.fuel_used),
            stdout: report.stdout,
            stderr: report.stderr,
        }
    }
}

/// The wall-clock backstop of a run: fuel is the CPU budget, the wall deadline
/// only stops what fuel cannot (a guest blocked in the host), at the limit
/// plus up to one second.
pub fn wall_backstop_ms(time_ms: u64) -> u64 {
    time_ms + time_ms.min(1000)
}

fn append_stderr(message: &mut String, stderr: &[u8]) {
    if !stderr.is_empty() {
        let text = String::from_utf8_lossy(&stderr[..stderr.len().min(2000)]);
        message.push_str(": ");
        message.push_str(text.trim_end());
    }
}

impl CallReport {
    pub(crate) fn failure_reason(&self) -> String {
        match &self.failure {
            Some(f) => f.reason(),
            None => "no failure".into(),
        }
    }
}

impl judge_core::Executor for LanguagePlugin {
    fn language(&self) -> &str {
        &self.info.id
    }

    fn compile(&self, source: &[u8]) -> Result<Compiled<'_>, String> {
        on_big_stack(|| self.compile_here(source))
    }
}

/// What a language plugin's `compile` returned, run by the same plugin.
struct WasmProgram<'a> {
    plugin: &'a LanguagePlugin,
    program: Vec<u8>,
}

impl Program for WasmProgram<'_> {
    fn run(&self, stdin: &[u8], limits: &RunLimits) -> RunOutcome {
        let io = CallIo { stdin: Bytes::copy_from_slice(stdin), args: &[], env: &[], tap: None };
        on_big_stack(|| self.plugin.run_here(&self.program, limits, io))
    }
}

/// A free code run on a Wasm language: the entry is compiled and run once
/// with the run's arguments, environment and stdin, its output streamed to
/// the tap. A plugin sees no filesystem, so a run has exactly one file and
/// leaves no artifacts.
impl CodeRunner for LanguagePlugin {
    fn run_code(&self, run: &CodeRun, tap: OutputTap) -> Result<CodeRunOutcome, String> {
        run.validate()?;
        if run.files.len() > 1 {
            let others: Vec<&str> =
                run.files.keys().filter(|f| **f != run.entry).map(String::as_str).collect();
            return Ok(CodeRunOutcome::CompileError(format!(
                "{} runs one file (a Wasm plugin sees no filesystem); not visible: {}",
                self.info.id,
                others.join(", ")
            )));
        }
        let source = &run.files[&run.entry];
        let program = match on_big_stack(|| self.compile_program(source)) {
            Ok(program) => program,
            Err(message) => return Ok(CodeRunOutcome::CompileError(message)),
        };
        let env: Vec<(String, String)> =
            run.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let io = CallIo {
            stdin: Bytes::copy_from_slice(&run.stdin),
            args: &run.args,
            env: &env,
            tap: Some(tap),
        };
        let outcome = on_big_stack(|| self.run_here(&program, &run.limits, io));
        Ok(CodeRunOutcome::Ran { outcome, artifacts: Vec::new(), artifacts_dropped: Vec::new() })
    }
}
