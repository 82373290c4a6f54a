//! The build script of every builtin checker (each checker's manifest points `build` here):
//! a 16 KiB shadow stack instead of Rust's default 1 MiB. The stack is part of
//! the linear memory every call's fresh instance resets, so a small one halves
//! the cost of a checker call (docs/BENCHMARKS.md). The checkers do not
//! recurse; Wasm locals live outside this stack.
fn main() {
    println!("cargo:rustc-link-arg-cdylib=-zstack-size=16384");
}
