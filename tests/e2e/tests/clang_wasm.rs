//! C and C++ compiled to WebAssembly, end to end through the real `gavel`
//! binary and the real sandbox image: the `c-wasm`/`cpp-wasm` languages on
//! the native cases (same verdicts where Wasm's semantics allow; the
//! differences are the table below and docs/plugins.md), deterministic time
//! under load, and checker programs — the testlib checkers and the Kattis
//! validator of `tests/e2e/checkers/` on their cases through `gavel check`,
//! and the hostile ones contained.

use std::path::{Path, PathBuf};
use std::time::Duration;

use e2e::{gavel, judge_json, root, status_and_score};

/// Native cases whose verdict differs in Wasm, and why (docs/plugins.md).
const DIFFERENCES: &[(&str, &str)] = &[
    // clang drops an allocation nothing reads: the loop never allocates.
    ("c-memory-bomb-is-mle", "TLE 0"),
    // Reads /proc: Docker's, not a Wasm program's business.
    ("c-oom-score-of-a-run-is-raised", "skip"),
    // Address 0 is ordinary linear memory: a NULL write does not trap.
    ("c-segfault-is-re", "WA 0"),
    ("cpp-segfault-is-re", "WA 0"),
    // The Wasm stack is not linear memory: overflowing it is RE.
    ("cpp-deep-recursion-is-mle", "RE 0"),
];

#[test]
fn the_native_c_and_cpp_cases_judge_alike_as_wasm() {
    if !e2e::docker::available() {
        return;
    }
    let root = root();
    let mut failures = Vec::new();
    for dir in dirs(&root.join("tests/e2e/native-cases")) {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let language = match name.split('-').next() {
            Some("c") => "c-wasm",
            Some("cpp") => "cpp-wasm",
            _ => continue,
        };
        let expected = match DIFFERENCES.iter().find(|(n, _)| *n == name) {
            Some((_, "skip")) => continue,
            Some((_, verdict)) => verdict.to_string(),
            None => first_line(&dir.join("expected")),
        };
        let problem = root.join(std::fs::read_to_string(dir.join("problem")).unwrap().trim());
        let source = main_source(&dir);
        match judge_json(&problem, &source, &["--language", language]) {
            Ok(report) if status_and_score(&report) == expected => {}
            Ok(report) => {
                failures.push(format!("{name}: {} ≠ {expected}", status_and_score(&report)))
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_wasm_compiled_program_reports_the_same_time_and_fuel_under_load() {
    if !e2e::docker::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("main.cpp");
    std::fs::write(
        &source,
        "#include <bits/stdc++.h>\nint main(){long long a,b;std::cin>>a>>b;std::vector<long long> v(300000);\n\
         for(size_t i=0;i<v.size();i++)v[i]=(i*2654435761u)%1000003;std::sort(v.begin(),v.end());\n\
         std::cout<<a+b+v[0]*0<<'\\n';}\n",
    )
    .unwrap();
    let problem = root().join("examples/problems/a-plus-b");
    let measure = || {
        let report = judge_json(&problem, &source, &["--language", "cpp-wasm"]).unwrap();
        assert_eq!(status_and_score(&report), "AC 100", "{report}");
        let cases = report["tasks"][0]["cases"].as_array().unwrap().clone();
        cases.iter().map(|c| (c["time_ms"].clone(), c["fuel"].clone())).collect::<Vec<_>>()
    };
    let quiet = measure();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let loaded = std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::black_box((0..100_000u64).sum::<u64>());
                }
            });
        }
        let loaded = measure();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        loaded
    });
    assert_eq!(quiet, loaded, "time and fuel must not depend on the machine's load");
    assert!(quiet.iter().all(|(time, _)| time.as_u64().unwrap() >= 1), "{quiet:?}");
}

/// What `gavel check --json` says of a checker on one case folder.
fn check(checker: &Path, case: &Path, kattis: bool) -> serde_json::Value {
    let path = |name: &str| case.join(name).to_str().unwrap().to_string();
    let mut args = vec![
        "check".to_string(),
        checker.to_str().unwrap().to_string(),
        path("input"),
        path("answer"),
        path("output"),
        "--json".to_string(),
    ];
    if kattis {
        args.push("--kattis".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = gavel(&args, Duration::from_secs(120));
    assert!(out.status.success(), "gavel {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn testlib_checkers_and_a_kattis_validator_give_their_contracts_verdicts() {
    if !e2e::docker::available() {
        return;
    }
    let checkers = root().join("tests/e2e/checkers");
    let mut failures = Vec::new();
    for checker_cases in dirs(&checkers.join("cases")) {
        let name = checker_cases.file_name().unwrap().to_string_lossy().into_owned();
        let kattis = name.starts_with("kattis");
        let source = checkers.join(format!("{name}.cpp"));
        for case in dirs(&checker_cases) {
            let expected = first_line(&case.join("expected"));
            let (code, message) = expected.split_once(' ').unwrap_or((&expected, ""));
            let verdict = check(&source, &case, kattis);
            let kind = verdict["kind"].as_str().unwrap_or("");
            let text = verdict["message"].as_str().unwrap_or("");
            let fits = match code {
                "0" | "42" => {
                    kind == "accepted" || (kind == "partial" && case.join("score").exists())
                }
                "1" | "4" | "43" => kind == "wrong_answer" && text.starts_with(message),
                "2" => kind == "presentation_error" && text.starts_with(message),
                "3" => kind == "fail" && text.contains(message),
                "7" => {
                    let points: f64 = message
                        .trim_start_matches("points ")
                        .split(' ')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap();
                    match verdict["score"].as_f64() {
                        Some(score) => kind == "partial" && (score - points).abs() < 1e-9,
                        None => kind == "accepted" && points >= 1.0,
                    }
                }
                _ => false,
            };
            if !fits {
                failures.push(format!(
                    "{name}/{}: expected {expected}, got {verdict}",
                    case.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hostile_checkers_fail_to_compile_or_end_as_checker_failures_with_the_reason() {
    if !e2e::docker::available() {
        return;
    }
    let hostile = root().join("tests/e2e/checkers/hostile");
    let case = root()
        .join("tests/e2e/checkers/cases/tokens")
        .join(dirs(&root().join("tests/e2e/checkers/cases/tokens"))[0].file_name().unwrap());
    let refused = |name: &str, reason: &[&str]| {
        let checker = hostile.join(name);
        let path = |n: &str| case.join(n).to_str().unwrap().to_string();
        let args =
            ["check", checker.to_str().unwrap(), &path("input"), &path("answer"), &path("output")];
        let out = gavel(&args, Duration::from_secs(180));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains("does not compile"), "{name}: {stderr}");
        assert!(reason.iter().any(|r| stderr.contains(r)), "{name}: {stderr}");
    };
    // The compile sees the image's files, never the host's.
    refused("include_passwd.cpp", &["error"]);
    refused("template_bomb.cpp", &["took longer than", "ran out of memory"]);
    let fails = |name: &str, reasons: &[&str]| {
        let kattis = name.starts_with("kattis");
        let verdict = check(&hostile.join(name), &case, kattis);
        assert_eq!(verdict["kind"], "fail", "{name}: {verdict}");
        let message = verdict["message"].as_str().unwrap();
        assert!(reasons.iter().any(|r| message.contains(r)), "{name}: {message}");
    };
    // A loop is stopped by its fuel, or by the wall clock first when the
    // machine is so loaded that the checker gets under half a core.
    fails("loops.cpp", &["fuel", "wall-clock limit"]);
    fails("alloc4g.cpp", &["memory limit"]);
    fails("stderr100mb.cpp", &["output limit"]);
    // A validator's feedback folder is bounded: bytes and entries.
    fails("kattis_feedback_flood.cpp", &["KiB of feedback"]);
    fails("kattis_feedback_files.cpp", &["feedback files"]);
    // It sees its three files and nothing else: contained means AC.
    assert_eq!(check(&hostile.join("reads_outside.cpp"), &case, false)["kind"], "accepted");
}

fn dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn first_line(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().next().unwrap_or("").trim().to_string()
}

fn main_source(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_stem().is_some_and(|s| s == "main"))
        .unwrap_or_else(|| panic!("{}: no main.*", dir.display()))
}
