//! Every example problem (`examples/problems/*`) and test package
//! (`tests/e2e/packages/*`) loads, under the id of its folder (what `cargo
//! xtask setup` pushes it as); a custom checker its `.gitignore` names
//! (built, not committed) stands in as an empty file.

use super::*;

fn folders(path: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| format!("{path}/{}", e.file_name().to_string_lossy()))
        .collect();
    names.sort();
    names
}

#[test]
fn every_example_and_test_package_loads_under_its_folders_name() {
    let mut formats = BTreeSet::new();
    for path in folders("examples/problems").into_iter().chain(folders("tests/e2e/packages")) {
        let name = path.rsplit('/').next().unwrap_or_default();
        let mut files = repo_package(&path);
        // A custom checker is built, not committed (its .gitignore names it).
        if let Some(ignored) = files.0.get(".gitignore").cloned() {
            for built in String::from_utf8_lossy(&ignored).lines().filter(|l| l.ends_with(".wasm"))
            {
                files.0.entry(built.trim_start_matches('/').to_string()).or_default();
            }
        }
        let problem = load(&files, name).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(problem.id, name, "{path}");
        formats.insert(format!("{:?}", problem.format));
    }
    assert_eq!(
        formats.into_iter().collect::<Vec<_>>(),
        ["Kattis", "Native", "NormalOj", "Polygon"]
    );
}
