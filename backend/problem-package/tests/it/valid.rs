//! Real packages (from `examples/problems/`) import in both formats, with
//! and without a top-level folder; bad problems are refused after unpacking.

use judge_core::problem::{CheckerRef, PackageFormat};
use problem_package::{ArchiveKind, UnpackLimits};

use crate::util::*;

/// The 8 bytes that make a (minimal, fake) WebAssembly component.
const FAKE_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

fn import_ok(kind: ArchiveKind, items: &[Item], id: &str) -> (Sandbox, problem_package::Imported) {
    let sandbox = Sandbox::new(&archive(kind, items));
    let imported = sandbox
        .import(kind, id, &UnpackLimits::default())
        .unwrap_or_else(|e| panic!("{kind}: {e} ({})", e.code()));
    sandbox.assert_nothing_outside_dest();
    (sandbox, imported)
}

#[test]
fn native_packages_import_with_or_without_a_top_folder() {
    for name in ["a-plus-b", "subtasks"] {
        let files = example(name);
        for kind in KINDS {
            for top in [None, Some(name)] {
                let (sandbox, imported) = import_ok(kind, &items(&files, top), name);
                assert_eq!(imported.problem.id, name);
                assert_eq!(imported.problem.format, PackageFormat::Native);
                assert_eq!(reported(&imported), expected(&files), "{kind} top={top:?}");
                let root = match top {
                    Some(top) => sandbox.dest.join(top),
                    None => sandbox.dest.clone(),
                };
                assert_eq!(imported.root, root);
                assert!(root.join("problem.toml").is_file());
            }
        }
    }
}

#[test]
fn folder_entries_and_dot_slash_names_are_fine() {
    // As `tar czf p.tgz .` writes it: "./", "./tests/", "./tests/01.in", ...
    let files = example("a-plus-b");
    let mut entries = vec![dir("./"), dir("./tests/")];
    entries.extend(items(&files, Some(".")));
    for kind in KINDS {
        let (_, imported) = import_ok(kind, &entries, "a-plus-b");
        assert_eq!(reported(&imported), expected(&files));
    }
}

#[test]
fn a_normal_oj_package_imports() {
    let files = example("normal-oj-echo");
    for kind in KINDS {
        let (_, imported) = import_ok(kind, &items(&files, Some("1001")), "1001");
        assert_eq!(imported.problem.format, PackageFormat::NormalOj);
        assert_eq!(imported.problem.id, "1001");
        assert_eq!(imported.problem.tasks[1].cases, ["0100"]);
        assert_eq!(reported(&imported), expected(&files));
    }
}

#[test]
fn a_package_with_a_custom_checker_imports() {
    let mut files = example("any-divisor");
    files.push(("checker.wasm".into(), FAKE_COMPONENT.to_vec()));
    files.sort();
    for kind in KINDS {
        let (_, imported) = import_ok(kind, &items(&files, Some("pkg")), "any-divisor");
        assert_eq!(imported.problem.checker.plugin, CheckerRef::Package("checker.wasm".into()));
        assert_eq!(reported(&imported), expected(&files));
    }
}

#[test]
fn a_checker_that_is_not_a_component_is_refused() {
    let core_module = b"\0asm\x01\x00\x00\x00".to_vec();
    for bytes in [core_module, b"\0asm".to_vec(), b"#!/bin/sh\nrm -rf /\n".to_vec()] {
        let mut files = example("any-divisor");
        files.push(("checker.wasm".into(), bytes));
        for kind in KINDS {
            let err = refused_as(kind, &items(&files, None), "any-divisor", "bad_checker");
            assert_eq!(err.to_string(), "checker.wasm: not a WebAssembly component");
            assert_eq!(err.http_status(), 422);
        }
    }
}

#[test]
fn a_missing_checker_is_an_invalid_problem() {
    let files = example("any-divisor");
    for kind in KINDS {
        let err = refused_as(kind, &items(&files, None), "any-divisor", "invalid_problem");
        assert!(err.to_string().starts_with("checker.wasm: missing"), "{err}");
    }
}

#[test]
fn a_missing_case_file_is_an_invalid_problem_naming_it() {
    let toml = "[[tasks]]\nscore = 100\ncases = [\"01\", \"03\"]\n";
    let entries = [file("problem.toml", toml), file("tests/01.in", "1"), file("tests/01.out", "1")];
    for kind in KINDS {
        let err = refused(kind, &entries, "invalid_problem");
        assert_eq!(err.to_string(), "problem.toml: tasks[0].cases[1] \"03\": missing tests/03.in");
        assert_eq!(err.http_status(), 422);
    }
}

#[test]
fn an_empty_archive_is_an_invalid_problem() {
    for kind in KINDS {
        let err = refused(kind, &[], "invalid_problem");
        assert!(err.to_string().starts_with("problem.toml: missing"), "{err}");
    }
}

#[test]
fn a_package_for_another_problem_is_an_id_mismatch() {
    let files = example("a-plus-b");
    for kind in KINDS {
        let sandbox = Sandbox::new(&archive(kind, &items(&files, None)));
        let err = sandbox.import(kind, "other", &UnpackLimits::default()).unwrap_err();
        assert_eq!(err.code(), "id_mismatch");
        assert_eq!(err.http_status(), 422);
        assert_eq!(
            err.to_string(),
            "problem.toml: id \"a-plus-b\" does not match the problem \"other\" it is uploaded as"
        );
    }
}

#[test]
fn macos_clutter_is_skipped() {
    let files = example("a-plus-b");
    let mut entries = items(&files, Some("a-plus-b"));
    entries.push(file("__MACOSX/a-plus-b/._problem.toml", "resource fork"));
    entries.push(file("a-plus-b/.DS_Store", "finder"));
    for kind in KINDS {
        let (sandbox, imported) = import_ok(kind, &entries, "a-plus-b");
        assert_eq!(reported(&imported), expected(&files));
        assert!(!sandbox.dest.join("__MACOSX").exists());
    }
}

#[test]
fn a_git_archive_with_a_pax_global_header_imports() {
    let files = example("a-plus-b");
    let mut tar = tar::Builder::new(Vec::new());
    let mut global = tar::Header::new_ustar();
    let record = b"52 comment=0123456789abcdef0123456789abcdef01234567\n";
    global.set_path("pax_global_header").unwrap();
    global.set_entry_type(tar::EntryType::XGlobalHeader);
    global.set_size(record.len() as u64);
    global.set_cksum();
    tar.append(&global, &record[..]).unwrap();
    for (path, data) in &files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, format!("a-plus-b/{path}"), &data[..]).unwrap();
    }
    let bytes = gzip(&tar.into_inner().unwrap());
    let sandbox = Sandbox::new(&bytes);
    let imported =
        sandbox.import(ArchiveKind::TarGz, "a-plus-b", &UnpackLimits::default()).unwrap();
    assert_eq!(reported(&imported), expected(&files));
}

#[test]
fn the_caller_must_give_a_valid_id_and_an_empty_folder() {
    let bytes = archive(ArchiveKind::Zip, &items(&example("a-plus-b"), None));
    let sandbox = Sandbox::new(&bytes);
    for id in ["", "A-Plus-B", "-a", "a/b", "..", &"a".repeat(65)] {
        let err = sandbox.import(ArchiveKind::Zip, id, &UnpackLimits::default()).unwrap_err();
        assert_eq!(err.code(), "invalid_problem_id", "{id:?}");
    }
    std::fs::write(sandbox.dest.join("stale"), "x").unwrap();
    let err = sandbox.import(ArchiveKind::Zip, "a-plus-b", &UnpackLimits::default()).unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("io", 500));
}
