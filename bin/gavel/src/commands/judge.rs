//! `gavel judge PROBLEM_DIR SOURCE`: judge a solution offline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use judge_core::Executor;
use judge_core::judge::{Progress, judge};
use judge_core::problem::{self, CheckerRef, DirPackage, PackageFiles};
use plugin_host::{CheckerPlugin, Plugin};

use super::{Env, read_input};
use crate::BadInput;
use crate::output;
use catalog::Catalog;

/// The largest source file accepted.
const MAX_SOURCE_BYTES: u64 = 1 << 20;
/// The largest checker component a package may carry.
const MAX_CHECKER_BYTES: u64 = 64 << 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The problem folder (`problem.toml` + `tests/`, or Normal-OJ's `meta.json` + `TTCC.in/.out`).
    problem: PathBuf,
    /// The solution's source file.
    source: PathBuf,
    /// Language id (e.g. `javascript`, `rustpython`, `c`, `cpp`, `python3`); guessed from the
    /// extension when omitted (`.py` is `rustpython`: pass `--language python3` for CPython).
    #[arg(short, long)]
    language: Option<String>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(env: &Env, args: Args) -> anyhow::Result<ExitCode> {
    let package = DirPackage::new(&args.problem)
        .map_err(|e| BadInput(format!("problem {}: {e}", args.problem.display())))?;
    let fallback_id = args
        .problem
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "problem".into());
    let problem = problem::load(&package, &fallback_id)
        .map_err(|e| BadInput(format!("problem {}: {e}", args.problem.display())))?;
    let source = read_input(&args.source, "source", MAX_SOURCE_BYTES)?;

    let catalog = env.catalog()?;
    let language_id = match &args.language {
        Some(id) => id.clone(),
        None => match args
            .source
            .extension()
            .and_then(|e| native::language::for_extension(e.to_str()?))
        {
            Some(native) => native.id.to_string(),
            None => catalog.guess_language(&args.source).map_err(|e| BadInput(format!("{e:#}")))?,
        },
    };
    let checker = problem_checker(&catalog, &problem.checker.plugin, &package, &args.problem)?;
    // A native language runs in Docker; anything else is a Wasm plugin.
    let (docker, in_docker, plugin);
    let language: &(dyn Executor + Sync) = if native::language::find(&language_id).is_some() {
        docker = native::Native::connect(&format!("gavel-judge-{}", std::process::id()))?;
        if let Err(e) = docker.remove_leftovers() {
            tracing::warn!("{e}");
        }
        in_docker = docker.executor(&language_id).expect("a native language");
        &in_docker
    } else {
        plugin = catalog.language(&language_id).map_err(|e| BadInput(format!("{e:#}")))?;
        &plugin
    };

    let mut printer = output::CasePrinter::new(!args.json);
    printer.header(&problem.id, &language_id, &checker.info().id);
    let report = plugin_host::on_big_stack(|| {
        judge(&problem, &package, &source, language, &checker, &mut |p: &Progress| {
            printer.progress(p)
        })
    });
    if args.json {
        let json = serde_json::json!({
            "problem": problem.id,
            "language": language_id,
            "checker": checker.info().id,
            "status": report.status,
            "score": report.score,
            "max_score": report.max_score,
            "compile_message": report.compile_message,
            "time_ms": report.time_ms,
            "memory_kb": report.memory_kb,
            "tasks": report.tasks,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        printer.footer(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// The problem's checker: a builtin/folder id, or a component in the package.
fn problem_checker(
    catalog: &Catalog,
    checker: &CheckerRef,
    package: &DirPackage,
    dir: &Path,
) -> anyhow::Result<CheckerPlugin> {
    match checker {
        CheckerRef::Builtin(id) => catalog
            .checker(id)
            .map_err(|e| BadInput(format!("problem {}: checker: {e:#}", dir.display())).into()),
        CheckerRef::Package(path) => {
            let bytes = package.read(path).with_context(|| {
                format!("problem {}: reading the checker {path}", dir.display())
            })?;
            if bytes.len() as u64 > MAX_CHECKER_BYTES {
                return Err(BadInput(format!(
                    "problem {}: checker {path} is over 64 MiB",
                    dir.display()
                ))
                .into());
            }
            match catalog.host.load(&bytes) {
                Ok(Plugin::Checker(c)) => Ok(c),
                Ok(Plugin::Language(_)) => Err(BadInput(format!(
                    "problem {}: checker {path} is a language plugin, not a checker",
                    dir.display()
                ))
                .into()),
                Err(e) => {
                    Err(BadInput(format!("problem {}: checker {path}: {e}", dir.display())).into())
                }
            }
        }
    }
}
