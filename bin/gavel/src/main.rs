//! `gavel`: Gavel's one binary.
//!
//! Subcommands for problem setters work offline: `judge` a solution against a
//! problem folder, `check` one checker on three files, `plugins list|check`.
//! `backend` serves the HTTP API over Redis; `runner` pulls and judges jobs.
//! Client commands talk to a backend over HTTP ([`client`]): `problem push`
//! uploads a problem package; `submit` submits a solution and `watch`
//! follows one, both printing its verdicts as `judge` does; `runners` lists
//! the runners; `run` runs a program, streaming its output.
//! Exit codes: 0 when the command did its job (a judged solution exits 0
//! whatever its verdict), 2 for bad input (problem, source, plugin, usage),
//! 1 for anything else; `run` exits with the program's own status when it
//! ran to an exit.

mod client;
mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Gavel: a job runner for online judges, with WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "gavel", version, about, long_about = None)]
struct Cli {
    /// Where compiled plugins are cached [default: $XDG_CACHE_HOME/gavel]
    #[arg(long, global = true, env = "GAVEL_CACHE_DIR")]
    cache_dir: Option<PathBuf>,

    /// A folder of extra plugins (`*.wasm`); they win over builtins of the same id.
    #[arg(long, global = true, env = "GAVEL_PLUGINS")]
    plugins: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Judge a solution locally against a problem folder and print the verdicts.
    Judge(commands::judge::Args),
    /// Run one checker on an input, an expected output and an actual output.
    Check(commands::check::Args),
    /// List or validate plugins.
    #[command(subcommand)]
    Plugins(commands::plugins::Command),
    /// Serve the HTTP backend (runner pull API, problems, submissions) over Redis.
    Backend(Box<server::BackendArgs>),
    /// Run a runner host: register with a backend, pull jobs, judge them.
    Runner(runner::RunnerArgs),
    /// Start everything on this machine: Redis, the backend and runners.
    Up(commands::up::Args),
    /// Build or inspect the Docker image of the native languages (c, cpp, python3).
    #[command(subcommand)]
    Image(commands::image::Command),
    /// Manage the problems of a backend: `push` uploads a problem folder or archive.
    #[command(subcommand)]
    Problem(commands::problem::Command),
    /// Run a program on a backend and stream its output here as it is produced.
    Run(commands::run::Args),
    /// Submit a solution to a backend, follow its judging live, print the verdicts.
    Submit(commands::submit::Args),
    /// Follow a submission on a backend to its verdicts (`--rejudge`: judge it again first).
    Watch(commands::watch::Args),
    /// List a backend's runners: their languages and the jobs they hold.
    Runners(commands::runners::Args),
}

/// Services log what they do; one-shot commands only warnings.
fn default_log_filter(command: &Command) -> &'static str {
    match command {
        Command::Backend(_) | Command::Runner(_) | Command::Up(_) | Command::Image(_) => "info",
        _ => "warn",
    }
}

/// An error that is the user's input's fault (exit code 2).
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("GAVEL_LOG").unwrap_or_else(
            |_| tracing_subscriber::EnvFilter::new(default_log_filter(&cli.command)),
        ))
        .with_writer(std::io::stderr)
        .init();
    let env = commands::Env {
        cache_dir: cli.cache_dir.or_else(catalog::default_cache_dir),
        plugins: cli.plugins,
    };
    let result = match cli.command {
        Command::Judge(args) => commands::judge::run(&env, args),
        Command::Check(args) => commands::check::run(&env, args),
        Command::Plugins(cmd) => commands::plugins::run(&env, cmd),
        Command::Backend(args) => commands::backend::run(*args),
        Command::Runner(args) => commands::runner::run(&env, args),
        Command::Up(args) => commands::up::run(&env, args),
        Command::Image(cmd) => commands::image::run(cmd),
        Command::Problem(cmd) => commands::problem::run(cmd),
        Command::Run(args) => commands::run::run(args),
        Command::Submit(args) => commands::submit::run(args),
        Command::Watch(args) => commands::watch::run(args),
        Command::Runners(args) => commands::runners::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<BadInput>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
