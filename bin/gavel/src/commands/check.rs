//! `gavel check CHECKER INPUT EXPECTED ACTUAL [-- ARGS]`: one checker on
//! three files, so a setter can test a checker in isolation.

use std::path::PathBuf;
use std::process::ExitCode;

use judge_core::{CheckVerdict, Checker};

use super::{Env, read_input};
use crate::BadInput;

/// Inputs and outputs are read up to this size.
const MAX_FILE_BYTES: u64 = 256 << 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A builtin or plugins-folder checker id (`tokens`, …) or a `.wasm` file.
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
}

pub fn run(env: &Env, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = env.catalog()?;
    let checker = if args.checker.ends_with(".wasm") {
        let bytes =
            read_input(args.checker.as_ref(), "checker", catalog::resolve::MAX_CHECKER_BYTES)?;
        catalog::resolve::load_checker(&catalog.host, &bytes)
            .map_err(|e| BadInput(format!("{}: {e:#}", args.checker)))?
    } else {
        catalog.checker(&args.checker).map_err(|e| BadInput(format!("{e:#}")))?
    };
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
