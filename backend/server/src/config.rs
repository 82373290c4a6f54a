//! The backend's settings: flags, `GAVEL_*` environment variables and a TOML
//! file (`--config`), in that order of precedence (layered by
//! `protocol::config`, as the runner's are), then defaults.

pub mod retention;
pub mod tls;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// `gavel backend` flags; every one also has an env var and a TOML key (the
/// flag's name with `_` for `-`).
#[derive(Debug, Clone, Default, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendArgs {
    /// A TOML file with any of the settings below.
    #[arg(long, env = "GAVEL_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "GAVEL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Redis URL [default: redis://127.0.0.1:6379/].
    #[arg(long, env = "GAVEL_REDIS_URL")]
    pub redis_url: Option<String>,
    /// Find the Redis primary through these Sentinels instead of
    /// `--redis-url`: `host:port` addresses (port 26379 if left out),
    /// comma-separated or repeated. The backend follows failovers by itself
    /// [default: none: one Redis at `--redis-url`].
    #[arg(long, env = "GAVEL_REDIS_SENTINEL", value_delimiter = ',')]
    pub redis_sentinel: Option<Vec<String>>,
    /// The name the Sentinels monitor Gavel's primary by [default: gavel].
    #[arg(long, env = "GAVEL_REDIS_MASTER_NAME")]
    pub redis_master_name: Option<String>,
    /// Replicas that must have a write before the backend acknowledges it
    /// (a submission's 201, a completion, an upload, a token): each such
    /// write is followed by `WAIT`; too few in time answers 503
    /// `not_replicated` [default: 1 with `--redis-sentinel`, else 0].
    #[arg(long, env = "GAVEL_REDIS_MIN_REPLICAS")]
    pub redis_min_replicas: Option<u32>,
    /// Milliseconds an acknowledged write waits for its replicas
    /// [default: 1000].
    #[arg(long, env = "GAVEL_REDIS_WAIT_TIMEOUT_MS")]
    pub redis_wait_timeout_ms: Option<u64>,
    /// Milliseconds one Redis call may wait for its answer before the
    /// request is answered 503 [default: 10000]. A busy Redis only makes
    /// requests slower; this bounds how long a stalled one holds them.
    #[arg(long, env = "GAVEL_REDIS_TIMEOUT_MS")]
    pub redis_timeout_ms: Option<u64>,
    /// Directory of uploads being unpacked, packed Normal-OJ testdata and
    /// (unless `--blob-store` says otherwise) the blobs [default: ./gavel-data].
    #[arg(long, env = "GAVEL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where blobs live: `file://DIR`, or `s3://BUCKET/PREFIX` on any
    /// S3-compatible store (endpoint, region and credentials from
    /// `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`); several instances share an `s3://` store
    /// [default: file://DATA_DIR].
    #[arg(long, env = "GAVEL_BLOB_STORE")]
    pub blob_store: Option<String>,
    /// The admin token (problems, client tokens, runners list).
    #[arg(long, env = "GAVEL_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// The token runners register with.
    #[arg(long, env = "GAVEL_REGISTRATION_TOKEN", hide_env_values = true)]
    pub registration_token: Option<String>,
    /// Seconds a lease lasts without renewal [default: 30].
    #[arg(long, env = "GAVEL_LEASE_TTL_S")]
    pub lease_ttl_s: Option<u64>,
    /// Seconds between a runner's heartbeats [default: 10].
    #[arg(long, env = "GAVEL_HEARTBEAT_INTERVAL_S")]
    pub heartbeat_interval_s: Option<u64>,
    /// Claims of one job before it ends as JE [default: 3].
    #[arg(long, env = "GAVEL_MAX_ATTEMPTS")]
    pub max_attempts: Option<u32>,
    /// Largest submission source, in KiB [default: 256].
    #[arg(long, env = "GAVEL_MAX_SOURCE_KB")]
    pub max_source_kb: Option<u64>,
    /// Largest problem package upload, in MiB [default: 256].
    #[arg(long, env = "GAVEL_MAX_PACKAGE_MB")]
    pub max_package_mb: Option<u64>,
    /// The URL runners reach this backend at, for links it hands out
    /// (Normal-OJ code URLs) [default: http:// (https:// with `--tls-cert`)
    /// and the request's Host].
    #[arg(long, env = "GAVEL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The `?token=` Normal-OJ runners fetch testdata with
    /// (`/compat/normal-oj/problem/...`); unset refuses every fetch.
    #[arg(long, env = "GAVEL_NORMAL_OJ_SANDBOX_TOKEN", hide_env_values = true)]
    pub normal_oj_sandbox_token: Option<String>,
    /// Ranges webhooks may target besides public addresses: CIDRs
    /// (`10.0.0.0/8`, `::1/128`) or single addresses; repeat the flag or
    /// separate them with commas [default: none: public addresses only].
    #[arg(long, env = "GAVEL_WEBHOOK_ALLOW", value_delimiter = ',')]
    pub webhook_allow: Option<Vec<String>>,
    /// Serve HTTPS with this PEM certificate (chain, the server's first);
    /// needs `--tls-key` [default: plain HTTP].
    #[arg(long, env = "GAVEL_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of `--tls-cert`.
    #[arg(long, env = "GAVEL_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// How long a finished code run (its record, output, artifacts and
    /// event log) is kept: `30s`, `15m`, `12h`, `7d`; `0` keeps runs
    /// forever [default: 7d].
    #[arg(long, env = "GAVEL_RUN_RETENTION")]
    pub run_retention: Option<String>,
    /// How long a finished submission's event log is kept (its record and
    /// verdict stay): `30d`; `0` keeps logs forever [default: 30d].
    #[arg(long, env = "GAVEL_EVENT_LOG_RETENTION")]
    pub event_log_retention: Option<String>,
    /// How often the blob sweep runs (one instance at a time), removing
    /// blobs nothing refers to; `0` never sweeps [default: 1h].
    #[arg(long, env = "GAVEL_BLOB_GC_INTERVAL")]
    pub blob_gc_interval: Option<String>,
    /// How old an unreferenced blob must be before the sweep removes it:
    /// an upload has this long to be referenced (a problem push, a
    /// submission); at least 2s [default: 1h].
    #[arg(long, env = "GAVEL_BLOB_GC_GRACE")]
    pub blob_gc_grace: Option<String>,
    /// Test hook, not a setting: after marking, the blob sweep waits while
    /// this file exists (at most 2 minutes), having created `FILE.held`.
    #[arg(long, env = "GAVEL_TEST_BLOB_GC_HOLD", hide = true)]
    #[serde(skip)]
    pub test_blob_gc_hold: Option<PathBuf>,
    /// Test hook, not a setting: resolve webhook hosts from this
    /// hosts-format file, read at every lookup, instead of DNS. Its
    /// addresses are checked like any others.
    #[arg(long, env = "GAVEL_TEST_WEBHOOK_HOSTS", hide = true)]
    #[serde(skip)]
    pub test_webhook_hosts: Option<PathBuf>,
}

/// The range of `redis_timeout_ms`: below it, calls fail that a Redis
/// merely fsyncing answers in time; beyond it, runners (whose calls time
/// out after 30 s) and most HTTP clients have given up before the 503.
const MIN_REDIS_TIMEOUT: Duration = Duration::from_millis(100);
const MAX_REDIS_TIMEOUT: Duration = Duration::from_secs(30);

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// One Redis (`redis_url`) or a primary found through Sentinels
    /// (`redis_sentinel`, `redis_master_name`).
    pub redis: queue::RedisTarget,
    /// Replicas an acknowledged write must reach, and how long it waits
    /// (`redis_min_replicas`, `redis_wait_timeout_ms`).
    pub replication: queue::Replication,
    /// The longest one Redis call waits for its answer.
    pub redis_timeout: Duration,
    pub data_dir: PathBuf,
    /// Where blobs live (`blob_store`).
    pub blob_store: blobstore::Location,
    pub admin_token: String,
    pub registration_token: String,
    pub lease_ttl: Duration,
    pub heartbeat_interval: Duration,
    pub max_attempts: u32,
    pub max_source_bytes: u64,
    pub max_package_bytes: u64,
    pub unpack_limits: problem_package::UnpackLimits,
    /// Without a trailing `/`.
    pub public_url: Option<String>,
    pub normal_oj_sandbox_token: String,
    /// Ranges webhooks may target besides public addresses
    /// (`crate::egress`).
    pub webhook_allow: Vec<IpNet>,
    /// Test hook: webhook hosts resolved from this hosts file, not DNS.
    pub test_webhook_hosts: Option<PathBuf>,
    /// How long finished runs and submissions' event logs are kept.
    pub retention: queue::Retention,
    /// How often the blob sweep runs; `None`: never.
    pub blob_gc_interval: Option<Duration>,
    /// How old an unreferenced blob must be to be swept.
    pub blob_gc_grace: Duration,
    /// Test hook: the sweep waits after marking while this file exists.
    pub test_blob_gc_hold: Option<PathBuf>,
    /// HTTPS with this certificate and key (`tls_cert`, `tls_key`);
    /// `None` serves plain HTTP.
    pub tls: Option<Arc<tls::ServerConfig>>,
}

impl BackendArgs {
    /// Flags and env over the TOML file (`protocol::config::load`) over
    /// defaults, validated.
    pub fn resolve(self) -> anyhow::Result<Config> {
        let set = protocol::config::load(&self, self.config.as_deref(), "backend")
            .map_err(anyhow::Error::msg)?;
        let data_dir: PathBuf = set.data_dir.unwrap_or_else(|| "gavel-data".into());
        let blob_store = match &set.blob_store {
            Some(text) => text.parse().map_err(anyhow::Error::msg)?,
            None => blobstore::Location::File(data_dir.clone()),
        };
        let config = Config {
            listen: set.listen.unwrap_or_else(|| ([127, 0, 0, 1], 8080).into()),
            redis: redis_target(
                set.redis_url,
                set.redis_sentinel.as_deref(),
                set.redis_master_name.as_deref(),
            )?,
            replication: queue::Replication {
                min_replicas: set.redis_min_replicas.unwrap_or(match set.redis_sentinel {
                    Some(_) => 1,
                    None => 0,
                }),
                timeout: set
                    .redis_wait_timeout_ms
                    .map_or(queue::topology::DEFAULT_WAIT_TIMEOUT, Duration::from_millis),
            },
            redis_timeout: set
                .redis_timeout_ms
                .map_or(queue::DEFAULT_REDIS_TIMEOUT, Duration::from_millis),
            data_dir,
            blob_store,
            admin_token: set.admin_token.unwrap_or_default(),
            registration_token: set.registration_token.unwrap_or_default(),
            lease_ttl: Duration::from_secs(set.lease_ttl_s.unwrap_or(30)),
            heartbeat_interval: Duration::from_secs(set.heartbeat_interval_s.unwrap_or(10)),
            max_attempts: set.max_attempts.unwrap_or(3),
            max_source_bytes: set.max_source_kb.unwrap_or(256) * 1024,
            max_package_bytes: set.max_package_mb.unwrap_or(256) << 20,
            unpack_limits: problem_package::UnpackLimits::default(),
            public_url: set.public_url.map(|url| url.trim_end_matches('/').to_string()),
            normal_oj_sandbox_token: set.normal_oj_sandbox_token.unwrap_or_default(),
            webhook_allow: set
                .webhook_allow
                .unwrap_or_default()
                .iter()
                .map(|range| allowed_range(range))
                .collect::<anyhow::Result<_>>()?,
            retention: queue::Retention {
                runs: duration("run_retention", set.run_retention.as_deref(), "7d")?,
                event_logs: duration(
                    "event_log_retention",
                    set.event_log_retention.as_deref(),
                    "30d",
                )?,
            },
            blob_gc_interval: Some(duration(
                "blob_gc_interval",
                set.blob_gc_interval.as_deref(),
                "1h",
            )?)
            .filter(|d| !d.is_zero()),
            blob_gc_grace: duration("blob_gc_grace", set.blob_gc_grace.as_deref(), "1h")?,
            test_blob_gc_hold: self.test_blob_gc_hold,
            test_webhook_hosts: self.test_webhook_hosts,
            tls: tls::server_config(set.tls_cert.as_deref(), set.tls_key.as_deref())?,
        };
        config.validate()?;
        Ok(config)
    }
}

/// Where Redis is: the URL, or the Sentinels (not both).
fn redis_target(
    url: Option<String>,
    sentinels: Option<&[String]>,
    master_name: Option<&str>,
) -> anyhow::Result<queue::RedisTarget> {
    match (url, sentinels) {
        (Some(_), Some(_)) => bail!(
            "redis_url and redis_sentinel are two ways to say where Redis is: set one of them"
        ),
        (url, None) => {
            if master_name.is_some() {
                bail!("redis_master_name needs redis_sentinel (the Sentinels that know it)");
            }
            Ok(queue::RedisTarget::Url(url.unwrap_or_else(|| "redis://127.0.0.1:6379/".into())))
        }
        (None, Some(list)) => queue::Sentinels::parse(list, master_name.unwrap_or("gavel"))
            .map(queue::RedisTarget::Sentinel)
            .map_err(|e| anyhow::anyhow!("redis_sentinel: {e}")),
    }
}

/// The range of `redis_wait_timeout_ms`: `WAIT 0` would wait forever, and
/// a write held longer than a client waits helps nobody.
const MIN_WAIT_TIMEOUT: Duration = Duration::from_millis(10);
const MAX_WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// A duration setting ([`retention::parse`]), `default` when unset.
fn duration(name: &str, text: Option<&str>, default: &str) -> anyhow::Result<Duration> {
    retention::parse(name, text.unwrap_or(default))
}

/// The shortest `blob_gc_grace`: object stores date objects to the second,
/// so a shorter grace could take an upload made just after the mark for an
/// older one.
const MIN_BLOB_GC_GRACE: Duration = Duration::from_secs(2);

/// One `webhook_allow` entry: a CIDR (host bits are dropped:
/// `10.1.2.3/8` is `10.0.0.0/8`) or a single address.
fn allowed_range(text: &str) -> anyhow::Result<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    match text.parse::<IpAddr>() {
        Ok(ip) => Ok(IpNet::from(ip)),
        Err(_) => bail!(
            "webhook_allow: {text:?} is not a CIDR range (an address, `/`, a prefix length: \
             10.0.0.0/8, fd00::/8) or an address"
        ),
    }
}

impl Config {
    fn validate(&self) -> anyhow::Result<()> {
        if self.lease_ttl.is_zero() || self.heartbeat_interval.is_zero() {
            bail!("lease_ttl_s and heartbeat_interval_s must be at least 1");
        }
        if self.heartbeat_interval > self.lease_ttl {
            bail!(
                "heartbeat_interval_s ({}) must not exceed lease_ttl_s ({}): leases would expire between heartbeats",
                self.heartbeat_interval.as_secs(),
                self.lease_ttl.as_secs()
            );
        }
        if !(MIN_REDIS_TIMEOUT..=MAX_REDIS_TIMEOUT).contains(&self.redis_timeout) {
            bail!(
                "redis_timeout_ms must be {} to {} (got {}): shorter fails calls a busy Redis \
                 answers in time, longer outlasts clients and runners, who give up first",
                MIN_REDIS_TIMEOUT.as_millis(),
                MAX_REDIS_TIMEOUT.as_millis(),
                self.redis_timeout.as_millis()
            );
        }
        if !(MIN_WAIT_TIMEOUT..=MAX_WAIT_TIMEOUT).contains(&self.replication.timeout) {
            bail!(
                "redis_wait_timeout_ms must be {} to {} (got {})",
                MIN_WAIT_TIMEOUT.as_millis(),
                MAX_WAIT_TIMEOUT.as_millis(),
                self.replication.timeout.as_millis()
            );
        }
        if self.replication.min_replicas > 0 && self.replication.timeout >= self.redis_timeout {
            bail!(
                "redis_wait_timeout_ms ({}) must be below redis_timeout_ms ({}): a write waiting \
                 for its replicas would otherwise be cut off as a stalled Redis",
                self.replication.timeout.as_millis(),
                self.redis_timeout.as_millis()
            );
        }
        if self.replication.min_replicas > 16 {
            bail!("redis_min_replicas must be 0 to 16");
        }
        if !(1..=100).contains(&self.max_attempts) {
            bail!("max_attempts must be 1 to 100");
        }
        if self.max_source_bytes == 0 || self.max_package_bytes == 0 {
            bail!("max_source_kb and max_package_mb must be at least 1");
        }
        if self.blob_gc_grace < MIN_BLOB_GC_GRACE {
            bail!(
                "blob_gc_grace must be at least {}s: an upload gets that long to be referenced",
                MIN_BLOB_GC_GRACE.as_secs()
            );
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("public_url must start with http:// or https:// (got {url:?})");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backend.toml");
        std::fs::write(
            &path,
            "lease_ttl_s = 5\nheartbeat_interval_s = 2\nadmin_token = \"from-file\"\n\
             redis_timeout_ms = 2500\n",
        )
        .unwrap();
        let args = BackendArgs { config: Some(path), lease_ttl_s: Some(7), ..Default::default() };
        let config = args.resolve().unwrap();
        assert_eq!(config.lease_ttl, Duration::from_secs(7));
        assert_eq!(config.heartbeat_interval, Duration::from_secs(2));
        assert_eq!(config.admin_token, "from-file");
        assert_eq!(config.max_attempts, 3);
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.redis_timeout, Duration::from_millis(2500));
        let args = BackendArgs { redis_timeout_ms: Some(700), ..Default::default() };
        assert_eq!(args.resolve().unwrap().redis_timeout, Duration::from_millis(700));
        let config = BackendArgs::default().resolve().unwrap();
        assert_eq!(config.redis_timeout, queue::DEFAULT_REDIS_TIMEOUT);
        assert_eq!(config.retention, queue::Retention::default());
        assert_eq!(config.blob_gc_interval, Some(Duration::from_secs(3600)));
        assert_eq!(config.blob_gc_grace, Duration::from_secs(3600));
    }

    #[test]
    fn retention_and_the_blob_sweep_take_durations_with_units() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gavel.toml");
        std::fs::write(&path, "[backend]\nrun_retention = \"12h\"\nblob_gc_interval = \"0\"\n")
            .unwrap();
        let args = BackendArgs {
            config: Some(path),
            event_log_retention: Some("0".into()),
            blob_gc_grace: Some("10m".into()),
            ..Default::default()
        };
        let config = args.resolve().unwrap();
        let day = Duration::from_secs(86_400);
        assert_eq!(config.retention.runs, day / 2);
        assert_eq!(config.retention.event_logs, Duration::ZERO, "0 keeps logs forever");
        assert_eq!(config.blob_gc_interval, None, "0 never sweeps");
        assert_eq!(config.blob_gc_grace, Duration::from_secs(600));
        let args = BackendArgs { run_retention: Some("7 days".into()), ..Default::default() };
        assert!(args.resolve().unwrap_err().to_string().starts_with("run_retention: \"7 days\""));
        let args = BackendArgs { blob_gc_grace: Some("1s".into()), ..Default::default() };
        assert!(args.resolve().unwrap_err().to_string().contains("at least 2s"));
    }

    #[test]
    fn the_blob_store_defaults_to_the_data_dir_and_takes_one_setting() {
        let config = BackendArgs { data_dir: Some("/srv/g".into()), ..Default::default() };
        let config = config.resolve().unwrap();
        assert_eq!(config.blob_store, blobstore::Location::File("/srv/g".into()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backend.toml");
        std::fs::write(&path, "[backend]\nblob_store = \"s3://judge/blobs\"\n").unwrap();
        let config = BackendArgs { config: Some(path.clone()), ..Default::default() };
        let location = blobstore::Location::S3 { bucket: "judge".into(), prefix: "blobs".into() };
        assert_eq!(config.resolve().unwrap().blob_store, location);
        let flag = BackendArgs {
            config: Some(path),
            blob_store: Some("file:///var/lib/gavel".into()),
            ..Default::default()
        };
        let location = blobstore::Location::File("/var/lib/gavel".into());
        assert_eq!(flag.resolve().unwrap().blob_store, location);
        let bad = BackendArgs { blob_store: Some("/var/lib/gavel".into()), ..Default::default() };
        let error = bad.resolve().unwrap_err().to_string();
        assert!(error.contains("file://DIR or s3://BUCKET/PREFIX"), "{error}");
    }

    #[test]
    fn redis_is_one_url_or_a_primary_behind_sentinels() {
        let config = BackendArgs::default().resolve().unwrap();
        assert_eq!(config.redis, queue::RedisTarget::Url("redis://127.0.0.1:6379/".into()));
        assert_eq!(config.replication.min_replicas, 0, "no WAIT on one Redis unless asked");
        let sentinels = || Some(vec!["127.0.0.1:26379,127.0.0.1:26380".to_string()]);
        let config =
            BackendArgs { redis_sentinel: sentinels(), ..Default::default() }.resolve().unwrap();
        let queue::RedisTarget::Sentinel(found) = &config.redis else { panic!("{config:?}") };
        assert_eq!((found.addrs.len(), found.master_name.as_str()), (2, "gavel"));
        let expected = queue::Replication { min_replicas: 1, timeout: Duration::from_secs(1) };
        assert_eq!(config.replication, expected, "a replica must have it, by default");
        let args = BackendArgs {
            redis_sentinel: sentinels(),
            redis_master_name: Some("judge".into()),
            redis_min_replicas: Some(0),
            redis_wait_timeout_ms: Some(250),
            ..Default::default()
        };
        let config = args.resolve().unwrap();
        let queue::RedisTarget::Sentinel(found) = &config.redis else { panic!("{config:?}") };
        assert_eq!(found.master_name, "judge");
        assert_eq!(config.replication.min_replicas, 0);
        assert_eq!(config.replication.timeout, Duration::from_millis(250));
        let refused = |args: BackendArgs| format!("{:#}", args.resolve().unwrap_err());
        let both = BackendArgs {
            redis_url: Some("redis://r/".into()),
            redis_sentinel: sentinels(),
            ..Default::default()
        };
        assert!(refused(both).contains("set one of them"));
        let name_alone = BackendArgs { redis_master_name: Some("g".into()), ..Default::default() };
        assert!(refused(name_alone).contains("needs redis_sentinel"));
        let bad = BackendArgs { redis_sentinel: Some(vec!["h:x".into()]), ..Default::default() };
        assert!(refused(bad).contains("not a sentinel address"));
        let forever = BackendArgs { redis_wait_timeout_ms: Some(0), ..Default::default() };
        assert!(refused(forever).contains("redis_wait_timeout_ms must be"));
        let cut_off = BackendArgs {
            redis_sentinel: sentinels(),
            redis_wait_timeout_ms: Some(2000),
            redis_timeout_ms: Some(1000),
            ..Default::default()
        };
        assert!(refused(cut_off).contains("must be below redis_timeout_ms"));
    }

    #[test]
    fn the_shared_file_gives_the_backend_its_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gavel.toml");
        std::fs::write(&path, include_str!("../../../examples/gavel.toml")).unwrap();
        let config = BackendArgs { config: Some(path), ..Default::default() }.resolve().unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.lease_ttl, Duration::from_secs(30));
        assert_eq!(config.redis_timeout, queue::DEFAULT_REDIS_TIMEOUT);
        assert!(config.webhook_allow.is_empty(), "public addresses only by default");
        std::fs::write(
            dir.path().join("bad.toml"),
            "[backend]
leas_ttl_s = 5
",
        )
        .unwrap();
        let args = BackendArgs { config: Some(dir.path().join("bad.toml")), ..Default::default() };
        assert!(format!("{:#}", args.resolve().unwrap_err()).contains("leas_ttl_s"));
    }

    #[test]
    fn the_webhook_allowlist_comes_from_the_flag_or_the_file_and_is_checked() {
        assert!(BackendArgs::default().resolve().unwrap().webhook_allow.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gavel.toml");
        std::fs::write(&path, "[backend]\nwebhook_allow = [\"10.1.2.3/16\", \"fd00::1\"]\n")
            .unwrap();
        let from_file = BackendArgs { config: Some(path.clone()), ..Default::default() };
        let ranges: Vec<String> =
            from_file.resolve().unwrap().webhook_allow.iter().map(ToString::to_string).collect();
        assert_eq!(ranges, ["10.1.0.0/16", "fd00::1/128"]);
        let flag = BackendArgs {
            config: Some(path),
            webhook_allow: Some(vec!["127.0.0.0/8".into(), " ::1/128".into()]),
            ..Default::default()
        };
        let ranges: Vec<String> =
            flag.resolve().unwrap().webhook_allow.iter().map(ToString::to_string).collect();
        assert_eq!(ranges, ["127.0.0.0/8", "::1/128"], "the flag wins over the file");
        for bad in ["10.0.0.0/33", "localhost", "10.0.0.0/8/8", ""] {
            let args = BackendArgs { webhook_allow: Some(vec![bad.into()]), ..Default::default() };
            let error = args.resolve().unwrap_err().to_string();
            assert!(error.starts_with(&format!("webhook_allow: {bad:?} is not")), "{error}");
        }
    }

    #[test]
    fn the_webhook_allowlist_flag_repeats_and_splits_at_commas() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: BackendArgs,
        }
        let cli = Cli::try_parse_from([
            "gavel",
            "--webhook-allow",
            "127.0.0.0/8,::1/128",
            "--webhook-allow",
            "10.0.0.0/8",
        ])
        .unwrap();
        assert_eq!(
            cli.args.webhook_allow.unwrap(),
            ["127.0.0.0/8", "::1/128", "10.0.0.0/8"].map(String::from)
        );
    }

    #[test]
    fn tls_comes_from_the_file_or_the_flags_and_needs_both_halves() {
        let dir = tempfile::tempdir().unwrap();
        let pair = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, pair.cert.pem()).unwrap();
        std::fs::write(&key, pair.signing_key.serialize_pem()).unwrap();
        assert!(BackendArgs::default().resolve().unwrap().tls.is_none(), "plain HTTP by default");
        let path = dir.path().join("gavel.toml");
        let file = format!("[backend]\ntls_cert = {:?}\ntls_key = {:?}\n", cert, key);
        std::fs::write(&path, file).unwrap();
        let from_file = BackendArgs { config: Some(path), ..Default::default() };
        assert!(from_file.resolve().unwrap().tls.is_some());
        let half = BackendArgs { tls_cert: Some(cert), ..Default::default() };
        let error = half.resolve().unwrap_err().to_string();
        assert_eq!(error, "tls_cert is set but tls_key is not: HTTPS needs both");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backend.toml");
        std::fs::write(&path, "leas_ttl_s = 5\n").unwrap();
        let error = BackendArgs { config: Some(path), ..Default::default() }.resolve().unwrap_err();
        assert!(format!("{error:#}").contains("leas_ttl_s"), "{error:#}");
        let args = BackendArgs {
            lease_ttl_s: Some(1),
            heartbeat_interval_s: Some(5),
            ..Default::default()
        };
        assert!(args.resolve().unwrap_err().to_string().contains("must not exceed"));
        for millis in [0, 99, 30_001] {
            let args = BackendArgs { redis_timeout_ms: Some(millis), ..Default::default() };
            let error = args.resolve().unwrap_err().to_string();
            assert!(error.starts_with("redis_timeout_ms must be 100 to 30000"), "{error}");
        }
    }
}
