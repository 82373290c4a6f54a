//! Builds the `plugins/` workspace (and the example custom checker) for
//! `wasm32-wasip2` with `plugin-build`, so the builtin plugins can be embedded
//! in the binary and tests find the fixtures. Cargo's own incremental build
//! makes the nested build a no-op when no plugin source changed.

use std::path::{Path, PathBuf};

use sha2::Digest;

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
    let output = plugin_build::output_dir(&target_dir);
    println!("cargo:rustc-env=GAVEL_PLUGIN_DIR={}", output.display());
    // Each component's SHA-256, so runners advertise builtins without
    // reading (and keeping resident) megabytes of embedded Wasm.
    for entry in std::fs::read_dir(&output).expect("listing the built plugins") {
        let path = entry.expect("listing the built plugins").path();
        if let (Some(stem), Some("wasm")) =
            (path.file_stem().and_then(|s| s.to_str()), path.extension().and_then(|e| e.to_str()))
        {
            let bytes = std::fs::read(&path).expect("reading a built plugin");
            let digest = hex::encode(sha2::Sha256::digest(&bytes));
            println!("cargo:rustc-env=GAVEL_DIGEST_{stem}={digest}");
        }
    }
}
