//! `cargo xtask`: Gavel's project tasks, as code instead of shell scripts.
//!
//! - `setup`  — install what is missing (Wasm target), build everything, judge
//!   every example solution and print the verdicts (the README's first command).
//! - `test`   — install what is missing, then format check, clippy, and every
//!   test of both workspaces (the README's second command; CI runs it).
//! - `plugins` — build the Wasm plugins and the example custom checker.
//! - `bench`  — run the benchmarks (`docs/BENCHMARKS.md` records them).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use plugin_build::TARGET as WASM_TARGET;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    match args.first().map(String::as_str) {
        Some("setup") => setup(&root),
        Some("test") => test(&root, args.iter().any(|a| a == "--no-lint")),
        Some("plugins") => plugins(&root),
        Some("bench") => bench(&root),
        Some("-h" | "--help") | None => {
            println!("usage: cargo xtask <setup|test [--no-lint]|plugins|bench>");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`: try `cargo xtask --help`"),
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the root").to_path_buf()
}

/// Where the root workspace builds (honours `CARGO_TARGET_DIR`).
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("target"))
}

fn step(what: &str) {
    eprintln!("\n==> {what}");
}

/// Runs a command, failing with its name when it fails.
fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Installs what a fresh machine lacks: the Wasm target.
fn install_prerequisites() -> anyhow::Result<()> {
    step("checking prerequisites");
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup (Gavel needs a rustup-managed toolchain)")?;
    if !String::from_utf8_lossy(&installed.stdout).lines().any(|l| l.trim() == WASM_TARGET) {
        step(&format!("installing the {WASM_TARGET} target"));
        run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    Ok(())
}

/// Builds the plugins workspace and the example checker, and puts the example
/// checker where its example problem expects it.
fn plugins(root: &Path) -> anyhow::Result<()> {
    install_prerequisites()?;
    step("building the Wasm plugins");
    let plugin_target = target_dir(root).join("plugins");
    plugin_build::build_all(root, &plugin_target).map_err(anyhow::Error::msg)?;
    let built = plugin_build::output_dir(&plugin_target).join("custom_checker.wasm");
    let dest = root.join("examples/problems/any-divisor/checker.wasm");
    std::fs::copy(&built, &dest)
        .with_context(|| format!("copying {} to {}", built.display(), dest.display()))?;
    Ok(())
}

fn setup(root: &Path) -> anyhow::Result<()> {
    plugins(root)?;
    step("building gavel");
    run(cargo().current_dir(root).args(["build", "--release", "--package", "gavel"]))?;
    let gavel = target_dir(root).join("release/gavel");
    step("judging the example solutions");
    let mut mismatches = 0;
    for (problem, solution, expected) in example_solutions(root)? {
        let source = std::fs::read_dir(&solution)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.file_stem().is_some_and(|s| s == "main"))
            .with_context(|| format!("{}: no main.* source", solution.display()))?;
        let out =
            Command::new(&gavel).arg("judge").arg(&problem).arg(&source).arg("--json").output()?;
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let score = json["score"]
            .as_f64()
            .map_or("?".into(), |s| format!("{}", (s * 1000.0).round() / 1000.0));
        let got = format!("{} {score}", json["status"].as_str().unwrap_or("ERROR"));
        let ok = got == expected;
        mismatches += usize::from(!ok);
        println!(
            "{:<40} {:<12} {}{}",
            solution.strip_prefix(root).unwrap_or(&solution).display(),
            got,
            if ok { "ok" } else { "MISMATCH, expected " },
            if ok { "" } else { &expected }
        );
    }
    if mismatches > 0 {
        bail!("{mismatches} example solution(s) did not get their expected verdict");
    }
    println!(
        "\nall example solutions judged as expected; try: {} judge examples/problems/a-plus-b examples/solutions/a-plus-b/ac-js-readline/main.js",
        gavel.display()
    );
    Ok(())
}

/// `(problem dir, solution dir, expected "STATUS SCORE")` for every example.
fn example_solutions(root: &Path) -> anyhow::Result<Vec<(PathBuf, PathBuf, String)>> {
    let mut out = Vec::new();
    let solutions = root.join("examples/solutions");
    let mut problems: Vec<_> = std::fs::read_dir(&solutions)?.filter_map(|e| e.ok()).collect();
    problems.sort_by_key(|e| e.file_name());
    for problem in problems {
        let mut dirs: Vec<_> = std::fs::read_dir(problem.path())?.filter_map(|e| e.ok()).collect();
        dirs.sort_by_key(|e| e.file_name());
        for dir in dirs {
            let expected = std::fs::read_to_string(dir.path().join("expected"))
                .with_context(|| format!("{}: missing `expected`", dir.path().display()))?;
            let status_and_score = expected.lines().next().unwrap_or_default().trim().to_string();
            out.push((
                root.join("examples/problems").join(problem.file_name()),
                dir.path(),
                status_and_score,
            ));
        }
    }
    Ok(out)
}

fn test(root: &Path, no_lint: bool) -> anyhow::Result<()> {
    plugins(root)?;
    if !no_lint {
        step("cargo fmt --check");
        run(cargo().current_dir(root).args(["fmt", "--all", "--check"]))?;
        run(cargo().current_dir(root.join("plugins")).args(["fmt", "--all", "--check"]))?;
        step("cargo clippy");
        run(cargo().current_dir(root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
        run(cargo()
            .current_dir(root.join("plugins"))
            .args(["clippy", "--workspace", "--all-targets", "--target-dir"])
            .arg(target_dir(root).join("plugins"))
            .args(["--", "-D", "warnings"]))?;
    }
    step("plugin unit tests (native)");
    run(cargo()
        .current_dir(root.join("plugins"))
        .args([
            "test",
            "--workspace",
            "--exclude",
            "rustpython",
            "--exclude",
            "javascript",
            "--target",
        ])
        .arg(host_triple()?)
        .arg("--target-dir")
        .arg(target_dir(root).join("plugins-native")))?;
    step("cargo test");
    run(cargo().current_dir(root).args(["test", "--workspace"]))?;
    Ok(())
}

fn bench(root: &Path) -> anyhow::Result<()> {
    plugins(root)?;
    run(cargo().current_dir(root).args(["bench", "--package", "plugin-host"]))
}

fn host_triple() -> anyhow::Result<String> {
    let out = Command::new("rustc").arg("-vV").output().context("running rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .context("rustc -vV printed no host line")
}
