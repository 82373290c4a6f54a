//! Each rule on a small clean repository in a temporary folder, then with one
//! violation planted, which it must catch where it is.

use std::path::Path;

use super::{Violation, check};

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn package(name: &str, sections: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n{sections}")
}

/// A repository that keeps every rule, with the near misses each rule must
/// let pass.
fn clean() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        "[workspace]\nmembers = [\"core/*\", \"backend/*\", \"host/*\", \"bin/*\", \"tests/*\"]\n\
         exclude = [\"plugins\"]\n\n[workspace.dependencies]\n\
         judge = { path = \"core/judge\" }\nqueue = { path = \"backend/queue\" }\n\
         plugin-host = { path = \"host/plugin-host\" }\nredis = \"1\"\nwasmtime = \"1\"\naxum = \"0.8\"\n",
    );
    write(root, "core/judge/Cargo.toml", &package("judge", ""));
    write(root, "core/judge/src/lib.rs", "//! The rules, with no I/O.\n");
    // A backend crate: one heavy dependency, another only for its tests.
    write(
        root,
        "backend/queue/Cargo.toml",
        &package(
            "queue",
            "[dependencies]\njudge.workspace = true\nredis.workspace = true\n\n\
             [dev-dependencies]\naxum = { workspace = true }\n",
        ),
    );
    write(
        root,
        "backend/queue/src/lib.rs",
        "//! The queue: scripts in `lua/*.lua`, loaded by `src/scripts.rs`; see\n\
         //! `backend/queue/lua/lib.lua` and [the crate](crate::scripts).\n\
         pub mod scripts;\nmod a;\nmod b;\n#[cfg(test)]\nmod c;\n",
    );
    write(
        root,
        "backend/queue/src/scripts.rs",
        "//! The scripts, `lua/lib.lua` first.\n\
         macro_rules! script {\n    ($name:literal) => {\n        concat!(\n            \
         include_str!(\"../lua/lib.lua\"),\n            \
         include_str!(concat!(\"../lua/\", $name, \".lua\"))\n        )\n    };\n}\n\
         pub(crate) static CLAIM: &str = script!(\"claim\");\n",
    );
    write(root, "backend/queue/lua/lib.lua", "-- helpers\n");
    write(root, "backend/queue/lua/claim.lua", "-- KEYS[1]: the queue\n");
    // a → b only; b's tests and the test module c may import back.
    write(root, "backend/queue/src/a.rs", "//! A.\nuse crate::{b::{self, B}, scripts as s};\n");
    write(
        root,
        "backend/queue/src/b.rs",
        "//! B.\npub struct B;\nfn brace() -> char { '{' }\n\
         #[cfg(test)]\nmod tests {\n    use crate::a::*;\n    fn f() { let _ = \"}\"; }\n}\n",
    );
    write(root, "backend/queue/src/c.rs", "//! Test helpers.\nuse super::a;\n");
    write(
        root,
        "host/plugin-host/Cargo.toml",
        &package(
            "plugin-host",
            "[dependencies]\njudge.workspace = true\nwasmtime.workspace = true\n",
        ),
    );
    write(root, "host/plugin-host/src/lib.rs", &"//! Exactly as long as allowed.\n".repeat(800));
    write(
        root,
        "bin/gavel/Cargo.toml",
        &package(
            "gavel",
            "[dependencies]\nqueue.workspace = true\nplugin-host.workspace = true\n\
             redis.workspace = true\nwasmtime.workspace = true\naxum.workspace = true\n",
        ),
    );
    write(root, "bin/gavel/src/main.rs", "//! The binary.\nfn main() {}\n");
    // The end-to-end tests: both sides, and long files.
    write(
        root,
        "tests/e2e/Cargo.toml",
        &package(
            "e2e",
            "[dependencies]\nqueue.workspace = true\nplugin-host.workspace = true\n\
             redis.workspace = true\n\n[dev-dependencies]\naxum.workspace = true\n",
        ),
    );
    write(root, "tests/e2e/src/lib.rs", &"//! Long is fine in tests.\n".repeat(900));
    write(root, "tests/e2e/tests/chaos.rs", "//! Chaos, see `tests/chaos.rs`.\n");
    write(
        root,
        "README.md",
        "# Gavel\n\nSee [the map](ARCHITECTURE.md) and [the guide](docs/guide.md#start), \
         [a site](https://example.com/x/y), [here](#gavel).\n\
         `core/judge`, `backend/queue/lua/*.lua`, `ARCHITECTURE.md`, `<problem>/tests/*.in`,\n\
         `target/debug/gavel`, `plugins/target/x`, `plugins/.patched/`, `GET /api/v1/jobs`, `KEY=a/b`, `jobs/next`.\n\
         A score in\n[0, 1]: below 1 is partial.\n\n[map]: ARCHITECTURE.md\n[guide]: docs/guide.md\n\
         ```sh\ncat `nothing/here.rs`\n```\n",
    );
    write(root, "ARCHITECTURE.md", "# Map\n\n`host/plugin-host/src/lib.rs`, ``tests/e2e``\n");
    write(root, "docs/guide.md", "# Start\n\n[Back](../README.md); `README.md`, `guide.md`.\n");
    write(root, "plugins/Cargo.toml", "[workspace]\nmembers = [\"exact\"]\n");
    write(root, "plugins/exact/Cargo.toml", &package("exact", ""));
    write(root, "plugins/exact/src/lib.rs", "//! A checker, built from `plugins/exact`.\n");
    // Build output is never read.
    write(root, "target/debug/notes.md", "`core/missing.rs`\n");
    dir
}

/// `(path:line, rule)` of each violation, and the messages.
fn found(root: &Path) -> (Vec<String>, String) {
    let violations = check(root).unwrap();
    let places = violations
        .iter()
        .map(|v| format!("{}:{} {}", v.path.display(), v.line.unwrap_or(0), v.rule))
        .collect();
    let messages = violations.iter().map(Violation::to_string).collect::<Vec<_>>().join("\n");
    (places, messages)
}

#[test]
fn a_clean_tree_passes() {
    let tree = clean();
    let (places, messages) = found(tree.path());
    assert!(places.is_empty(), "{messages}");
}

#[test]
fn a_second_heavy_dependency_outside_the_binary_is_caught() {
    let tree = clean();
    write(
        tree.path(),
        "host/plugin-host/Cargo.toml",
        &package(
            "runner",
            "[dependencies]\njudge.workspace = true\nwasmtime.workspace = true\n\n\
             [build-dependencies]\nbollard = \"0.20\"\n",
        ),
    );
    let (places, messages) = found(tree.path());
    assert_eq!(
        places,
        ["host/plugin-host/Cargo.toml:10 heavy-deps", "host/plugin-host/Cargo.toml:10 owners"],
        "{messages}"
    );
    assert!(messages.contains("`wasmtime` and `bollard`"), "{messages}");
}

#[test]
fn imports_across_the_layers_are_caught_in_every_section() {
    let tree = clean();
    let root = tree.path();
    write(
        root,
        "backend/queue/Cargo.toml",
        &package(
            "queue",
            "[dependencies]\njudge.workspace = true\nredis.workspace = true\n\n\
             [dev-dependencies]\naxum = { workspace = true }\n\
             [dev-dependencies.plugin-host]\npath = \"../../host/plugin-host\"\n",
        ),
    );
    write(
        root,
        "core/judge/Cargo.toml",
        &package(
            "judge",
            "[target.'cfg(unix)'.dependencies]\nq = { package = \"queue\", path = \"../../backend/queue\" }\n",
        ),
    );
    write(
        root,
        "host/plugin-host/Cargo.toml",
        &package("plugin-host", "[dependencies]\ne2e.workspace = true\n"),
    );
    let mut manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    manifest.push_str("e2e = { path = \"tests/e2e\" }\n");
    write(root, "Cargo.toml", &manifest);
    let (places, messages) = found(root);
    assert_eq!(
        places,
        [
            "backend/queue/Cargo.toml:11 layers",
            "core/judge/Cargo.toml:6 layers",
            "host/plugin-host/Cargo.toml:6 layers",
        ],
        "{messages}"
    );
    assert!(messages.contains("backend/ and host/ never depend on each other"), "{messages}");
    assert!(messages.contains("`judge` depends on `queue` (backend/queue): core/"), "{messages}");
    assert!(messages.contains("depends on tests/ or xtask"), "{messages}");
}

#[test]
fn an_engine_outside_its_owner_and_io_in_core_are_caught() {
    let tree = clean();
    let root = tree.path();
    // The queue may know Redis, not wasmtime (even as its only engine: the
    // one heavy dependency it has is then wasmtime).
    write(
        root,
        "backend/queue/Cargo.toml",
        &package("queue", "[dependencies]\njudge.workspace = true\nwasmtime.workspace = true\n"),
    );
    write(root, "core/judge/Cargo.toml", &package("judge", "[dependencies]\ntokio = \"1\"\n"));
    let (places, messages) = found(root);
    assert_eq!(
        places,
        ["backend/queue/Cargo.toml:7 owners", "core/judge/Cargo.toml:6 owners"],
        "{messages}"
    );
    assert!(messages.contains("which only `host/plugin-host` may know"), "{messages}");
    assert!(messages.contains("core/ is pure"), "{messages}");
}

#[test]
fn a_lua_script_nobody_loads_is_caught() {
    let tree = clean();
    write(tree.path(), "backend/queue/lua/orphan.lua", "-- never loaded\n");
    // Named in a comment is not loaded.
    write(tree.path(), "backend/queue/lua/commented.lua", "-- only in a comment\n");
    let mut scripts =
        std::fs::read_to_string(tree.path().join("backend/queue/src/scripts.rs")).unwrap();
    scripts.push_str("// static COMMENTED = script!(\"commented\");\n");
    write(tree.path(), "backend/queue/src/scripts.rs", &scripts);
    let (places, messages) = found(tree.path());
    assert_eq!(
        places,
        [
            "backend/queue/lua/commented.lua:0 lua-loaded",
            "backend/queue/lua/orphan.lua:0 lua-loaded"
        ],
        "{messages}"
    );
    assert!(messages.contains("script!(\"orphan\")"), "{messages}");
}

#[test]
fn paths_in_docs_that_name_nothing_are_caught() {
    let tree = clean();
    let root = tree.path();
    write(
        root,
        "docs/guide.md",
        "# Start\n\n[Gone](../GONE.md) and [ok](../README.md).\n\
         `host/plugin-host/src/gone.rs`, `lua/*.lua`, `tests/e2e/*.json`, `BENCHMARKS.md`\n\
         \n[ref]: ./missing.md\n",
    );
    write(
        root,
        "host/plugin-host/src/lib.rs",
        "//! Reads `src/lib.rs` and `src/agent.rs`; [spec](../docs/nothing.md).\n",
    );
    let (places, messages) = found(root);
    assert_eq!(
        places,
        [
            "docs/guide.md:3 doc-paths",
            "docs/guide.md:4 doc-paths",
            "docs/guide.md:4 doc-paths",
            "docs/guide.md:4 doc-paths",
            "docs/guide.md:6 doc-paths",
            "host/plugin-host/src/lib.rs:1 doc-paths",
            "host/plugin-host/src/lib.rs:1 doc-paths",
        ],
        "{messages}"
    );
    for named in [
        "`../GONE.md`",
        "`host/plugin-host/src/gone.rs`",
        "`tests/e2e/*.json`",
        "`BENCHMARKS.md`",
        "`./missing.md`",
        "`src/agent.rs` names nothing (read from host/plugin-host/)",
        "`../docs/nothing.md`",
    ] {
        assert!(messages.contains(named), "{named} in\n{messages}");
    }
}

#[test]
fn references_outside_the_repository_are_caught() {
    let tree = clean();
    let root = tree.path();
    write(
        root,
        "core/judge/src/lib.rs",
        "//! The rules (PLAN §6).\n/// As in PLAN.md.\nconst DATA: &str = \"PLAN.md, ../../../x\";\n",
    );
    write(
        root,
        "docs/guide.md",
        "# Start\n\nSee `../../elsewhere/notes.md`; [Back](../README.md).\nAnd `../gone/notes.md`.\n",
    );
    write(root, "core/judge/Cargo.toml", &package("judge", "# per PLAN §4\n"));
    let (places, messages) = found(root);
    assert_eq!(
        places,
        [
            "core/judge/Cargo.toml:5 outside-refs",
            "core/judge/src/lib.rs:1 outside-refs",
            "core/judge/src/lib.rs:2 outside-refs",
            "docs/guide.md:3 outside-refs",
            "docs/guide.md:4 outside-refs",
        ],
        "{messages}"
    );
    for what in [
        "`../gone/notes.md` names nothing in this repository",
        "cites `PLAN §…`",
        "names `PLAN.md`, a document this repository does not have",
        "`../../elsewhere/notes.md` leads outside the repository",
    ] {
        assert!(messages.contains(what), "{what} in\n{messages}");
    }
}

#[test]
fn a_production_file_over_800_lines_is_caught() {
    let tree = clean();
    write(tree.path(), "host/plugin-host/src/lib.rs", &"//! One too many.\n".repeat(801));
    write(tree.path(), "plugins/exact/src/big.rs", &"//! Too long.\n".repeat(900));
    let (places, messages) = found(tree.path());
    assert_eq!(
        places,
        ["host/plugin-host/src/lib.rs:801 file-length", "plugins/exact/src/big.rs:801 file-length"],
        "{messages}"
    );
    assert!(messages.contains("801 lines"), "{messages}");
}

#[test]
fn a_module_import_cycle_is_caught() {
    let tree = clean();
    let root = tree.path();
    // b → a through super::, and a → b through crate:: (already there).
    write(root, "backend/queue/src/b.rs", "//! B.\npub struct B;\n\nfn f() { super::a::g() }\n");
    // main → commands → output → main.
    write(
        root,
        "bin/gavel/src/main.rs",
        "//! The binary.\nmod commands;\nmod output;\nfn main() { crate::commands::run() }\n\
         pub struct Cli;\n",
    );
    write(
        root,
        "bin/gavel/src/commands/mod.rs",
        "//! Commands.\npub fn run() { crate::output::show() }\n",
    );
    write(root, "bin/gavel/src/output.rs", "//! Output.\nuse crate::Cli;\npub fn show() {}\n");
    let (places, messages) = found(root);
    assert_eq!(
        places,
        ["backend/queue/src/a.rs:2 module-cycles", "bin/gavel/src/commands/mod.rs:2 module-cycles"],
        "{messages}"
    );
    assert!(messages.contains("src/a.rs → src/b.rs → src/a.rs"), "{messages}");
    assert!(
        messages
            .contains("src/commands/mod.rs → src/output.rs → src/main.rs → src/commands/mod.rs"),
        "{messages}"
    );
}

#[test]
fn a_module_naming_a_child_that_imports_it_back_is_a_cycle_below_the_crate_root() {
    let tree = clean();
    let root = tree.path();
    // The crate root wires its children and lends them its items: no edge.
    write(
        root,
        "host/plugin-host/src/lib.rs",
        "//! Runner.\nmod agent;\npub struct Config;\npub fn start() { agent::start() }\n",
    );
    // Below it, agent names its child slot, which imports agent back.
    write(
        root,
        "host/plugin-host/src/agent/mod.rs",
        "//! Agent.\nuse crate::Config;\nmod slot;\npub struct State;\npub fn start() { slot::run() }\n",
    );
    write(
        root,
        "host/plugin-host/src/agent/slot.rs",
        "//! Slot.\nuse super::State;\npub fn run() {}\n",
    );
    let (places, messages) = found(root);
    assert_eq!(places, ["host/plugin-host/src/agent/mod.rs:5 module-cycles"], "{messages}");
    assert!(
        messages.contains("src/agent/mod.rs → src/agent/slot.rs → src/agent/mod.rs"),
        "{messages}"
    );
}
