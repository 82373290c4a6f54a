//! One module per subcommand; [`Env`] carries what they share.

pub mod backend;
pub mod check;
pub mod follow;
pub mod image;
pub mod judge;
pub mod plugins;
pub mod problem;
pub mod run;
pub mod runner;
pub mod runners;
pub mod submit;
pub mod up;
pub mod watch;

use std::path::{Path, PathBuf};

use plugin_host::HostConfig;

use catalog::Catalog;

/// Settings every subcommand shares.
#[derive(Debug)]
pub struct Env {
    pub cache_dir: Option<PathBuf>,
    pub plugins: Option<PathBuf>,
}

impl Env {
    /// The plugin catalog for these settings.
    pub fn catalog(&self) -> anyhow::Result<Catalog> {
        let config = HostConfig { cache_dir: self.cache_dir.clone(), ..HostConfig::default() };
        Catalog::new(config, self.plugins.as_deref())
    }
}

/// Reads a user-named file of at most `cap` bytes; failures are bad input.
pub fn read_input(path: &Path, what: &str, cap: u64) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| crate::BadInput(format!("{what} {}: {e}", path.display())))?;
    if meta.len() > cap {
        return Err(crate::BadInput(format!(
            "{what} {}: {} bytes is over the limit of {cap} bytes",
            path.display(),
            meta.len()
        ))
        .into());
    }
    std::fs::read(path)
        .map_err(|e| crate::BadInput(format!("{what} {}: {e}", path.display())).into())
}
