//! Gives the plugin an 8 MiB Wasm shadow stack instead of Rust's default
//! 1 MiB. Every Python call nests several Rust calls: 1 MiB ends recursion
//! near depth 650, short of Python's default limit of 1000; 8 MiB reaches
//! about 5 000 (with `sys.setrecursionlimit`). RustPython's stack guard, which
//! turns the end of the stack into a RecursionError, assumes at most 8 MiB
//! below the stack pointer at boot, so a larger stack would not add depth.

/// Bytes of linear memory reserved for the shadow stack.
const STACK_BYTES: u32 = 8 << 20;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size={STACK_BYTES}");
    }
}
