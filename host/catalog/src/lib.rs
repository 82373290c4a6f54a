//! Where Gavel (`gavel judge`, runner hosts) finds what judges a
//! submission: the plugins — the builtins embedded in the binary, then a
//! plugins folder (`--plugins`), whose plugins win over builtins of the same
//! id; builtins are compiled when first used or by a runner's start-up
//! warm-up (and cached on disk), and
//! a runner rescans the folder when it changes — and, in [`resolve`], the
//! one mapping from a language id to its executor (a Wasm plugin, or a
//! native language in Docker) and from a problem's checker reference to its
//! checker.
//!
//! The resolver lives here, in host/, rather than in the runner: `gavel
//! judge` needs it without the runner agent, and it needs both of the crates
//! that run code (`plugin-host` for Wasm, `native` for Docker), which sit
//! below it; nothing below `catalog` depends on it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub mod clang_wasm;
pub mod resolve;

use builtin_plugins::BUILTINS;
pub use builtin_plugins::Kind;
use plugin_host::{
    CheckerPlugin, HostConfig, LanguagePlugin, Plugin, PluginHost, PluginSet, Skipped,
};

/// Builtins plus a plugins folder, over one [`PluginHost`].
pub struct Catalog {
    pub host: PluginHost,
    folder: PluginSet,
    pub skipped: Vec<Skipped>,
    /// Builtins loaded so far, by id and kind: loading hashes and looks up
    /// megabytes of Wasm, which a runner must not pay per job. One slot per
    /// builtin, so a first compile (seconds, for an interpreter) blocks only
    /// the callers that need that plugin.
    loaded: Mutex<HashMap<(&'static str, Kind), Slot>>,
}

/// One builtin, once loaded.
type Slot = Arc<Mutex<Option<Plugin>>>;

impl Catalog {
    /// A catalog with the builtins and, when given, the plugins in `dir`.
    pub fn new(config: HostConfig, dir: Option<&Path>) -> anyhow::Result<Self> {
        let host = PluginHost::new(config).context("starting the Wasm engine")?;
        let mut catalog = Catalog {
            host,
            folder: PluginSet::default(),
            skipped: Vec::new(),
            loaded: Mutex::default(),
        };
        if let Some(dir) = dir {
            catalog.rescan(dir)?;
        }
        Ok(catalog)
    }

    /// Replaces the folder's plugins with what `dir` holds now; broken files
    /// are logged and skipped.
    pub fn rescan(&mut self, dir: &Path) -> anyhow::Result<()> {
        let mut folder = PluginSet::default();
        let skipped = folder
            .load_dir(&self.host, dir)
            .with_context(|| format!("reading the plugins folder {}", dir.display()))?;
        for s in &skipped {
            tracing::warn!(path = %s.path.display(), reason = %s.reason, "skipping a broken plugin");
        }
        self.folder = folder;
        self.skipped = skipped;
        Ok(())
    }

    /// Every plugin this catalog offers as `(id, kind, SHA-256)`, folder
    /// plugins over builtins of the same id.
    pub fn advertised(&self) -> Vec<(String, Kind, String)> {
        let folder: Vec<(String, Kind, String)> = self
            .folder
            .infos()
            .into_iter()
            .map(|i| (i.id.clone(), kind_of(i.kind), i.digest.clone()))
            .collect();
        let builtins = BUILTINS
            .iter()
            .filter(|b| !folder.iter().any(|(id, kind, _)| id == b.id && *kind == b.kind))
            .map(|b| (b.id.to_string(), b.kind, b.digest.to_string()));
        let mut all: Vec<_> = builtins.chain(folder.iter().cloned()).collect();
        all.sort();
        all
    }

    /// Loads one builtin by id.
    fn builtin(&self, id: &str, kind: Kind) -> anyhow::Result<Option<Plugin>> {
        let Some(b) = BUILTINS.iter().find(|b| b.id == id && b.kind == kind) else {
            return Ok(None);
        };
        let slot = {
            let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
            loaded.entry((b.id, kind)).or_default().clone()
        };
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(plugin) = &*slot {
            return Ok(Some(plugin.clone()));
        }
        let plugin =
            self.host.load(b.wasm).with_context(|| format!("loading the builtin plugin `{id}`"))?;
        *slot = Some(plugin.clone());
        Ok(Some(plugin))
    }

    /// Whether the builtin `id` of this kind is compiled for this machine
    /// already (loaded, or in the on-disk cache), so loading it is quick.
    /// A first compile takes seconds for an interpreter: callers that make
    /// someone wait say so.
    pub fn is_compiled(&self, id: &str, kind: Kind) -> bool {
        let Some(b) = BUILTINS.iter().find(|b| b.id == id && b.kind == kind) else {
            return true;
        };
        let loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let in_memory = loaded
            .get(&(b.id, kind))
            .is_some_and(|slot| slot.lock().unwrap_or_else(|e| e.into_inner()).is_some());
        in_memory || self.host.is_cached(b.wasm)
    }

    /// Compiles every builtin language the on-disk cache lacks, without
    /// keeping it loaded: a runner calls it in the background at start so its
    /// first job does not wait seconds for a compile, while an idle runner
    /// does not hold an interpreter's tens of megabytes resident (a job loads
    /// a cached one in milliseconds).
    pub fn warm_up(&self) {
        for b in BUILTINS.iter().filter(|b| b.kind == Kind::Language) {
            if self.host.is_cached(b.wasm) {
                continue;
            }
            let started = std::time::Instant::now();
            match self.host.load(b.wasm) {
                Ok(_) => tracing::info!(
                    language = b.id,
                    ms = started.elapsed().as_millis() as u64,
                    "builtin language compiled into the cache"
                ),
                Err(e) => tracing::error!(
                    language = b.id,
                    error = %format!("{e:#}"),
                    "builtin language failed to load"
                ),
            }
        }
    }

    /// The checker with this id.
    pub fn checker(&self, id: &str) -> anyhow::Result<CheckerPlugin> {
        if let Some(c) = self.folder.checker(id) {
            return Ok(c.clone());
        }
        match self.builtin(id, Kind::Checker)? {
            Some(Plugin::Checker(c)) => Ok(c),
            _ => bail!("unknown checker `{id}` (known: {})", self.known(Kind::Checker).join(", ")),
        }
    }

    /// The language with this id.
    pub fn language(&self, id: &str) -> anyhow::Result<LanguagePlugin> {
        if let Some(l) = self.folder.language(id) {
            return Ok(l.clone());
        }
        match self.builtin(id, Kind::Language)? {
            Some(Plugin::Language(l)) => Ok(l),
            _ => {
                bail!("unknown language `{id}` (known: {})", self.known(Kind::Language).join(", "))
            }
        }
    }

    /// Ids of every plugin of a kind, builtins and folder alike.
    pub fn known(&self, kind: Kind) -> Vec<String> {
        let mut ids: Vec<String> =
            BUILTINS.iter().filter(|b| b.kind == kind).map(|b| b.id.to_string()).collect();
        ids.extend(
            self.folder
                .infos()
                .into_iter()
                .filter(|i| same_kind(i.kind, kind))
                .map(|i| i.id.clone()),
        );
        ids.sort();
        ids.dedup();
        ids
    }

    /// The language of a source file, from its extension: judge-core's
    /// table of the shipped languages (`.py` is `python`), else the
    /// folder plugin that claims an extension the table does not know.
    pub fn guess_language(&self, source: &Path) -> anyhow::Result<String> {
        let name = source.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if let Some(id) = judge_core::language::guess(name) {
            return Ok(id.to_string());
        }
        let Some(ext) = source.extension().and_then(|e| e.to_str()) else {
            bail!(
                "{}: no file extension to guess the language from: pass --language",
                source.display()
            );
        };
        let mut ids: Vec<String> = self
            .folder
            .languages_for_extension(ext)
            .into_iter()
            .map(|l| l.info().id.clone())
            .collect();
        ids.sort();
        match ids.as_slice() {
            [id] => Ok(id.clone()),
            [] => bail!(
                "{}: no language handles `.{ext}` files (known: {}): pass --language",
                source.display(),
                self.known(Kind::Language).join(", ")
            ),
            many => bail!(
                "{}: `.{ext}` is ambiguous ({}): pass --language",
                source.display(),
                many.join(", ")
            ),
        }
    }

    /// Every plugin, loaded (compiles builtins not yet cached).
    pub fn all(&self) -> anyhow::Result<PluginSet> {
        let mut set = PluginSet::default();
        for b in BUILTINS {
            set.insert(
                self.host
                    .load(b.wasm)
                    .with_context(|| format!("loading the builtin `{}`", b.id))?,
            );
        }
        for info in self.folder.infos() {
            match info.kind {
                plugin_host::PluginKind::Checker => {
                    set.insert(Plugin::Checker(self.checker(&info.id)?))
                }
                plugin_host::PluginKind::Language => {
                    set.insert(Plugin::Language(self.language(&info.id)?))
                }
            }
        }
        Ok(set)
    }
}

fn kind_of(kind: plugin_host::PluginKind) -> Kind {
    match kind {
        plugin_host::PluginKind::Checker => Kind::Checker,
        plugin_host::PluginKind::Language => Kind::Language,
    }
}

fn same_kind(a: plugin_host::PluginKind, b: Kind) -> bool {
    kind_of(a) == b
}

/// The default cache directory: `$GAVEL_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/gavel`, else `~/.cache/gavel`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GAVEL_CACHE_DIR") {
        return Some(dir.into());
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("gavel"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("gavel"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_digests_are_the_sha256_of_the_embedded_components() {
        for b in BUILTINS {
            assert_eq!(b.digest, plugin_host::engine::digest(b.wasm), "{}", b.id);
        }
    }

    /// What a builtin language's own `info` claims (its `source_file`,
    /// which `builtin-plugins` repeats and its tests check) agrees with the
    /// one table guesses are made from.
    #[test]
    fn each_builtin_language_is_what_the_table_guesses_for_its_extension() {
        for b in BUILTINS.iter().filter(|b| b.kind == Kind::Language) {
            let ext = b.extension.expect("a language has an extension");
            assert_eq!(judge_core::language::for_extension(ext), Some(b.id));
            let shipped = judge_core::language::SHIPPED.iter().find(|l| l.id == b.id);
            assert!(shipped.is_some_and(|l| !l.native), "{}", b.id);
        }
    }

    #[test]
    fn guesses_use_the_table_first_then_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = builtin_plugins::fixture_path("fixture_language");
        std::fs::copy(&fixture, dir.path().join("fixture_language.wasm")).unwrap();
        let catalog = Catalog::new(HostConfig::default(), Some(dir.path())).unwrap();
        let guess = |name: &str| catalog.guess_language(Path::new(name));
        assert_eq!(guess("sol/main.py").unwrap(), "python");
        assert_eq!(guess("a.cc").unwrap(), "cpp");
        assert_eq!(guess("main.fix").unwrap(), "fixture-language");
        let unknown = guess("main.cob").unwrap_err().to_string();
        assert!(unknown.contains("no language handles `.cob`"), "{unknown}");
        assert!(guess("Makefile").unwrap_err().to_string().contains("--language"));
    }
}
