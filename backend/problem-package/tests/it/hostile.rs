//! Hostile archives: each is refused with its exact code, and nothing is
//! written outside `dest`.

use problem_package::{ArchiveKind, UnpackLimits};

use crate::util::*;

#[test]
fn names_that_escape_dest_are_unsafe_paths() {
    for kind in KINDS {
        for name in [
            "../evil",
            "tests/../../evil",
            "/etc/evil",
            "C:\\evil",
            "C:/evil",
            "a\\..\\..\\evil",
            "a\\evil",
        ] {
            let err = refused(kind, &[file("problem.toml", ""), file(name, "x")], "unsafe_path");
            assert!(err.to_string().contains("has an unsafe name"), "{err}");
        }
    }
    // Tar names end at the first NUL; zip names can hold one.
    refused(ArchiveKind::Zip, &[file("tests/\0evil", "x")], "unsafe_path");
}

#[test]
fn an_absolute_name_pointing_beside_dest_is_an_unsafe_path() {
    for kind in KINDS {
        let mut sandbox = Sandbox::new(&[]);
        let name = format!("{}/evil", sandbox.outer.path().display());
        sandbox.set_upload(&archive(kind, &[file(name, "x")]));
        let err = sandbox.import(kind, "p", &UnpackLimits::default()).unwrap_err();
        assert_eq!(err.code(), "unsafe_path", "{err}");
        sandbox.assert_nothing_outside_dest();
    }
}

#[test]
fn a_folder_entry_that_escapes_is_an_unsafe_path() {
    for kind in KINDS {
        refused(kind, &[dir("../evil/")], "unsafe_path");
    }
}

#[test]
fn non_utf8_names_are_unsafe_paths() {
    for kind in KINDS {
        let err = refused(kind, &[file(b"caf\xe9.in", "x")], "unsafe_path");
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }
}

#[test]
fn links_are_refused() {
    for kind in KINDS {
        let err =
            refused(kind, &[Item::Symlink(b"problem.toml".to_vec(), "/etc/passwd")], "symlink");
        assert_eq!(
            err.to_string(),
            "archive entry \"problem.toml\" is a link: packages may only hold files and folders"
        );
    }
    refused(
        ArchiveKind::TarGz,
        &[Item::HardLink(b"tests/01.in".to_vec(), "/etc/shadow")],
        "symlink",
    );
}

#[test]
fn devices_and_fifos_are_special_files() {
    for (ifmt, kind) in [
        (0o020_000, tar::EntryType::Char),
        (0o060_000, tar::EntryType::Block),
        (0o010_000, tar::EntryType::Fifo),
    ] {
        let item = Item::Special(b"tests/01.in".to_vec(), ifmt, kind);
        refused(ArchiveKind::TarGz, std::slice::from_ref(&item), "special_file");
        refused(ArchiveKind::Zip, &[item], "special_file");
    }
}

/// 8 MiB of zeros deflates about 1000 to 1.
fn zeros() -> Vec<u8> {
    vec![0; 8 << 20]
}

#[test]
fn a_zip_entry_that_expands_too_much_is_a_bomb() {
    let err = refused(ArchiveKind::Zip, &[file("tests/01.in", zeros())], "zip_bomb");
    assert_eq!(err.http_status(), 400);
    assert!(err.to_string().contains("\"tests/01.in\""), "{err}");
}

#[test]
fn a_tar_gz_stream_that_expands_too_much_is_a_bomb() {
    refused(ArchiveKind::TarGz, &[file("tests/01.in", zeros())], "zip_bomb");
    // Many small entries are judged on the stream as a whole.
    let many: Vec<_> = (0..64).map(|i| file(format!("tests/{i}.in"), vec![0; 256 << 10])).collect();
    refused(ArchiveKind::TarGz, &many, "zip_bomb");
}

#[test]
fn a_tar_gz_stream_is_capped_outside_file_data_too() {
    // A folder entry carrying 2 MiB of (incompressible) data: never written,
    // but the tar reader has to read through it, and the stream cap stops it.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..2 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_path("big/").unwrap();
    header.set_entry_type(tar::EntryType::Directory);
    header.set_size(noise.len() as u64);
    header.set_cksum();
    tar.append(&header, &noise[..]).unwrap();
    let bytes = gzip(&tar.into_inner().unwrap());
    let limits = UnpackLimits { max_total_bytes: 1000, max_entries: 10, ..Default::default() };
    let err = refused_bytes(ArchiveKind::TarGz, &bytes, &limits, "too_large");
    assert_eq!(err.to_string(), "the archive unpacks to more than 1000 bytes in total");
}

#[test]
fn a_zip_that_understates_its_sizes_is_not_believed() {
    // Claim 1 KiB for an 8 MiB entry: the declared-size fast path passes,
    // and the data itself is what gets counted (and stops at the claim).
    let mut bytes = zip_of(&[file("tests/01.in", zeros())]);
    let header = find(&bytes, b"PK\x01\x02");
    bytes[header + 24..header + 28].copy_from_slice(&1024u32.to_le_bytes());
    let err = refused_bytes(ArchiveKind::Zip, &bytes, &UnpackLimits::default(), "not_an_archive");
    assert!(err.to_string().contains("tests/01.in"), "{err}");
}

#[test]
fn entries_over_the_size_caps_are_too_large() {
    let limits =
        UnpackLimits { max_entry_bytes: 1000, max_total_bytes: 1500, ..Default::default() };
    for kind in KINDS {
        let err = refused_with(kind, &[file("a", vec![7; 1001])], &limits, "too_large");
        assert_eq!(err.http_status(), 413);
        assert_eq!(err.to_string(), "archive entry \"a\" unpacks to more than 1000 bytes");
        let err = refused_with(
            kind,
            &[file("a", vec![7; 800]), file("b", vec![7; 800])],
            &limits,
            "too_large",
        );
        assert_eq!(err.to_string(), "the archive unpacks to more than 1500 bytes in total");
    }
}

#[test]
fn too_many_entries_are_refused() {
    let limits = UnpackLimits { max_entries: 3, ..Default::default() };
    let items: Vec<_> = (0..4).map(|i| file(format!("{i}"), "")).collect();
    for kind in KINDS {
        refused_with(kind, &items, &limits, "too_many_entries");
    }
}

#[test]
fn deep_paths_are_refused() {
    for kind in KINDS {
        refused(kind, &[file("1/2/3/4/5/6/7/8/9", "")], "too_deep");
    }
}

#[test]
fn a_path_used_twice_is_a_duplicate() {
    refused(
        ArchiveKind::TarGz,
        &[file("tests/01.in", "1"), file("tests/01.in", "2")],
        "duplicate_entry",
    );
    for kind in KINDS {
        refused(kind, &[file("problem.toml", "1"), file("./problem.toml", "2")], "duplicate_entry");
        refused(kind, &[file("tests", "1"), file("tests/01.in", "2")], "duplicate_entry");
        refused(kind, &[file("tests/01.in", "1"), dir("tests/01.in/")], "duplicate_entry");
    }
}

#[test]
fn a_zip_directory_naming_a_file_twice_is_a_duplicate() {
    // Rename "bbbbbbbb" to "aaaaaaaa" in the central directory and local header.
    let mut bytes = zip_of(&[file("aaaaaaaa", "1"), file("bbbbbbbb", "2")]);
    while let Some(at) = bytes.windows(8).position(|w| w == b"bbbbbbbb") {
        bytes[at..at + 8].copy_from_slice(b"aaaaaaaa");
    }
    let err = refused_bytes(ArchiveKind::Zip, &bytes, &UnpackLimits::default(), "duplicate_entry");
    assert_eq!(err.to_string(), "the zip archive lists the same file name twice");
}

#[test]
fn a_zip_entry_with_an_unknown_compression_method_is_unsupported() {
    let mut bytes = zip_of(&[file("problem.toml", "x")]);
    let header = find(&bytes, b"PK\x01\x02");
    bytes[header + 10..header + 12].copy_from_slice(&12u16.to_le_bytes()); // bzip2
    refused_bytes(ArchiveKind::Zip, &bytes, &UnpackLimits::default(), "unsupported_entry");
}

#[test]
fn bytes_that_are_not_an_archive_are_refused() {
    let limits = UnpackLimits::default();
    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    for kind in KINDS {
        refused_bytes(kind, &junk, &limits, "not_an_archive");
        refused_bytes(kind, b"", &limits, "not_an_archive");
    }
    // A gzip stream that is not a tar.
    refused_bytes(ArchiveKind::TarGz, &gzip(&junk), &limits, "not_an_archive");
    // A zip as tar.gz and the other way round.
    let zip = zip_of(&[file("problem.toml", "")]);
    refused_bytes(ArchiveKind::TarGz, &zip, &limits, "not_an_archive");
    let tar_gz = tar_gz_of(&[file("problem.toml", "")]);
    refused_bytes(ArchiveKind::Zip, &tar_gz, &limits, "not_an_archive");
    // Truncated archives.
    let big = zip_of(&[file("problem.toml", &junk), file("tests/01.in", &junk)]);
    refused_bytes(ArchiveKind::Zip, &big[..big.len() / 2], &limits, "not_an_archive");
    let big = tar_gz_of(&[file("problem.toml", &junk), file("tests/01.in", &junk)]);
    refused_bytes(ArchiveKind::TarGz, &big[..big.len() / 2], &limits, "not_an_archive");
}

/// The offset of the first `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).position(|w| w == needle).expect("needle present")
}
