//! The wasmtime engine Gavel runs plugins in: its settings, the epoch ticker
//! that turns wall-clock deadlines into traps, and the on-disk cache of
//! precompiled components.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Module, PoolingAllocationConfig};

/// How often the engine's epoch advances; deadlines are rounded up to it.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The largest linear memory any plugin call may use (wasm32's own limit).
pub const MAX_MEMORY_BYTES: u64 = 4 << 30;

/// The deepest Wasm stack a call may use. Calls run on threads with a
/// larger native stack (see [`crate::on_big_stack`]), which the host touches
/// (makes resident) only as deep as a call goes and frees with the thread.
/// Sized for the `javascript` plugin: a level of JavaScript recursion takes
/// ~800 bytes of native frames (QuickJS's interpreter), so its own limit
/// (~111,000 levels, in its shadow stack) must come first. One engine, one
/// limit: a checker that recurses without end only traps later.
pub const MAX_WASM_STACK: usize = 160 << 20;

/// Builds the engine: Cranelift, fuel, epochs, pooling allocator.
pub fn build_engine(concurrency: u32) -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    // Enough slots for `concurrency` calls at once, with room for the few
    // core instances and memories each Rust/C guest component holds.
    let calls = concurrency.max(1) * 2 + 8;
    pool.total_component_instances(calls)
        .total_core_instances(calls * 16)
        .total_memories(calls * 4)
        .total_tables(calls * 8)
        .total_stacks(calls)
        .max_core_instances_per_component(32)
        .max_memories_per_component(8)
        .max_tables_per_component(16)
        .max_memory_size(MAX_MEMORY_BYTES as usize)
        .table_elements(200_000)
        .max_core_instance_size(8 << 20)
        .max_component_instance_size(8 << 20)
        // Keep a few freed slots' pages around: fresh stores reuse them.
        .max_unused_warm_slots(calls.min(16))
        // Zero the first 4 MiB of reused memory in place instead of
        // decommitting it: a checker copying megabytes of output in then
        // does not fault every page in again (2.7× the throughput), while a
        // language's larger snapshot is not memset whole on every run (16 MiB
        // cost an earlier Python plugin 3 ms a run; docs/BENCHMARKS.md). Costs up to this
        // much resident memory per warm slot.
        .linear_memory_keep_resident(4 << 20);

    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(MAX_WASM_STACK)
        // wasmtime-wasi enables async support, which requires room for the Wasm stack.
        .async_stack_size(MAX_WASM_STACK + (1 << 20))
        .wasm_backtrace_max_frames(None)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config)?;
    start_epoch_ticker(&engine);
    Ok(engine)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until the engine is dropped.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("gavel-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}

/// The number of epoch ticks that covers `ms` milliseconds (at least one).
pub fn ticks_for(ms: u64) -> u64 {
    ms.div_ceil(EPOCH_TICK.as_millis() as u64).max(1) + 1
}

/// The SHA-256 of a plugin's bytes, lowercase hex: its identity everywhere.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A directory of `.cwasm` files, one per (component digest, engine settings).
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

impl ComponentCache {
    /// A cache in `dir`, or no cache at all.
    pub fn new(dir: Option<PathBuf>) -> Self {
        ComponentCache { dir }
    }

    /// Whether a compiled component is cached under `key` for this engine.
    pub fn contains(&self, engine: &Engine, key: &str) -> bool {
        self.dir.as_ref().is_some_and(|dir| self.path(dir, engine, key).is_file())
    }

    fn path(&self, dir: &Path, engine: &Engine, key: &str) -> PathBuf {
        dir.join(format!("{key}-{}.cwasm", engine_key(engine)))
    }

    /// Loads the component cached under `key` for this engine's settings,
    /// or compiles the bytes `wasm` produces and caches the result. `key`
    /// must name those bytes (e.g. their digest).
    pub fn load<'a, C: Compiled>(
        &self,
        engine: &Engine,
        key: &str,
        wasm: impl FnOnce() -> anyhow::Result<Cow<'a, [u8]>>,
    ) -> anyhow::Result<C> {
        // Compiled and loaded in two steps, even without a cache, so that a
        // component too big for the instance pool is told apart from one
        // that is not valid Wasm.
        let Some(dir) = &self.dir else {
            return load_compiled(engine, &C::precompile(engine, &wasm()?)?);
        };
        let path = self.path(dir, engine, key);
        if path.is_file() {
            // Trusted: the file was written by `Compiled::precompile` of
            // an engine with the same settings (its name carries both the
            // plugin's key and the settings hash), into our own cache dir.
            match C::deserialize_file(engine, &path) {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "discarding unreadable cache entry")
                }
            }
        }
        let compiled = C::precompile(engine, &wasm()?)?;
        // Cached only once it loads: never an entry that cannot.
        let component = load_compiled(engine, &compiled)?;
        if let Err(e) = write_atomically(dir, &path, &compiled) {
            tracing::warn!(path = %path.display(), error = %e, "could not cache a compiled plugin");
        }
        Ok(component)
    }
}

/// Why a valid component cannot be loaded: it needs more than one plugin
/// instance may have (memories, tables, their sizes: the pooling allocator's
/// limits set in [`build_engine`]).
#[derive(Debug, Clone, Copy)]
pub struct OverLimits;

impl std::fmt::Display for OverLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("it needs more than a plugin instance may have")
    }
}

/// Loads what [`Engine::precompile_component`] of this engine produced; the
/// only way that fails is the instance limits, marked [`OverLimits`].
fn load_compiled<C: Compiled>(engine: &Engine, compiled: &[u8]) -> anyhow::Result<C> {
    C::deserialize(engine, compiled).map_err(|e| anyhow::Error::from(e).context(OverLimits))
}

/// What the cache holds: compiled components (plugins) or core modules
/// (WASI programs, `crate::program`). Only the cache calls the loaders, and
/// only on what [`Compiled::precompile`] of an engine with the same
/// settings wrote (see [`ComponentCache::load`]).
pub trait Compiled: Sized {
    /// Compiles Wasm bytes to this engine's native code.
    fn precompile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Vec<u8>>;
    /// Loads what [`Compiled::precompile`] produced.
    fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;
    /// Loads a file [`Compiled::precompile`]'s output was written to.
    fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
}

impl Compiled for Component {
    fn precompile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Vec<u8>> {
        engine.precompile_component(wasm)
    }
    #[allow(unsafe_code)]
    fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: only the cache calls this, on this engine's own output.
        unsafe { Component::deserialize(engine, bytes) }
    }
    #[allow(unsafe_code)]
    fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: only the cache calls this, on files of its own dir.
        unsafe { Component::deserialize_file(engine, path) }
    }
}

impl Compiled for Module {
    fn precompile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Vec<u8>> {
        engine.precompile_module(wasm)
    }
    #[allow(unsafe_code)]
    fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: only the cache calls this, on this engine's own output.
        unsafe { Module::deserialize(engine, bytes) }
    }
    #[allow(unsafe_code)]
    fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: only the cache calls this, on files of its own dir.
        unsafe { Module::deserialize_file(engine, path) }
    }
}

/// A short, stable key for the engine settings that affect compiled code.
fn engine_key(engine: &Engine) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// so concurrent readers never see a half-written entry.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp-{}-{:?}", std::process::id(), std::thread::current().id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
