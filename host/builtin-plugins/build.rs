//! Builds the `plugins/` workspace (and the example custom checker) for
//! `wasm32-wasip2` with `plugin-build`, so the builtin plugins can be embedded
//! in the binary and tests find the fixtures. Cargo's own incremental build
//! makes the nested build a no-op when no plugin source changed.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest
        .parent()
        .and_then(Path::parent)
        .expect("host/builtin-plugins sits two levels down");
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir).join("plugins"),
        None => root.join("target").join("plugins"),
    };
    for input in plugin_build::INPUTS {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    if let Err(e) = plugin_build::build_all(root, &target_dir) {
        panic!("{e}");
    }
    println!(
        "cargo:rustc-env=GAVEL_PLUGIN_DIR={}",
        plugin_build::output_dir(&target_dir).display()
    );
}
