//! The chaos harness as a command, for long runs (see `e2e::chaos`):
//!
//! ```text
//! cargo xtask chaos --minutes 10        # builds gavel, then runs this
//! chaos [--minutes N | --seconds N] [--seed N] [--native auto|yes|no] [--redis single|sentinel]
//! ```
//!
//! `--redis sentinel` runs Redis as a primary, two replicas and three
//! Sentinels, and kills the primary as its Redis fault (default `single`:
//! one server, restarted from its AOF).
//!
//! Progress goes to stderr; stdout gets one line,
//! `chaos: accepted=N judged=N duplicates=0 lost=0 wrong=0 faults=N`. The
//! exit code is 1 when any invariant failed (each is said on stderr), 2 on
//! bad arguments. It runs the `gavel` binary of the same build.

use std::process::ExitCode;
use std::time::Duration;

use e2e::chaos::{self, Config};

const USAGE: &str = "usage: chaos [--minutes N | --seconds N] [--seed N] [--native auto|yes|no] \
                     [--redis single|sentinel]";

fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1).collect()) {
        Ok(config) => config,
        Err(why) => {
            eprintln!("chaos: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let summary = chaos::run(&config);
    for violation in &summary.violations {
        eprintln!("chaos: VIOLATION: {violation}");
    }
    println!("{}", summary.line());
    if summary.holds() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn parse(args: Vec<String>) -> Result<Config, String> {
    let mut config = Config::new(Duration::from_secs(600));
    let mut native = "auto".to_string();
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err("help".into());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<f64>().ok().filter(|v| *v > 0.0 && v.is_finite());
        match flag.as_str() {
            "--minutes" => {
                let minutes = number().ok_or_else(|| format!("--minutes {value:?}"))?;
                config.duration = Duration::from_secs_f64(minutes * 60.0);
            }
            "--seconds" => {
                let seconds = number().ok_or_else(|| format!("--seconds {value:?}"))?;
                config.duration = Duration::from_secs_f64(seconds);
            }
            "--seed" => config.seed = value.parse().map_err(|_| format!("--seed {value:?}"))?,
            "--native" => native = value,
            "--redis" => {
                config.sentinel = match value.as_str() {
                    "single" => false,
                    "sentinel" => true,
                    other => return Err(format!("--redis {other:?}")),
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    config.native = match native.as_str() {
        "no" => false,
        "yes" => {
            chaos::native_available().map_err(|why| format!("--native yes: {why}"))?;
            true
        }
        "auto" => match chaos::native_available() {
            Ok(()) => true,
            Err(why) => {
                eprintln!("chaos: Wasm languages only ({why})");
                false
            }
        },
        other => return Err(format!("--native {other:?}")),
    };
    Ok(config)
}
