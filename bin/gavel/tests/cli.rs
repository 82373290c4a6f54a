//! The `gavel` binary's contract with its users: help, exit codes, and one
//! clear line naming the problem for every kind of bad input.

use std::path::Path;
use std::process::{Command, Output};

fn gavel(args: &[&str]) -> Output {
    gavel_with(args, &[])
}

/// `gavel` with extra environment variables.
fn gavel_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gavel"))
        .args(args)
        .env("GAVEL_CACHE_DIR", std::env::temp_dir().join("gavel-e2e-cache"))
        .env_remove("GAVEL_PLUGINS")
        .envs(env.iter().copied())
        .output()
        .expect("running gavel")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes a one-case `a + b` problem into `dir` with the given problem.toml.
fn problem(dir: &Path, toml: &str) {
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(dir.join("problem.toml"), toml).unwrap();
    std::fs::write(dir.join("tests/1.in"), "1 2\n").unwrap();
    std::fs::write(dir.join("tests/1.out"), "3\n").unwrap();
}

const GOOD: &str = "id = \"sum\"\ntitle = \"Sum\"\n[checker]\nplugin = \"tokens\"\n";

/// Asserts a bad-input failure: exit code 2 and one line that says `needle`.
fn assert_bad_input(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "{err:?} lacks {needle:?}");
}

#[test]
fn help_lists_the_subcommands() {
    let out = gavel(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["judge", "check", "plugins", "image", "problem"] {
        assert!(help.contains(cmd), "{help}");
    }
}

#[test]
fn a_judged_solution_prints_a_table_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    problem(dir.path(), GOOD);
    let source = dir.path().join("main.js");
    std::fs::write(&source, "const [a, b] = readline().split(' ').map(Number); print(a + b);\n")
        .unwrap();
    let out = gavel(&["judge", dir.path().to_str().unwrap(), source.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout.contains("1     1            AC"), "{stdout}");
    assert!(stdout.contains("result: AC score 100/100"), "{stdout}");
}

#[test]
fn a_wrong_answer_still_exits_zero_with_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    problem(dir.path(), GOOD);
    let source = dir.path().join("main.py");
    std::fs::write(&source, "print(4)\n").unwrap();
    let out = gavel(&["judge", dir.path().to_str().unwrap(), source.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "WA");
    assert_eq!(json["score"], 0.0);
    assert_eq!(json["tasks"][0]["cases"][0]["status"], "WA");
}

#[test]
fn a_missing_expected_output_is_named() {
    let dir = tempfile::tempdir().unwrap();
    problem(dir.path(), GOOD);
    std::fs::remove_file(dir.path().join("tests/1.out")).unwrap();
    let src = dir.path().join("main.js");
    std::fs::write(&src, "print(3)").unwrap();
    let out = gavel(&["judge", dir.path().to_str().unwrap(), src.to_str().unwrap()]);
    assert_bad_input(&out, "tests/1.out");
}

#[test]
fn a_broken_folder_is_not_pushed() {
    let dir = tempfile::tempdir().unwrap();
    problem(dir.path(), GOOD);
    std::fs::remove_file(dir.path().join("tests/1.out")).unwrap();
    // Nothing listens on the discard port: exit code 2, not a connection
    // failure (1), shows nothing was sent.
    let out = gavel_with(
        &["problem", "push", dir.path().to_str().unwrap(), "--backend", "http://127.0.0.1:9"],
        &[("GAVEL_ADMIN_TOKEN", "token")],
    );
    assert_bad_input(&out, "tests/1.out");
}

#[test]
fn a_bad_problem_toml_is_named() {
    let dir = tempfile::tempdir().unwrap();
    problem(dir.path(), "id = \"sum\"\ntitle = \"Sum\"\n[limits]\ntime_limit = 5\n");
    let src = dir.path().join("main.js");
    std::fs::write(&src, "print(3)").unwrap();
    let out = gavel(&["judge", dir.path().to_str().unwrap(), src.to_str().unwrap()]);
    assert_bad_input(&out, "problem.toml");
    assert!(stderr(&out).contains("time_limit"), "{}", stderr(&out));
}

#[test]
fn an_unknown_language_is_named() {
    let dir = tempfile::tempdir().unwrap();
    problem(dir.path(), GOOD);
    let src = dir.path().join("main.js");
    std::fs::write(&src, "print(3)").unwrap();
    let out = gavel(&[
        "judge",
        dir.path().to_str().unwrap(),
        src.to_str().unwrap(),
        "--language",
        "cobol",
    ]);
    assert_bad_input(&out, "unknown language `cobol`");
    let src = dir.path().join("main.cob");
    std::fs::write(&src, "DISPLAY 3").unwrap();
    let out = gavel(&["judge", dir.path().to_str().unwrap(), src.to_str().unwrap()]);
    assert_bad_input(&out, "no language handles `.cob` files");
}

#[test]
fn a_non_component_wasm_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("checker.wasm");
    std::fs::write(&wasm, b"\0asm\x01\0\0\0").unwrap();
    let out = gavel(&["plugins", "check", wasm.to_str().unwrap()]);
    assert_bad_input(&out, "core module, not a component");
    // The same file as a problem's checker names the problem.
    problem(dir.path(), "id = \"sum\"\ntitle = \"Sum\"\n[checker]\npath = \"checker.wasm\"\n");
    let src = dir.path().join("main.js");
    std::fs::write(&src, "print(3)").unwrap();
    let out = gavel(&["judge", dir.path().to_str().unwrap(), src.to_str().unwrap()]);
    assert_bad_input(&out, "checker.wasm");
}

#[test]
fn check_runs_one_checker_on_three_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let (input, expected, close, far) =
        (file("in", "\n"), file("exp", "1.0\n"), file("a", "1.00001\n"), file("b", "1.1\n"));
    let out = gavel(&["check", "float", &input, &expected, &close, "--", "abs=1e-4"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "AC", "{}", stderr(&out));
    let out = gavel(&["check", "float", &input, &expected, &far, "--", "abs=1e-4"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("WA"), "{}", stderr(&out));
    assert!(out.status.success());
}

#[test]
fn plugins_list_shows_every_builtin() {
    let out = gavel(&["plugins", "list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> =
        json["plugins"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "exact",
            "float",
            "kattis-default",
            "lines",
            "tokens",
            "unordered",
            "javascript",
            "python"
        ]
    );
}

#[test]
fn a_native_language_without_docker_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    problem(dir.path(), GOOD);
    let source = dir.path().join("main.c");
    std::fs::write(&source, "int main(void) { return 0; }\n").unwrap();
    let no_docker = format!("unix://{}", dir.path().join("no-docker.sock").display());
    let env = [("DOCKER_HOST", no_docker.as_str())];
    let out = gavel_with(&["judge", dir.path().to_str().unwrap(), source.to_str().unwrap()], &env);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(
            "error: native languages (c, cpp, python3) are not available: no Docker engine"
        ),
        "{err}"
    );
    let status = gavel_with(&["image", "status", "--json"], &env);
    assert_eq!(status.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["available"], false);
    assert!(json["reason"].as_str().unwrap().contains("no Docker engine"), "{json}");
}
