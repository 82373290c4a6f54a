//! `gavel up`: the whole stack on one machine — a managed `redis-server`
//! (AOF in the data dir) unless a Redis URL is given, the backend, and N
//! runners in this process. Prints the URL and tokens; Ctrl-C (or SIGTERM)
//! stops the runners (finishing their jobs), the backend, then Redis.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use queue::managed::ManagedRedis;

use super::Env;
use crate::BadInput;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where Redis's AOF, blobs, runner caches and outboxes live.
    #[arg(long, env = "GAVEL_DATA_DIR", default_value = "gavel-data")]
    data_dir: PathBuf,
    /// Use this Redis instead of starting one.
    #[arg(long, env = "GAVEL_REDIS_URL")]
    redis_url: Option<String>,
    /// Address of the backend.
    #[arg(long, env = "GAVEL_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Runners to start.
    #[arg(long, default_value_t = 1)]
    runners: u32,
    /// Slots of each runner [default: `slots` of the settings file's [runner], else the number
    /// of CPUs].
    #[arg(long)]
    slots: Option<u32>,
    /// A settings file: its `[backend]` and `[runner]` tables (see
    /// examples/gavel.toml); the flags above win over it.
    #[arg(long, env = "GAVEL_CONFIG")]
    config: Option<PathBuf>,
    /// Print the URL and tokens as one JSON line (for scripts).
    #[arg(long)]
    json: bool,
}

/// The tokens of a stack, kept in its data dir so they survive restarts.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Tokens {
    admin_token: String,
    registration_token: String,
}

fn tokens(data_dir: &Path) -> anyhow::Result<Tokens> {
    let path = data_dir.join("tokens.json");
    if let Ok(bytes) = std::fs::read(&path) {
        return serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: invalid", path.display()));
    }
    let tokens = Tokens {
        admin_token: server::auth::new_token("ad_"),
        registration_token: server::auth::new_token("rg_"),
    };
    std::fs::write(&path, serde_json::to_vec_pretty(&tokens)?)?;
    #[cfg(unix)]
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(tokens)
}

pub fn run(env: &Env, args: Args) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;
    let tokens = tokens(&data_dir)?;
    let (redis, redis_url) = match &args.redis_url {
        Some(url) => (None, url.clone()),
        None => {
            let redis = ManagedRedis::start(&data_dir.join("redis"), 0)
                .map_err(|e| BadInput(e.to_string()))?;
            let url = redis.url();
            (Some(redis), url)
        }
    };
    let mut backend_config = server::BackendArgs {
        config: args.config.clone(),
        listen: Some(args.listen),
        redis_url: Some(redis_url.clone()),
        data_dir: Some(data_dir.join("backend")),
        admin_token: Some(tokens.admin_token.clone()),
        registration_token: Some(tokens.registration_token.clone()),
        ..Default::default()
    }
    .resolve()
    .map_err(|e| BadInput(format!("{e:#}")))?;
    // Everything here is on this machine: plain HTTP, whatever TLS a shared
    // settings file gives `gavel backend`.
    backend_config.tls = None;
    // Without --slots, a settings file's [runner] slots, else one per CPU.
    let slots = args.slots.or_else(|| {
        args.config.is_none().then(|| {
            std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(1))
        })
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let backend = server::Backend::start(backend_config).await?;
        let url = format!("http://{}", backend.addr);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (mut runners, mut runner_slots) = (Vec::new(), 0);
        for i in 1..=args.runners {
            let config = runner::RunnerArgs {
                config: args.config.clone(),
                backend: Some(vec![url.clone()]),
                registration_token: Some(tokens.registration_token.clone()),
                name: Some(format!("local-{i}")),
                slots,
                data_dir: Some(data_dir.join(format!("runner-{i}"))),
                ..Default::default()
            }
            .resolve(env.plugins.clone(), env.cache_dir.clone())?;
            runner_slots = config.slots;
            runners.push(tokio::spawn(runner::run(config, stopped.clone())));
        }
        if args.json {
            let line = serde_json::json!({
                "url": url,
                "redis_url": redis_url,
                "admin_token": tokens.admin_token,
                "registration_token": tokens.registration_token,
                "runners": args.runners,
            });
            println!("{line}");
        } else {
            println!("gavel is up: {url}/api/v1 (Ctrl-C stops it)");
            println!("  redis:              {redis_url}");
            println!("  admin token:        {}", tokens.admin_token);
            println!("  registration token: {}", tokens.registration_token);
            println!("  runners:            {} x {runner_slots} slots", args.runners);
            println!("  data:               {}", data_dir.display());
        }
        server::shutdown_signal().await;
        eprintln!("stopping: runners finish their jobs, then the backend and Redis stop");
        let _ = stop.send(true);
        for runner in runners {
            if let Ok(Err(e)) = runner.await {
                tracing::warn!(error = %e, "a runner stopped with an error");
            }
        }
        backend.shutdown().await
    })?;
    // Background tasks (the pub/sub listener) end before Redis does.
    drop(runtime);
    drop(redis);
    Ok(ExitCode::SUCCESS)
}
