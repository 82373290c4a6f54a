//! Builds Gavel's Wasm plugins: the `plugins/` workspace and the example
//! custom checker, for `wasm32-wasip2`, with a nested `cargo build --release`,
//! and the `python` language (`plugins/python/`, a Python program) with
//! PyPI's componentize-py.
//!
//! One place for what both `host/builtin-plugins/build.rs` (which embeds the
//! result) and `cargo xtask` need: the target check, the patched crates, the
//! environment a nested cargo must not inherit, where componentize-py is
//! installed (`python` module). No dependencies, so a build script can use it.

mod patches;
mod python;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Wasm target every plugin is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// Where a build puts the components: `<target_dir>/wasm32-wasip2/release`.
pub fn output_dir(target_dir: &Path) -> PathBuf {
    target_dir.join(TARGET).join("release")
}

pub use python::{COMPONENTIZE_PY_VERSION, componentize_py, install_componentize_py};

/// The folders and files (relative to the repository root) whose changes
/// require a rebuild; `plugins` holds `plugins/python/` too.
pub const INPUTS: &[&str] = &[
    "plugins",
    "wit",
    "examples/custom-checker/src",
    "examples/custom-checker/Cargo.toml",
    python::PYTHON_INPUTS,
];

/// Builds everything into `target_dir`. `root` is the repository root.
pub fn build_all(root: &Path, target_dir: &Path) -> Result<(), String> {
    check_target_installed(TARGET)?;
    patches::prepare(&root.join("plugins"))?;
    cargo_build(&root.join("plugins"), target_dir, &["--workspace"])?;
    cargo_build(&root.join("examples/custom-checker"), target_dir, &[])?;
    python::build(root, target_dir)
}

/// Fails with the fix when a Rust target (e.g. the Wasm one) is missing.
pub fn check_target_installed(target: &str) -> Result<(), String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir =
        Command::new(rustc).args(["--print", "target-libdir", "--target", target]).output();
    let installed = libdir
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|dir| dir.is_dir());
    if installed {
        Ok(())
    } else {
        Err(format!(
            "the {target} Rust target is missing: run `rustup target add {target}` \
             (the README's set-up command, `cargo xtask setup`, does it)"
        ))
    }
}

/// A `cargo` command that inherits nothing from an outer cargo (a build
/// script's profile, target, flags or target dir would leak into the guest).
pub fn clean_cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let leaks = key.starts_with("CARGO_")
            && !matches!(key.as_str(), "CARGO_HOME" | "CARGO_TERM_COLOR" | "CARGO_NET_OFFLINE")
            || matches!(
                key.as_str(),
                "RUSTFLAGS"
                    | "RUSTC_WRAPPER"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "DEBUG"
                    | "OPT_LEVEL"
                    | "PROFILE"
                    | "TARGET"
                    | "HOST"
                    | "OUT_DIR"
                    | "RUSTC"
                    | "RUSTDOC"
            );
        if leaks {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs a nested `cargo build --release` for the Wasm target in `dir`.
fn cargo_build(dir: &Path, target_dir: &Path, extra: &[&str]) -> Result<(), String> {
    let status = clean_cargo()
        .current_dir(dir)
        .args(["build", "--release", "--target", TARGET, "--target-dir"])
        .arg(target_dir)
        .args(extra)
        .status()
        .map_err(|e| format!("running cargo in {}: {e}", dir.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building the Wasm plugins in {} failed (see the output above)", dir.display()))
    }
}
