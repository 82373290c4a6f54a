//! The burst load as a command (see `e2e::burst`):
//!
//! ```text
//! cargo xtask burst                     # builds gavel, then runs this
//! burst [--submissions N] [--runners N]
//! ```
//!
//! Progress goes to stderr; stdout gets one line, `burst: submitted=N
//! judged=N stuck=0 wrong=0 …` with the throughput, the latency percentiles
//! and the backend's memory. The exit code is 1 when a submission was
//! refused, is stuck or got a wrong verdict (each is said on stderr), 2 on
//! bad arguments. It runs the `gavel` binary of the same build.

use std::process::ExitCode;

use e2e::burst::{self, Config};

const USAGE: &str = "usage: burst [--submissions N] [--runners N]";

fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1).collect()) {
        Ok(config) => config,
        Err(why) => {
            eprintln!("burst: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let summary = burst::run(&config);
    for violation in &summary.violations {
        eprintln!("burst: VIOLATION: {violation}");
    }
    println!("{}", summary.line());
    if summary.holds() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn parse(args: Vec<String>) -> Result<Config, String> {
    let mut config = Config::new(10_000);
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err("help".into());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().ok().filter(|n| *n > 0);
        match flag.as_str() {
            "--submissions" => {
                config.submissions = number().ok_or_else(|| format!("--submissions {value:?}"))?
            }
            "--runners" => {
                config.runners = number().ok_or_else(|| format!("--runners {value:?}"))?
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(config)
}
