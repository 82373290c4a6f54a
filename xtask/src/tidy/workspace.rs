//! The workspace as tidy sees it — members and their dependencies, resolved
//! to members where they are path dependencies — and the two rules about
//! dependencies: `heavy-deps` and `layers`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use toml::{Table, Value};

use super::files::{glob, normalize, slash, walk};
use super::violation::Violation;

/// The external crates only the binary may tie together.
const HEAVY: &[&str] = &["redis", "bollard", "wasmtime", "axum"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Normal,
    Build,
    Dev,
}

impl Section {
    const ALL: [(Section, &'static str); 3] = [
        (Section::Normal, "dependencies"),
        (Section::Build, "build-dependencies"),
        (Section::Dev, "dev-dependencies"),
    ];
}

/// One entry of a dependency section.
#[derive(Debug, Clone)]
pub(super) struct Dependency {
    /// The package it names (after a `package = …` rename).
    pub package: String,
    /// The member folder it resolves to (relative to the root), when it is
    /// a path dependency on one.
    pub member: Option<PathBuf>,
    pub section: Section,
    /// Where it is written in the member's `Cargo.toml` (1-based).
    pub line: usize,
}

/// A workspace member.
#[derive(Debug, Clone)]
pub(super) struct Member {
    /// Its folder, relative to the root.
    pub dir: PathBuf,
    pub name: String,
    pub dependencies: Vec<Dependency>,
}

impl Member {
    fn manifest(&self) -> PathBuf {
        self.dir.join("Cargo.toml")
    }
}

/// The members of the workspace whose manifest is `root/workspace/Cargo.toml`,
/// sorted by folder.
pub(super) fn members(root: &Path, workspace: &Path) -> anyhow::Result<Vec<Member>> {
    let manifest = workspace.join("Cargo.toml");
    let table = read_manifest(root, &manifest)?;
    let Some(ws) = table.get("workspace").and_then(Value::as_table) else {
        bail!("{}: no [workspace] table", slash(&manifest));
    };
    let strings = |key: &str| -> Vec<String> {
        ws.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let excluded: Vec<PathBuf> =
        strings("exclude").iter().map(|e| normalize(&workspace.join(e))).collect();
    let mut dirs = BTreeSet::new();
    for pattern in strings("members") {
        for dir in glob(&root.join(workspace), &pattern) {
            let dir = normalize(&workspace.join(dir));
            if root.join(&dir).join("Cargo.toml").is_file()
                && !excluded.iter().any(|e| dir.starts_with(e))
            {
                dirs.insert(dir);
            }
        }
    }
    let shared = ws.get("dependencies").and_then(Value::as_table).cloned().unwrap_or_default();
    let mut members = Vec::new();
    for dir in dirs {
        let manifest = dir.join("Cargo.toml");
        let table = read_manifest(root, &manifest)?;
        let name = table
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .with_context(|| format!("{}: no package name", slash(&manifest)))?
            .to_string();
        let text = std::fs::read_to_string(root.join(&manifest))?;
        let dependencies = dependencies(&table, &text, &dir, workspace, &shared);
        members.push(Member { dir, name, dependencies });
    }
    Ok(members)
}

fn read_manifest(root: &Path, manifest: &Path) -> anyhow::Result<Table> {
    let text = std::fs::read_to_string(root.join(manifest))
        .with_context(|| format!("reading {}", slash(manifest)))?;
    text.parse().with_context(|| format!("parsing {}", slash(manifest)))
}

/// Every dependency of a member's manifest, target-specific ones included.
fn dependencies(
    table: &Table,
    text: &str,
    dir: &Path,
    workspace: &Path,
    shared: &Table,
) -> Vec<Dependency> {
    // (the table holding the sections, the header prefix of its sections)
    let mut holders: Vec<(&Table, String)> = vec![(table, String::new())];
    if let Some(targets) = table.get("target").and_then(Value::as_table) {
        for (cfg, inner) in targets {
            if let Some(inner) = inner.as_table() {
                holders.push((inner, format!("target.{cfg}.")));
            }
        }
    }
    let mut out = Vec::new();
    for (holder, prefix) in holders {
        for (section, name) in Section::ALL {
            let Some(entries) = holder.get(name).and_then(Value::as_table) else { continue };
            for (key, value) in entries {
                let (package, path) = resolve(key, value, dir, workspace, shared);
                out.push(Dependency {
                    package,
                    member: path,
                    section,
                    line: line_of(text, &format!("{prefix}{name}"), key),
                });
            }
        }
    }
    out
}

/// The package a dependency entry names and the folder (relative to the
/// root) of its path, if it has one, directly or through
/// `[workspace.dependencies]`.
fn resolve(
    key: &str,
    value: &Value,
    dir: &Path,
    workspace: &Path,
    shared: &Table,
) -> (String, Option<PathBuf>) {
    let renamed = |v: &Value| v.get("package").and_then(Value::as_str).map(str::to_string);
    let path = |v: &Value| v.get("path").and_then(Value::as_str).map(PathBuf::from);
    if value.get("workspace").and_then(Value::as_bool) == Some(true) {
        let Some(entry) = shared.get(key) else { return (key.to_string(), None) };
        let package = renamed(entry).unwrap_or_else(|| key.to_string());
        return (package, path(entry).map(|p| normalize(&workspace.join(p))));
    }
    let package = renamed(value).unwrap_or_else(|| key.to_string());
    (package, path(value).map(|p| normalize(&dir.join(p))))
}

/// The line of `key` in the manifest section `section` (its header without
/// brackets and quotes, e.g. `dependencies`, `target.cfg(unix).dependencies`),
/// written as `key = …`, `key.x = …` or as its own `[section.key]` table.
fn line_of(text: &str, section: &str, key: &str) -> usize {
    let bare = |s: &str| s.replace(['"', '\'', ' '], "");
    let section = bare(section);
    let mut header = String::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            header = bare(inner);
            if header == format!("{section}.{key}") {
                return i + 1;
            }
            continue;
        }
        if header == section
            && let Some(rest) = line.strip_prefix(key)
            && matches!(rest.trim_start().chars().next(), Some('=' | '.'))
        {
            return i + 1;
        }
    }
    1
}

/// Rule `heavy-deps`: outside `bin/`, at most one of [`HEAVY`] among a
/// crate's normal and build dependencies.
pub(super) fn heavy_dependencies(members: &[Member]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for member in members.iter().filter(|m| !m.dir.starts_with("bin")) {
        let mut heavy: Vec<&Dependency> = Vec::new();
        for dep in &member.dependencies {
            if dep.section != Section::Dev
                && dep.member.is_none()
                && HEAVY.contains(&dep.package.as_str())
                && !heavy.iter().any(|h| h.package == dep.package)
            {
                heavy.push(dep);
            }
        }
        if let [_, second, ..] = heavy.as_slice() {
            let names: Vec<String> = heavy.iter().map(|d| format!("`{}`", d.package)).collect();
            violations.push(Violation::new(
                &member.manifest(),
                Some(second.line),
                "heavy-deps",
                format!(
                    "`{}` depends directly on {}: only the binary (bin/) may tie more than one of redis, bollard, wasmtime and axum together (dev-dependencies do not count); keep each in its own crate and let bin/gavel join them",
                    member.name,
                    names.join(" and ")
                ),
            ));
        }
    }
    violations
}

/// Each engine the house wraps, and the one crate that may know it
/// (`Architecture Invariant`s in ARCHITECTURE.md): everything else sees the
/// owner's traits and types.
const OWNERS: &[(&str, &str)] = &[
    ("wasmtime", "host/plugin-host"),
    ("wasmtime-wasi", "host/plugin-host"),
    ("wasmtime-wizer", "host/plugin-host"),
    ("bollard", "host/native"),
    ("redis", "backend/queue"),
    ("axum", "backend/server"),
];

/// What the pure core never depends on: an async runtime, a network client
/// or server, or an engine.
const NOT_IN_CORE: &[&str] = &["tokio", "reqwest", "hyper", "hyper-util", "cap-std"];

/// Rule `owners`: a crate in core/, backend/ or host/ depends (normal or
/// build) on an engine of [`OWNERS`] only if it is that engine's owner, and
/// core/ crates depend on none of [`NOT_IN_CORE`] either. The binary and the
/// tooling (tests/, xtask) may use anything.
pub(super) fn owners(members: &[Member]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for member in members {
        let layer = Layer::of(&member.dir);
        if matches!(layer, Layer::Bin | Layer::Tooling) {
            continue;
        }
        for dep in member.dependencies.iter().filter(|d| d.section != Section::Dev) {
            let owner = OWNERS.iter().find(|(engine, _)| *engine == dep.package);
            let message = match owner {
                Some((engine, owner)) if member.dir != Path::new(owner) => format!(
                    "`{}` depends on `{engine}`, which only `{owner}` may know: use {owner}'s types and traits instead",
                    member.name
                ),
                None if layer == Layer::Core && NOT_IN_CORE.contains(&dep.package.as_str()) => {
                    format!(
                        "`{}` is in core/ and depends on `{}`: core/ is pure (no async runtime, network or engine); move the I/O up into backend/ or host/",
                        member.name, dep.package
                    )
                }
                _ => continue,
            };
            violations.push(Violation::new(&member.manifest(), Some(dep.line), "owners", message));
        }
    }
    violations
}

/// The layer of a member, by its top folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Core,
    Backend,
    Host,
    Bin,
    /// `tests/`, `xtask`: outside the layers.
    Tooling,
}

impl Layer {
    fn of(dir: &Path) -> Layer {
        match dir.components().next().and_then(|c| c.as_os_str().to_str()) {
            Some("core") => Layer::Core,
            Some("backend") => Layer::Backend,
            Some("host") => Layer::Host,
            Some("bin") => Layer::Bin,
            _ => Layer::Tooling,
        }
    }

    fn may_depend_on(self, to: Layer) -> bool {
        matches!(
            (self, to),
            (_, Layer::Core)
                | (Layer::Backend, Layer::Backend)
                | (Layer::Host, Layer::Host)
                | (Layer::Bin | Layer::Tooling, Layer::Backend | Layer::Host)
        )
    }
}

/// Rule `layers`: every dependency on a member, in every section, runs
/// downward (see [`Layer::may_depend_on`]).
pub(super) fn layers(members: &[Member]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for member in members {
        let from = Layer::of(&member.dir);
        for dep in &member.dependencies {
            let Some(target) = &dep.member else { continue };
            let to = Layer::of(target);
            if from.may_depend_on(to) {
                continue;
            }
            let how = match (from, to) {
                (Layer::Backend, Layer::Host) | (Layer::Host, Layer::Backend) => {
                    "backend/ and host/ never depend on each other: move what both need into core/, and let bin/gavel join them"
                }
                (Layer::Core, _) => {
                    "core/ crates depend on core/ only: move the code that needs it up into the crate that uses it"
                }
                (_, Layer::Tooling) => {
                    "nothing in core/, backend/, host/ or bin/ depends on tests/ or xtask: move what is shared into a layered crate"
                }
                _ => "imports run downward (bin → backend, host → core): invert the dependency",
            };
            violations.push(Violation::new(
                &member.manifest(),
                Some(dep.line),
                "layers",
                format!(
                    "`{}` depends on `{}` ({}): {how}",
                    member.name,
                    dep.package,
                    slash(target)
                ),
            ));
        }
    }
    violations
}

/// The `.rs` files under a crate's `src/` (relative to the root), sorted,
/// without any `tests/`, `benches/` or `examples/` folder inside it.
pub(super) fn production_sources(root: &Path, member: &Member) -> Vec<PathBuf> {
    walk(root, &member.dir.join("src"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter(|p| {
            let inner = p.strip_prefix(member.dir.join("src")).unwrap_or(p);
            !inner
                .components()
                .any(|c| matches!(c.as_os_str().to_str(), Some("tests" | "benches" | "examples")))
        })
        .collect()
}
