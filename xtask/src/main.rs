//! `cargo xtask`: Gavel's project tasks, as code instead of shell scripts.
//!
//! - `setup`  — install what is missing (Wasm target, `redis-server`), build
//!   everything, start the stack (`gavel up`), push the example problems
//!   (`gavel problem push`), submit every example solution through the API
//!   and print the verdicts (the README's first command).
//! - `tidy`   — the repository's shape rules (layers, heavy dependencies,
//!   loaded Lua scripts, paths named in docs, file length, module import
//!   cycles): see `tidy.rs`.
//! - `test`   — install what is missing, then format check, tidy, clippy, every
//!   test of both workspaces, and every fuzz target for a bounded time (see
//!   `fuzz`) (the README's second command; CI runs it).
//! - `plugins` — build the Wasm plugins and the example custom checker.
//! - `images` — build the native languages' Docker image (from Debian
//!   packages with debootstrap; `setup` and `test` do it where Docker runs).
//! - `bench`  — run the benchmarks (`docs/BENCHMARKS.md` records them);
//!   `bench languages` runs the Wasm languages against node and CPython
//!   (see `bench_languages.rs`); `bench dispatch` only the backend's
//!   dispatch bench (latency, throughput, backlog drains).
//! - `chaos --minutes N [--release] [--seed N] [--native auto|yes|no]` —
//!   build `gavel`, then run the chaos harness (`tests/e2e/src/chaos.rs`)
//!   for N minutes of faults; it ends with one line `chaos: accepted=…
//!   duplicates=0 lost=0 wrong=0 faults=…` and fails when an invariant does.
//! - `burst [--submissions N] [--runners N] [--release]` — build `gavel`,
//!   then send a burst of submissions (default 10,000) to eight runners
//!   (`tests/e2e/src/burst.rs`); it ends with one line `burst: submitted=…
//!   judged=… stuck=0 wrong=0 …` with throughput, latency and memory.
//! - `fuzz [--seconds N]` — install `cargo-fuzz` when missing, then replay
//!   the crash inputs kept in `fuzz/regressions/<target>/` and run every
//!   target of `fuzz/` (nightly, or the stable toolchain with
//!   `RUSTC_BOOTSTRAP=1` where nightly is not installed) for N seconds (default 60), built in and
//!   its corpus kept under `<target dir>/fuzz/` (seeded from
//!   `fuzz/seeds/<target>/`); fails with the crash input's path when a target
//!   crashes. `test` runs the same for 40 s per target (`GAVEL_FUZZ_SECONDS`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

use plugin_build::TARGET as WASM_TARGET;

mod bench_languages;
mod tidy;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    match args.first().map(String::as_str) {
        Some("setup") => setup(&root),
        Some("test") => test(&root, args.iter().any(|a| a == "--no-lint")),
        Some("tidy") => tidy::run(&root),
        Some("plugins") => plugins(&root),
        Some("bench") => match args.get(1).map(String::as_str) {
            None => bench(&root),
            Some("languages") => bench_languages(&root),
            Some("dispatch") => bench_dispatch(&root),
            Some(other) => {
                bail!("unknown bench `{other}`: `cargo xtask bench [languages|dispatch]`")
            }
        },
        Some("chaos") => harness(&root, "chaos", &args[1..]),
        Some("burst") => harness(&root, "burst", &args[1..]),
        Some("fuzz") => fuzz(&root, &args[1..]),
        Some("images") => install_prerequisites(&root).and_then(|()| images(&root, "debug")),
        Some("-h" | "--help") | None => {
            println!(
                "usage: cargo xtask <setup|test [--no-lint]|tidy|plugins|images|bench [languages|dispatch]|chaos --minutes N|burst [--submissions N]|fuzz [--seconds N]>"
            );
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

/// The target of the native executor's static supervisor.
const SUPERVISOR_TARGET: &str = "x86_64-unknown-linux-musl";

/// Installs what a fresh machine lacks: the Wasm and musl targets,
/// `redis-server`, a C compiler for Wasm (the JavaScript plugin), the pinned
/// componentize-py (the Python plugin; from PyPI, into a virtual environment
/// under the plugins' target dir, where `plugin-build` looks for it), the
/// pinned S3 test server (moto, from PyPI, into `<target>/s3-server/venv`,
/// where `blobstore::testing` looks for it), and `debootstrap` where a
/// Docker engine runs.
fn install_prerequisites(root: &Path) -> anyhow::Result<()> {
    step("checking prerequisites");
    // Also the Sentinels of the replication tests: `redis-server --sentinel`
    // (`queue::managed::ReplicaSet`), so no `redis-sentinel` package.
    install_package("redis-server", "redis-server")?;
    // The `javascript` plugin compiles QuickJS-NG's C for Wasm with these
    // (plugins/.cargo/config.toml names them); the header stands for wasi-libc.
    install_package("clang-19", "clang-19")?;
    install_package("llvm-ar-19", "llvm-19")?;
    install_package("/usr/include/wasm32-wasi/stdio.h", "wasi-libc")?;
    if docker_engine() {
        install_package("debootstrap", "debootstrap")?;
    }
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup (Gavel needs a rustup-managed toolchain)")?;
    let installed = String::from_utf8_lossy(&installed.stdout).into_owned();
    for target in [WASM_TARGET, SUPERVISOR_TARGET] {
        if !installed.lines().any(|l| l.trim() == target) {
            step(&format!("installing the {target} target"));
            run(Command::new("rustup").args(["target", "add", target]))?;
        }
    }
    install_package("python3", "python3")?;
    let venv_works = Command::new("python3")
        .args(["-c", "import ensurepip, venv"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !venv_works {
        apt_install("python3-venv")?;
    }
    let target = target_dir(root);
    if blobstore::testing::install(&target).map_err(anyhow::Error::msg)? {
        step(&format!(
            "installed the S3 test server ({}) at {}",
            blobstore::testing::MOTO,
            blobstore::testing::venv(&target).display()
        ));
    }
    let plugin_target = target.join("plugins");
    let tool = plugin_build::componentize_py(&plugin_target);
    if plugin_build::install_componentize_py(&plugin_target).map_err(anyhow::Error::msg)? {
        step(&format!(
            "installed componentize-py {} at {}",
            plugin_build::COMPONENTIZE_PY_VERSION,
            tool.display()
        ));
    }
    Ok(())
}

/// Whether a Docker engine answers here (native languages need one).
/// Whether example problem folder `dir` has a checker or an interactor
/// compiled from C/C++ source (in the sandbox image, so only where Docker
/// runs).
fn checker_needs_docker(dir: &Path) -> bool {
    let id = dir.file_name().unwrap_or_default().to_string_lossy();
    judge_core::problem::DirPackage::new(dir)
        .ok()
        .and_then(|package| judge_core::problem::load(&package, &id).ok())
        .is_some_and(|problem| judge_core::checker_program::problem_needs_compiling(&problem))
}

fn docker_engine() -> bool {
    Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Installs a distribution package with apt-get when `command` is not on
/// PATH (`redis-server`, the backend's store; `debootstrap`, which builds
/// the native image); an absolute `command` is a file the package installs.
fn install_package(command: &str, package: &str) -> anyhow::Result<()> {
    let on_path = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths)
            .chain(["/usr/sbin".into(), "/sbin".into()])
            .any(|dir| dir.join(command).is_file())
    });
    if on_path { Ok(()) } else { apt_install(package) }
}

/// Installs a distribution package with apt-get (refreshing the package
/// lists when the first try fails).
fn apt_install(package: &str) -> anyhow::Result<()> {
    step(&format!("installing {package} (apt-get)"));
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let apt = |args: &[&str]| {
        let mut cmd = if root { Command::new("apt-get") } else { Command::new("sudo") };
        if !root {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut cmd)
    };
    if apt(&["install", "-y", "--no-install-recommends", package]).is_err() {
        apt(&["update"])?;
        apt(&["install", "-y", "--no-install-recommends", package])
            .with_context(|| format!("installing {package}; install it yourself and retry"))?;
    }
    Ok(())
}

/// Builds the native languages' Docker image with `gavel` (a no-op when it
/// exists); skipped, with a note, where no Docker engine runs.
fn images(root: &Path, profile: &str) -> anyhow::Result<()> {
    if !docker_engine() {
        step("no Docker engine here: skipping the native image (c, cpp, python3 need it)");
        return Ok(());
    }
    step("building the native languages' image (c, cpp, python3)");
    let mut build = cargo();
    build.current_dir(root).args(["build", "--package", "gavel"]);
    if profile == "release" {
        build.arg("--release");
    }
    run(&mut build)?;
    run(Command::new(target_dir(root).join(profile).join("gavel")).args(["image", "build"]))
}

/// Builds the plugins workspace and the example checker, and puts the example
/// checker where its example problem expects it.
fn plugins(root: &Path) -> anyhow::Result<()> {
    install_prerequisites(root)?;
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
    images(root, "release")?;
    let gavel = target_dir(root).join("release/gavel");
    let data_dir = target_dir(root).join("gavel-up");
    step(&format!("starting the stack: gavel up --data-dir {}", data_dir.display()));
    let stack = Stack::start(&gavel, &data_dir, &[])?;
    let judged = judge_examples_through(&stack, &gavel, root);
    drop(stack);
    let mismatches = judged?;
    if mismatches > 0 {
        bail!("{mismatches} example solution(s) did not get their expected verdict");
    }
    println!(
        "\nall example solutions judged as expected through the API.\n\
         start the stack again with: {} up   (Ctrl-C stops it)",
        gavel.display()
    );
    Ok(())
}

/// A `gavel up` child process, stopped (SIGTERM, then waited for) on drop.
struct Stack {
    child: std::process::Child,
    url: String,
    admin_token: String,
    registration_token: String,
}

impl Stack {
    fn start(gavel: &Path, data_dir: &Path, extra: &[&str]) -> anyhow::Result<Stack> {
        use std::io::BufRead;
        let mut child = Command::new(gavel)
            .args(["up", "--json", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            // The verdict table is the output; the stack's logs only warn.
            .env("GAVEL_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("starting gavel up")?;
        let stdout = child.stdout.take().context("gavel up's stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        let info: serde_json::Value = match serde_json::from_str(&line) {
            Ok(info) => info,
            Err(_) => {
                let _ = child.kill();
                bail!("gavel up did not start (see its log above)");
            }
        };
        let text = |key: &str| info[key].as_str().unwrap_or_default().to_string();
        println!("gavel is up at {} (redis {})", text("url"), text("redis_url"));
        Ok(Stack {
            url: text("url"),
            admin_token: text("admin_token"),
            registration_token: text("registration_token"),
            child,
        })
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

/// Pushes every example problem (with `gavel problem push`), submits every
/// example solution through the API, waits for the verdicts and prints them
/// next to the expected ones. Returns the number of mismatches.
fn judge_examples_through(stack: &Stack, gavel: &Path, root: &Path) -> anyhow::Result<usize> {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let auth = format!("Bearer {}", stack.admin_token);
    step("pushing the example problems");
    let mut problems: Vec<_> =
        std::fs::read_dir(root.join("examples/problems"))?.filter_map(|e| e.ok()).collect();
    problems.sort_by_key(|e| e.file_name());
    for problem in problems {
        // The token goes in the environment, so no message shows it.
        let status = Command::new(gavel)
            .args(["problem", "push", "--backend", &stack.url])
            .arg(problem.path())
            .env("GAVEL_ADMIN_TOKEN", &stack.admin_token)
            .status()
            .context("starting gavel problem push")?;
        if !status.success() {
            bail!("gavel problem push {} failed ({status})", problem.path().display());
        }
    }
    step("submitting the example solutions");
    let mut submitted = Vec::new();
    for (problem, solution, expected) in example_solutions(root)? {
        let source = std::fs::read_dir(&solution)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.file_stem().is_some_and(|s| s == "main"))
            .with_context(|| format!("{}: no main.* source", solution.display()))?;
        let named = std::fs::read_to_string(solution.join("language")).ok();
        let file_name = source.file_name().unwrap_or_default().to_string_lossy();
        let language = match named.as_deref() {
            Some(language) => language.trim(),
            None => judge_core::language::guess(&file_name)
                .with_context(|| format!("{}: no language for its extension", source.display()))?,
        };
        if judge_core::language::is_native(language) && !docker_engine() {
            println!("{:<40} skipped: {language} needs Docker", solution.display());
            continue;
        }
        if checker_needs_docker(&problem) && !docker_engine() {
            println!("{:<40} skipped: its checker is compiled in Docker", solution.display());
            continue;
        }
        let problem_id = problem.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let body = serde_json::json!({
            "problem_id": problem_id,
            "language": language,
            "source": std::fs::read_to_string(&source)?,
        });
        let response = http
            .post(stack.api("/submissions"))
            .header("Authorization", &auth)
            .json(&body)
            .send()?;
        let status = response.status();
        let answer: serde_json::Value = response.json()?;
        anyhow::ensure!(status.is_success(), "submitting {}: {status} {answer}", source.display());
        let id = answer["submission_id"].as_str().unwrap_or_default().to_string();
        submitted.push((solution, expected, id));
    }
    step("verdicts (through the backend and a runner)");
    let mut mismatches = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    for (solution, expected, id) in submitted {
        let view = loop {
            let view: serde_json::Value = http
                .get(stack.api(&format!("/submissions/{id}")))
                .header("Authorization", &auth)
                .send()?
                .json()?;
            let status = view["status"].as_str().unwrap_or("?");
            if !matches!(status, "PENDING" | "JUDGING") || std::time::Instant::now() > deadline {
                break view;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let score = view["score"]
            .as_f64()
            .map_or("?".into(), |s| format!("{}", (s * 1000.0).round() / 1000.0));
        let got = format!("{} {score}", view["status"].as_str().unwrap_or("ERROR"));
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
    Ok(mismatches)
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
    // The dashboard's test drives a real headless browser (it leaves
    // `<target>/dashboard.png`).
    install_package("chromium", "chromium")?;
    install_package("chromedriver", "chromium-driver")?;
    images(root, "debug")?;
    if !no_lint {
        step("cargo fmt --check");
        run(cargo().current_dir(root).args(["fmt", "--all", "--check"]))?;
        run(cargo().current_dir(root.join("plugins")).args(["fmt", "--all", "--check"]))?;
        step("cargo xtask tidy");
        tidy::run(root)?;
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
        .args(["test", "--workspace", "--target"])
        .arg(host_triple()?)
        .arg("--target-dir")
        .arg(target_dir(root).join("plugins-native")))?;
    step("cargo test");
    let mut test = cargo();
    test.current_dir(root).args(["test", "--workspace"]);
    if !docker_engine() {
        // Said above: without an engine the native tests cannot run.
        test.env("GAVEL_SKIP_DOCKER_TESTS", "1");
    }
    run(&mut test)?;
    step("fuzzing (every target, bounded; regression inputs first)");
    fuzz_all(root, ci_fuzz_seconds()?)?;
    Ok(())
}

fn bench(root: &Path) -> anyhow::Result<()> {
    plugins(root)?;
    step("plugin host: checker calls, run starts");
    run(cargo().current_dir(root).args(["bench", "--package", "plugin-host"]))?;
    step("backend: dispatch latency and throughput");
    run(cargo().current_dir(root).args(["bench", "--package", "server", "--bench", "dispatch"]))?;
    if docker_engine() {
        images(root, "debug")?;
        step("native executor: per-case overhead, sandbox start");
        run(cargo().current_dir(root).args(["bench", "--package", "native"]))?;
    }
    step("interactive: query round trips (Wasm, Docker), per-case overhead");
    run(cargo().current_dir(root).args([
        "bench",
        "--package",
        "catalog",
        "--bench",
        "interactive",
    ]))?;
    step("runner: per-job overhead");
    run(cargo().current_dir(root).args([
        "bench",
        "--package",
        "e2e",
        "--bench",
        "runner_overhead",
    ]))?;
    step("runner: idle RSS");
    run(cargo().current_dir(root).args(["build", "--release", "--package", "gavel"]))?;
    let gavel = target_dir(root).join("release/gavel");
    let data_dir = target_dir(root).join("gavel-bench");
    let _ = std::fs::remove_dir_all(&data_dir);
    let stack = Stack::start(&gavel, &data_dir, &["--runners", "0"])?;
    let mut runner = Command::new(&gavel)
        .args(["runner", "--backend", &stack.url, "--registration-token"])
        .arg(&stack.registration_token)
        .arg("--data-dir")
        .arg(data_dir.join("runner"))
        .spawn()
        .context("starting gavel runner")?;
    std::thread::sleep(Duration::from_secs(5));
    let status = std::fs::read_to_string(format!("/proc/{}/status", runner.id()))?;
    let rss = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or("VmRSS: ?");
    let _ = Command::new("kill").arg("-TERM").arg(runner.id().to_string()).status();
    let _ = runner.wait();
    drop(stack);
    println!(
        "idle `gavel runner` after 5 s (registered, heartbeating): {}   (target <= 30 MB)",
        rss.trim()
    );
    Ok(())
}

/// The backend's dispatch alone: latency, throughput, backlog drains
/// (`backend/server/benches/dispatch.rs`; `GAVEL_BENCH_*` pick its parts).
fn bench_dispatch(root: &Path) -> anyhow::Result<()> {
    step("backend: dispatch latency, throughput and backlog drains");
    run(cargo().current_dir(root).args(["bench", "--package", "server", "--bench", "dispatch"]))
}

/// The Wasm languages against node and CPython (see `bench_languages`).
fn bench_languages(root: &Path) -> anyhow::Result<()> {
    plugins(root)?;
    install_package("node", "nodejs")?;
    // The dev profile optimises every dependency (wasmtime, its WASI): a
    // run's time is spent in Wasm compiled by Cranelift and in those crates,
    // so it measures as in a release build, which `test` need not build.
    step("building gavel");
    run(cargo().current_dir(root).args(["build", "--package", "gavel"]))?;
    step("the Wasm languages against node and CPython (real wall times)");
    bench_languages::run(root, &target_dir(root).join("debug/gavel"))
}

/// Builds `gavel` and the e2e crate's harness binaries (the dev profile,
/// whose dependencies are optimised and which `cargo xtask test` shares,
/// unless `--release`), then runs the harness `bin` (`chaos`, `burst`) with
/// the other arguments.
fn harness(root: &Path, bin: &str, args: &[String]) -> anyhow::Result<()> {
    install_prerequisites(root)?;
    let release = args.iter().any(|a| a == "--release");
    let passed: Vec<&String> = args.iter().filter(|a| *a != "--release").collect();
    step(&format!("building gavel and the {bin} harness"));
    let mut build = cargo();
    build.current_dir(root).args(["build", "--package", "gavel", "--package", "e2e", "--bins"]);
    if release {
        build.arg("--release");
    }
    run(&mut build)?;
    let profile = if release { "release" } else { "debug" };
    step(&format!("{bin} {}", passed.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" ")));
    run(Command::new(target_dir(root).join(profile).join(bin)).args(passed))
        .with_context(|| format!("the {bin} run failed (see the violations above)"))
}

/// The fuzz targets of `fuzz/` (`fuzz/Cargo.toml`'s `[[bin]]`s).
const FUZZ_TARGETS: &[&str] = &[
    "package_zip",
    "package_targz",
    "package_structured",
    "protocol_json",
    "checker_text",
    "checkers",
];

/// Seconds each fuzz target runs in `cargo xtask test` (so in CI). CI must
/// stay well under 30 minutes and takes about 12 warm; six targets at 40 s,
/// with the replays and the cached build, measured 4 m 29 s warm
/// (docs/BENCHMARKS.md), which leaves room on a busy 2-core machine. The
/// corpus is kept between runs on one machine (see [`fuzz_all`]), so short
/// runs add up. `GAVEL_FUZZ_SECONDS` overrides it (0 skips the timed runs but
/// still replays the regression inputs); `cargo xtask fuzz --seconds N` runs
/// longer on demand.
const CI_FUZZ_SECONDS: u64 = 40;

/// Longest a single input may run before libFuzzer calls it a hang (its
/// default is 20 minutes). Generous: the sanitizer build is slow and the
/// machine may be busy.
const FUZZ_INPUT_TIMEOUT_SECONDS: u64 = 60;

/// Runs every fuzz target for `--seconds N` (default 60): see [`fuzz_all`].
fn fuzz(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let seconds: u64 = match args {
        [] => 60,
        [flag, n] if flag == "--seconds" => {
            n.parse().with_context(|| format!("--seconds {n}: not a number"))?
        }
        _ => bail!("usage: cargo xtask fuzz [--seconds N]"),
    };
    fuzz_all(root, seconds)
}

/// The seconds per target of `cargo xtask test`'s fuzz step.
fn ci_fuzz_seconds() -> anyhow::Result<u64> {
    match std::env::var("GAVEL_FUZZ_SECONDS") {
        Ok(n) => n.trim().parse().with_context(|| format!("GAVEL_FUZZ_SECONDS={n}: not a number")),
        Err(_) => Ok(CI_FUZZ_SECONDS),
    }
}

/// Fuzzes every target of [`FUZZ_TARGETS`] for `seconds`, installing
/// `cargo-fuzz` when missing (once per machine, in `~/.cargo/bin`). The
/// targets are built once into `<target dir>/fuzz`, and each corpus lives in
/// `<target dir>/fuzz/corpus/<target>/`: outside the clone, so CI on a fresh
/// clone reuses the last build and goes on from the last corpus. For each
/// target it first replays every input kept in `fuzz/regressions/<target>/`
/// (crashes found before, kept forever), then fuzzes from the corpus, seeded
/// from `fuzz/seeds/<target>/` and the regressions. A crash fails the run,
/// naming the input libFuzzer saved under `fuzz/artifacts/<target>/`.
fn fuzz_all(root: &Path, seconds: u64) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let installed = cargo().args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if !installed {
        step("installing cargo-fuzz");
        run(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let toolchain = FuzzToolchain::pick()?;
    let dir = root.join("fuzz");
    let target_dir = target_dir(root).join("fuzz");
    step(&format!("building the fuzz targets ({toolchain:?}) in {}", target_dir.display()));
    run(toolchain.cargo_fuzz(&dir).args(["build", "-O", "--target-dir"]).arg(&target_dir))?;
    for target in FUZZ_TARGETS {
        let regressions = dir.join("regressions").join(target);
        let mut kept = list_dir(&regressions);
        kept.retain(|p| p.is_file());
        kept.sort();
        if !kept.is_empty() {
            step(&format!("{target}: replaying {} regression input(s)", kept.len()));
            // Files (not folders) as arguments: libFuzzer runs each once.
            let status = toolchain
                .cargo_fuzz(&dir)
                .args(["run", "-O", target, "--target-dir"])
                .arg(&target_dir)
                .args(&kept)
                .args(["--", &format!("-timeout={FUZZ_INPUT_TIMEOUT_SECONDS}")])
                .status()
                .context("starting cargo fuzz")?;
            if !status.success() {
                bail!(
                    "fuzz target {target} fails on a regression input of {} again (see above)",
                    regressions.display()
                );
            }
        }
        if seconds == 0 {
            continue;
        }
        let corpus = target_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .with_context(|| format!("creating {}", corpus.display()))?;
        let seeds = dir.join("seeds").join(target);
        for seed in
            std::fs::read_dir(&seeds).with_context(|| format!("reading {}", seeds.display()))?
        {
            let seed = seed?.path();
            let copy = corpus.join(seed.file_name().unwrap_or_default());
            std::fs::copy(&seed, &copy)
                .with_context(|| format!("copying {} to {}", seed.display(), copy.display()))?;
        }
        step(&format!("fuzzing {target} for {seconds} s"));
        let artifacts = dir.join("artifacts").join(target);
        let before = list_dir(&artifacts);
        let mut fuzz = toolchain.cargo_fuzz(&dir);
        fuzz.args(["run", "-O", target, "--target-dir"]).arg(&target_dir).arg(&corpus);
        if !kept.is_empty() {
            // Read too, never written: new inputs go to the first folder.
            fuzz.arg(&regressions);
        }
        let status = fuzz
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                &format!("-timeout={FUZZ_INPUT_TIMEOUT_SECONDS}"),
                "-print_final_stats=1",
            ])
            .status()
            .context("starting cargo fuzz")?;
        if !status.success() {
            let crashes: Vec<_> =
                list_dir(&artifacts).into_iter().filter(|p| !before.contains(p)).collect();
            match crashes.as_slice() {
                [] => bail!("cargo fuzz run {target} failed ({status})"),
                inputs => bail!(
                    "fuzz target {target} crashed on {} (reproduce with `cd fuzz && {} -O {target} <input>`; once fixed, keep the input in fuzz/regressions/{target}/)",
                    inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
                    toolchain.reproduce(),
                ),
            }
        }
    }
    eprintln!("\nfuzzing done in {} s", started.elapsed().as_secs());
    Ok(())
}

/// The toolchain `cargo fuzz` builds with. cargo-fuzz needs an unstable
/// flag (`-Zsanitizer=address`): nightly where it is installed (what
/// developers reproduce crashes with), else the toolchain xtask runs under
/// with `RUSTC_BOOTSTRAP=1`, which admits the flag (stable ships the
/// sanitizer runtimes). The fallback needs no download and builds with the
/// same pinned compiler as the rest of CI, so a fresh machine without
/// nightly fuzzes as well (docs/BENCHMARKS.md times both).
/// `GAVEL_FUZZ_TOOLCHAIN=nightly|stable` chooses.
#[derive(Debug, Clone, Copy)]
enum FuzzToolchain {
    Nightly,
    StableBootstrap,
}

impl FuzzToolchain {
    fn pick() -> anyhow::Result<FuzzToolchain> {
        match std::env::var("GAVEL_FUZZ_TOOLCHAIN").as_deref() {
            Ok("nightly") => return Ok(FuzzToolchain::Nightly),
            Ok("stable") => return Ok(FuzzToolchain::StableBootstrap),
            Ok(other) => bail!("GAVEL_FUZZ_TOOLCHAIN={other}: use nightly or stable"),
            Err(_) => {}
        }
        let listed = Command::new("rustup")
            .args(["toolchain", "list"])
            .output()
            .context("running rustup (fuzzing needs a rustup-managed toolchain)")?;
        let nightly =
            String::from_utf8_lossy(&listed.stdout).lines().any(|l| l.starts_with("nightly-"));
        Ok(if nightly { FuzzToolchain::Nightly } else { FuzzToolchain::StableBootstrap })
    }

    /// How to run one target by hand, for messages.
    fn reproduce(self) -> &'static str {
        match self {
            FuzzToolchain::Nightly => "cargo +nightly fuzz run",
            FuzzToolchain::StableBootstrap => "RUSTC_BOOTSTRAP=1 cargo fuzz run",
        }
    }

    /// `cargo fuzz`, run in `dir` on this toolchain.
    fn cargo_fuzz(self, dir: &Path) -> Command {
        let mut cmd = match self {
            // `+nightly` is a rustup proxy argument: it needs rustup's
            // `cargo`, not the toolchain's own one xtask runs under, and
            // no inherited RUSTUP_TOOLCHAIN.
            FuzzToolchain::Nightly => {
                let mut cmd = Command::new("cargo");
                cmd.env_remove("RUSTUP_TOOLCHAIN").arg("+nightly");
                cmd
            }
            // xtask's own toolchain, which cargo-fuzz's inner `cargo build`
            // also gets through the inherited RUSTUP_TOOLCHAIN.
            FuzzToolchain::StableBootstrap => {
                let mut cmd = cargo();
                cmd.env("RUSTC_BOOTSTRAP", "1");
                cmd
            }
        };
        cmd.current_dir(dir).arg("fuzz");
        cmd
    }
}

/// The paths in `dir`, or none when it does not exist.
fn list_dir(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

fn host_triple() -> anyhow::Result<String> {
    let out = Command::new("rustc").arg("-vV").output().context("running rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .context("rustc -vV printed no host line")
}
