//! Gives the plugin a 2 MiB Wasm shadow stack (Rust's default is 1 MiB).
//! QuickJS keeps its call frames on the C stack, which on Wasm is this
//! shadow stack in linear memory; the engine's own limit
//! (`engine::STACK_LIMIT`, 1 MiB) turns deep recursion into a `RangeError`
//! and leaves the rest for the C code that runs past it.

/// Bytes of linear memory reserved for the shadow stack.
const STACK_BYTES: u32 = 2 << 20;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size={STACK_BYTES}");
    }
}
