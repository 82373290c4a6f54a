//! Normal-OJ's format (`meta.json`).

use super::*;

#[test]
fn normal_oj_packages_map_tasks_and_cases() {
    let meta = r#"{"tasks":[{"caseCount":2,"taskScore":40,"memoryLimit":65536,"timeLimit":1000},
                              {"caseCount":1,"taskScore":60,"memoryLimit":1000,"timeLimit":3000}]}"#;
    let files = package(&[
        ("meta.json", meta),
        ("0000.in", ""),
        ("0000.out", ""),
        ("0001.in", ""),
        ("0001.out", ""),
        ("0100.in", ""),
        ("0100.out", ""),
    ]);
    let p = load(&files, "1001").unwrap();
    assert_eq!(p.format, PackageFormat::NormalOj);
    assert_eq!(p.id, "1001");
    assert_eq!(p.tasks[0].cases, ["0000", "0001"]);
    assert_eq!(p.tasks[1].cases, ["0100"]);
    assert_eq!(p.tasks[0].limits.memory_mb, 64);
    assert_eq!(p.tasks[1].limits.memory_mb, 1, "KB round up to whole MB");
    assert_eq!(p.tasks[1].limits.time_ms, 3000);
    assert_eq!(p.checker.plugin, CheckerRef::Builtin("lines".into()));
    assert_eq!(p.case_files("0100"), ("0100.in".into(), "0100.out".into()));
}

#[test]
fn bad_normal_oj_packages_name_the_field() {
    let meta = r#"{"tasks":[{"caseCount":0,"taskScore":100,"memoryLimit":1024,"timeLimit":1000}]}"#;
    assert_eq!(
        error(&package(&[("meta.json", meta)])),
        "meta.json: tasks[0].caseCount: 0 is out of range 1..=100"
    );
    let meta = r#"{"tasks":[{"caseCount":1,"taskScore":100,"memoryLimit":1024,"timeLimit":1000}]}"#;
    assert_eq!(
        error(&package(&[("meta.json", meta), ("0000.in", "")])),
        "meta.json: tasks[0].cases[0] \"0000\": missing 0000.out"
    );
    let meta = r#"{"tasks":[{"caseCount":1}]}"#;
    assert!(
        error(&package(&[("meta.json", meta)]))
            .starts_with("meta.json: line 1: missing field `taskScore`")
    );
}
