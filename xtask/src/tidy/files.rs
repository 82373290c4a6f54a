//! The repository as files: walking it (without build output), globs,
//! and paths as shown in messages.

use std::path::{Component, Path, PathBuf};

/// Folders never walked: build output, generated and local folders.
fn skipped(relative: &Path) -> bool {
    let name = relative.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name == "target"
        || name == "node_modules"
        || (name.starts_with('.') && !matches!(name, ".ci" | ".cargo" | ".github"))
        || ["fuzz/corpus", "fuzz/artifacts", "fuzz/coverage"]
            .iter()
            .any(|s| relative == Path::new(s))
}

/// Every file under `root/dir` (paths relative to `root`), sorted, except
/// in [`skipped`] folders.
pub(super) fn walk(root: &Path, dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for path in list(&root.join(&dir)) {
            let relative = dir.join(path.file_name().unwrap_or_default());
            if path.is_dir() {
                if !skipped(&relative) {
                    stack.push(relative);
                }
            } else {
                out.push(relative);
            }
        }
    }
    out.sort();
    out
}

/// The entries of `dir`, or none when it cannot be read.
pub(super) fn list(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// The paths under `base` that `pattern` names (`/`-separated; `*` within
/// a segment, `**` for any number of folders), relative to `base`.
pub(super) fn glob(base: &Path, pattern: &str) -> Vec<PathBuf> {
    let segments: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    let mut found = Vec::new();
    glob_from(base, PathBuf::new(), &segments, &mut found);
    found.sort();
    found.dedup();
    found
}

fn glob_from(base: &Path, at: PathBuf, segments: &[&str], found: &mut Vec<PathBuf>) {
    let Some((first, rest)) = segments.split_first() else {
        found.push(at);
        return;
    };
    if *first == "**" {
        glob_from(base, at.clone(), rest, found);
        for entry in list(&base.join(&at)) {
            if entry.is_dir() {
                let name = at.join(entry.file_name().unwrap_or_default());
                glob_from(base, name, segments, found);
            }
        }
    } else if first.contains('*') {
        for entry in list(&base.join(&at)) {
            let name = entry.file_name().unwrap_or_default().to_string_lossy().into_owned();
            if wildcard(first, &name) {
                glob_from(base, at.join(name), rest, found);
            }
        }
    } else if base.join(&at).join(first).exists() {
        glob_from(base, at.join(first), rest, found);
    }
}

/// Whether `name` matches `pattern`, where `*` stands for any characters.
fn wildcard(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else { return false };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| wildcard(tail, &rest[i..]))
        }
    }
}

/// `path` with `.` and `..` folded away, lexically.
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A path as shown in messages: `/`-separated.
pub(super) fn slash(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
