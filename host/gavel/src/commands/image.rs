//! `gavel image build|status`: the Docker image native languages (c, cpp,
//! python3) run in, built here from Debian packages.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Build the sandbox image if it is missing (debootstrap + docker import;
    /// a few minutes the first time, needs root and `debootstrap`).
    Build,
    /// Say whether the Docker engine and the sandbox image are available
    /// (exit code 0 when they are, 1 when not).
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
            let status = native::Native::connect("gavel-image-status");
            let image = native::image::image_tag();
            let languages: Vec<&str> = native::LANGUAGES.iter().map(|l| l.id).collect();
            if json {
                let value = serde_json::json!({
                    "image": image,
                    "available": status.is_ok(),
                    "languages": languages,
                    "reason": status.as_ref().err().map(|e| e.to_string()),
                });
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                match &status {
                    Ok(_) => println!("{image}: available ({})", languages.join(", ")),
                    Err(e) => println!("{e}"),
                }
            }
            Ok(if status.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
