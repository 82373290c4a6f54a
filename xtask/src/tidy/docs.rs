//! The rules about what prose names: `doc-paths` (links and backticked
//! repository paths in Markdown files and `//!` docs exist) and
//! `outside-refs` (nothing points outside the repository). What counts as a
//! path is defined in the parent module's doc.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::files::{glob, slash};
use super::violation::Violation;

/// Top-level entries a backticked path may start with, present or not (so a
/// path into a folder that went away is still caught).
const TOP_LEVEL: &[&str] = &[
    "core", "backend", "host", "bin", "tests", "docs", "examples", "plugins", "wit", "xtask",
    "fuzz", ".ci", ".cargo",
];

/// The file types `outside-refs` reads.
const TEXT_EXTENSIONS: &[&str] = &["md", "rs", "toml", "lua", "wit", "html", "yml", "yaml", "sh"];

/// Where prose comes from, which decides where its relative paths start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Markdown,
    /// A `//!` doc comment in a Rust file.
    ModuleDoc,
}

/// Rule `doc-paths` over `files` (relative to `root`).
pub(super) fn doc_paths(root: &Path, files: &[PathBuf]) -> anyhow::Result<Vec<Violation>> {
    let mut violations = Vec::new();
    for file in files {
        let kind = match file.extension().and_then(|e| e.to_str()) {
            Some("md") => Kind::Markdown,
            Some("rs") => Kind::ModuleDoc,
            _ => continue,
        };
        let Ok(text) = std::fs::read_to_string(root.join(file)) else { continue };
        let places = Places::of(root, file, kind);
        // A reference definition starts a paragraph (or follows another).
        let mut paragraph_start = true;
        let mut previous = 0;
        for (line, prose) in prose_lines(&text, kind) {
            let (spans, rest) = code_spans(&prose);
            let starts = paragraph_start || line != previous + 1;
            let (targets, definition) = link_targets(&rest, starts);
            paragraph_start = prose.trim().is_empty() || definition;
            previous = line;
            for target in targets {
                if let Some(message) = places.check_link(&target) {
                    violations.push(Violation::new(file, Some(line), "doc-paths", message));
                }
            }
            for span in spans {
                if let Some(message) = places.check_span(&span) {
                    violations.push(Violation::new(file, Some(line), "doc-paths", message));
                }
            }
        }
    }
    Ok(violations)
}

/// Rule `outside-refs` over `files` (relative to `root`).
pub(super) fn outside_refs(root: &Path, files: &[PathBuf]) -> anyhow::Result<Vec<Violation>> {
    let documents: BTreeSet<&str> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "md"))
        .filter_map(|f| f.file_name()?.to_str())
        .collect();
    let mut violations = Vec::new();
    for file in files {
        let Some(extension) = file.extension().and_then(|e| e.to_str()) else { continue };
        if !TEXT_EXTENSIONS.contains(&extension) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(file)) else { continue };
        let dir = file.parent().unwrap_or(Path::new(""));
        let depth = dir.components().count();
        let exists = |path: &str| root.join(dir).join(path).exists();
        let prose = |line: &str| {
            let line = line.trim_start();
            extension == "md" || ["//", "#", "--", "<!--"].iter().any(|c| line.starts_with(c))
        };
        for (i, line) in text.lines().enumerate().filter(|(_, line)| prose(line)) {
            let doc_paths_reads = extension == "md" || line.trim_start().starts_with("//!");
            let place = Place { depth, exists: &exists };
            if let Some(what) = outside_reference(line, &place, &documents, doc_paths_reads) {
                violations.push(Violation::new(
                    file,
                    Some(i + 1),
                    "outside-refs",
                    format!(
                        "{what}: say it here or point to a file under docs/ (docs/contract.md for the contract, docs/normal-oj.md for Normal-OJ's dialect)"
                    ),
                ));
            }
        }
    }
    Ok(violations)
}

/// Where a line of prose is written: how many folders below the root, and
/// whether a relative path exists from there.
struct Place<'a> {
    depth: usize,
    exists: &'a dyn Fn(&str) -> bool,
}

/// What in a line of prose written at `place` refers outside the
/// repository (whose Markdown files are named `documents`), if anything. In
/// a line `doc-paths` reads, its links and backticked paths are left to
/// that rule, but for paths starting `../`, which it does not read.
fn outside_reference(
    line: &str,
    place: &Place,
    documents: &BTreeSet<&str>,
    doc_paths_reads: bool,
) -> Option<String> {
    let (spans, rest) = if doc_paths_reads {
        let (spans, rest) = code_spans(line);
        (spans, without_link_targets(&rest))
    } else {
        (Vec::new(), line.to_string())
    };
    // A path up from here: it must stay inside and name something.
    let upward = |token: &str| {
        let climbs = token.split('/').take_while(|s| *s == "..").count();
        if climbs > place.depth {
            Some(format!("`{token}` leads outside the repository"))
        } else if climbs > 0 && !(place.exists)(token) {
            Some(format!("`{token}` names nothing in this repository"))
        } else {
            None
        }
    };
    for token in words(&rest) {
        let name = token.rsplit('/').next().unwrap_or(token);
        if upper_case_markdown(name) && !documents.contains(name) {
            return Some(format!("names `{token}`, a document this repository does not have"));
        }
        if let Some(what) = upward(token) {
            return Some(what);
        }
    }
    if let Some(what) = spans.iter().flat_map(|span| words(span)).find_map(upward) {
        return Some(what);
    }
    rest.match_indices('§').find_map(|(at, _)| {
        let word = rest[..at].trim_end().rsplit(|c: char| c.is_whitespace() || c == '(').next()?;
        let bare = word.len() >= 2
            && word.chars().any(|c| c.is_ascii_uppercase())
            && word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "-_".contains(c));
        bare.then(|| format!("cites `{word} §…`, a document named instead of a file here"))
    })
}

/// The words of a text, without the punctuation around them.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || "`()[]\"',;<>".contains(c))
        .map(|w| w.trim_end_matches(['.', ':', '!', '?']))
        .filter(|w| !w.is_empty())
}

/// A line with its Markdown link targets (`](…)`) removed.
fn without_link_targets(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        out.push_str(&rest[..=at]);
        rest = rest[at + 2..].split_once(')').map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

/// The folders a file's relative paths may start from.
struct Places {
    root: PathBuf,
    kind: Kind,
    /// The naming file's folder, relative to the root.
    dir: PathBuf,
    /// The nearest folder above the file with a `Cargo.toml` (for `//!`).
    krate: Option<PathBuf>,
}

impl Places {
    fn of(root: &Path, file: &Path, kind: Kind) -> Places {
        let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
        let krate = match kind {
            Kind::ModuleDoc => dir
                .ancestors()
                .find(|d| root.join(d).join("Cargo.toml").is_file())
                .map(Path::to_path_buf),
            Kind::Markdown => None,
        };
        Places { root: root.to_path_buf(), kind, dir, krate }
    }

    /// The folders (relative to the root) a path starting with `first` may
    /// be read from: the root when `first` is a top-level entry, the file's
    /// folder and (for `//!`) its crate's folder when `first` is in them.
    fn anchors(&self, first: &str) -> Vec<PathBuf> {
        let mut anchors = Vec::new();
        let top = TOP_LEVEL.contains(&first)
            || (!first.starts_with('.') && first != "target" && self.root.join(first).is_dir());
        if top {
            anchors.push(PathBuf::new());
        }
        let mut local = vec![self.dir.clone()];
        local.extend(self.krate.clone());
        for dir in local {
            if self.root.join(&dir).join(first).exists() && !anchors.contains(&dir) {
                anchors.push(dir);
            }
        }
        anchors
    }

    fn exists(&self, anchor: &Path, path: &str) -> bool {
        if path.contains('*') {
            !glob(&self.root.join(anchor), path).is_empty()
        } else {
            self.root.join(anchor).join(path).exists()
        }
    }

    /// What is wrong with a link target, if anything.
    fn check_link(&self, target: &str) -> Option<String> {
        let target = target.split(['#', '?']).next().unwrap_or_default();
        let skipped = target.is_empty()
            || target.contains(':')
            || generated(target)
            || (self.kind == Kind::ModuleDoc && !target.contains('/') && !target.contains('.'));
        if skipped {
            return None;
        }
        let found = if let Some(absolute) = target.strip_prefix('/') {
            self.exists(Path::new(""), absolute)
        } else if self.kind == Kind::Markdown {
            self.exists(&self.dir, target)
        } else {
            let first = target.split('/').next().unwrap_or_default();
            let mut anchors = self.anchors(first);
            anchors.push(self.dir.clone());
            anchors.iter().any(|a| self.exists(a, target))
        };
        (!found).then(|| {
            format!(
                "link to `{target}`, which does not exist (read from {}): fix the path or drop the link",
                shown_dir(&self.dir)
            )
        })
    }

    /// What is wrong with a backticked text, if it is a repository path.
    fn check_span(&self, span: &str) -> Option<String> {
        let plain = !span.is_empty()
            && span.chars().all(|c| c.is_ascii_alphanumeric() || "._-/*".contains(c))
            && !span.starts_with(['/', '.', '-'])
            && !span.contains("..")
            && !span.contains("//");
        if !plain || generated(span) {
            return None;
        }
        if span.contains('/') {
            let first = span.split('/').next().unwrap_or_default();
            let anchors = self.anchors(first);
            if anchors.is_empty() || anchors.iter().any(|a| self.exists(a, span)) {
                return None;
            }
            let from: Vec<String> = anchors.iter().map(|a| shown_dir(a)).collect();
            return Some(format!(
                "`{span}` names nothing (read from {}): fix the path, or if it is not a path in this repository, mark its variable part (`<problem>/…`)",
                from.join(", ")
            ));
        }
        if !upper_case_markdown(span) {
            return None;
        }
        let found = [PathBuf::new(), PathBuf::from("docs"), self.dir.clone()]
            .iter()
            .any(|a| self.exists(a, span));
        (!found).then(|| {
            format!(
                "`{span}` is neither at the root, in docs/ nor beside this file: fix the name or write its path"
            )
        })
    }
}

/// Whether a path leads into build output or generated files (`target/`,
/// and `plugins/.patched/`, which the plugin build writes: a checkout that
/// never built the plugins has neither).
fn generated(path: &str) -> bool {
    path.split('/').any(|s| s == "target" || s == ".patched")
}

/// `ARCHITECTURE.md`, `BENCHMARKS.md`: a Markdown name in capitals.
fn upper_case_markdown(name: &str) -> bool {
    name.strip_suffix(".md").is_some_and(|stem| {
        stem.chars().any(|c| c.is_ascii_uppercase())
            && stem
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "-_".contains(c))
    })
}

fn shown_dir(dir: &Path) -> String {
    if dir.as_os_str().is_empty() { "the root".to_string() } else { format!("{}/", slash(dir)) }
}

/// The prose lines of a file with their 1-based numbers: a Markdown file's
/// lines, or the text of a Rust file's `//!` lines; fenced code blocks left
/// out.
fn prose_lines(text: &str, kind: Kind) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in text.lines().enumerate() {
        let prose = match kind {
            Kind::Markdown => line,
            Kind::ModuleDoc => match line.trim_start().strip_prefix("//!") {
                Some(doc) => doc,
                None => continue,
            },
        };
        let trimmed = prose.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push((i + 1, prose.to_string()));
        }
    }
    out
}

/// The code spans of a line (their text, trimmed) and the line with them
/// blanked out.
fn code_spans(line: &str) -> (Vec<String>, String) {
    let bytes = line.as_bytes();
    let mut spans = Vec::new();
    let mut rest = String::new();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
        let fence = &line[i..i + run];
        let start = i + run;
        // The closing run has exactly as many backticks.
        let mut end = None;
        let mut j = start;
        while let Some(found) = line[j..].find(fence) {
            let at = j + found;
            let len = bytes[at..].iter().take_while(|&&b| b == b'`').count();
            if len == run {
                end = Some(at);
                break;
            }
            j = at + len;
        }
        let Some(end) = end else {
            i = start;
            continue;
        };
        spans.push(line[start..end].trim().to_string());
        rest.push_str(&line[copied..i]);
        rest.push(' ');
        i = end + run;
        copied = i;
    }
    rest.push_str(&line[copied..]);
    (spans, rest)
}

/// The targets of inline links `[text](target "title")` in a line (code
/// spans already blanked) and, when it starts a paragraph, of a reference
/// definition `[label]: target`; and whether it is such a definition.
fn link_targets(line: &str, paragraph_start: bool) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let first = |s: &str| {
        s.split_whitespace().next().unwrap_or_default().trim_matches(['<', '>']).to_string()
    };
    let trimmed = line.trim_start();
    let definition = paragraph_start
        && trimmed.starts_with('[')
        && trimmed.split_once("]: ").is_some_and(|(label, _)| !label.contains(']'));
    if definition && let Some((_, target)) = trimmed.split_once("]: ") {
        out.push(first(target));
    }
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let end = after.find(')').unwrap_or(after.len());
        out.push(first(&after[..end]));
        rest = &after[end..];
    }
    out.retain(|t| !t.is_empty());
    (out, definition)
}
