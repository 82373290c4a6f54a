//! Tests of the problem loaders: one module per format, sharing the
//! helpers here; `examples` loads the repository's own packages.

mod native;
mod normal_oj;

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
