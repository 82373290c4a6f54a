//! `gavel image build|status`: the Docker image native languages (c, cpp,
//! python3) run in, built here from Debian packages.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Build the sandbox image if it is missing (debootstrap + docker import;
    /// a few minutes the first time, needs root and `debootstrap`).
    Build,
    /// Say whether native languages work here: the Docker engine answers, the
    /// image exists and a sandbox starts (exit code 0 when they do, 1 when not).
    Status {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Build => {
            let tag = native::Native::build_image(&mut |step| eprintln!("==> {step}"))?;
            println!("{tag}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => {
            let status = native::Native::connect("gavel-image-status").and_then(|native| {
                native
                    .probe()
                    .map_err(|e| native::Unavailable(format!("a sandbox does not start: {e}")))
            });
            let image = native::image::image_tag();
            let languages: Vec<&str> = native::LANGUAGES.iter().map(|l| l.id).collect();
            if json {
                let value = serde_json::json!({
                    "image": image,
                    "available": status.is_ok(),
                    "languages": languages,
                    "sandbox_start_ms": status.as_ref().ok().map(|p| p.start.as_millis() as u64),
                    "reason": status.as_ref().err().map(|e| e.to_string()),
                });
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                match &status {
                    Ok(probe) => println!(
                        "{image}: available ({}); a sandbox starts in {} ms",
                        languages.join(", "),
                        probe.start.as_millis()
                    ),
                    Err(e) => println!("{e}"),
                }
            }
            Ok(if status.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
