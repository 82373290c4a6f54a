//! Data-driven judging through the real `gavel` binary.
//!
//! Two sets of case folders, each holding a source `main.<ext>` and a file
//! `expected` whose first line is `STATUS SCORE` and whose other lines
//! `message: TEXT` must each appear in some case's message:
//! (`TLE|MLE 0` accepts either status, for a program whose own race decides
//! which limit it hits first.)
//! - `examples/solutions/<problem>/<name>/`, judged against
//!   `examples/problems/<problem>`;
//! - `tests/e2e/cases/<name>/`, whose file `problem` names the problem folder
//!   (relative to the repository root); these use the fixture plugins;
//! - `tests/e2e/native-cases/<name>/`, the same for the native languages in
//!   Docker, including hostile programs (whose AC means "contained").
//!
//! An optional file `language` gives `--language` (e.g. `python3`, since
//! `.py` alone means the Wasm `python`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use e2e::{judge_json, judge_table, root, status_and_score};

struct Case {
    name: String,
    problem: PathBuf,
    source: PathBuf,
    language: Option<String>,
    status_and_score: String,
    messages: Vec<String>,
}

fn read_case(name: String, dir: &Path, problem: PathBuf) -> Case {
    let expected = std::fs::read_to_string(dir.join("expected"))
        .unwrap_or_else(|e| panic!("{}: expected: {e}", dir.display()));
    let mut lines = expected.lines();
    let status_and_score = lines.next().expect("a first line").trim().to_string();
    let messages = lines.filter_map(|l| l.strip_prefix("message: ").map(str::to_string)).collect();
    let source = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_stem().is_some_and(|s| s == "main"))
        .unwrap_or_else(|| panic!("{}: no main.* source", dir.display()));
    let language = std::fs::read_to_string(dir.join("language")).ok().map(|l| l.trim().to_string());
    Case { name, problem, source, language, status_and_score, messages }
}

impl Case {
    /// Whether the case needs Docker: its language (named, else the one
    /// `gavel judge` guesses from the source's name) does, or its problem's
    /// checker or interactor is C/C++ source, compiled in the sandbox image.
    fn is_native(&self) -> bool {
        let name = self.source.file_name().unwrap().to_string_lossy();
        let language = self.language.as_deref().or_else(|| judge_core::language::guess(&name));
        let checker_compiled = judge_core::problem::DirPackage::new(&self.problem)
            .ok()
            .and_then(|package| judge_core::problem::load(&package, "p").ok())
            .is_some_and(|p| judge_core::checker_program::problem_needs_compiling(&p));
        language.is_some_and(judge_core::language::is_native) || checker_compiled
    }
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    dirs.sort();
    dirs
}

/// Judges every case on two threads and reports every mismatch at once.
/// With `also_as_table`, each case is judged a second time without `--json`
/// and the table's last line must give the same status and score.
fn judge_all(cases: Vec<Case>, extra: &[&str], also_as_table: bool) {
    assert!(!cases.is_empty(), "no cases found");
    // Compiles the builtins once (the python component takes seconds to compile),
    // not in every concurrent `gavel judge` at once.
    e2e::fleet::warm_plugin_cache();
    let queue = Mutex::new(cases);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Some(case) = queue.lock().unwrap().pop() {
                    if let Err(problems) = judge_case(&case, extra, also_as_table) {
                        failures.lock().unwrap().push(format!("{}: {problems}", case.name));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} mismatch(es):\n{}", failures.len(), failures.join("\n\n"));
}

/// Judges one case; says every way the result differs from the expectation.
fn judge_case(case: &Case, extra: &[&str], also_as_table: bool) -> Result<(), String> {
    let mut extra = extra.to_vec();
    if let Some(language) = &case.language {
        extra.extend(["--language", language]);
    }
    let extra = extra.as_slice();
    let report = judge_json(&case.problem, &case.source, extra)?;
    let got = status_and_score(&report);
    let all_messages = report["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["cases"].as_array().cloned().unwrap_or_default())
        .map(|c| c["message"].as_str().unwrap_or_default().to_string())
        .chain([report["compile_message"].as_str().unwrap_or_default().to_string()])
        .collect::<Vec<_>>()
        .join("\n");
    let mut problems = Vec::new();
    // `TLE|MLE 0`: either status (a race the program itself decides).
    let (statuses, score) = case.status_and_score.split_once(' ').unwrap_or_default();
    if !statuses.split('|').any(|status| got == format!("{status} {score}")) {
        problems.push(format!("expected {}, got {got}", case.status_and_score));
    }
    for m in &case.messages {
        if !all_messages.contains(m.as_str()) {
            problems.push(format!("no message contains {m:?}"));
        }
    }
    if also_as_table {
        let table = judge_table(&case.problem, &case.source, extra)?;
        let (status, score) = case.status_and_score.split_once(' ').unwrap_or_default();
        let want = format!("result: {status} score {score}/");
        if !table.lines().last().is_some_and(|l| l.starts_with(&want)) {
            problems.push(format!("the table does not end with {want:?}:\n{table}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\nmessages:\n{all_messages}", problems.join("; ")))
    }
}

/// Puts the example custom checker where its problem expects it (the
/// checker is built from source by `builtin-plugins`, never committed).
fn install_example_checker(root: &Path) {
    let built = builtin_plugins::fixture_path("custom_checker");
    std::fs::copy(&built, root.join("examples/problems/any-divisor/checker.wasm"))
        .unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
}

#[test]
fn example_solutions_get_their_expected_verdicts() {
    let root = root();
    install_example_checker(&root);
    let mut cases = Vec::new();
    for problem_dir in subdirs(&root.join("examples/solutions")) {
        let problem = root.join("examples/problems").join(problem_dir.file_name().unwrap());
        for dir in subdirs(&problem_dir) {
            let name = format!(
                "{}/{}",
                problem_dir.file_name().unwrap().to_string_lossy(),
                dir.file_name().unwrap().to_string_lossy()
            );
            cases.push(read_case(name, &dir, problem.clone()));
        }
    }
    // The native examples need Docker (the test fails without it unless
    // told to skip, see `e2e::docker`).
    if cases.iter().any(Case::is_native) && !e2e::docker::available() {
        cases.retain(|c| !c.is_native());
    }
    judge_all(cases, &[], true);
}

#[test]
fn misbehaving_programs_and_checkers_get_their_verdicts() {
    let root = root();
    let plugins = tempfile::tempdir().unwrap();
    for fixture in ["fixture_checker", "fixture_language"] {
        std::fs::copy(
            builtin_plugins::fixture_path(fixture),
            plugins.path().join(format!("{fixture}.wasm")),
        )
        .unwrap();
    }
    let cases = cases_in(&root, "tests/e2e/cases");
    judge_all(cases, &["--plugins", plugins.path().to_str().unwrap()], false);
}

/// The cases of a folder whose cases name their problem.
fn cases_in(root: &Path, folder: &str) -> Vec<Case> {
    subdirs(&root.join(folder))
        .into_iter()
        .map(|dir| {
            let problem = std::fs::read_to_string(dir.join("problem")).unwrap();
            read_case(
                dir.file_name().unwrap().to_string_lossy().into_owned(),
                &dir,
                root.join(problem.trim()),
            )
        })
        .collect()
}

#[test]
fn native_programs_get_their_verdicts_and_hostile_ones_are_contained() {
    if !e2e::docker::available() {
        return;
    }
    let root = root();
    judge_all(cases_in(&root, "tests/e2e/native-cases"), &[], false);
    let leftovers = e2e::docker::orphaned_containers();
    assert!(leftovers.is_empty(), "containers left behind: {leftovers:?}");
}

#[test]
fn a_256_kib_python_source_compiles_and_runs() {
    let root = root();
    e2e::fleet::warm_plugin_cache();
    let dir = tempfile::tempdir().unwrap();
    // A table of 2^15 entries, then the usual a + b: 256 KiB and more.
    let mut source = String::from("TABLE = [\n");
    for n in 0..(1 << 15) {
        source.push_str(&format!("    {n:>5},\n"));
    }
    source.push_str("]\na, b = map(int, input().split())\nprint(a + b + TABLE[-1] - 32767)\n");
    assert!(source.len() >= 256 << 10, "{} bytes", source.len());
    let main = dir.path().join("main.py");
    std::fs::write(&main, source).unwrap();
    let problem = root.join("tests/e2e/cases/_problems/plain");
    let report = judge_json(&problem, &main, &[]).unwrap();
    assert_eq!(status_and_score(&report), "AC 100", "{report:#}");
}
