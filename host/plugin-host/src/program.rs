//! WASI command programs: core modules for WASI preview 1, as clang makes
//! them from C and C++ for `wasm32-wasi` — submissions in the `c-wasm` and
//! `cpp-wasm` languages, testlib checkers and Kattis output validators.
//!
//! A program is not a plugin: it has no `info` and no WIT world, only
//! `_start`, arguments, stdio and the directories it is given. Each run gets
//! a fresh store with the same budgets as a plugin call (fuel, wall
//! deadline, memory cap, output cap) and WASI with no environment, no
//! network and no directory but the ones the caller preopens.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use judge_core::checker_program::{self, Contract, ProgramFacts};
use judge_core::{CheckVerdict, Checker, Program, RunLimits, RunOutcome, SharedChannel};
use wasmtime::{Engine, InstancePre, Linker, Module};

use crate::call::{Call, CallIo, CallReport, CallState, Failure, Preopen, TickHook};
use crate::language::FuelCalibration;
use crate::limits::CallLimits;
use crate::{PluginError, PluginHost, on_big_stack};

/// The import module every WASI preview-1 program links against.
const WASI_P1: &str = "wasi_snapshot_preview1";

/// A compiled WASI command module, ready to run many times.
#[derive(Clone)]
pub struct WasiProgram {
    engine: Engine,
    pre: InstancePre<CallState>,
    digest: String,
}

impl std::fmt::Debug for WasiProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiProgram").field("digest", &self.digest).finish()
    }
}

/// The linker of WASI programs: preview 1 and nothing else.
pub(crate) fn linker(engine: &Engine) -> anyhow::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, CallState::p1)?;
    Ok(linker)
}

impl PluginHost {
    /// Validates and compiles (or loads from the cache) a WASI command
    /// module: a core module that imports only `wasi_snapshot_preview1` and
    /// exports `_start` and its `memory`.
    pub fn load_program(&self, bytes: &[u8]) -> Result<WasiProgram, PluginError> {
        if bytes.get(..8) != Some(b"\0asm\x01\0\0\0") {
            return Err(PluginError::NotAComponent(
                "not a WebAssembly core module (a WASI command, e.g. from clang --target=wasm32-wasi)"
                    .into(),
            ));
        }
        let digest = crate::engine::digest(bytes);
        let module: Module = self
            .cache
            .load(&self.engine, &digest, || Ok(bytes.into()))
            .map_err(|e| PluginError::NotAComponent(format!("{e:#}")))?;
        if let Some(import) = module.imports().find(|i| i.module() != WASI_P1) {
            return Err(PluginError::Invalid(format!(
                "imports `{}::{}`; a program may import only {WASI_P1}",
                import.module(),
                import.name()
            )));
        }
        for (export, what) in [("_start", "a command's entry"), ("memory", "its memory")] {
            if module.get_export(export).is_none() {
                return Err(PluginError::WrongWorld(format!(
                    "it does not export `{export}` ({what}): build a WASI command, not a library"
                )));
            }
        }
        let pre = self.program_linker.instantiate_pre(&module).map_err(|e| {
            PluginError::Invalid(format!("imports something WASI preview 1 does not have: {e:#}"))
        })?;
        Ok(WasiProgram { engine: self.engine.clone(), pre, digest })
    }
}

impl WasiProgram {
    /// SHA-256 of the module, lowercase hex.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Runs `_start` once in a fresh store. A program that returns from
    /// `_start` exited with status 0 ([`CallReport::exit_code`]). Must run
    /// on a big stack ([`on_big_stack`]).
    pub fn run(&self, limits: CallLimits, io: CallIo<'_>) -> CallReport {
        let mut call = match Call::with_io(&self.engine, limits, CallIo { core_module: true, ..io })
        {
            Ok(call) => call,
            Err(e) => return CallReport::refused(format!("preparing its files: {e:#}")),
        };
        let result = self.pre.instantiate(&mut call.store).and_then(|instance| {
            let start = instance.get_typed_func::<(), ()>(&mut call.store, "_start")?;
            start.call(&mut call.store, ())
        });
        call.finish(result.err())
    }

    /// This program as a judged submission's [`Program`]: each case runs
    /// with fuel and time from `calibration`.
    pub fn judged(self, calibration: FuelCalibration) -> JudgedProgram {
        JudgedProgram { program: self, calibration }
    }
}

/// A WASI program judged case by case: `time_ms` is fuel ÷ the language's
/// calibration, as for Wasm language plugins.
#[derive(Debug)]
pub struct JudgedProgram {
    program: WasiProgram,
    calibration: FuelCalibration,
}

impl Program for JudgedProgram {
    fn run(&self, stdin: &[u8], limits: &RunLimits) -> RunOutcome {
        let call_limits = self.calibration.call_limits(limits);
        let io = CallIo::stdin(Bytes::copy_from_slice(stdin));
        let report = on_big_stack(|| self.program.run(call_limits, io));
        report.into_run_outcome(&self.calibration)
    }

    fn interact(&self, channel: SharedChannel, limits: &RunLimits) -> RunOutcome {
        let call_limits = self.calibration.call_limits(limits);
        let io = CallIo::interactive(channel.clone());
        let report = on_big_stack(|| self.program.run(call_limits, io));
        channel.close();
        report.into_run_outcome(&self.calibration)
    }
}

impl CallReport {
    /// A WASI program's run as judge-core's outcome, its time in
    /// `calibration`'s milliseconds (returning from `_start` is status 0).
    pub fn into_run_outcome(self, calibration: &FuelCalibration) -> RunOutcome {
        let status = self.failure.is_none().then_some(0);
        self.into_outcome(status, calibration)
    }
}

/// A checker program (testlib checker, Kattis output validator) as
/// judge-core's [`Checker`]: each check writes the case's three files to a
/// fresh temporary folder the program sees read-only at
/// [`checker_program::FILES_DIR`], and gives a Kattis validator an empty
/// writable feedback folder; it sees nothing else.
#[derive(Debug)]
pub struct ProgramChecker {
    program: WasiProgram,
    contract: Contract,
    limits: CallLimits,
}

impl ProgramChecker {
    /// `program` checking under `contract` with a checker call's budgets.
    pub fn new(program: WasiProgram, contract: Contract, limits: CallLimits) -> Self {
        ProgramChecker { program, contract, limits }
    }

    fn check_here(
        &self,
        input: &[u8],
        expected: &[u8],
        actual: &[u8],
        args: &[String],
    ) -> Result<CheckVerdict, String> {
        let files =
            tempfile::tempdir().map_err(|e| format!("a folder for the checker's files: {e}"))?;
        // Only a Kattis validator writes feedback files.
        let feedback = (self.contract == Contract::Kattis)
            .then(tempfile::tempdir)
            .transpose()
            .map_err(|e| format!("a feedback folder: {e}"))?;
        let feedback_quota = feedback.as_ref().map(|dir| {
            let dir = dir.path().to_path_buf();
            Arc::new(move || within_feedback_quota(&dir)) as TickHook
        });
        let write = |name: &str, data: &[u8]| {
            std::fs::write(files.path().join(name), data)
                .map_err(|e| format!("writing {name}: {e}"))
        };
        write("input", input)?;
        write("answer", expected)?;
        let stdin = if self.contract.output_on_stdin() {
            Bytes::copy_from_slice(actual)
        } else {
            write("output", actual)?;
            Bytes::new()
        };
        let mut preopens = vec![Preopen {
            host: files.path().to_path_buf(),
            guest: checker_program::FILES_DIR.into(),
            writable: false,
        }];
        if let Some(feedback) = &feedback {
            preopens.push(Preopen {
                host: feedback.path().to_path_buf(),
                guest: checker_program::FEEDBACK_DIR.into(),
                writable: true,
            });
        }
        let args = self.contract.args(args);
        let io = CallIo {
            args: &args,
            preopens: &preopens,
            on_tick: feedback_quota,
            ..CallIo::stdin(stdin)
        };
        let report = self.program.run(self.limits, io);
        // Looked at while it runs (every tick) and once more after it ends,
        // so a validator that writes too much in its last instants fails too.
        let over_quota = feedback.as_ref().and_then(|dir| within_feedback_quota(dir.path()).err());
        if let Some(reason) = over_quota {
            return Ok(CheckVerdict::Fail { message: format!("the checker program: {reason}") });
        }
        let Some(exit_code) = report.exit_code() else {
            let reason = report.failure.as_ref().map(Failure::reason).unwrap_or_default();
            return Ok(CheckVerdict::Fail { message: format!("the checker program: {reason}") });
        };
        let feedback_file =
            |name: &str| feedback.as_ref().and_then(|dir| read_capped(&dir.path().join(name)));
        let facts = ProgramFacts {
            exit_code,
            stderr: report.stderr,
            judge_message: feedback_file("judgemessage.txt"),
            score: feedback_file("score.txt"),
        };
        Ok(match self.contract {
            Contract::Testlib => checker_program::testlib_verdict(&facts),
            Contract::Kattis => checker_program::kattis_verdict(&facts),
        })
    }
}

/// `Err` with the reason when a validator's feedback folder holds more than
/// [`checker_program::FEEDBACK_BYTES`] or [`checker_program::FEEDBACK_ENTRIES`]
/// (links are counted, never followed). Stops counting at the first excess,
/// so a folder flooded with files costs one bounded walk.
fn within_feedback_quota(dir: &Path) -> Result<(), String> {
    use checker_program::{FEEDBACK_BYTES, FEEDBACK_ENTRIES};
    let unreadable = |e: std::io::Error| format!("its feedback folder could not be read: {e}");
    let (mut bytes, mut entries) = (0u64, 0usize);
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            entries += 1;
            if entries > FEEDBACK_ENTRIES {
                return Err(format!("it created more than {FEEDBACK_ENTRIES} feedback files"));
            }
            let metadata = entry.path().symlink_metadata().map_err(unreadable)?;
            if metadata.is_dir() {
                folders.push(entry.path());
            } else {
                bytes += metadata.len();
            }
            if bytes > FEEDBACK_BYTES {
                return Err(format!("it wrote more than {} KiB of feedback", FEEDBACK_BYTES >> 10));
            }
        }
    }
    Ok(())
}

/// The start of a feedback file, if the program wrote it.
fn read_capped(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut data = Vec::new();
    // Capped by `take`: a feedback file is read to at most a message's length.
    #[allow(clippy::disallowed_methods)]
    file.take(checker_program::MESSAGE_BYTES as u64).read_to_end(&mut data).ok()?;
    Some(data)
}

impl Checker for ProgramChecker {
    fn check(&self, input: &[u8], expected: &[u8], actual: &[u8], args: &[String]) -> CheckVerdict {
        on_big_stack(|| self.check_here(input, expected, actual, args))
            .unwrap_or_else(|message| CheckVerdict::Fail { message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checker_program::{FEEDBACK_BYTES, FEEDBACK_ENTRIES};

    #[test]
    fn the_feedback_quota_counts_bytes_in_every_folder_and_every_entry() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(within_feedback_quota(dir.path()), Ok(()));
        std::fs::write(dir.path().join("judgemessage.txt"), b"fine").unwrap();
        std::fs::create_dir(dir.path().join("nested")).unwrap();
        let nested = dir.path().join("nested/big");
        std::fs::write(&nested, vec![b'x'; FEEDBACK_BYTES as usize - 4]).unwrap();
        assert_eq!(within_feedback_quota(dir.path()), Ok(()), "exactly the quota is allowed");
        std::fs::write(&nested, vec![b'x'; FEEDBACK_BYTES as usize - 3]).unwrap();
        let over = within_feedback_quota(dir.path()).unwrap_err();
        assert!(over.contains("KiB of feedback"), "{over}");

        let dir = tempfile::tempdir().unwrap();
        for i in 0..FEEDBACK_ENTRIES {
            std::fs::write(dir.path().join(format!("f{i}")), b"").unwrap();
        }
        assert_eq!(within_feedback_quota(dir.path()), Ok(()));
        std::fs::write(dir.path().join("one-more"), b"").unwrap();
        let over = within_feedback_quota(dir.path()).unwrap_err();
        assert!(over.contains("feedback files"), "{over}");
    }
}
