//! `gavel plugins list|check`: what plugins are found; validate a component.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{Env, read_input};
use crate::BadInput;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List builtin plugins and those of a plugins folder: id, kind, version, digest.
    List {
        /// A plugins folder to list besides the builtins (same as the global --plugins).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Validate a component against Gavel's WIT worlds and describe it.
    Check {
        /// The `.wasm` component.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(env: &Env, cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List { dir, json } => {
            let env = Env {
                cache_dir: env.cache_dir.clone(),
                plugins: dir.or_else(|| env.plugins.clone()),
            };
            let catalog = env.catalog()?;
            let set = catalog.all()?;
            let infos = set.infos();
            if json {
                let skipped: Vec<_> = catalog
                    .skipped
                    .iter()
                    .map(|s| serde_json::json!({"path": s.path, "reason": s.reason}))
                    .collect();
                println!("{}", serde_json::json!({"plugins": infos, "skipped": skipped}));
            } else {
                println!("{:<20} {:<9} {:<10} {:<16} name", "id", "kind", "version", "digest");
                for i in infos {
                    println!(
                        "{:<20} {:<9} {:<10} {:<16} {}",
                        i.id,
                        i.kind,
                        i.version,
                        &i.digest[..16],
                        i.name
                    );
                }
                for s in &catalog.skipped {
                    println!("skipped {}: {}", s.path.display(), s.reason);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { file, json } => {
            let bytes = read_input(&file, "plugin", 256 << 20)?;
            let catalog = env.catalog()?;
            let plugin = catalog
                .host
                .load(&bytes)
                .map_err(|e| BadInput(format!("{}: {e}", file.display())))?;
            let info = plugin.info();
            if json {
                println!("{}", serde_json::to_string(info)?);
            } else {
                println!(
                    "ok: {} plugin `{}` {} ({}), digest {}",
                    info.kind, info.id, info.version, info.name, info.digest
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
