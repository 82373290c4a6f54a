//! `gavel submit PROBLEM FILE`: submit a solution to a backend
//! (`POST /api/v1/submissions`), follow it live and print its verdict table
//! as `gavel judge` does (see [`super::follow`]).
//!
//! The language is guessed from the file's extension unless `--language`
//! says, by judge-core's one table (`judge_core::language`, as `gavel judge`
//! and `gavel run` guess: `.js` → `javascript`, `.py` → `python`, `.c`
//! → `c`, `.cpp` → `cpp`); a local plugins folder is not asked, since the
//! backend's runners have their own.
//!
//! The create carries an `Idempotency-Key` made once for this invocation
//! and sent again with the same request while the backend fails to answer
//! ([`crate::client::Api::create`]), so a retry never makes a second
//! submission.
//!
//! Exit codes: 0 once judged, whatever the verdict; 2 for bad input (an
//! unreadable file, a language that cannot be guessed, anything the backend
//! refuses with a 4xx: an unknown problem or language, a source too large);
//! 1 otherwise (the backend unreachable or failing, cancelled, too slow).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use protocol::client::{SubmissionView, SubmitRequest, SubmitResponse};

use super::follow::{self, Show};
use super::read_input;
use crate::BadInput;
use crate::client::ClientTarget;

/// The largest source file read (the backend's own cap is lower by default).
const MAX_SOURCE_BYTES: u64 = 1 << 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The problem's id on the backend.
    problem: String,
    /// The solution's source file.
    file: PathBuf,
    /// Language id (e.g. `javascript`, `python`, `c`, `cpp`, `python3`); guessed from the
    /// extension when omitted (`.py` is `python`, CPython in Wasm: pass `--language python3` for CPython in Docker).
    #[arg(short, long)]
    language: Option<String>,
    #[command(flatten)]
    target: ClientTarget,
    #[command(flatten)]
    show: Show,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let source = read_input(&args.file, "source", MAX_SOURCE_BYTES)?;
    let source = String::from_utf8(source)
        .map_err(|_| BadInput(format!("source {}: not UTF-8 text", args.file.display())))?;
    let language = match &args.language {
        Some(language) => language.clone(),
        None => judge_core::language::guess(&args.file.to_string_lossy())
            .map(str::to_string)
            .ok_or_else(|| {
                BadInput(format!(
                    "source {}: cannot tell the language from its extension; pass --language",
                    args.file.display()
                ))
            })?,
    };
    let api = args.target.api()?;
    let request =
        SubmitRequest { problem_id: args.problem.clone(), language, source, labels: Vec::new() };
    let created: SubmitResponse = api
        .create("/submissions", &request)
        .with_context(|| format!("submitting {} to {}", args.file.display(), args.problem))?;
    eprintln!("gavel: submitted {}", created.submission_id);
    let view: SubmissionView = api.get(&format!("/submissions/{}", created.submission_id))?;
    follow::follow(&api, view, args.show)
}
