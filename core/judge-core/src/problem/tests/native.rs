//! The native format (`problem.toml`).

use super::*;

#[test]
fn a_full_native_problem_loads() {
    let p = load(
        &native(
            r#"
id = "a-plus-b"
title = "A + B"
[limits]
time_ms = 2000
[checker]
plugin = "float"
args = ["abs=1e-6"]
[[tasks]]
score = 40
cases = ["01"]
[[tasks]]
score = 60
cases = ["02"]
memory_mb = 64
"#,
        ),
        "fallback",
    )
    .unwrap();
    assert_eq!(p.id, "a-plus-b");
    assert_eq!(
        p.checker,
        CheckerSpec { plugin: CheckerRef::Builtin("float".into()), args: vec!["abs=1e-6".into()] }
    );
    assert_eq!(p.tasks[0].limits, Limits { time_ms: 2000, memory_mb: 256, output_kb: 65536 });
    assert_eq!(p.tasks[1].limits, Limits { time_ms: 2000, memory_mb: 64, output_kb: 65536 });
    assert_eq!(p.max_score(), 100.0);
    assert_eq!(p.case_files("02"), ("tests/02.in".into(), "tests/02.out".into()));
}

#[test]
fn without_tasks_every_test_is_one_task_of_100() {
    let p = load(&native("title = \"t\""), "fallback").unwrap();
    assert_eq!(p.id, "fallback");
    assert_eq!(p.tasks.len(), 1);
    assert_eq!(p.tasks[0].cases, ["01", "02"]);
    assert_eq!(p.tasks[0].score, 100.0);
    assert_eq!(p.checker.plugin, CheckerRef::Builtin("tokens".into()));
}

#[test]
fn bad_native_packages_name_the_file_and_field() {
    let cases = [
        ("[limits]\ntime_limit = 5\n", "problem.toml: line 2: unknown field `time_limit`"),
        ("[limits]\ntime_ms = 0\n", "problem.toml: limits.time_ms: 0 is out of range 1..=60000"),
        (
            "[[tasks]]\nscore = 10\ncases = [\"01\"]\nmemory_mb = 9000\n",
            "problem.toml: tasks[0].memory_mb: 9000 is out of range 1..=4096",
        ),
        (
            "[[tasks]]\nscore = 10\ncases = [\"03\"]\n",
            "problem.toml: tasks[0].cases[0] \"03\": missing tests/03.in",
        ),
        (
            "[[tasks]]\nscore = 10\ncases = [\"01\", \"01\"]\n",
            "problem.toml: tasks[0].cases[1] \"01\": listed twice in the task",
        ),
        (
            "[[tasks]]\nscore = 10\ncases = [\"../x\"]\n",
            "problem.toml: tasks[0].cases[0] \"../x\": a case name is 1-128 characters of A-Z, a-z, 0-9, _, ., - and / (between folders)",
        ),
        (
            "[[tasks]]\nscore = 10\ncases = []\n",
            "problem.toml: tasks[0].cases: a task needs at least one case",
        ),
        (
            "[[tasks]]\nscore = -1\ncases = [\"01\"]\n",
            "problem.toml: tasks[0].score: -1 must be a number ≥ 0",
        ),
        (
            "[checker]\nplugin = \"Tokens!\"\n",
            "problem.toml: checker.plugin: \"Tokens!\" is not a plugin id (a-z, 0-9, -)",
        ),
        (
            "[checker]\npath = \"checker.so\"\n",
            "problem.toml: checker.path: \"checker.so\" must name a .wasm component",
        ),
        (
            "[checker]\npath = \"../checker.wasm\"\n",
            "problem.toml: checker.path: \"../checker.wasm\" must be a relative path inside the package",
        ),
        (
            "[checker]\npath = \"checker.wasm\"\n",
            "checker.wasm: missing: the checker named by problem.toml is not in the package",
        ),
        (
            "[checker]\nargs = []\n",
            "problem.toml: checker: missing one of plugin, path, testlib or kattis",
        ),
        (
            "[checker]\nplugin = \"kattis-default\"\nargs = [\"float_tolerance\"]\n",
            "problem.toml: checker.args: float_tolerance: missing its value",
        ),
        (
            "[checker]\ntestlib = \"check.py\"\n",
            "problem.toml: checker.testlib: \"check.py\" must be C or C++ source (.c, .cc, .cpp) or a WASI module (.wasm)",
        ),
        (
            "[checker]\nkattis = \"validator/validate.cpp\"\n",
            "validator/validate.cpp: missing: the checker named by problem.toml is not in the package",
        ),
        (
            "[checker]\nplugin = \"tokens\"\ntestlib = \"check.cpp\"\n",
            "problem.toml: checker: give only one of plugin, path, testlib and kattis",
        ),
        (
            "id = \"a b\"\n",
            "problem.toml: id: \"a b\" must be 1-64 characters of A-Z, a-z, 0-9, _ and -",
        ),
        (
            "title = \n",
            "problem.toml: line 1: string values must be quoted, expected literal string",
        ),
    ];
    for (toml, expected) in cases {
        let got = error(&native(toml));
        assert!(
            got.starts_with(expected) || got == expected,
            "for {toml:?}:\n got {got}\nwant {expected}"
        );
        assert!(!got.contains('\n'), "not one line: {got}");
    }
}

#[test]
fn a_missing_expected_output_is_named() {
    let mut files = native("");
    files.0.remove("tests/02.out");
    assert_eq!(error(&files), "problem.toml: tasks[0].cases[1] \"02\": missing tests/02.out");
    assert_eq!(
        error(&MemPackage::default()),
        "problem.toml: missing: a problem needs problem.toml (native), meta.json (Normal-OJ), \
         problem.xml (Polygon) or problem.yaml (Kattis)"
    );
}

#[test]
fn checker_programs_are_named_by_testlib_or_kattis() {
    let mut files = native("[checker]\ntestlib = \"check/check.cpp\"\n");
    files.0.insert("check/check.cpp".into(), b"int main() {}".to_vec());
    let p = load(&files, "p").unwrap();
    assert_eq!(p.checker.plugin, CheckerRef::Testlib("check/check.cpp".into()));
    let mut files = native("[checker]\nkattis = \"validator/validate.wasm\"\nargs = [\"x\"]\n");
    files.0.insert("validator/validate.wasm".into(), b"\0asm".to_vec());
    let p = load(&files, "p").unwrap();
    assert_eq!(p.checker.plugin, CheckerRef::KattisValidator("validator/validate.wasm".into()));
    assert_eq!(p.checker.args, ["x"]);
}

#[test]
fn an_interactor_makes_a_native_problem_interactive() {
    let mut files = native("[interactor]\npath = \"interactor.cpp\"\ntime_ms = 3000\n");
    files.0.insert("interactor.cpp".into(), b"int main() {}".to_vec());
    let p = load(&files, "p").unwrap();
    let interactor = p.interactor.as_ref().expect("an interactor");
    assert_eq!(interactor.path, "interactor.cpp");
    assert_eq!((interactor.time_ms_for(1000), interactor.memory_mb()), (3000, 256));
    assert!(!interactor.then_checker, "no [checker]: the interactor's verdict is final");
    let mut files = native(
        "[interactor]\npath = \"i.wasm\"\nmemory_mb = 64\n[checker]\ntestlib = \"check.cpp\"\n",
    );
    files.0.insert("i.wasm".into(), b"\0asm".to_vec());
    files.0.insert("check.cpp".into(), b"int main() {}".to_vec());
    let p = load(&files, "p").unwrap();
    let interactor = p.interactor.as_ref().unwrap();
    assert!(interactor.then_checker, "a [checker] judges the interactor's tout");
    assert_eq!((interactor.time_ms_for(1000), interactor.memory_mb()), (2000, 64));
    assert!(load(&native("title = \"t\""), "p").unwrap().interactor.is_none());
}

#[test]
fn bad_interactors_name_the_field() {
    let cases = [
        (
            "[interactor]\npath = \"interactor.py\"\n",
            "problem.toml: interactor.path: \"interactor.py\" must be C or C++ source (.c, .cc, .cpp) or a WASI module (.wasm)",
        ),
        (
            "[interactor]\npath = \"/etc/i.cpp\"\n",
            "problem.toml: interactor.path: \"/etc/i.cpp\" must be a relative path inside the package",
        ),
        (
            "[interactor]\npath = \"i.cpp\"\n",
            "i.cpp: missing: the interactor named by problem.toml is not in the package",
        ),
        (
            "[interactor]\npath = \"i.cpp\"\ntime_ms = 0\n",
            "problem.toml: interactor.time_ms: 0 is out of range 1..=60000",
        ),
        (
            "[interactor]\npath = \"i.cpp\"\nargs = []\n",
            "problem.toml: line 3: unknown field `args`",
        ),
        ("[interactor]\n", "problem.toml: line 1: missing field `path`"),
    ];
    for (toml, expected) in cases {
        let got = error(&native(toml));
        assert!(got.starts_with(expected), "for {toml:?}:\n got {got}\nwant {expected}");
    }
}
