//! Builds the in-container supervisor (`host/supervisor`) as a static
//! `x86_64-unknown-linux-musl` binary with a nested cargo, so this crate can
//! embed it and put it into the sandbox image whatever libc the image has.

use std::path::{Path, PathBuf};

const TARGET: &str = "x86_64-unknown-linux-musl";

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().and_then(Path::parent).expect("host/native sits two levels down");
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir).join("supervisor"),
        None => root.join("target").join("supervisor"),
    };
    println!("cargo:rerun-if-changed={}", root.join("host/supervisor").display());
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    if let Err(e) = plugin_build::check_target_installed(TARGET) {
        panic!("{e}");
    }
    // Stripped, without debug info and with the checkout's path remapped, the
    // binary (and so the image tag) is the same in every clone.
    let status = plugin_build::clean_cargo()
        .current_dir(root)
        .env("RUSTFLAGS", format!("--remap-path-prefix={}=.", root.display()))
        .args(["build", "--release", "-p", "supervisor", "--bin", "gavel-supervisor"])
        .args(["--config", "profile.release.debug=false", "--config", "profile.release.strip=true"])
        .args(["--target", TARGET, "--target-dir"])
        .arg(&target_dir)
        .status()
        .expect("running cargo for the supervisor");
    assert!(status.success(), "building the supervisor for {TARGET} failed (see above)");
    let binary = target_dir.join(TARGET).join("release").join("gavel-supervisor");
    println!("cargo:rustc-env=GAVEL_SUPERVISOR={}", binary.display());
}
