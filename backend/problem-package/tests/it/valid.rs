//! Real packages (from `examples/problems/` and `tests/e2e/packages/`)
//! import in every format, with and without a top-level folder; bad
//! problems are refused after unpacking.

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
fn polygon_packages_import_with_or_without_a_top_folder() {
    for path in ["tests/e2e/packages/polygon-sum", "examples/problems/polygon-sum"] {
        let files = package(path);
        for kind in KINDS {
            for top in [None, Some("polygon-sum-7")] {
                let (_, imported) = import_ok(kind, &items(&files, top), "polygon-sum");
                let p = &imported.problem;
                assert_eq!(p.format, PackageFormat::Polygon);
                assert_eq!(p.checker.plugin, CheckerRef::Testlib("files/check.cpp".into()));
                assert_eq!(p.tasks.last().unwrap().depends_on, [0, 1, 2], "{path}");
                assert_eq!(p.max_score(), 100.0);
                assert_eq!(reported(&imported), expected(&files), "{kind} top={top:?}");
            }
        }
    }
}

#[test]
fn kattis_packages_import_with_or_without_a_top_folder() {
    for (path, id) in
        [("tests/e2e/packages/kattis-sum", "kattis-sum"), ("examples/problems/kattis-pass", "k")]
    {
        let files = package(path);
        for kind in KINDS {
            for top in [None, Some("pkg")] {
                let (_, imported) = import_ok(kind, &items(&files, top), id);
                assert_eq!(imported.problem.format, PackageFormat::Kattis);
                assert_eq!(imported.problem.id, id, "the upload names a Kattis problem");
                assert_eq!(reported(&imported), expected(&files), "{kind} top={top:?}");
            }
        }
    }
}

#[test]
fn polygon_and_kattis_packages_gavel_cannot_judge_are_refused() {
    let polygon = package("tests/e2e/packages/polygon-sum");
    let without_05: Vec<_> = polygon.iter().filter(|(p, _)| p != "tests/05").cloned().collect();
    let kattis = package("tests/e2e/packages/kattis-sum");
    let interactive: Vec<_> = kattis
        .iter()
        .map(|(p, data)| match p.as_str() {
            "problem.yaml" => (p.clone(), b"validation: custom interactive\n".to_vec()),
            _ => (p.clone(), data.clone()),
        })
        .collect();
    let cases = [
        (
            &without_05,
            "polygon-sum",
            "invalid_problem",
            "problem.xml: tests/05 is generated and not in the package: export a full package \
             with generated tests",
        ),
        (
            &polygon,
            "other",
            "id_mismatch",
            "problem.xml: short-name \"polygon-sum\" does not match the problem \"other\" it is \
             uploaded as",
        ),
        (
            &interactive,
            "kattis-sum",
            "invalid_problem",
            "problem.yaml: validation: interactive problems are not supported yet",
        ),
    ];
    for (files, id, code, message) in cases {
        for kind in KINDS {
            let err = refused_as(kind, &items(files, Some("top")), id, code);
            assert_eq!(err.to_string(), message);
            assert_eq!(err.http_status(), 422);
        }
    }
}

#[test]
fn files_read_whole_must_be_small() {
    let mut files = package("tests/e2e/packages/kattis-sum");
    // A comment of letters that do not compress (a zip bomb is refused first).
    let mut seed = 7u64;
    let mut big = vec![b'#'];
    big.extend((0..1 << 20).map(|_| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        b'a' + ((seed >> 59) % 26) as u8
    }));
    files.retain(|(p, _)| p != "data/secret/group1/testdata.yaml");
    files.push(("data/secret/group1/testdata.yaml".into(), big));
    for kind in KINDS {
        let err = refused_as(kind, &items(&files, None), "kattis-sum", "invalid_problem");
        assert_eq!(
            err.to_string(),
            "data/secret/group1/testdata.yaml: 1048577 bytes is over the limit of 1048576"
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
