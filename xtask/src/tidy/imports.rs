//! Rule `module-cycles`: the files of a crate's `src/` as a graph of
//! imports (`crate::…` and `super::…` paths in code), and the circles in it.
//! Also the small Rust lexer it stands on (comments and literals skipped),
//! which `lua-loaded` uses to read string literals.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::files::slash;
use super::violation::Violation;
use super::workspace::{Member, production_sources};

/// A token of Rust code: an identifier or keyword, `::`, or one punctuation
/// character; literals and comments are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    line: usize,
}

/// The code of a Rust file as tokens, and its string literals' contents
/// (escapes left as written).
fn lex(source: &str) -> (Vec<Token>, Vec<String>) {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut strings = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // r"…", r#"…"#, br"…": up to a quote followed by as many hashes.
            let open = i + chars[i..].iter().position(|&c| c == '"').unwrap_or(0) + 1;
            let mut j = open;
            while j < chars.len() && !(chars[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#')) {
                j += 1;
            }
            let text: String = chars[open..j.min(chars.len())].iter().collect();
            line += text.matches('\n').count();
            strings.push(text);
            i = j + 1 + hashes;
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') {
            let open = if c == 'b' { i + 2 } else { i + 1 };
            let mut j = open;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            let text: String = chars[open..j.min(chars.len())].iter().collect();
            line += text.matches('\n').count();
            strings.push(text);
            i = j + 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            if at(i + 1) == '\\' {
                let mut j = i + 3;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
                while is_ident(at(i)) {
                    i += 1;
                }
            }
        } else if is_ident(c) {
            let start = i;
            while is_ident(at(i)) {
                i += 1;
            }
            // b'x' byte literals: the quote is lexed next as a char literal.
            let mut text: String = chars[start..i].iter().collect();
            if text == "r" && at(i) == '#' && is_ident(at(i + 1)) {
                // r#ident
                i += 1;
                let from = i;
                while is_ident(at(i)) {
                    i += 1;
                }
                text = chars[from..i].iter().collect();
            }
            tokens.push(Token { text, line });
        } else if c == ':' && at(i + 1) == ':' {
            tokens.push(Token { text: "::".into(), line });
            i += 2;
        } else {
            tokens.push(Token { text: c.to_string(), line });
            i += 1;
        }
    }
    (tokens, strings)
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The number of hashes when a raw (byte) string starts at `i`.
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    let before_ident = i == 0 || !is_ident(chars[i - 1]);
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if !before_ident || chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some(hashes)
}

/// The contents of the string literals in a Rust file's code.
pub(super) fn string_literals(source: &str) -> Vec<String> {
    lex(source).1
}

/// The tokens of a file without its `#[cfg(test)]` items (`mod x { … }`,
/// `use …;`), and the names of modules it declares `#[cfg(test)] mod x;`.
fn without_tests(tokens: Vec<Token>) -> (Vec<Token>, Vec<String>) {
    let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
    let mut kept = Vec::new();
    let mut test_files = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if texts[i..].starts_with(&["#", "[", "cfg", "(", "test", ")", "]"]) {
            let mut j = i + 7;
            // Further attributes, then `pub`/`pub(…)`.
            while texts.get(j) == Some(&"#") {
                j = skip_group(&texts, j + 1);
            }
            if texts.get(j) == Some(&"pub") {
                j += 1;
                if texts.get(j) == Some(&"(") {
                    j = skip_group(&texts, j);
                }
            }
            match (texts.get(j), texts.get(j + 2)) {
                (Some(&"mod"), Some(&"{")) => {
                    i = skip_group(&texts, j + 2);
                    continue;
                }
                (Some(&"mod"), Some(&";")) => {
                    test_files.push(texts[j + 1].to_string());
                    i = j + 3;
                    continue;
                }
                (Some(&"use"), _) => {
                    i = j + texts[j..].iter().position(|t| *t == ";").unwrap_or(0) + 1;
                    continue;
                }
                _ => {}
            }
        }
        kept.push(tokens[i].clone());
        i += 1;
    }
    (kept, test_files)
}

/// The index after the bracketed group opening at `open` (`(`, `[`, `{`).
fn skip_group(texts: &[&str], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < texts.len() {
        match texts[i] {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    texts.len()
}

/// The module paths named in `tokens`, in a file whose module is `module`
/// and whose child modules are `children`, each with the line it is on:
/// `crate::…`, `super::…`, `self::…` paths and paths starting with a child's
/// name. `use` trees (`crate::{a::X, b::{self, Y}}`) give one path per leaf.
fn named_paths(
    tokens: &[Token],
    module: &[String],
    children: &BTreeSet<String>,
) -> Vec<(Vec<String>, usize)> {
    let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < texts.len() {
        let path_start =
            texts.get(i + 1) == Some(&"::") && (i == 0 || !matches!(texts[i - 1], "::" | "in"));
        if !path_start {
            i += 1;
            continue;
        }
        let line = tokens[i].line;
        let mut prefix = match texts[i] {
            "crate" => {
                i += 2;
                Vec::new()
            }
            "super" => {
                let mut prefix = module.to_vec();
                while texts.get(i) == Some(&"super") && texts.get(i + 1) == Some(&"::") {
                    prefix.pop();
                    i += 2;
                }
                prefix
            }
            "self" => {
                i += 2;
                module.to_vec()
            }
            child if !module.is_empty() && children.contains(child) => module.to_vec(),
            _ => {
                i += 1;
                continue;
            }
        };
        i = tree(&texts, i, &mut prefix, line, &mut out);
    }
    out
}

/// Reads the rest of a path or use tree from `i` under `prefix`, pushing
/// each leaf; returns the index after it.
fn tree(
    texts: &[&str],
    mut i: usize,
    prefix: &mut Vec<String>,
    line: usize,
    out: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    let depth = prefix.len();
    loop {
        match texts.get(i) {
            Some(&"{") => {
                i += 1;
                while i < texts.len() && texts[i] != "}" {
                    let before = i;
                    i = tree(texts, i, prefix, line, out);
                    if texts.get(i) == Some(&",") || i == before {
                        i += 1;
                    }
                }
                prefix.truncate(depth);
                return i + 1;
            }
            Some(&"self" | &"*") => i += 1,
            Some(name) if name.chars().next().is_some_and(is_ident) => {
                prefix.push(name.to_string());
                i += 1;
            }
            _ => break,
        }
        if texts.get(i) != Some(&"::") {
            break;
        }
        i += 1;
    }
    out.push((prefix.clone(), line));
    prefix.truncate(depth);
    if texts.get(i) == Some(&"as") {
        i += 2;
    }
    i
}

/// A crate's production source files keyed by module path: `src/lib.rs`
/// and `src/main.rs` are the root (`[]`), `src/a.rs` and `src/a/mod.rs` are
/// `[a]`, `src/a/b.rs` is `[a, b]`. `src/bin/` is left out.
fn modules(root: &Path, member: &Member) -> BTreeMap<PathBuf, Vec<String>> {
    let src = member.dir.join("src");
    let mut out = BTreeMap::new();
    for file in production_sources(root, member) {
        let inner = file.strip_prefix(&src).unwrap_or(&file);
        if inner.starts_with("bin") {
            continue;
        }
        let mut path: Vec<String> =
            inner.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let last = path.pop().unwrap_or_default();
        let stem = last.trim_end_matches(".rs");
        let is_root = path.is_empty() && matches!(stem, "lib" | "main");
        if !is_root && stem != "mod" {
            path.push(stem.to_string());
        }
        out.insert(file, path);
    }
    out
}

/// Rule `module-cycles` over each crate.
pub(super) fn module_cycles(root: &Path, crates: &[Member]) -> anyhow::Result<Vec<Violation>> {
    let mut violations = Vec::new();
    for member in crates {
        let graph = graph(root, member)?;
        for cycle in cycles(&graph) {
            let src = member.dir.join("src");
            let name = |f: &PathBuf| slash(f.strip_prefix(&src).unwrap_or(f));
            let shown: Vec<String> =
                cycle.iter().chain(cycle.first()).map(|f| format!("src/{}", name(f))).collect();
            let line = graph[&cycle[0]][&cycle[1]];
            violations.push(Violation::new(
                &cycle[0],
                Some(line),
                "module-cycles",
                format!(
                    "module import cycle in `{}`: {}; move what both sides need into a module they both import, so one side stops importing the other",
                    member.name,
                    shown.join(" → ")
                ),
            ));
        }
    }
    Ok(violations)
}

/// file → (imported file → first line importing it).
type Graph = BTreeMap<PathBuf, BTreeMap<PathBuf, usize>>;

fn graph(root: &Path, member: &Member) -> anyhow::Result<Graph> {
    let mut files = modules(root, member);
    // Files declared `#[cfg(test)] mod x;` are test code.
    let mut lexed = BTreeMap::new();
    let mut test_modules = BTreeSet::new();
    for (file, module) in &files {
        let source = std::fs::read_to_string(root.join(file))
            .with_context(|| format!("reading {}", file.display()))?;
        let (tokens, tests) = without_tests(lex(&source).0);
        for test in tests {
            let mut path = module.clone();
            path.push(test);
            test_modules.insert(path);
        }
        lexed.insert(file.clone(), tokens);
    }
    files.retain(|_, m| !test_modules.iter().any(|t| m.starts_with(t)));
    let by_module: BTreeMap<&Vec<String>, &PathBuf> = {
        // With both lib.rs and main.rs, `[]` is lib.rs: main.rs uses the
        // library by name, not through `crate::`.
        let mut map = BTreeMap::new();
        for (file, module) in &files {
            if module.is_empty() && map.contains_key(module) && !file.ends_with("lib.rs") {
                continue;
            }
            map.insert(module, file);
        }
        map
    };
    let mut graph = Graph::new();
    for (file, module) in &files {
        let children: BTreeSet<String> = files
            .values()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .map(|m| m[module.len()].clone())
            .collect();
        let edges = graph.entry(file.clone()).or_default();
        for (path, line) in named_paths(&lexed[file], module, &children) {
            let target = (0..=path.len()).rev().find_map(|k| by_module.get(&path[..k].to_vec()));
            if let Some(&target) = target
                && target != file
            {
                edges.entry(target.clone()).or_insert(line);
            }
        }
    }
    Ok(graph)
}

/// The circles of a graph: for every edge that lies on one, the shortest
/// circle through it, each listed once, starting at its smallest file.
fn cycles(graph: &Graph) -> Vec<Vec<PathBuf>> {
    let mut found = BTreeSet::new();
    for (from, edges) in graph {
        for to in edges.keys() {
            if let Some(back) = shortest_path(graph, to, from) {
                // from → to → … → from
                let mut cycle = vec![from.clone()];
                cycle.extend(back.into_iter().take_while(|f| f != from));
                let start = cycle.iter().enumerate().min_by_key(|(_, f)| *f).map_or(0, |(i, _)| i);
                cycle.rotate_left(start);
                found.insert(cycle);
            }
        }
    }
    found.into_iter().collect()
}

/// The shortest path `from` → … → `to` (both included), if any.
fn shortest_path(graph: &Graph, from: &PathBuf, to: &PathBuf) -> Option<Vec<PathBuf>> {
    let mut previous: BTreeMap<&PathBuf, &PathBuf> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = BTreeSet::from([from]);
    while let Some(at) = queue.pop_front() {
        if at == to {
            let mut path = vec![at.clone()];
            let mut cursor = at;
            while let Some(&p) = previous.get(cursor) {
                path.push(p.clone());
                cursor = p;
            }
            path.reverse();
            return Some(path);
        }
        for next in graph.get(at).into_iter().flat_map(|e| e.keys()) {
            if seen.insert(next) {
                previous.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{lex, named_paths, without_tests};

    fn paths(source: &str, module: &[&str]) -> Vec<String> {
        let (tokens, _) = without_tests(lex(source).0);
        let module: Vec<String> = module.iter().map(|s| s.to_string()).collect();
        let children = ["child".to_string()].into();
        named_paths(&tokens, &module, &children)
            .into_iter()
            .map(|(p, line)| format!("{line}:{}", p.join("::")))
            .collect()
    }

    #[test]
    fn use_trees_expand_to_one_path_per_leaf() {
        let source = "use crate::{a::{self, B as C}, b::*};\nuse super::super::x::Y;\n\
                      fn f() -> crate::c::D<'static> { super::e() }\npub(crate) fn g() {}\n\
                      pub(in crate::h) fn i() {}\n\
                      use child::{X, y::Z};\nfn j() { self::k(); other::l(); }\n";
        assert_eq!(
            paths(source, &["m", "n"]),
            [
                "1:a",
                "1:a::B",
                "1:b",
                "2:x::Y",
                "3:c::D",
                "3:m::e",
                "6:m::n::child::X",
                "6:m::n::child::y::Z",
                "7:m::n::k",
            ]
        );
    }

    #[test]
    fn comments_literals_and_test_items_hide_paths() {
        let source = "// use crate::a;\n/* crate::b /* nested */ crate::c */\n\
                      const S: &str = \"crate::d\";\nconst R: &str = r#\"crate::\"e\"#;\n\
                      const C: char = '\\'';\nfn l<'a>(x: &'a str) { crate::f::g(x) }\n\
                      #[cfg(test)]\nuse crate::h;\n#[cfg(test)]\n#[allow(dead_code)]\nmod tests { use crate::i; }\n";
        assert_eq!(paths(source, &[]), ["6:f::g"]);
        assert_eq!(lex(source).1, ["crate::d", "crate::\"e"]);
    }
}
