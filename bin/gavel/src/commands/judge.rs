//! `gavel judge PROBLEM_DIR SOURCE`: judge a solution offline, resolving
//! the language and checker as a runner does (`catalog::resolve`).

use std::path::PathBuf;
use std::process::ExitCode;

use catalog::resolve;
use judge_core::judge::{Judges, Progress, judge};
use judge_core::problem::{self, DirPackage};

use super::{Env, read_input};
use crate::BadInput;
use crate::output;

/// The largest source file accepted.
const MAX_SOURCE_BYTES: u64 = 1 << 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The problem folder (`problem.toml` + `tests/`, Normal-OJ's `meta.json` + `TTCC.in/.out`,
    /// Polygon's `problem.xml` or Kattis' `problem.yaml`; see docs/problems.md).
    problem: PathBuf,
    /// The solution's source file.
    source: PathBuf,
    /// Language id (e.g. `javascript`, `python`, `c`, `cpp`, `python3`); guessed from the
    /// extension when omitted (`.py` is `python`, CPython in Wasm: pass `--language python3` for CPython in Docker).
    #[arg(short, long)]
    language: Option<String>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Also print each interactive case's exchange with the interactor (its
    /// first 64 KiB each way): `<` what the interactor wrote, `>` the program.
    #[arg(short, long)]
    verbose: bool,
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
        None => catalog.guess_language(&args.source).map_err(|e| BadInput(format!("{e:#}")))?,
    };
    // Docker only for a language, a checker or an interactor compiled in
    // the sandbox image.
    let needs_compiling = |path: &str| !path.ends_with(".wasm");
    let compiled_checker = problem.checker.plugin.program_path().is_some_and(needs_compiling);
    let compiled_interactor = problem.interactor.as_ref().is_some_and(|i| needs_compiling(&i.path));
    let docker = if resolve::runs_in_docker(&language_id) || compiled_checker || compiled_interactor
    {
        let docker = native::Native::connect(&format!("gavel-judge-{}", std::process::id()))?;
        if let Err(e) = docker.remove_leftovers() {
            tracing::warn!("{e}");
        }
        Some(docker)
    } else {
        None
    };
    if !catalog.is_compiled(&language_id, catalog::Kind::Language) {
        eprintln!(
            "compiling the `{language_id}` plugin for this machine (once: it is cached for later runs)…"
        );
    }
    let checker =
        resolve::checker(&catalog, docker.as_ref(), &problem.checker.plugin, &package, None)
            .map_err(|e| BadInput(format!("problem {}: checker: {e:#}", args.problem.display())))?;
    let interactor = problem
        .interactor
        .as_ref()
        .map(|spec| resolve::interactor(&catalog, docker.as_ref(), spec, &package))
        .transpose()
        .map_err(|e| BadInput(format!("problem {}: {e:#}", args.problem.display())))?;
    let language = resolve::language(&catalog, docker.as_ref(), &language_id)
        .map_err(|e| BadInput(format!("{e:#}")))?;
    let language = language.executor();

    // What decides a case: the checker, and for an interactive problem the
    // interactor (its checker only when the problem names one).
    let judged_by = match &problem.interactor {
        None => checker.name().to_string(),
        Some(i) if i.then_checker => format!("{} · interactor {}", checker.name(), i.path),
        Some(i) => format!("none · interactor {}", i.path),
    };
    let mut printer = output::CasePrinter::new(!args.json).with_transcripts(args.verbose);
    printer.header(&problem.id, &language_id, &judged_by);
    let report = plugin_host::on_big_stack(|| {
        let judges = Judges {
            checker: checker.as_checker(),
            interactor: interactor.as_ref().map(|i| i as &dyn judge_core::interactive::Interactor),
        };
        judge(&problem, &package, &source, language, judges, &mut |p: &Progress| {
            printer.progress(p)
        })
    });
    if args.json {
        let json = output::report_json(&problem.id, &language_id, &judged_by, &report);
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        printer.footer(&report);
    }
    Ok(ExitCode::SUCCESS)
}
