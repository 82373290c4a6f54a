//! Gives the plugin an 8 MiB Wasm shadow stack (Rust's default is 1 MiB).
//! QuickJS runs JavaScript calls on the C stack, which on Wasm is this
//! shadow stack in linear memory; the engine's own limit (set a little below
//! it in `engine::STACK_LIMIT`) turns its end into a `RangeError`.

/// Bytes of linear memory reserved for the shadow stack.
const STACK_BYTES: u32 = 8 << 20;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size={STACK_BYTES}");
    }
}
