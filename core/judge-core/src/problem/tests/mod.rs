//! Tests of the problem loaders: one module per format, sharing the
//! helpers here; `examples` loads the repository's own packages.

mod examples;
mod kattis;
mod native;
mod normal_oj;
mod polygon;

use std::collections::BTreeSet;

use super::*;

fn package(files: &[(&str, &str)]) -> MemPackage {
    MemPackage(files.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())).collect())
}

fn native(toml: &str) -> MemPackage {
    package(&[
        ("problem.toml", toml),
        ("tests/01.in", "1 2\n"),
        ("tests/01.out", "3\n"),
        ("tests/02.in", "2 2\n"),
        ("tests/02.out", "4\n"),
    ])
}

fn error(files: &MemPackage) -> String {
    load(files, "p").unwrap_err().to_string()
}

/// A package of this repository (`tests/e2e/packages/…`, `examples/problems/…`),
/// read from disk into memory so a test can edit it.
fn repo_package(path: &str) -> MemPackage {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    let dir = DirPackage::new(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    MemPackage(dir.list().into_iter().map(|p| (p.clone(), dir.read(&p).unwrap())).collect())
}

/// A problem's origins, as pairs to compare.
fn origins(problem: &Problem) -> Vec<(&str, &str)> {
    problem.origins.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn dir_packages_stay_inside_their_folder() {
    let dir = std::env::temp_dir().join(format!("judge-core-dir-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(dir.join("tests/1.in"), "x").unwrap();
    let pkg = DirPackage::new(&dir).unwrap();
    assert_eq!(pkg.list(), ["tests/1.in"]);
    assert_eq!(pkg.read("tests/1.in").unwrap(), b"x");
    assert!(pkg.read("../etc/passwd").is_err());
    assert!(pkg.read("/etc/passwd").is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
