//! Free code runs (`docs/contract.md` §5, `/runs`): one program run once, with no problem
//! and no checker — the "run my code" case. Its output is streamed to an
//! [`OutputTap`] as it is produced, and files it leaves in its work dir come
//! back as [`Artifact`]s.
//!
//! The request's shape is checked here ([`CodeRun::validate`]) so the
//! backend refuses a bad one with the same words an executor would use.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::exec::{RunLimits, RunOutcome};

/// At most this many files in a run.
pub const MAX_FILES: usize = 64;
/// At most this many arguments, and environment variables.
pub const MAX_ARGS: usize = 256;
/// The longest file name, argument, variable name or value, in bytes.
pub const MAX_WORD_BYTES: usize = 4096;

/// What to run and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRun {
    /// Plain file names (no directories) → contents.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The file that is compiled or interpreted; one of `files`.
    pub entry: String,
    pub stdin: Vec<u8>,
    /// The program's arguments (after its name).
    pub args: Vec<String>,
    /// The program's environment, added to the executor's fixed one (PATH,
    /// HOME, …); nothing of the host's environment is passed.
    pub env: BTreeMap<String, String>,
    /// `time_ms` is CPU time (native) or fuel-metered time (Wasm); the wall
    /// backstop is the executor's, as for judged cases.
    pub limits: RunLimits,
    pub artifacts: ArtifactLimits,
}

/// How much of the work dir comes back after the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactLimits {
    /// At most this many files (the rest are listed as dropped).
    pub max_files: usize,
    /// At most this many bytes of all files together.
    pub max_bytes: u64,
}

/// Which output stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Receives a run's output while it is produced, chunk by chunk in the order
/// written within each stream (the same bytes end up in [`RunOutcome`]'s
/// `stdout`/`stderr`, so never more than the output cap). Between stdout
/// and stderr the order is only as fine as the executor's polling (every
/// ≤ 50 ms for the Docker executor). The tap is called on the executor's
/// thread while the program runs: it should return quickly.
pub type OutputTap = Arc<dyn Fn(Stream, &[u8]) + Send + Sync>;

/// A file the program wrote (or changed) in its work dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// A plain file name, or a `/`-separated path below the work dir.
    pub name: String,
    pub data: Vec<u8>,
}

/// How a code run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeRunOutcome {
    /// The entry did not compile: the compiler's message; nothing ran.
    CompileError(String),
    /// The program ran (whatever its exit).
    Ran {
        outcome: RunOutcome,
        artifacts: Vec<Artifact>,
        /// Files left out because of [`ArtifactLimits`] (names only).
        artifacts_dropped: Vec<String>,
    },
}

/// An executor that can run free code (Wasm language plugins and the Docker
/// executor both do).
pub trait CodeRunner {
    /// Compiles `run.entry` (with the other files beside it) and runs it
    /// once, sending output to `tap` as it comes. `Err` is the executor's own
    /// failure (→ JE), never the program's.
    fn run_code(&self, run: &CodeRun, tap: OutputTap) -> Result<CodeRunOutcome, String>;
}

impl CodeRun {
    /// Checks the request's shape: plain, unique-enough file names, an entry
    /// among them, sane arguments and environment. `Err` says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        validate_parts(self.files.keys(), &self.entry, &self.args, &self.env)
    }
}

/// [`CodeRun::validate`] on borrowed parts (the backend checks a request
/// before it builds a run).
pub fn validate_parts<'a>(
    files: impl ExactSizeIterator<Item = &'a String>,
    entry: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
) -> Result<(), String> {
    let count = files.len();
    if count == 0 {
        return Err("files: at least one file is needed".into());
    }
    if count > MAX_FILES {
        return Err(format!("files: {count} files, at most {MAX_FILES}"));
    }
    let mut has_entry = false;
    for name in files {
        check_file_name(name).map_err(|e| format!("files: {e}"))?;
        has_entry |= name == entry;
    }
    if !has_entry {
        return Err(format!("entry: {entry:?} is not one of the files"));
    }
    if args.len() > MAX_ARGS {
        return Err(format!("args: {} arguments, at most {MAX_ARGS}", args.len()));
    }
    for arg in args {
        check_word("args", arg)?;
    }
    if env.len() > MAX_ARGS {
        return Err(format!("env: {} variables, at most {MAX_ARGS}", env.len()));
    }
    for (key, value) in env {
        let valid_key = !key.is_empty()
            && !key.starts_with(|c: char| c.is_ascii_digit())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_key || key.len() > MAX_WORD_BYTES {
            return Err(format!("env: {key:?} is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"));
        }
        check_word("env", value)?;
    }
    Ok(())
}

/// A plain file name: no directory part, not `.`/`..`, no control
/// characters, not hidden behind a leading `-` (so it is never an option).
pub fn check_file_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.starts_with('-')
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if plain { Ok(()) } else { Err(format!("{name:?} is not a plain file name")) }
}

fn check_word(field: &str, word: &str) -> Result<(), String> {
    if word.len() > MAX_WORD_BYTES {
        return Err(format!("{field}: a value is longer than {MAX_WORD_BYTES} bytes"));
    }
    if word.contains('\0') {
        return Err(format!("{field}: a value contains a NUL byte"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(files: &[&str], entry: &str) -> CodeRun {
        CodeRun {
            files: files.iter().map(|f| (f.to_string(), Vec::new())).collect(),
            entry: entry.into(),
            stdin: Vec::new(),
            args: Vec::new(),
            env: BTreeMap::new(),
            limits: RunLimits { time_ms: 1000, memory_mb: 64, output_bytes: 1 << 16 },
            artifacts: ArtifactLimits { max_files: 8, max_bytes: 1 << 20 },
        }
    }

    #[test]
    fn a_plain_run_is_valid() {
        assert_eq!(run(&["main.py", "util.py"], "main.py").validate(), Ok(()));
    }

    #[test]
    fn bad_shapes_are_refused_with_the_field_named() {
        let cases: &[(CodeRun, &str)] = &[
            (run(&[], "main.py"), "files: at least one"),
            (run(&["main.py"], "other.py"), "entry:"),
            (run(&["../etc/passwd"], "../etc/passwd"), "not a plain file name"),
            (run(&["a/b.py"], "a/b.py"), "not a plain file name"),
            (run(&[".."], ".."), "not a plain file name"),
            (run(&["-rf"], "-rf"), "not a plain file name"),
            (run(&["a\nb"], "a\nb"), "not a plain file name"),
        ];
        for (run, expected) in cases {
            let error = run.validate().unwrap_err();
            assert!(error.contains(expected), "{:?}: {error}", run.files.keys());
        }
        let mut with_env = run(&["main.py"], "main.py");
        with_env.env.insert("1BAD".into(), "x".into());
        assert!(with_env.validate().unwrap_err().starts_with("env:"));
        with_env.env.clear();
        with_env.env.insert("GOOD_1".into(), "a\0b".into());
        assert!(with_env.validate().unwrap_err().contains("NUL"));
        let mut with_args = run(&["main.py"], "main.py");
        with_args.args = vec!["x".repeat(MAX_WORD_BYTES + 1)];
        assert!(with_args.validate().unwrap_err().starts_with("args:"));
    }
}
