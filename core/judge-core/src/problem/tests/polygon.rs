//! Polygon packages (`problem.xml`): the test package and the example load
//! with their groups, points, dependencies, paths and checker; what Gavel
//! cannot judge is refused by name.

use super::*;

const PACKAGE: &str = "tests/e2e/packages/polygon-sum";

#[test]
fn the_test_package_loads_with_groups_points_and_dependencies() {
    let p = load(&repo_package(PACKAGE), "fallback").unwrap();
    assert_eq!((p.id.as_str(), p.title.as_str()), ("polygon-sum", "Sum of Numbers"));
    assert_eq!(p.format, PackageFormat::Polygon);
    let limits = Limits { time_ms: 2000, memory_mb: 256, output_kb: 65536 };
    let tasks: Vec<_> =
        p.tasks.iter().map(|t| (t.score, t.cases.join(" "), t.depends_on.clone())).collect();
    assert_eq!(
        tasks,
        [
            (10.0, "01".into(), vec![]),
            (10.0, "02".into(), vec![]),
            (20.0, "03".into(), vec![]),
            (60.0, "04 05 06".into(), vec![0, 1, 2]),
        ]
    );
    assert!(p.tasks.iter().all(|t| t.limits == limits));
    assert_eq!(p.max_score(), 100.0);
    assert_eq!(p.case_files("05"), ("tests/05".into(), "tests/05.a".into()));
    assert_eq!(p.checker.plugin, CheckerRef::Testlib("files/check.cpp".into()));
    assert!(p.checker.args.is_empty());
    assert_eq!(
        origins(&p),
        [
            ("checker", "problem.xml: checker check.cpp (files/check.cpp)"),
            ("limits", "problem.xml: testset \"tests\""),
            (
                "scoring",
                "problem.xml: groups small (each-test), large (complete-group, after small)"
            ),
            ("tests", "problem.xml: tests/%02d, answers tests/%02d.a"),
        ]
    );
}

#[test]
fn the_example_loads() {
    let p = load(&repo_package("examples/problems/polygon-sum"), "polygon-sum").unwrap();
    assert_eq!(p.tasks.len(), 4);
    assert_eq!(p.tasks[3].cases, ["04", "05"]);
    assert_eq!(p.tasks[3].depends_on, [0, 1, 2]);
    assert_eq!(p.tasks[0].limits.time_ms, 1000);
}

#[test]
fn an_interactor_makes_the_problem_interactive_with_its_checker_after() {
    let mut files = edited(|xml| {
        xml.replace(
            "<validators>",
            "<interactor><source path=\"files/interactor.cpp\" type=\"cpp.g++17\"/></interactor><validators>",
        )
    });
    assert_eq!(
        error(&files),
        "files/interactor.cpp: missing: the interactor named by problem.xml is not in the package"
    );
    files.0.insert("files/interactor.cpp".into(), b"int main() {}".to_vec());
    let p = load(&files, "fallback").unwrap();
    let interactor = p.interactor.as_ref().expect("an interactor");
    assert_eq!(interactor.path, "files/interactor.cpp");
    assert!(interactor.then_checker, "Polygon's checker judges the interactor's tout");
    assert_eq!(interactor.time_ms_for(1000), 2000);
    assert_eq!(p.origins["interactor"], "problem.xml: interactor files/interactor.cpp");
    let no_source = edited(|xml| xml.replace("<validators>", "<interactor/><validators>"));
    assert_eq!(
        error(&no_source),
        "problem.xml: assets.interactor.source: missing (a full package ships the source)"
    );
}

/// The test package with `problem.xml` edited by `edit`.
fn edited(edit: impl Fn(&str) -> String) -> MemPackage {
    let mut files = repo_package(PACKAGE);
    let xml = String::from_utf8(files.0["problem.xml"].clone()).unwrap();
    let new = edit(&xml);
    assert_ne!(new, xml, "the edit changed nothing");
    files.0.insert("problem.xml".into(), new.into_bytes());
    files
}

#[test]
fn missing_tests_say_how_to_export_them() {
    let mut files = repo_package(PACKAGE);
    files.0.remove("tests/05");
    assert_eq!(
        error(&files),
        "problem.xml: tests/05 is generated and not in the package: export a full package \
         with generated tests"
    );
    let mut files = repo_package(PACKAGE);
    files.0.remove("tests/02.a");
    assert_eq!(
        error(&files),
        "problem.xml: tests/02.a is not in the package: export a full package, which holds \
         every answer"
    );
    let mut files = repo_package(PACKAGE);
    files.0.remove("files/check.cpp");
    assert_eq!(
        error(&files),
        "files/check.cpp: missing: the checker named by problem.xml is not in the package"
    );
}

#[test]
fn what_gavel_cannot_judge_is_refused_by_name() {
    let cases = [
        (
            "input-file=\"\"",
            "input-file=\"input.txt\"",
            "problem.xml: judging.input-file: \"input.txt\": solutions that use files instead of \
             standard input and output are not supported",
        ),
        (
            "run-count=\"1\"",
            "run-count=\"2\"",
            "problem.xml: judging.run-count: \"2\": problems that run a solution several times \
             are not supported",
        ),
        (
            "type=\"testlib\"",
            "type=\"exe\"",
            "problem.xml: assets.checker.type: \"exe\": only testlib checkers are supported",
        ),
        (
            "files/check.cpp",
            "files/check.py",
            "problem.xml: assets.checker.source: \"files/check.py\" must be C or C++ source \
             (.c, .cc, .cpp) or a WASI module (.wasm)",
        ),
        ("name=\"tests\"", "name=\"pretests\"", "problem.xml: judging: no testset named \"tests\""),
        (
            "<test-count>6",
            "<test-count>7",
            "problem.xml: testset \"tests\": test-count says 7 but <tests> lists 6",
        ),
        (
            "tests/%02d.a",
            "tests/%03d.a",
            "problem.xml: testset \"tests\".answer-path-pattern: \"tests/%03d.a\" numbers tests \
             unlike input-path-pattern \"tests/%02d\"",
        ),
        (
            "tests/%02d<",
            "tests/%s<",
            "problem.xml: testset \"tests\".input-path-pattern: \"tests/%s\" must hold one %d or \
             %0Nd (other printf forms are not supported)",
        ),
        (
            "<time-limit>2000",
            "<time-limit>99000",
            "problem.xml: testset \"tests\": time_ms: 99000 is out of range 1..=60000",
        ),
        (
            "points-policy=\"each-test\"",
            "points-policy=\"sometimes\"",
            "problem.xml: testset \"tests\".groups[1] \"small\".points-policy: \"sometimes\" is \
             not complete-group or each-test",
        ),
        ("</names>", "</nomes>", "problem.xml: line 5: "),
    ];
    for (from, to, expected) in cases {
        let got = error(&edited(|x| x.replace(from, to)));
        assert!(got.starts_with(expected), "\n got {got}\nwant {expected}");
        assert!(!got.contains('\n'), "not one line: {got}");
    }
}

#[test]
fn dependencies_on_later_groups_are_refused() {
    let files =
        edited(|x| x.replace("<dependency group=\"small\"/>", "<dependency group=\"large\"/>"));
    assert_eq!(error(&files), "problem.xml: group \"large\": depends on itself");
    let files = edited(|x| {
        x.replace(
            "name=\"small\" points-policy=\"each-test\"/>",
            "name=\"small\" points-policy=\"each-test\"><dependencies><dependency \
             group=\"large\"/></dependencies></group>",
        )
    });
    assert!(error(&files).starts_with(
        "problem.xml: group \"small\": depends on group \"large\", which is listed after it"
    ));
}

#[test]
fn without_a_valid_short_name_the_fallback_id_is_used() {
    let files = edited(|x| x.replace("short-name=\"polygon-sum\"", "short-name=\"a sum\""));
    let p = load(&files, "fallback").unwrap();
    assert_eq!((p.id.as_str(), p.title.as_str()), ("fallback", "Sum of Numbers"));
    let files = edited(|x| x.replace("<name language=\"english\" value=\"Sum of Numbers\"/>", ""));
    assert_eq!(load(&files, "fallback").unwrap().title, "polygon-sum");
}
