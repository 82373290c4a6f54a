//! Shared helpers of Gavel's fuzz targets (`fuzz_targets/*.rs`).

use std::io::Write;

use problem_package::{ArchiveKind, UnpackLimits, import};

/// Small limits, so a fuzzed archive cannot fill the disk or take seconds.
const LIMITS: UnpackLimits = UnpackLimits {
    max_total_bytes: 4 << 20,
    max_entry_bytes: 1 << 20,
    max_entries: 256,
    max_ratio: 200,
    max_depth: 8,
};

/// Feeds `data` to `problem_package::import` as an uploaded archive of
/// `kind`: it must return (never panic), and an error must explain itself.
pub fn import_archive(data: &[u8], kind: ArchiveKind) {
    let mut upload = tempfile::NamedTempFile::new().expect("creating the upload file");
    upload.write_all(data).expect("writing the upload file");
    upload.flush().expect("flushing the upload file");
    let dest = tempfile::tempdir().expect("creating the destination folder");
    match import(upload.path(), kind, dest.path(), "a-plus-b", &LIMITS) {
        Ok(imported) => {
            assert!(imported.root.starts_with(dest.path()), "root escaped: {imported:?}");
            for file in &imported.files {
                assert!(!file.path.is_empty() && !file.path.starts_with('/'), "{file:?}");
                assert!(!file.path.split('/').any(|p| p == ".." || p.is_empty()), "{file:?}");
                assert!(file.size <= LIMITS.max_entry_bytes, "{file:?}");
            }
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.is_empty() && !message.contains('\n'), "unclear error: {message:?}");
            assert!(!error.code().is_empty(), "no code for {message:?}");
            assert!((400..600).contains(&error.http_status()), "{message:?}");
        }
    }
}
