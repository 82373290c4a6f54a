//! Shared helpers of Gavel's fuzz targets (`fuzz_targets/*.rs`).
//!
//! With `GAVEL_FUZZ_TRACE` set, the package targets print each input's
//! outcome (`import: ok, N files` or the error code): replaying a corpus
//! (`-runs=0`) shows how far its inputs get.

use std::io::Write;

use problem_package::{ArchiveKind, UnpackLimits, import};

/// Small limits, so a fuzzed archive cannot fill the disk or take seconds.
pub const LIMITS: UnpackLimits = UnpackLimits {
    max_total_bytes: 4 << 20,
    max_entry_bytes: 1 << 20,
    max_entries: 256,
    max_ratio: 200,
    max_depth: 8,
};

/// Feeds `data` to `problem_package::import` as an uploaded archive of
/// `kind`: it must return (never panic), and an error must explain itself.
pub fn import_archive(data: &[u8], kind: ArchiveKind) {
    import_archive_within(data, kind, &LIMITS);
}

/// [`import_archive`] under other `limits`: on success every file is inside
/// the destination, at most `max_depth` deep and within the size caps; an
/// error is one line with a code and an HTTP status.
pub fn import_archive_within(data: &[u8], kind: ArchiveKind, limits: &UnpackLimits) {
    let mut upload = tempfile::NamedTempFile::new().expect("creating the upload file");
    upload.write_all(data).expect("writing the upload file");
    upload.flush().expect("flushing the upload file");
    let dest = tempfile::tempdir().expect("creating the destination folder");
    let result = import(upload.path(), kind, dest.path(), "a-plus-b", limits);
    if std::env::var_os("GAVEL_FUZZ_TRACE").is_some() {
        // Which outcome an input reaches (replay a corpus with `-runs=0`).
        match &result {
            Ok(imported) => eprintln!("import: ok, {} files", imported.files.len()),
            Err(error) => eprintln!("import: {}", error.code()),
        }
    }
    // Whatever the outcome, only plain files and folders were created.
    assert_only_files_and_folders(dest.path());
    match result {
        Ok(imported) => {
            assert!(imported.root.starts_with(dest.path()), "root escaped: {imported:?}");
            let mut total = 0u64;
            for file in &imported.files {
                assert!(!file.path.is_empty() && !file.path.starts_with('/'), "{file:?}");
                assert!(!file.path.split('/').any(|p| p == ".." || p.is_empty()), "{file:?}");
                assert!(file.path.split('/').count() <= limits.max_depth, "{file:?}");
                assert!(file.size <= limits.max_entry_bytes, "{file:?}");
                let on_disk = imported.root.join(&file.path);
                let meta = std::fs::symlink_metadata(&on_disk).expect("an imported file exists");
                assert!(meta.is_file() && meta.len() == file.size, "{file:?}: {meta:?}");
                total += file.size;
            }
            assert!(total <= limits.max_total_bytes, "{total} bytes unpacked");
            assert!(imported.files.len() <= limits.max_entries, "{} files", imported.files.len());
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.is_empty() && !message.contains('\n'), "unclear error: {message:?}");
            assert!(!error.code().is_empty(), "no code for {message:?}");
            assert!((400..600).contains(&error.http_status()), "{message:?}");
        }
    }
}

/// Panics if anything under `dir` is not a plain file or folder (a link, a
/// fifo, a device).
fn assert_only_files_and_folders(dir: &std::path::Path) {
    for entry in std::fs::read_dir(dir).expect("listing the destination") {
        let path = entry.expect("listing the destination").path();
        let kind = std::fs::symlink_metadata(&path).expect("an entry's metadata").file_type();
        assert!(kind.is_file() || kind.is_dir(), "{} is a {kind:?}", path.display());
        if kind.is_dir() {
            assert_only_files_and_folders(&path);
        }
    }
}
