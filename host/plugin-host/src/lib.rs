//! Gavel's plugin host: runs WIT plugins (checkers and language toolchains)
//! as WebAssembly components in wasmtime.
//!
//! Every call gets a fresh [`wasmtime::Store`] built from an `InstancePre`
//! made once per plugin, so a trap in one call can never poison the next and
//! no state leaks between submissions. Each store carries:
//! - **fuel**: a deterministic instruction budget (TLE for languages);
//! - an **epoch deadline**: a wall-clock backstop, advanced by a ticker thread;
//! - a **memory cap** enforced by our own `ResourceLimiter`, which records the
//!   refusal so the verdict is MLE whatever the guest does with the failure;
//! - an **output cap** shared by stdout and stderr (OLE);
//! - WASI with **no preopened directory, no environment, no network**.
//!
//! Components are compiled once and cached on disk as `.cwasm`, keyed by the
//! plugin's SHA-256 and the engine's settings; the pooling allocator makes
//! each fresh instance cost tens of microseconds.
//!
//! Calls need a deep native stack (Wasm may use up to
//! [`engine::MAX_WASM_STACK`]); they run on a thread made by [`on_big_stack`].

mod call;
pub mod cancel;
mod checker;
mod duplex;
pub mod engine;
mod interact;
mod language;
mod limits;
mod pipes;
mod preinit;
mod program;
mod registry;

use std::cell::Cell;
use std::path::PathBuf;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

pub use call::{CallIo, CallReport, Failure, Preopen};
pub use cancel::{CancelToken, with_cancel};
pub use checker::CheckerPlugin;
pub use interact::WasiInteractor;
pub use language::{FuelCalibration, LanguagePlugin, WALL_SLACK};
pub use limits::CallLimits;
pub use program::{JudgedProgram, ProgramChecker, WasiProgram};
pub use registry::{PluginSet, Skipped};

/// Budgets of the `info` call made when a plugin is loaded.
pub(crate) const INFO_LIMITS: CallLimits = CallLimits {
    wall_ms: 2_000,
    fuel: 1_000_000_000,
    memory_bytes: 256 << 20,
    output_bytes: 64 << 10,
};

/// Which world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Checker,
    Language,
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PluginKind::Checker => "checker",
            PluginKind::Language => "language",
        })
    }
}

/// What a plugin says about itself, plus its digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PluginInfo {
    pub id: String,
    pub kind: PluginKind,
    pub name: String,
    pub version: String,
    /// SHA-256 of the component, lowercase hex.
    pub digest: String,
}

impl PluginInfo {
    fn new(
        id: String,
        name: String,
        version: String,
        digest: String,
        kind: PluginKind,
    ) -> Result<Self, PluginError> {
        let valid = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(PluginError::Invalid(format!(
                "plugin id {id:?} must be 1-64 characters of a-z, 0-9 and -"
            )));
        }
        let cap = |s: String| s.chars().take(200).collect::<String>();
        Ok(PluginInfo { id, kind, name: cap(name), version: cap(version), digest })
    }
}

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    #[error("does not implement gavel:plugin's checker or language world: {0}")]
    WrongWorld(String),
    #[error("instantiating it failed: {0}")]
    Start(String),
    #[error("its `info` call failed: {0}")]
    Info(String),
    #[error("{0}")]
    Invalid(String),
}

/// One of [`PluginError`]'s variants, waiting for its message.
pub(crate) type Refusal = fn(String) -> PluginError;

impl PluginError {
    fn wrong_world(e: &wasmtime::Error) -> Self {
        PluginError::WrongWorld(format!("{e:#}"))
    }
}

/// A loaded plugin of either kind.
#[derive(Debug, Clone)]
pub enum Plugin {
    Checker(CheckerPlugin),
    Language(LanguagePlugin),
}

impl Plugin {
    /// What the plugin says about itself.
    pub fn info(&self) -> &PluginInfo {
        match self {
            Plugin::Checker(c) => c.info(),
            Plugin::Language(l) => l.info(),
        }
    }
}

/// Settings of a [`PluginHost`].
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Where compiled components are cached; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// How many calls may run at once (sizes the instance pool).
    pub concurrency: u32,
    /// Budgets of each checker call.
    pub checker_limits: CallLimits,
    /// Budgets of a language plugin's `compile` call. (A run's budgets come
    /// from the problem's limits and the language's [`FuelCalibration`].)
    pub compile_limits: CallLimits,
    /// Budgets of the `init` call of a `preinit-language` plugin, made once
    /// when it is loaded (booting an interpreter, not running a program).
    pub init_limits: CallLimits,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            cache_dir: None,
            concurrency: 8,
            checker_limits: CallLimits {
                wall_ms: 5_000,
                fuel: 20_000_000_000,
                memory_bytes: 1 << 30,
                output_bytes: 64 << 10,
            },
            compile_limits: CallLimits {
                wall_ms: 20_000,
                fuel: 40_000_000_000,
                memory_bytes: 1 << 30,
                output_bytes: 1 << 20,
            },
            init_limits: CallLimits {
                wall_ms: 60_000,
                fuel: 100_000_000_000,
                memory_bytes: 1 << 30,
                output_bytes: 64 << 10,
            },
        }
    }
}

/// Loads and runs plugins with one wasmtime engine.
#[derive(Clone)]
pub struct PluginHost {
    engine: Engine,
    linker: Linker<call::CallState>,
    program_linker: wasmtime::Linker<call::CallState>,
    cache: engine::ComponentCache,
    config: HostConfig,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost").field("config", &self.config).finish()
    }
}

impl PluginHost {
    /// Builds the engine and the WASI linker.
    pub fn new(config: HostConfig) -> anyhow::Result<Self> {
        let engine = engine::build_engine(config.concurrency)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        let program_linker = program::linker(&engine)?;
        let cache = engine::ComponentCache::new(config.cache_dir.clone());
        Ok(PluginHost { engine, linker, program_linker, cache, config })
    }

    /// The host's settings.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Whether `bytes` are compiled in the on-disk cache already, so that
    /// [`Self::load`] will not compile them (which takes seconds for an
    /// interpreter's component).
    pub fn is_cached(&self, bytes: &[u8]) -> bool {
        self.cache.contains(&self.engine, &engine::digest(bytes))
    }

    /// Validates, compiles (or loads from the cache) and describes a plugin.
    pub fn load(&self, bytes: &[u8]) -> Result<Plugin, PluginError> {
        if !bytes.starts_with(b"\0asm") {
            return Err(PluginError::NotAComponent("missing the `\\0asm` header".into()));
        }
        if bytes.get(4..8) != Some(&[0x0d, 0x00, 0x01, 0x00]) {
            return Err(PluginError::NotAComponent(
                "a core module, not a component (build for wasm32-wasip2, or wrap it with `wasm-tools component new`)"
                    .into(),
            ));
        }
        let digest = engine::digest(bytes);
        let loaded = self.cache.load(&self.engine, &digest, || Ok(bytes.into()));
        let mut component: Component = loaded.map_err(|e| {
            if e.is::<engine::OverLimits>() {
                PluginError::Invalid(format!("{e:#}"))
            } else {
                PluginError::NotAComponent(format!("{e:#}"))
            }
        })?;
        check_wit_version(imports_of(&self.engine, &component))?;
        if exports_of(&self.engine, &component).any(|e| e == preinit::INIT_EXPORT) {
            component = self
                .cache
                .load(&self.engine, &format!("{digest}-preinit"), || {
                    let limits = self.config.init_limits;
                    Ok(preinit::snapshot(&self.engine, &self.linker, bytes, limits)?.into())
                })
                .map_err(|e| PluginError::Invalid(format!("pre-initialising: {e:#}")))?;
        }
        // `wasi:sockets` is linked (an interpreter's standard library imports
        // it), but every call's WASI context denies every address and lookup.
        let pre = self.linker.instantiate_pre(&component).map_err(|e| {
            PluginError::Invalid(format!("imports something Gavel does not provide: {e:#}"))
        })?;
        let exports: Vec<String> = exports_of(&self.engine, &component).collect();
        if exports.iter().any(|e| e == "check") {
            CheckerPlugin::new(&self.engine, pre, digest, self.config.checker_limits)
                .map(Plugin::Checker)
        } else if exports.iter().any(|e| e == "run") {
            LanguagePlugin::new(&self.engine, pre, digest, self.config.compile_limits)
                .map(Plugin::Language)
        } else {
            Err(PluginError::WrongWorld(format!(
                "it exports [{}]; a checker exports `info` and `check`, a language `info`, `compile` and `run`",
                exports.join(", ")
            )))
        }
    }
}

/// The version of `gavel:plugin` (the package in `wit/plugin.wit`) this host
/// speaks; a test keeps it equal to the file's.
pub const WIT_VERSION: &str = "0.2.0";

/// Refuses a component built against another version of `gavel:plugin`: its
/// imports name the package's interfaces with the version it was built for
/// (`gavel:plugin/types@0.1.0`).
fn check_wit_version(mut imports: impl Iterator<Item = String>) -> Result<(), PluginError> {
    let Some(import) = imports.find(|i| i.starts_with("gavel:plugin/")) else {
        return Ok(());
    };
    let built_for = import.split_once('@').map_or("no version", |(_, v)| v);
    if built_for == WIT_VERSION {
        return Ok(());
    }
    Err(PluginError::Invalid(format!(
        "built for gavel:plugin@{built_for} (it imports `{import}`), but this Gavel speaks \
         gavel:plugin@{WIT_VERSION}: rebuild the plugin against this release's wit/plugin.wit"
    )))
}

/// The names a component imports.
fn imports_of(engine: &Engine, component: &Component) -> impl Iterator<Item = String> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect::<Vec<_>>()
        .into_iter()
}

/// The names a component exports.
fn exports_of(engine: &Engine, component: &Component) -> impl Iterator<Item = String> {
    component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect::<Vec<_>>()
        .into_iter()
}

/// Native stack size of the threads plugin calls run on: the deepest Wasm
/// stack plus room for the host's own frames (virtual memory until used).
pub const BIG_STACK: usize = engine::MAX_WASM_STACK + (32 << 20);

thread_local! {
    static ON_BIG_STACK: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on a thread whose native stack fits the deepest Wasm stack a
/// plugin may use: inline when already on one, else on a scoped thread.
/// Wrap a whole judging loop in it to pay for the thread once.
pub fn on_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if ON_BIG_STACK.get() {
        return f();
    }
    // The job's cancel token (if any) governs calls on the new thread too.
    let cancel = cancel::current();
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("gavel-plugin".into())
            .stack_size(BIG_STACK)
            .spawn_scoped(s, || {
                ON_BIG_STACK.set(true);
                match &cancel {
                    Some(token) => with_cancel(token, f),
                    None => f(),
                }
            })
            .expect("spawning a plugin thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wit_version_is_the_one_in_wit_plugin_wit() {
        let wit = include_str!("../../../wit/plugin.wit");
        let package = wit.lines().find(|l| l.starts_with("package ")).expect("a package line");
        assert_eq!(package, format!("package gavel:plugin@{WIT_VERSION};"));
    }

    #[test]
    fn components_built_for_another_wit_version_are_refused_with_both_versions() {
        let imports = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let this = imports(&["wasi:cli/stdout@0.2.6", "gavel:plugin/types@0.2.0"]);
        assert!(check_wit_version(this.into_iter()).is_ok());
        let none = imports(&["wasi:cli/stdout@0.2.6"]);
        assert!(check_wit_version(none.into_iter()).is_ok());

        let old = imports(&["gavel:plugin/types@0.1.0"]);
        let message = check_wit_version(old.into_iter()).unwrap_err().to_string();
        assert!(message.contains("built for gavel:plugin@0.1.0"), "{message}");
        assert!(message.contains(&format!("speaks gavel:plugin@{WIT_VERSION}")), "{message}");
        let unversioned = imports(&["gavel:plugin/types"]);
        let message = check_wit_version(unversioned.into_iter()).unwrap_err().to_string();
        assert!(message.contains("built for gavel:plugin@no version"), "{message}");
    }
}
