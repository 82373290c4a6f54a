//! Gives the plugin a 31 MiB Wasm shadow stack (Rust's default is 1 MiB).
//! QuickJS keeps its call frames on the C stack, which on Wasm is this
//! shadow stack in linear memory, placed first: it counts against the run's
//! memory limit like any other memory (a hello world reports 31.6 MiB), and
//! 31 MiB is the most that still leaves a program 32 MiB of its own under a
//! 64 MiB limit. A level of JavaScript recursion takes 288 bytes of it (a
//! one-line recursive function) to 352 (a DFS with `for...of` and three
//! parameters), so `engine::STACK_LIMIT` allows about 111,000 and 91,000
//! levels; deeper is a `RangeError`. docs/plugins.md has the figures.

/// Bytes of linear memory reserved for the shadow stack.
const STACK_BYTES: u32 = 31 << 20;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size={STACK_BYTES}");
    }
}
