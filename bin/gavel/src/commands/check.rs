//! `gavel check CHECKER INPUT EXPECTED ACTUAL [-- ARGS]`: one checker on
//! three files, so a setter can test a checker in isolation: a builtin or
//! plugins-folder id, a checker component (`.wasm`), or a checker program
//! with testlib's contract (or Kattis' with `--kattis`): C or C++ source,
//! compiled in the sandbox image with the headers beside it, or a WASI
//! module.

use std::path::PathBuf;
use std::process::ExitCode;

use catalog::resolve::Checker;
use judge_core::CheckVerdict;
use judge_core::problem::{CheckerRef, DirPackage};
use native::WasmCompiler;

use super::{Env, read_input};
use crate::BadInput;

/// Inputs and outputs are read up to this size.
const MAX_FILE_BYTES: u64 = 256 << 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A builtin or plugins-folder checker id (`tokens`, …), a checker
    /// component (`.wasm`), or a checker program: `.c`/`.cc`/`.cpp` source
    /// (compiled in the sandbox image: needs Docker) or a WASI `.wasm`.
    checker: String,
    /// The test's input.
    input: PathBuf,
    /// The expected output.
    expected: PathBuf,
    /// The output to judge.
    actual: PathBuf,
    /// Arguments for the checker (after `--`), e.g. `-- abs=1e-4`.
    #[arg(last = true)]
    args: Vec<String>,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
    /// The checker program is a Kattis output validator (exit 42/43,
    /// `judgemessage.txt`), not a testlib checker.
    #[arg(long)]
    kattis: bool,
}

pub fn run(env: &Env, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = env.catalog()?;
    let checker = checker(&catalog, &args)?;
    let checker = checker.as_checker();
    let input = read_input(&args.input, "input", MAX_FILE_BYTES)?;
    let expected = read_input(&args.expected, "expected output", MAX_FILE_BYTES)?;
    let actual = read_input(&args.actual, "actual output", MAX_FILE_BYTES)?;
    let verdict = checker.check(&input, &expected, &actual, &args.args);
    if args.json {
        println!("{}", serde_json::to_string(&verdict)?);
    } else {
        println!("{}", describe(&verdict));
    }
    Ok(ExitCode::SUCCESS)
}

/// The checker `args` names: a catalog id, a component, or a program.
fn checker(catalog: &catalog::Catalog, args: &Args) -> anyhow::Result<Checker> {
    let path = std::path::Path::new(&args.checker);
    let is_source = WasmCompiler::for_source(&args.checker).is_some();
    if !is_source && !args.checker.ends_with(".wasm") {
        let plugin = catalog.checker(&args.checker).map_err(|e| BadInput(format!("{e:#}")))?;
        return Ok(Checker::Plugin(plugin));
    }
    let bytes = read_input(path, "checker", catalog::resolve::MAX_CHECKER_BYTES)?;
    let component = bytes.get(4..8) == Some(&[0x0d, 0x00, 0x01, 0x00]);
    if component {
        let plugin = catalog::resolve::load_checker(&catalog.host, &bytes)
            .map_err(|e| BadInput(format!("{}: {e:#}", args.checker)))?;
        return Ok(Checker::Plugin(plugin));
    }
    // A program: read through a package of its folder, so a source's
    // headers beside it are compiled with it.
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(".".as_ref());
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let package =
        DirPackage::new(folder).map_err(|e| BadInput(format!("{}: {e}", folder.display())))?;
    let reference =
        if args.kattis { CheckerRef::KattisValidator(name) } else { CheckerRef::Testlib(name) };
    let docker = if is_source {
        Some(native::Native::connect(&format!("gavel-check-{}", std::process::id()))?)
    } else {
        None
    };
    catalog::resolve::checker(catalog, docker.as_ref(), &reference, &package, None)
        .map_err(|e| BadInput(format!("{e:#}")).into())
}

/// `AC`, `WA: message`, …, as a setter reads it.
fn describe(v: &CheckVerdict) -> String {
    match v {
        CheckVerdict::Accepted => "AC".into(),
        CheckVerdict::WrongAnswer { message } => format!("WA: {message}"),
        CheckVerdict::PresentationError { message } => format!("PE: {message}"),
        CheckVerdict::Partial { score, message } => format!("PARTIAL {score}: {message}"),
        CheckVerdict::Fail { message } => format!("JE (checker failed): {message}"),
    }
}
