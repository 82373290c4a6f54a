//! `gavel runner`: one runner host (see the `runner` crate).

use std::process::ExitCode;

use super::Env;
use crate::BadInput;

pub fn run(env: &Env, args: runner::RunnerArgs) -> anyhow::Result<ExitCode> {
    let config = args
        .resolve(env.plugins.clone(), env.cache_dir.clone())
        .map_err(|e| BadInput(format!("{e:#}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            server::shutdown_signal().await;
            tracing::info!("stopping: finishing running jobs");
            let _ = stop.send(true);
        });
        runner::run(config, stopped).await
    })?;
    Ok(ExitCode::SUCCESS)
}
