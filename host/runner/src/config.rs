//! The runner's settings: flags, `GAVEL_*` environment variables and a TOML
//! file (`--config`), in that order of precedence (layered by
//! `protocol::config`, as the backend's are), then defaults.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use serde::{Deserialize, Serialize};

/// `gavel runner` flags; each also has an env var and a TOML key (the flag's
/// name with `_` for `-`). The plugins folder and the compiled-plugin cache
/// are gavel's global `--plugins` and `--cache-dir`.
#[derive(Debug, Clone, Default, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunnerArgs {
    /// A TOML file with any of the settings below.
    #[arg(long, env = "GAVEL_RUNNER_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// The backend's base URL; several instances of one deployment (one
    /// Redis, one blob store) by repeating the flag or separating them with
    /// commas: the runner fails over between them [default:
    /// http://127.0.0.1:8080].
    #[arg(long, env = "GAVEL_BACKEND", value_delimiter = ',')]
    #[serde(default, deserialize_with = "one_or_more")]
    pub backend: Option<Vec<String>>,
    /// The backend's runner registration token.
    #[arg(long, env = "GAVEL_REGISTRATION_TOKEN", hide_env_values = true)]
    pub registration_token: Option<String>,
    /// This runner's name in the backend's listings [default: the host name].
    #[arg(long, env = "GAVEL_RUNNER_NAME")]
    pub name: Option<String>,
    /// Jobs judged at once [default: 1].
    #[arg(long, env = "GAVEL_SLOTS")]
    pub slots: Option<u32>,
    /// Labels jobs may require, comma-separated.
    #[arg(long, env = "GAVEL_LABELS", value_delimiter = ',')]
    pub labels: Option<Vec<String>>,
    /// Identity, outbox and blob cache [default: ./gavel-runner].
    #[arg(long, env = "GAVEL_RUNNER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Blob cache budget in MiB [default: 2048].
    #[arg(long, env = "GAVEL_CACHE_MB")]
    pub cache_mb: Option<u64>,
    /// Seconds running jobs get to finish on shutdown [default: 30].
    #[arg(long, env = "GAVEL_GRACE_S")]
    pub grace_s: Option<u64>,
    /// Trust the CA certificates of this PEM file besides the public ones,
    /// for an `https://` backend whose certificate a private CA signed.
    #[arg(long, env = "GAVEL_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// Offer the native languages (c, cpp, python3) when a Docker engine and
    /// the sandbox image are there [default: true].
    #[arg(long, env = "GAVEL_NATIVE")]
    pub native: Option<bool>,
}

/// A TOML `backend`: one URL (`"http://a"`) or a list of them.
fn one_or_more<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMore {
        One(String),
        More(Vec<String>),
    }
    Ok(Option::<OneOrMore>::deserialize(deserializer)?.map(|urls| match urls {
        OneOrMore::One(url) => vec![url],
        OneOrMore::More(urls) => urls,
    }))
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// The backend instances' base URLs (at least one).
    pub backends: Vec<String>,
    pub registration_token: String,
    pub name: String,
    pub slots: u32,
    pub labels: Vec<String>,
    pub data_dir: PathBuf,
    pub cache_bytes: u64,
    pub grace: Duration,
    /// Extra plugins, watched for changes.
    pub plugins_dir: Option<PathBuf>,
    /// Where compiled plugins are cached.
    pub compiled_cache_dir: Option<PathBuf>,
    /// Whether to offer native languages (when Docker and the image are there).
    pub native: bool,
    /// Roots trusted besides the public CAs (`ca_cert`).
    pub ca_certs: Vec<reqwest::Certificate>,
}

impl RunnerArgs {
    /// Flags and env over the TOML file (`protocol::config::load`) over
    /// defaults, validated.
    pub fn resolve(
        self,
        plugins_dir: Option<PathBuf>,
        compiled_cache_dir: Option<PathBuf>,
    ) -> anyhow::Result<RunnerConfig> {
        let set = protocol::config::load(&self, self.config.as_deref(), "runner")
            .map_err(anyhow::Error::msg)?;
        let config = RunnerConfig {
            backends: set
                .backend
                .filter(|urls| !urls.is_empty())
                .unwrap_or_else(|| vec!["http://127.0.0.1:8080".into()]),
            registration_token: set.registration_token.unwrap_or_default(),
            name: set.name.unwrap_or_else(host_name),
            slots: set.slots.unwrap_or(1),
            labels: set.labels.unwrap_or_default(),
            data_dir: set.data_dir.unwrap_or_else(|| "gavel-runner".into()),
            cache_bytes: set.cache_mb.unwrap_or(2048) << 20,
            grace: Duration::from_secs(set.grace_s.unwrap_or(30)),
            plugins_dir,
            compiled_cache_dir,
            native: set.native.unwrap_or(true),
            ca_certs: match &set.ca_cert {
                Some(path) => crate::client::read_ca_certs(path).map_err(anyhow::Error::msg)?,
                None => Vec::new(),
            },
        };
        if config.registration_token.is_empty() {
            bail!(
                "a registration token is needed: --registration-token or GAVEL_REGISTRATION_TOKEN"
            );
        }
        if !(1..=1024).contains(&config.slots) {
            bail!("slots must be 1 to 1024");
        }
        for url in &config.backends {
            if !url.starts_with("http://") && !url.starts_with("https://") {
                bail!("backend must be an http:// or https:// URL, not {url:?}");
            }
        }
        Ok(config)
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "runner".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_file_gives_the_runner_its_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gavel.toml");
        std::fs::write(&path, include_str!("../../../examples/gavel.toml")).unwrap();
        let args = RunnerArgs {
            config: Some(path),
            registration_token: Some("t".into()),
            ..Default::default()
        };
        let config = args.resolve(None, None).unwrap();
        assert_eq!(config.slots, 2);
        assert_eq!(config.backends, ["http://127.0.0.1:8080"]);
        assert_eq!((config.cache_bytes, config.native), (2048 << 20, true));
    }

    #[test]
    fn a_ca_file_must_hold_pem_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let args = |path: &std::path::Path| RunnerArgs {
            registration_token: Some("t".into()),
            ca_cert: Some(path.to_path_buf()),
            ..Default::default()
        };
        let missing = dir.path().join("nowhere.pem");
        let error = args(&missing).resolve(None, None).unwrap_err().to_string();
        assert!(error.starts_with(&format!("ca_cert {}: ", missing.display())), "{error}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let error = args(&empty).resolve(None, None).unwrap_err().to_string();
        assert!(error.contains("no PEM certificate"), "{error}");
    }

    #[test]
    fn flags_win_over_the_file_and_a_token_is_required() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runner.toml");
        std::fs::write(&path, "slots = 4\nlabels = [\"gpu\"]\nregistration_token = \"t\"\n")
            .unwrap();
        let args = RunnerArgs { config: Some(path.clone()), slots: Some(2), ..Default::default() };
        let config = args.resolve(None, None).unwrap();
        assert_eq!((config.slots, config.labels.as_slice()), (2, ["gpu".to_string()].as_slice()));
        assert_eq!(config.backends, ["http://127.0.0.1:8080"]);
        let error = RunnerArgs::default().resolve(None, None).unwrap_err();
        assert!(error.to_string().contains("registration token"));
    }

    #[test]
    fn several_backends_by_flag_list_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let resolve = |args: RunnerArgs| {
            RunnerArgs { registration_token: Some("t".into()), ..args }.resolve(None, None)
        };
        let two = vec!["http://a:1".to_string(), "https://b:2".to_string()];
        let flags = RunnerArgs { backend: Some(two.clone()), ..Default::default() };
        assert_eq!(resolve(flags).unwrap().backends, two);
        for (text, expected) in [
            ("backend = \"http://a:1\"\n", vec!["http://a:1".to_string()]),
            ("backend = [\"http://a:1\", \"https://b:2\"]\n", two.clone()),
        ] {
            let path = dir.path().join("runner.toml");
            std::fs::write(&path, text).unwrap();
            let file = RunnerArgs { config: Some(path), ..Default::default() };
            assert_eq!(resolve(file).unwrap().backends, expected, "{text}");
        }
        let bad = RunnerArgs {
            backend: Some(vec!["http://a".into(), "b:2".into()]),
            ..Default::default()
        };
        let error = resolve(bad).unwrap_err().to_string();
        assert!(error.contains("\"b:2\""), "{error}");
    }
}
