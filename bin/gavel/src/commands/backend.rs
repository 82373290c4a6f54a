//! `gavel backend`: the HTTP backend alone (see the `server` crate).

use std::process::ExitCode;

use crate::BadInput;

pub fn run(args: server::BackendArgs) -> anyhow::Result<ExitCode> {
    let config = args.resolve().map_err(|e| BadInput(format!("{e:#}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server::run(config))?;
    Ok(ExitCode::SUCCESS)
}
