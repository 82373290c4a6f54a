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
pub mod engine;
mod language;
mod limits;
mod pipes;
mod preinit;
mod registry;

use std::cell::Cell;
use std::path::PathBuf;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

pub use cancel::{CancelToken, with_cancel};
pub use checker::CheckerPlugin;
pub use language::{LanguageLimits, LanguagePlugin, wall_backstop_ms};
pub use limits::CallLimits;
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
    /// Budgets of language plugins.
    pub language_limits: LanguageLimits,
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
            language_limits: LanguageLimits {
                // Calibrated on the reference machine (docs/BENCHMARKS.md):
                // boa and RustPython burn 4.5–5.5 G fuel per second of CPU.
                fuel_per_ms: 5_000_000,
                compile: CallLimits {
                    wall_ms: 20_000,
                    fuel: 40_000_000_000,
                    memory_bytes: 1 << 30,
                    output_bytes: 1 << 20,
                },
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
        let cache = engine::ComponentCache::new(config.cache_dir.clone());
        Ok(PluginHost { engine, linker, cache, config })
    }

    /// The host's settings.
    pub fn config(&self) -> &HostConfig {
        &self.config
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
        if exports_of(&self.engine, &component).any(|e| e == preinit::INIT_EXPORT) {
            component = self
                .cache
                .load(&self.engine, &format!("{digest}-preinit"), || {
                    let limits = self.config.init_limits;
                    Ok(preinit::snapshot(&self.engine, &self.linker, bytes, limits)?.into())
                })
                .map_err(|e| PluginError::Invalid(format!("pre-initialising: {e:#}")))?;
        }
        // Every call's WASI context allows no TCP, UDP or name lookup, but a
        // plugin that asks for the network is refused outright.
        if let Some(import) = imports_of(&self.engine, &component).find(|i| i.starts_with(NETWORK))
        {
            return Err(PluginError::Invalid(format!(
                "imports `{import}`: plugins may not use the network"
            )));
        }
        let pre = self.linker.instantiate_pre(&component).map_err(|e| {
            PluginError::Invalid(format!("imports something Gavel does not provide: {e:#}"))
        })?;
        let exports: Vec<String> = exports_of(&self.engine, &component).collect();
        if exports.iter().any(|e| e == "check") {
            CheckerPlugin::new(&self.engine, pre, digest, self.config.checker_limits)
                .map(Plugin::Checker)
        } else if exports.iter().any(|e| e == "run") {
            LanguagePlugin::new(&self.engine, pre, digest, self.config.language_limits)
                .map(Plugin::Language)
        } else {
            Err(PluginError::WrongWorld(format!(
                "it exports [{}]; a checker exports `info` and `check`, a language `info`, `compile` and `run`",
                exports.join(", ")
            )))
        }
    }
}

/// The WASI interfaces that reach the network (`wasi:sockets/…`).
const NETWORK: &str = "wasi:sockets/";

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

/// Native stack size of the threads plugin calls run on.
pub const BIG_STACK: usize = 32 << 20;

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
