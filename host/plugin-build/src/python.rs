//! The `python` language plugin: `plugins/python/app.py`, a Python program
//! implementing the `language` world, turned into a component (CPython
//! included, pre-initialised) by PyPI's componentize-py.
//!
//! componentize-py is pinned ([`COMPONENTIZE_PY_VERSION`]) and lives in a
//! virtual environment under the plugins' target dir, where
//! `cargo xtask setup`/`test`/`plugins` install it
//! ([`install_componentize_py`]); a build only looks for it there, so it
//! never downloads anything. A build takes about ten seconds, so it is
//! skipped when a fingerprint of its inputs (the program, the WIT, the pinned
//! version) matches the one stored beside the last `python.wasm`.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The componentize-py release the plugin is built with (it bundles the
/// CPython the plugin runs).
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// The plugin's source folder, relative to the repository root.
pub(crate) const PYTHON_INPUTS: &str = "plugins/python";

/// The Python module (in [`PYTHON_INPUTS`]) that defines `WitWorld`.
const APP: &str = "app";

/// Where componentize-py's virtual environment is, under the plugins'
/// target dir (`<target dir>/plugins` for the host workspace).
fn venv(target_dir: &Path) -> PathBuf {
    target_dir.join("componentize-py")
}

/// The componentize-py executable a build uses.
pub fn componentize_py(target_dir: &Path) -> PathBuf {
    venv(target_dir).join("bin").join("componentize-py")
}

/// The version of the componentize-py installed for `target_dir`, if any.
fn installed_version(target_dir: &Path) -> Option<String> {
    let out = Command::new(componentize_py(target_dir)).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success().then(|| text.trim().trim_start_matches("componentize-py").trim().into())
}

/// Installs the pinned componentize-py into its virtual environment (with
/// `python3 -m venv` and pip, from PyPI) unless it is there already.
/// Returns whether it installed anything.
pub fn install_componentize_py(target_dir: &Path) -> Result<bool, String> {
    if installed_version(target_dir).as_deref() == Some(COMPONENTIZE_PY_VERSION) {
        return Ok(false);
    }
    let venv = venv(target_dir);
    let pip = venv.join("bin").join("pip");
    if !pip.is_file() {
        run(Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv))
            .map_err(|e| format!("{e} (Debian: `apt-get install python3-venv`)"))?;
    }
    run(Command::new(&pip).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("componentize-py=={COMPONENTIZE_PY_VERSION}"),
    ]))?;
    Ok(true)
}

/// Builds `python.wasm` into the plugins' output dir when its inputs changed.
pub(crate) fn build(root: &Path, target_dir: &Path) -> Result<(), String> {
    let out = crate::output_dir(target_dir).join("python.wasm");
    let stamp = out.with_extension("inputs");
    let fingerprint = fingerprint(root)?;
    if out.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == fingerprint) {
        return Ok(());
    }
    let tool = componentize_py(target_dir);
    match installed_version(target_dir) {
        Some(v) if v == COMPONENTIZE_PY_VERSION => {}
        found => {
            let found = found.map_or("nothing".into(), |v| format!("version {v}"));
            return Err(format!(
                "building the python plugin needs componentize-py {COMPONENTIZE_PY_VERSION} at {} \
                 ({found} there): run `cargo xtask setup` (or `cargo xtask plugins`)",
                tool.display()
            ));
        }
    }
    let partial = out.with_extension("wasm.partial");
    run(Command::new(&tool)
        .arg("-d")
        .arg(root.join("wit"))
        .args(["-w", "language", "componentize", APP, "-p"])
        .arg(root.join(PYTHON_INPUTS))
        .arg("-o")
        .arg(&partial)
        // No `__pycache__` in the source folder (it is an input).
        .env("PYTHONDONTWRITEBYTECODE", "1"))?;
    std::fs::rename(&partial, &out).map_err(|e| format!("renaming {}: {e}", partial.display()))?;
    std::fs::write(&stamp, fingerprint).map_err(|e| format!("writing {}: {e}", stamp.display()))
}

/// A fingerprint of everything `python.wasm` is made from: the files of the
/// plugin's folder and of `wit/`, and the pinned componentize-py.
fn fingerprint(root: &Path) -> Result<String, String> {
    let mut hasher = DefaultHasher::new();
    COMPONENTIZE_PY_VERSION.hash(&mut hasher);
    for dir in [root.join(PYTHON_INPUTS), root.join("wit")] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("listing {}: {e}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        for file in files {
            let bytes =
                std::fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
            (file.file_name(), bytes).hash(&mut hasher);
        }
    }
    Ok(format!("{:016x}\n", hasher.finish()))
}

/// Runs a command, failing with its name when it cannot start or fails.
fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().map_err(|e| format!("starting {shown}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{shown} failed ({status})")) }
}
