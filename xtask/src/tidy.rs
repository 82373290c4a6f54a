//! `cargo xtask tidy`: the rules about the repository's shape that neither
//! the compiler nor clippy sees, each a function over a repository root that
//! returns violations (`file:line: [rule] what is wrong; how to mend it`).
//! `cargo xtask test` runs them right after `cargo fmt --check`; their own
//! tests (`cargo test -p xtask`) plant each violation in a temporary tree.
//!
//! Which crates: the members of the root workspace (`[workspace] members`,
//! globs expanded, `exclude` removed) and, for the source rules, of the
//! plugins workspace (`plugins/Cargo.toml`). Which files: everything under
//! the root except build output and generated or local folders (any
//! `target/`, hidden folders other than `.ci/`, `.cargo/` and `.github/`,
//! and `fuzz/{corpus,artifacts,coverage}/`).
//!
//! 1. **`heavy-deps`** — no crate but the binary (crates under `bin/`)
//!    depends directly on more than one of `redis`, `bollard`, `wasmtime`,
//!    `axum`, counting `[dependencies]` and `[build-dependencies]`
//!    (target-specific ones included). Dev-dependencies do not count: a test
//!    may start a Redis to check a server. `tests/e2e` is not exempt: its
//!    library drives the stack from outside, over Redis and HTTP, so it needs
//!    `redis` and none of the others; what its bench runs in-process comes
//!    through dev-dependencies.
//! 2. **`layers`** — imports run downward, in every dependency section (dev
//!    included): `core/` crates depend only on `core/`; `backend/` on `core/`
//!    and `backend/`; `host/` on `core/` and `host/`; only `bin/` may depend
//!    on both `backend/` and `host/`. `tests/` and `xtask` stand outside the
//!    layers: they may use any of them (the end-to-end tests judge with
//!    `host/` crates against a `backend/` one), and no layered crate may
//!    depend on them.
//! 3. **`owners`** — each engine has one crate that knows it: `wasmtime`
//!    (and `wasmtime-wasi`, `wasmtime-wizer`) only `host/plugin-host`,
//!    `bollard` only `host/native`, `redis` only `backend/queue`, `axum`
//!    only `backend/server`, among the normal and build dependencies of
//!    `core/`, `backend/` and `host/` crates (the binary and the tooling
//!    may use anything; dev-dependencies do not count). And `core/` is
//!    pure: no `tokio`, `reqwest`, `hyper`, `hyper-util` or `cap-std`.
//! 4. **`lua-loaded`** — every `backend/queue/lua/*.lua` is named in
//!    `backend/queue/src/scripts.rs`, in code (not a comment): a script
//!    `X.lua` as `script!("X")`, or any file as a string ending in
//!    `lua/X.lua` (how `lua/lib.lua` is prepended to every script, with
//!    `include_str!`).
//! 5. **`doc-paths`** — in every `.md` file and every `//!` doc comment
//!    (fenced code blocks skipped), every relative Markdown link
//!    `[text](path)` (or `[label]: path`) and every *repository path in
//!    backticks* names a file or folder that exists. Markdown links resolve
//!    from the file's folder; links in `//!` docs that contain `::` or
//!    neither `/` nor `.` are rustdoc's intra-doc links and are skipped.
//!    A backticked text is a repository path when it is made only of
//!    letters, digits, `.`, `_`, `-`, `/` and `*`, does not start with `/`,
//!    `.` or `-`, and either
//!    - contains `/` and its first segment is an *anchor entry*: a top-level
//!      entry of the repository (`core`, `backend`, `host`, `bin`, `tests`,
//!      `docs`, `examples`, `plugins`, `wit`, `xtask`, `fuzz`, `.ci`,
//!      `.cargo`, or any other top-level folder), or an entry of the naming
//!      file's folder, or (in a `//!` doc) of its crate's folder — it must
//!      then exist under one of the folders where its first segment is an
//!      entry; so `src/main.rs` or `lua/lib.lua` in a crate's docs is read
//!      from that crate, and `tests/…` from the root or the crate; or
//!    - is an upper-case Markdown file name like `ARCHITECTURE.md`, which
//!      must exist at the root, in `docs/` or beside the naming file.
//!
//!    Text with a placeholder (`<name>`, `{id}`, `…`), spaces, `:` or `=`
//!    is not a path (so URLs and `KEY=value` are skipped). Paths with a
//!    `target` segment are build output, never checked. A
//!    `*` is a glob within one segment (`**` spans folders) and must match
//!    something.
//! 6. **`outside-refs`** — the prose of every text file (`.md`, `.rs`,
//!    `.toml`, `.lua`, `.wit`, `.html`, `.yml`, `.yaml`, `.sh`) refers to
//!    nothing outside the repository. Prose is every line of a Markdown
//!    file and the comment lines of the others (starting `//`, `#`, `--` or
//!    `<!--`), so a test's string data is not read. Three shapes are caught,
//!    with no list of forbidden names: a Markdown file name in capitals that
//!    no file of the repository has; a relative path whose `../` steps
//!    climb above the root; and a section sign after a bare capitalised
//!    word — a document cited by its name instead of by a file here. Write
//!    what the code relies on into `docs/` and point there.
//! 7. **`file-length`** — no production source file (`src/**/*.rs` of the
//!    crates above) is over 800 lines. Only `src/` counts: a crate's
//!    `tests/`, `benches/` and `examples/` are not production code, nor are
//!    the test crates (`tests/*`); long data-driven tests read better whole.
//! 8. **`module-cycles`** — within each production crate, the files of
//!    `src/` import each other without a circle. An edge a → b is a path in
//!    a's code (`use` trees expanded) that resolves to b's module (the
//!    longest prefix that is a module file): `crate::…`, `super::…`,
//!    `self::…`, or — below the crate root — a path starting with the name
//!    of one of a's own child modules (a `mod.rs` that routes to or
//!    re-exports its children depends on them, so a child importing from
//!    it closes a circle). Declaring `mod x;` is not an edge. The crate root
//!    (`lib.rs`, `main.rs`) naming its children by bare name is not an edge
//!    either: it is where a crate is wired together, and its children reach
//!    the crate's shared items through it (`crate::Thing`); its explicit
//!    `crate::…` paths still count.
//!    Ignored: `#[cfg(test)]` modules (inline blocks, and files declared
//!    with `#[cfg(test)] mod x;`), `#[cfg(test)] use`, comments, and
//!    binaries' own folders (`src/bin/…`). Each cycle is reported as
//!    `a → b → … → a`: for every edge on a circle, the shortest circle
//!    through it.

mod docs;
mod files;
mod imports;
#[cfg(test)]
mod tests;
mod violation;
mod workspace;

use std::path::{Path, PathBuf};

use anyhow::Context;

use files::{list, slash, walk};
pub(crate) use violation::Violation;
use workspace::Member;

/// Longest a production source file may be.
const MAX_LINES: usize = 800;

/// `cargo xtask tidy`: prints every violation and fails when there is one.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let violations = check(root)?;
    for violation in &violations {
        println!("{violation}");
    }
    if !violations.is_empty() {
        anyhow::bail!("tidy: {} violation(s) (see above)", violations.len());
    }
    println!("tidy: all rules hold");
    Ok(())
}

/// Every rule over the repository at `root`, violations sorted by place.
pub(crate) fn check(root: &Path) -> anyhow::Result<Vec<Violation>> {
    let members = workspace::members(root, Path::new(""))?;
    let mut production: Vec<Member> =
        members.iter().filter(|m| !m.dir.starts_with("tests")).cloned().collect();
    if root.join("plugins/Cargo.toml").is_file() {
        production.extend(workspace::members(root, Path::new("plugins"))?);
    }
    let all = walk(root, Path::new(""));
    let mut violations = Vec::new();
    violations.extend(workspace::heavy_dependencies(&members));
    violations.extend(workspace::layers(&members));
    violations.extend(workspace::owners(&members));
    violations.extend(lua_loaded(root)?);
    violations.extend(docs::doc_paths(root, &all)?);
    violations.extend(docs::outside_refs(root, &all)?);
    violations.extend(file_length(root, &production)?);
    violations.extend(imports::module_cycles(root, &production)?);
    violations.sort_by(|a, b| (&a.path, a.line, a.rule).cmp(&(&b.path, b.line, b.rule)));
    Ok(violations)
}

/// Rule `lua-loaded`: every `backend/queue/lua/*.lua` is named in the code
/// of `backend/queue/src/scripts.rs`.
fn lua_loaded(root: &Path) -> anyhow::Result<Vec<Violation>> {
    let lua = Path::new("backend/queue/lua");
    let scripts = Path::new("backend/queue/src/scripts.rs");
    let mut scripts_found: Vec<PathBuf> = list(&root.join(lua))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    scripts_found.sort();
    if scripts_found.is_empty() {
        return Ok(Vec::new());
    }
    let Ok(text) = std::fs::read_to_string(root.join(scripts)) else {
        return Ok(vec![Violation::new(
            scripts,
            None,
            "lua-loaded",
            format!("missing, so none of {} is loaded: load each script there", slash(lua)),
        )]);
    };
    let named = imports::string_literals(&text);
    let mut violations = Vec::new();
    for file in scripts_found {
        let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let stem = name.trim_end_matches(".lua");
        let loaded = named.iter().any(|s| s == stem || s.ends_with(&format!("lua/{name}")));
        if !loaded {
            violations.push(Violation::new(
                &lua.join(&name),
                None,
                "lua-loaded",
                format!(
                    "never loaded: name it in {} (`script!(\"{stem}\")`, listed in `all()`), or delete it",
                    slash(scripts)
                ),
            ));
        }
    }
    Ok(violations)
}

/// Rule `file-length`: production `src/**/*.rs` files of at most
/// [`MAX_LINES`] lines.
fn file_length(root: &Path, crates: &[Member]) -> anyhow::Result<Vec<Violation>> {
    let mut violations = Vec::new();
    for member in crates {
        for file in workspace::production_sources(root, member) {
            let text = std::fs::read_to_string(root.join(&file))
                .with_context(|| format!("reading {}", file.display()))?;
            let lines = text.lines().count();
            if lines > MAX_LINES {
                violations.push(Violation::new(
                    &file,
                    Some(MAX_LINES + 1),
                    "file-length",
                    format!(
                        "{lines} lines, over the {MAX_LINES} allowed for production source: split it into modules by concern"
                    ),
                ));
            }
        }
    }
    Ok(violations)
}
