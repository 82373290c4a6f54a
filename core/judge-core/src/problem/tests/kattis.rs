//! Kattis packages (`problem.yaml`): the test package and the example load
//! with their groups, scores, paths and checker; what Gavel cannot judge is
//! refused by name.

use super::*;

const PACKAGE: &str = "tests/e2e/packages/kattis-sum";

#[test]
fn the_scoring_test_package_loads_with_its_groups() {
    let p = load(&repo_package(PACKAGE), "kattis-sum").unwrap();
    assert_eq!((p.id.as_str(), p.title.as_str()), ("kattis-sum", "Sum"));
    assert_eq!(p.format, PackageFormat::Kattis);
    let tasks: Vec<_> =
        p.tasks.iter().map(|t| (t.score, t.cases.join(" "), t.depends_on.clone())).collect();
    assert_eq!(
        tasks,
        [
            (0.0, "sample/1 sample/2".into(), vec![]),
            (40.0, "secret/group1/01 secret/group1/02".into(), vec![]),
            (
                60.0,
                "secret/group2/01 secret/group2/02 secret/group2/03".into(),
                // data/testdata.yaml: on_reject continue, inherited by secret/.
                vec![]
            ),
        ]
    );
    let limits = Limits { time_ms: 1000, memory_mb: 256, output_kb: 8192 };
    assert!(p.tasks.iter().all(|t| t.limits == limits));
    assert_eq!(
        p.case_files("secret/group2/03"),
        ("data/secret/group2/03.in".into(), "data/secret/group2/03.ans".into())
    );
    assert_eq!(
        p.checker,
        CheckerSpec {
            plugin: CheckerRef::KattisValidator(
                "output_validators/sum_validator/validator.cpp".into()
            ),
            args: vec![],
        }
    );
    assert_eq!(
        origins(&p),
        [
            (
                "checker",
                "problem.yaml: validation custom (output_validators/sum_validator/validator.cpp)"
            ),
            (
                "limits",
                "problem.yaml: limits.time_limit (1 s); problem.yaml: limits.memory 256 MiB, \
                 limits.output 8 MiB (default)"
            ),
            (
                "scoring",
                "problem.yaml: type scoring: sample 0, secret/group1 (min, 40), secret/group2 \
                 (min, 60)"
            ),
            ("tests", "data/sample (2 cases), data/secret (5 cases): *.in, *.ans"),
        ]
    );
}

#[test]
fn the_pass_fail_example_loads_with_the_default_validator() {
    let p = load(&repo_package("examples/problems/kattis-pass"), "kattis-pass").unwrap();
    assert_eq!(p.title, "Average");
    assert_eq!(p.tasks.len(), 1);
    assert_eq!(p.tasks[0].score, 100.0);
    assert_eq!(p.tasks[0].cases, ["sample/1", "secret/1", "secret/2", "secret/3"]);
    assert_eq!(p.tasks[0].limits, Limits { time_ms: 1000, memory_mb: 256, output_kb: 8192 });
    assert_eq!(
        p.checker,
        CheckerSpec {
            plugin: CheckerRef::Builtin("kattis-default".into()),
            args: vec!["float_tolerance".into(), "1e-6".into()],
        }
    );
    assert_eq!(
        p.origins["limits"],
        "problem.yaml: limits.time_limit (1 s); problem.yaml: limits.memory 256 MiB, limits.output 8 MiB (default)"
    );
    assert_eq!(
        p.origins["checker"],
        "problem.yaml: validation default, validator_flags \"float_tolerance 1e-6\""
    );
    assert_eq!(p.origins["scoring"], "problem.yaml: type pass-fail: one task of 100");
}

/// The test package with `path` replaced by `text` (or removed, for `None`).
fn with(mut files: MemPackage, path: &str, text: Option<&str>) -> MemPackage {
    match text {
        Some(text) => files.0.insert(path.into(), text.as_bytes().to_vec()),
        None => files.0.remove(path),
    };
    files
}

fn yaml(text: &str) -> MemPackage {
    with(repo_package(PACKAGE), "problem.yaml", Some(text))
}

#[test]
fn without_testdata_settings_a_case_is_worth_one_and_judging_stops_at_a_rejection() {
    let mut files = repo_package(PACKAGE);
    files.0.retain(|path, _| !path.ends_with("testdata.yaml"));
    let p = load(&files, "k").unwrap();
    let tasks: Vec<_> = p.tasks.iter().map(|t| (t.score, t.depends_on.clone())).collect();
    // Samples, then group1's 2 cases chained, then group2's 3 cases after
    // group1's and chained (Kattis' defaults: sum, on_reject break).
    assert_eq!(
        tasks,
        [
            (0.0, vec![]),
            (1.0, vec![]),
            (1.0, vec![1]),
            (1.0, vec![1, 2]),
            (1.0, vec![1, 2, 3]),
            (1.0, vec![1, 2, 4]),
        ]
    );
    assert_eq!(p.max_score(), 5.0);
}

#[test]
fn the_time_limit_must_be_given() {
    let files = yaml("type: scoring\nvalidation: custom\n");
    assert_eq!(
        error(&files),
        "problem.yaml: limits.time_limit: missing, and no .timelimit file: give the time limit \
         in seconds in one of them (Gavel does not derive it from the solutions)"
    );
    let files = with(files, ".timelimit", Some("2.5\n"));
    let p = load(&files, "k").unwrap();
    assert_eq!(p.tasks[0].limits, Limits { time_ms: 2500, memory_mb: 2048, output_kb: 8192 });
}

#[test]
fn what_gavel_cannot_judge_is_refused_by_name() {
    let base = "limits:\n  time_limit: 1\n";
    let cases = [
        (
            "validation: custom interactive\n",
            "problem.yaml: validation: interactive problems are not supported yet",
        ),
        (
            "type: [pass-fail, interactive]\n",
            "problem.yaml: type: interactive problems are not supported yet",
        ),
        (
            "type: multi-pass\n",
            "problem.yaml: type: \"multi-pass\" is not supported (pass-fail or scoring)",
        ),
        (
            "validation: custom score\n",
            "problem.yaml: validation: custom score: validators that score a case are not supported yet",
        ),
        (
            "validation: default\n",
            "output_validators/sum_validator: an output validator is shipped but problem.yaml says validation: default",
        ),
        (
            "validation: sometimes\n",
            "problem.yaml: validation: \"sometimes\" is not default or custom",
        ),
        ("colour: blue\n", "problem.yaml: colour: unknown or unsupported key"),
        (
            "grading:\n  objective: min\n",
            "problem.yaml: grading.objective: \"min\": only max is supported",
        ),
        (
            "problem_format_version: 2049\n",
            "problem.yaml: problem_format_version: \"2049\" is not supported",
        ),
        (
            "limits:\n  time_limit: 90\n",
            "problem.yaml: limits (converted) time_ms: 90000 is out of range 1..=60000",
        ),
        (
            "limits:\n  time_limit: 1\n  memroy: 5\n",
            "problem.yaml: limits.memroy: unknown or unsupported key",
        ),
        ("name: [\n", "problem.yaml: line "),
    ];
    for (extra, expected) in cases {
        let text =
            if extra.starts_with("limits") { extra.to_string() } else { format!("{base}{extra}") };
        let got = error(&yaml(&text));
        assert!(got.starts_with(expected), "for {extra:?}\n got {got}\nwant {expected}");
        assert!(!got.contains('\n'), "not one line: {got}");
    }
}

#[test]
fn validators_must_be_one_program_gavel_can_build() {
    let files = repo_package(PACKAGE);
    let validator = "output_validators/sum_validator/validator.cpp";
    let cases = [
        (
            with(files.clone(), "output_validators/other/v.cpp", Some("")),
            "output_validators: output_validators/other and output_validators/sum_validator: Gavel runs one output validator",
        ),
        (
            with(files.clone(), "output_validators/sum_validator/util.cpp", Some("")),
            "output_validators/sum_validator: 2 programs (output_validators/sum_validator/util.cpp, output_validators/sum_validator/validator.cpp): an output validator of one source file (with headers) is supported",
        ),
        (
            with(
                with(files.clone(), validator, None),
                "output_validators/sum_validator/validate.py",
                Some(""),
            ),
            "output_validators/sum_validator/validate.py: an output validator is one C or C++ source with the headers beside it, or one .wasm: this file is not supported",
        ),
        (
            with(files.clone(), validator, None),
            "output_validators: missing: validation is custom but there is no output validator",
        ),
        (
            with(files.clone(), "graders/grader.py", Some("")),
            "graders/grader.py: custom graders are not supported",
        ),
        (
            with(files.clone(), "include/python3/lib.py", Some("")),
            "include/python3/lib.py: files added to every submission are not supported",
        ),
    ];
    for (files, expected) in cases {
        assert_eq!(error(&files), expected);
    }
    // Headers beside the source are fine, and so is a 2023-07 `output_validator/`.
    let p = load(&with(files.clone(), "output_validators/sum_validator/validate.h", Some("")), "k")
        .unwrap();
    assert_eq!(p.checker.plugin, CheckerRef::KattisValidator(validator.into()));
    let mut moved = with(files, validator, None);
    moved.0.insert("output_validator/validator.cc".into(), Vec::new());
    let p = load(&moved, "k").unwrap();
    assert_eq!(
        p.checker.plugin,
        CheckerRef::KattisValidator("output_validator/validator.cc".into())
    );
}

#[test]
fn test_data_settings_gavel_cannot_honour_are_refused() {
    let group1 = "data/secret/group1/testdata.yaml";
    let cases = [
        (
            "grader_flags: avg\n",
            "data/secret/group1/testdata.yaml: grader_flags: \"avg\" is not supported (sum and min are)",
        ),
        (
            "grader_flags: median\n",
            "data/secret/group1/testdata.yaml: grader_flags: \"median\" is not a grader flag",
        ),
        (
            "grading: custom\n",
            "data/secret/group1/testdata.yaml: grading: \"custom\": custom graders are not supported",
        ),
        (
            "reject_score: 1\n",
            "data/secret/group1/testdata.yaml: reject_score: 1: only 0 is supported",
        ),
        ("range: 0\n", "data/secret/group1/testdata.yaml: range: \"0\" is not two numbers"),
        (
            "on_reject: never\n",
            "data/secret/group1/testdata.yaml: on_reject: \"never\" is not break or continue",
        ),
        (
            "scoring:\n  score: 5\n",
            "data/secret/group1/testdata.yaml: scoring: unknown or unsupported key",
        ),
        (
            "output_validator_flags: strict\n",
            "data/secret/group1: output_validator_flags (testdata.yaml): \"strict\" differs from \"\" elsewhere: Gavel gives every case the same checker arguments",
        ),
    ];
    for (text, expected) in cases {
        let got = error(&with(repo_package(PACKAGE), group1, Some(text)));
        assert_eq!(got, expected, "for {text:?}");
    }
    let min_over_groups =
        with(repo_package(PACKAGE), "data/secret/testdata.yaml", Some("grader_flags: min\n"));
    let got = error(&with(
        with(min_over_groups, group1, Some("grader_flags: sum\n")),
        "data/secret/group2/testdata.yaml",
        Some("accept_score: 2\n"),
    ));
    assert_eq!(
        got,
        "data/secret/testdata.yaml: grader_flags: min over the test groups of data/secret is not supported (sum is)"
    );
}

#[test]
fn test_data_files_come_in_pairs_in_known_places() {
    let files = repo_package(PACKAGE);
    let cases = [
        (
            with(files.clone(), "data/secret/group1/02.ans", None),
            "data/secret/group1/02.in: no data/secret/group1/02.ans beside it",
        ),
        (
            with(files.clone(), "data/secret/group1/03.ans", Some("1")),
            "data/secret/group1/03.ans: no data/secret/group1/03.in beside it",
        ),
        (
            with(
                with(files.clone(), "data/secret/a/b/c/d/1.in", Some("")),
                "data/secret/a/b/c/d/1.ans",
                Some(""),
            ),
            "data/secret/a/b/c/d/1.in: test groups nest at most 3 folders deep in data/secret/",
        ),
        (
            with(with(files.clone(), "data/secret/1.in", Some("")), "data/secret/1.ans", Some("")),
            "data/secret: holds both test cases and test groups: put its cases in a group of their own",
        ),
    ];
    for (files, expected) in cases {
        assert_eq!(error(&files), expected);
    }
    let mut no_secret = repo_package(PACKAGE);
    no_secret.0.retain(|path, _| !path.starts_with("data/secret/"));
    assert_eq!(error(&no_secret), "data/secret: no test cases (*.in with *.ans)");
}

#[test]
fn default_validator_flags_are_checked() {
    let base = "limits:\n  time_limit: 1\n";
    let mut files = yaml(&format!("{base}validator_flags: float_tolerance\n"));
    files.0.retain(|path, _| !path.starts_with("output_validators/"));
    assert_eq!(error(&files), "problem.yaml: validator_flags: float_tolerance: missing its value");
    let files = with(
        files,
        "problem.yaml",
        Some(&format!("{base}validator_flags: case_sensitive strict\n")),
    );
    assert!(error(&files).starts_with("problem.yaml: validator_flags: unknown flag \"strict\""));
    let files = with(
        files,
        "problem.yaml",
        Some(&format!(
            "{base}validator_flags: space_change_sensitive float_relative_tolerance 1e-3\n"
        )),
    );
    let p = load(&files, "k").unwrap();
    assert_eq!(p.checker.args, ["space_change_sensitive", "float_relative_tolerance", "1e-3"]);
    assert_eq!(p.tasks.len(), 1, "pass-fail by default");
}
