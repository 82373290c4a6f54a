//! Language plugins (WIT world `language`) as [`judge_core::Executor`]s.

use bytes::Bytes;
use judge_core::{
    CodeRun, CodeRunOutcome, CodeRunner, Compiled, OutputTap, Program, RunEnd, RunLimits,
    RunOutcome, SharedChannel,
};
use wasmtime::Engine;

use crate::call::{Call, CallIo, CallReport, Failure};
use crate::limits::CallLimits;
use crate::{PluginError, PluginInfo, Refusal, on_big_stack};

mod bindings {
    wasmtime::component::bindgen!({ path: "../../wit", world: "language" });
}

/// How a language's fuel maps to time, as its `info` declares it (see
/// `fuel-per-ms` and `fuel-per-cpu-ms` in `wit/plugin.wit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FuelCalibration {
    /// Fuel counted as one millisecond of reported time: calibrated against
    /// the language's native reference implementation.
    pub fuel_per_ms: u64,
    /// Fuel the implementation burns per millisecond of real CPU time.
    pub fuel_per_cpu_ms: u64,
}

/// How much slower than on an idle reference machine a run may go before the
/// wall-clock backstop stops it: room for a loaded host (every core busy
/// with other runs) and a slower CPU.
pub const WALL_SLACK: u64 = 3;

impl FuelCalibration {
    /// The values a plugin may declare for either figure.
    pub const RANGE: std::ops::RangeInclusive<u64> = 100_000..=1_000_000_000;

    /// A calibration, if both figures are in [`Self::RANGE`].
    pub fn new(fuel_per_ms: u64, fuel_per_cpu_ms: u64) -> Result<Self, PluginError> {
        for (name, value) in [("fuel-per-ms", fuel_per_ms), ("fuel-per-cpu-ms", fuel_per_cpu_ms)] {
            if !Self::RANGE.contains(&value) {
                return Err(PluginError::Invalid(format!(
                    "{name} {value} is outside {}..={}",
                    Self::RANGE.start(),
                    Self::RANGE.end()
                )));
            }
        }
        Ok(FuelCalibration { fuel_per_ms, fuel_per_cpu_ms })
    }

    /// The fuel budget of a run with this time limit.
    pub fn fuel_for(&self, time_ms: u64) -> u64 {
        time_ms.saturating_mul(self.fuel_per_ms)
    }

    /// The time a run reports for the fuel it burnt: deterministic, and in
    /// the unit of the limit, so it always agrees with the TLE decision.
    pub fn time_for(&self, fuel: u64) -> u64 {
        fuel.div_ceil(self.fuel_per_ms)
    }

    /// The wall-clock backstop of a run: fuel is the CPU budget; the wall
    /// deadline only stops what fuel cannot (a guest blocked in the host). It
    /// follows the engine's real speed, not the calibrated time: the real time
    /// the whole budget takes, times [`WALL_SLACK`], plus a second.
    pub fn wall_backstop_ms(&self, time_ms: u64) -> u64 {
        let cpu_ms = self.fuel_for(time_ms).div_ceil(self.fuel_per_cpu_ms);
        cpu_ms.saturating_mul(WALL_SLACK).saturating_add(1000)
    }

    /// The budgets of one judged run under `limits`.
    pub fn call_limits(&self, limits: &RunLimits) -> CallLimits {
        CallLimits {
            wall_ms: self.wall_backstop_ms(limits.time_ms),
            fuel: self.fuel_for(limits.time_ms),
            memory_bytes: limits.memory_mb.saturating_mul(1 << 20),
            output_bytes: limits.output_bytes,
        }
    }
}

/// A loaded language toolchain.
#[derive(Clone)]
pub struct LanguagePlugin {
    engine: Engine,
    pre: bindings::LanguagePre<crate::call::CallState>,
    info: PluginInfo,
    source_file: String,
    calibration: FuelCalibration,
    compile_limits: CallLimits,
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
        compile_limits: CallLimits,
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
        let calibration = FuelCalibration::new(info.fuel_per_ms, info.fuel_per_cpu_ms)?;
        let info =
            PluginInfo::new(info.id, info.name, info.version, digest, crate::PluginKind::Language)?;
        Ok(LanguagePlugin {
            engine: engine.clone(),
            pre,
            info,
            source_file,
            calibration,
            compile_limits,
        })
    }

    /// What the language says about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The file name a submission is stored under, e.g. `main.js`.
    pub fn source_file(&self) -> &str {
        &self.source_file
    }

    /// How the language's fuel maps to time.
    pub fn calibration(&self) -> FuelCalibration {
        self.calibration
    }

    /// The extension of [`Self::source_file`], e.g. `js`.
    pub fn extension(&self) -> Option<&str> {
        self.source_file.rsplit_once('.').map(|(_, ext)| ext)
    }

    /// Compiles `source` into the program `run` takes, or the message for
    /// the contestant (CE).
    fn compile_program(&self, source: &[u8]) -> Result<Vec<u8>, String> {
        let mut call = Call::new(&self.engine, self.compile_limits, Bytes::new(), &[]);
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
        let call_limits = self.calibration.call_limits(limits);
        let args = io.args;
        let mut call = Call::with_io(&self.engine, call_limits, io)
            .expect("a language run has no preopened directory to fail on");
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
        report.into_outcome(status.map(i32::from), &self.calibration)
    }
}

impl CallReport {
    /// The run's outcome: how it ended (`status` is what the guest
    /// returned, when it returned), its output, and its time in the
    /// calibration's milliseconds.
    pub(crate) fn into_outcome(
        self,
        status: Option<i32>,
        calibration: &FuelCalibration,
    ) -> RunOutcome {
        let end = match (&self.failure, status) {
            (None, Some(code)) => RunEnd::Exited { code },
            (Some(Failure::Exit(code)), _) => RunEnd::Exited { code: *code },
            (Some(Failure::Time(reason)), _) => RunEnd::TimeLimit { reason: reason.clone() },
            (Some(Failure::Memory(reason)), _) => RunEnd::MemoryLimit { reason: reason.clone() },
            (Some(Failure::Output(reason)), _) => RunEnd::OutputLimit { reason: reason.clone() },
            (Some(Failure::Crash(reason)), _) => RunEnd::Crashed { reason: reason.clone() },
            (Some(Failure::Host(reason)), _) => RunEnd::SystemError { reason: reason.clone() },
            (None, None) => unreachable!("a call without a status failed"),
        };
        RunOutcome {
            end,
            time_ms: calibration.time_for(self.fuel_used),
            memory_kb: self.peak_memory.div_ceil(1024),
            fuel: Some(self.fuel_used),
            wall_ms: Some(self.elapsed.as_millis() as u64),
            stdout: self.stdout,
            stderr: self.stderr,
        }
    }
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
        let io = CallIo::stdin(Bytes::copy_from_slice(stdin));
        on_big_stack(|| self.plugin.run_here(&self.program, limits, io))
    }

    fn interact(&self, channel: SharedChannel, limits: &RunLimits) -> RunOutcome {
        let io = CallIo::interactive(channel.clone());
        let outcome = on_big_stack(|| self.plugin.run_here(&self.program, limits, io));
        channel.close();
        outcome
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
            args: &run.args,
            env: &env,
            tap: Some(tap),
            ..CallIo::stdin(Bytes::copy_from_slice(&run.stdin))
        };
        let outcome = on_big_stack(|| self.run_here(&program, &run.limits, io));
        Ok(CodeRunOutcome::Ran { outcome, artifacts: Vec::new(), artifacts_dropped: Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_turns_limits_into_fuel_and_fuel_into_time() {
        let c = FuelCalibration::new(16_000_000, 8_000_000).unwrap();
        assert_eq!(c.fuel_for(1000), 16_000_000_000);
        assert_eq!(c.time_for(16_000_000_000), 1000);
        assert_eq!(c.time_for(16_000_001), 2, "a started millisecond counts");
        // 1 s of limit is 2 s of this engine's CPU: 3 × 2 s + 1 s of wall.
        assert_eq!(c.wall_backstop_ms(1000), 7000);
    }

    #[test]
    fn calibration_out_of_range_is_refused_with_the_field_name() {
        let e = FuelCalibration::new(0, 8_000_000).unwrap_err().to_string();
        assert!(e.contains("fuel-per-ms 0 is outside"), "{e}");
        let e = FuelCalibration::new(8_000_000, u64::MAX).unwrap_err().to_string();
        assert!(e.contains("fuel-per-cpu-ms"), "{e}");
    }
}
