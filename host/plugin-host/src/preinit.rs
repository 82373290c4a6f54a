//! Pre-initialisation of `preinit-language` plugins, the Wizer technique:
//! run the plugin's `init` once, snapshot its memories and globals into a new
//! component, and start every later call from that snapshot. An interpreter
//! that boots in ~100 ms then starts in about the time a store takes to make.
//!
//! The snapshot is an ordinary component: it is compiled and cached like any
//! other, under a key derived from the original plugin's digest.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use wasmtime::component::{Component, Instance, Linker, WasmList};
use wasmtime::{Engine, Store};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use crate::call::{Call, CallState};
use crate::limits::CallLimits;

/// The export a `preinit-language` component runs before the snapshot.
pub const INIT_EXPORT: &str = "init";

/// Runs `init` of the component `wasm` within `limits` and returns the
/// snapshot component.
pub fn snapshot(
    engine: &Engine,
    linker: &Linker<CallState>,
    wasm: &[u8],
    limits: CallLimits,
) -> anyhow::Result<Vec<u8>> {
    crate::on_big_stack(|| snapshot_here(engine, linker, wasm, limits))
}

fn snapshot_here(
    engine: &Engine,
    linker: &Linker<CallState>,
    wasm: &[u8],
    limits: CallLimits,
) -> anyhow::Result<Vec<u8>> {
    let mut wizer = Wizer::new();
    // Keep `init` so the snapshot still matches its world.
    wizer.init_func(INIT_EXPORT).keep_init_func(true);
    let (context, instrumented) = wizer.instrument_component(wasm)?;
    let component = Component::new(engine, &instrumented)?;

    let mut call = Call::new(engine, limits, Bytes::new(), &[]);
    let result = linker.instantiate(&mut call.store, &component).and_then(|instance| {
        let init = instance.get_typed_func::<(), ()>(&mut call.store, INIT_EXPORT)?;
        init.call(&mut call.store, ())?;
        Ok(instance)
    });
    let instance = match result {
        Ok(instance) => instance,
        Err(e) => anyhow::bail!("`init` failed: {}", call.finish(Some(e)).failure_reason()),
    };
    let mut state = SnapshotState { store: &mut call.store, instance };
    Ok(run_ready(wizer.snapshot_component(&context, &mut state))?)
}

/// Lets Wizer read the initialised instance's state through the accessor
/// functions its instrumentation added.
struct SnapshotState<'a> {
    store: &'a mut Store<CallState>,
    instance: Instance,
}

impl SnapshotState<'_> {
    fn call<R: wasmtime::component::Lift + 'static, T>(
        &mut self,
        instance: &str,
        func: &str,
        use_result: impl FnOnce(&mut Store<CallState>, R) -> T,
    ) -> T {
        // Wizer only asks for accessors it generated itself; one missing is a
        // bug in Wizer, not something a plugin can cause.
        let (_, module) =
            self.instance.get_export(&mut *self.store, None, instance).expect("accessor instance");
        let (_, export) = self
            .instance
            .get_export(&mut *self.store, Some(&module), func)
            .expect("accessor function");
        let func = self
            .instance
            .get_typed_func::<(), (R,)>(&mut *self.store, export)
            .expect("accessor type");
        let (result,) = func.call(&mut *self.store, ()).expect("accessors do not trap");
        use_result(self.store, result)
    }
}

impl ComponentInstanceState for SnapshotState<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        self.call(instance, func, |store, list: WasmList<u8>| contents(list.as_le_slice(&*store)))
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func, |_, v| v)
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func, |_, v| v)
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call(instance, func, |_, v: f32| v.to_bits())
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call(instance, func, |_, v: f64| v.to_bits())
    }
}

/// Drives a future whose every step completes at once (our accessor calls
/// are synchronous), without an async runtime.
fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
