//! `gavel run FILE...`: run a program on a backend (`POST /api/v1/runs`) and
//! stream its output into this terminal as it is produced: the program's
//! stdout to stdout, its stderr to stderr, then one status line on stderr.
//!
//! The first file is the entry unless `--entry` names another; the language
//! is guessed from the entry's extension (judge-core's `language` table, as
//! `gavel judge` does: `.py` is `python`, the Wasm CPython) unless
//! `--language` says, except that a `.py` entry among several files runs as
//! `python3` (the Docker CPython): a Wasm plugin sees no files but its
//! source, so `import helper` could not work there. The
//! stream (`GET /runs/{id}/events`, SSE) is followed until its `end` event;
//! if the connection drops it is opened again and events already shown
//! (by their sequence number) are skipped.
//!
//! The create carries a fresh random `Idempotency-Key`; a create that gets
//! no answer (connection refused or reset, a timeout) or a `5xx` is sent
//! again with the same key a few times, backing off, so a backend that
//! stored the run but died before answering is not asked for a second one.
//! (That plumbing, shared with `submit` and `watch`, is [`crate::client`].)
//!
//! Exit codes: the program's own when it ran to an exit (0 when it
//! succeeded), 2 for bad input (files, flags, refused by the backend), 1 when
//! the run ended otherwise (TLE, MLE, OLE, CE, JE, cancelled) or the backend
//! failed. `--json` prints the final `RunView` instead of the output.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use protocol::runs::{RunCreated, RunLimitsRequest, RunRequest, RunStatus, RunView};

use crate::BadInput;
use crate::client::{Api, ClientTarget, REQUEST_TIMEOUT, SseEvent};

/// The most bytes of all files (and of stdin) sent.
const MAX_INPUT_BYTES: u64 = 8 << 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The program's files; the first is the entry unless `--entry` says.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The language id [default: from the entry's extension: c; cpp, cc, cxx → cpp; js →
    /// javascript; py → python (CPython in Wasm, one file) or, with more than one file,
    /// python3 (CPython in Docker, which sees every file)].
    #[arg(long, short)]
    language: Option<String>,
    /// Which file is compiled or interpreted (a file name among FILES).
    #[arg(long)]
    entry: Option<String>,
    /// A file whose contents are the program's stdin.
    #[arg(long)]
    stdin: Option<PathBuf>,
    /// An argument for the program (repeatable).
    #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
    args: Vec<String>,
    /// An environment variable for the program, `KEY=VALUE` (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// CPU time limit in ms [backend default: 5000].
    #[arg(long)]
    time_ms: Option<u64>,
    /// Memory limit in MiB [backend default: 256].
    #[arg(long)]
    memory_mb: Option<u64>,
    /// Output limit (stdout and stderr together) in KiB [backend default: 256].
    #[arg(long)]
    output_kb: Option<u64>,
    /// Download the files the program left in its work dir into this folder.
    #[arg(long, value_name = "DIR")]
    artifacts: Option<PathBuf>,
    /// How long to wait for the run to end, in seconds (queueing included).
    #[arg(long, default_value_t = 600)]
    wait_s: u64,
    #[command(flatten)]
    target: ClientTarget,
    /// Print the final `RunView` as JSON instead of streaming the output.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let request = build_request(&args)?;
    let api = args.target.api()?;
    let created: RunCreated = api.create("/runs", &request).context("creating the run")?;
    let deadline = Instant::now() + Duration::from_secs(args.wait_s);
    let view = follow(&api, &created.run_id, deadline, !args.json)
        .with_context(|| format!("run {}", created.run_id))?;
    if let Some(dir) = &args.artifacts {
        download_artifacts(&api, &view, dir)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        eprintln!("{}", summary(&view));
    }
    Ok(exit_code(&view))
}

/// The request the flags and files describe.
fn build_request(args: &Args) -> anyhow::Result<RunRequest> {
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    for path in &args.files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| BadInput(format!("{}: not a file name", path.display())))?
            .to_string();
        let text = read_text(path, MAX_INPUT_BYTES.saturating_sub(total))?;
        total += text.len() as u64;
        if files.insert(name.clone(), text).is_some() {
            return Err(BadInput(format!("two files are named {name}")).into());
        }
    }
    let entry = match &args.entry {
        Some(entry) => entry.clone(),
        None => args.files[0].file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string(),
    };
    let language = match &args.language {
        Some(language) => language.clone(),
        None => match judge_core::language::guess(&entry) {
            // A Wasm plugin sees only its source: other files need Docker.
            Some("python") if args.files.len() > 1 => "python3".to_string(),
            Some(language) => language.to_string(),
            None => {
                let why =
                    format!("{entry}: cannot tell the language from its name; use --language");
                return Err(BadInput(why).into());
            }
        },
    };
    let mut env = BTreeMap::new();
    for pair in &args.env {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| BadInput(format!("--env {pair:?}: expected KEY=VALUE")))?;
        env.insert(key.to_string(), value.to_string());
    }
    let stdin = match &args.stdin {
        Some(path) => read_text(path, MAX_INPUT_BYTES)?,
        None => String::new(),
    };
    Ok(RunRequest {
        language,
        files,
        entry: Some(entry),
        stdin,
        args: args.args.clone(),
        env,
        limits: RunLimitsRequest {
            time_ms: args.time_ms,
            memory_mb: args.memory_mb,
            output_kb: args.output_kb,
        },
        labels: Vec::new(),
    })
}

fn read_text(path: &Path, cap: u64) -> anyhow::Result<String> {
    let bad = |what: String| BadInput(format!("{}: {what}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut bytes = Vec::new();
    std::io::copy(&mut file.take(cap + 1), &mut bytes).map_err(|e| bad(e.to_string()))?;
    if bytes.len() as u64 > cap {
        return Err(bad(format!("larger than {cap} bytes")).into());
    }
    String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()).into())
}

/// Follows the run's events until `end` (printing output when `print`);
/// the final view.
fn follow(api: &Api, run_id: &str, deadline: Instant, print: bool) -> anyhow::Result<RunView> {
    let mut on = |event: &SseEvent| match event.name.as_str() {
        "stdout" | "stderr" if print => show(&event.name, &event.data).map(|()| None),
        "end" => serde_json::from_str(&event.data).map(Some).context("reading the end event"),
        _ => Ok(None),
    };
    api.follow(&format!("/runs/{run_id}/events"), deadline, &mut on, &mut || Ok(None))
}

/// Writes one output chunk to our stdout or stderr, at once.
fn show(stream: &str, body: &str) -> anyhow::Result<()> {
    let chunk: protocol::runs::OutputChunk = serde_json::from_str(body)?;
    if stream == "stdout" {
        let mut out = std::io::stdout().lock();
        out.write_all(chunk.data.as_bytes())?;
        out.flush()?;
    } else {
        let mut err = std::io::stderr().lock();
        err.write_all(chunk.data.as_bytes())?;
        err.flush()?;
    }
    Ok(())
}

/// Saves every artifact under `dir`, keeping their relative paths.
fn download_artifacts(api: &Api, view: &RunView, dir: &Path) -> anyhow::Result<()> {
    for artifact in &view.artifacts {
        let relative = Path::new(&artifact.name);
        let safe = relative.components().all(|c| matches!(c, std::path::Component::Normal(_)));
        if !safe {
            anyhow::bail!("the backend named an artifact {:?}: refused", artifact.name);
        }
        let url = api.url(&format!("/runs/{}/artifacts/{}", view.run_id, artifact.name));
        let mut response = api.call(api.http.get(url).timeout(REQUEST_TIMEOUT))?;
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut file =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        response.copy_to(&mut file).with_context(|| format!("writing {}", path.display()))?;
    }
    for name in &view.artifacts_dropped {
        eprintln!("gavel: artifact {name} was not kept (over the artifact caps)");
    }
    Ok(())
}

/// The status line: `OK (exit 0) in 12 ms, 3.4 MiB`.
fn summary(view: &RunView) -> String {
    let mut line = format!("gavel: {} ", view.status.code());
    if let Some(code) = view.exit_code {
        line.push_str(&format!("(exit {code}) "));
    }
    line.push_str(&format!("in {} ms, {} KiB", view.time_ms, view.memory_kb));
    if !view.message.is_empty() && view.status != RunStatus::RuntimeError {
        line.push_str(&format!(": {}", view.message));
    }
    line
}

fn exit_code(view: &RunView) -> ExitCode {
    match (view.status, view.exit_code) {
        (RunStatus::Ok | RunStatus::RuntimeError, Some(code)) => {
            ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(1))
        }
        _ => ExitCode::from(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(files: &[&str], language: Option<&str>) -> anyhow::Result<RunRequest> {
        let dir = tempfile::tempdir()?;
        let mut paths = Vec::new();
        for name in files {
            std::fs::write(dir.path().join(name), "")?;
            paths.push(dir.path().join(name));
        }
        let mut args = vec!["gavel-run".to_string(), "--token".into(), "t".into()];
        if let Some(language) = language {
            args.extend(["--language".into(), language.into()]);
        }
        args.extend(paths.iter().map(|p| p.display().to_string()));
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: Args,
        }
        build_request(&<Cli as clap::Parser>::try_parse_from(args)?.args)
    }

    #[test]
    fn the_language_is_guessed_from_the_entry_like_gavel_judge_does() {
        let guessed = |files: &[&str]| request(files, None).map(|r| r.language);
        assert_eq!(guessed(&["main.py"]).unwrap(), "python");
        assert_eq!(guessed(&["main.py", "helper.py"]).unwrap(), "python3");
        assert_eq!(guessed(&["a.cc", "b.h"]).unwrap(), "cpp");
        assert_eq!(guessed(&["x.js"]).unwrap(), "javascript");
        assert_eq!(request(&["main.py"], Some("python3")).unwrap().language, "python3");
        let unknown = guessed(&["Makefile"]).unwrap_err();
        assert!(unknown.to_string().contains("--language"), "{unknown}");
    }
}
