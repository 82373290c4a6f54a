//! Integration tests of `problem_package::import`: hostile archives are
//! refused with the right code and write nothing outside `dest`
//! (`hostile`), and real packages import (`valid`).
//!
//! Run with `cargo test -p problem-package`.

mod hostile;
mod util;
mod valid;

use problem_package::{ArchiveKind, UnpackLimits, is_valid_problem_id};

#[test]
fn content_types_name_archive_kinds() {
    let cases = [
        ("application/zip", Some(ArchiveKind::Zip)),
        ("application/x-zip-compressed", Some(ArchiveKind::Zip)),
        ("Application/ZIP; charset=binary", Some(ArchiveKind::Zip)),
        ("application/gzip", Some(ArchiveKind::TarGz)),
        ("application/x-gzip", Some(ArchiveKind::TarGz)),
        ("application/x-tar+gzip ; q=1", Some(ArchiveKind::TarGz)),
        ("application/x-tar", None),
        ("application/octet-stream", None),
        ("", None),
    ];
    for (content_type, kind) in cases {
        assert_eq!(ArchiveKind::from_content_type(content_type), kind, "{content_type:?}");
    }
}

#[test]
fn problem_ids() {
    for id in ["a", "a-plus-b", "1001", "x_1", &"a".repeat(64)] {
        assert!(is_valid_problem_id(id), "{id:?}");
    }
    for id in ["", "-a", "_a", "A", "a b", "a.b", "a/b", "é", &"a".repeat(65)] {
        assert!(!is_valid_problem_id(id), "{id:?}");
    }
}

#[test]
fn default_limits() {
    let limits = UnpackLimits::default();
    assert_eq!(limits.max_total_bytes, 512 << 20);
    assert_eq!(limits.max_entry_bytes, 256 << 20);
    assert_eq!((limits.max_entries, limits.max_ratio, limits.max_depth), (20_000, 200, 8));
}
