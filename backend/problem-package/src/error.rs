//! [`PackageError`]: why an upload was refused, as one sentence for people
//! plus a stable machine code and an HTTP status for the API.

use judge_core::problem::ProblemError;

use crate::ArchiveKind;

/// Why an uploaded package was refused.
///
/// Its `Display` is one line naming the archive entry or package file at
/// fault; entry names are quoted with `{:?}` so a hostile name cannot break
/// the line. [`code`](Self::code) is a stable machine code and
/// [`http_status`](Self::http_status) the status the API answers with.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The problem id given by the caller is not a valid id.
    #[error(
        "{0:?} is not a valid problem id: use 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit"
    )]
    InvalidProblemId(String),

    /// The bytes are not an archive of the declared kind, or are corrupt.
    #[error("not a valid {kind} archive: {detail}")]
    NotAnArchive { kind: ArchiveKind, detail: String },

    /// An entry uses a feature we do not unpack (encryption, an exotic
    /// compression method).
    #[error("archive entry {entry:?} is {what}, which is not supported")]
    Unsupported { entry: String, what: String },

    /// An entry's name would leave the package folder or cannot be a file name.
    #[error("archive entry {entry:?} has an unsafe name: {reason}")]
    UnsafePath { entry: String, reason: &'static str },

    /// An entry is nested deeper than [`UnpackLimits::max_depth`](crate::UnpackLimits::max_depth).
    #[error("archive entry {entry:?} is {depth} levels deep, over the limit of {max}")]
    TooDeep { entry: String, depth: usize, max: usize },

    /// An entry is a symbolic or hard link.
    #[error("archive entry {entry:?} is a link: packages may only hold files and folders")]
    Symlink { entry: String },

    /// An entry is a device, fifo, socket or another special kind of file.
    #[error("archive entry {entry:?} is a {kind}: packages may only hold files and folders")]
    SpecialFile { entry: String, kind: &'static str },

    /// The archive has more than [`UnpackLimits::max_entries`](crate::UnpackLimits::max_entries) entries.
    #[error("the archive has more than {max} entries")]
    TooManyEntries { max: usize },

    /// Two entries have the same normalized path, or a file is also used as
    /// a folder.
    #[error("archive entry {entry:?} appears twice, or clashes with a folder of the same name")]
    DuplicateEntry { entry: String },

    /// A zip's central directory lists the same name twice.
    #[error("the zip archive lists the same file name twice")]
    DuplicateNames,

    /// One entry unpacks to more than [`UnpackLimits::max_entry_bytes`](crate::UnpackLimits::max_entry_bytes).
    #[error("archive entry {entry:?} unpacks to more than {limit} bytes")]
    EntryTooLarge { entry: String, limit: u64 },

    /// The archive unpacks to more than [`UnpackLimits::max_total_bytes`](crate::UnpackLimits::max_total_bytes).
    #[error("the archive unpacks to more than {limit} bytes in total")]
    TotalTooLarge { limit: u64 },

    /// An entry expands more than [`UnpackLimits::max_ratio`](crate::UnpackLimits::max_ratio)
    /// times its compressed size.
    #[error(
        "archive entry {entry:?} expands more than {max_ratio} times its compressed size (a likely zip bomb)"
    )]
    ZipBomb { entry: String, max_ratio: u64 },

    /// A gzip stream expands more than [`UnpackLimits::max_ratio`](crate::UnpackLimits::max_ratio)
    /// times its compressed size.
    #[error(
        "the gzip stream expands more than {max_ratio} times its compressed size (a likely zip bomb)"
    )]
    StreamBomb { max_ratio: u64 },

    /// The unpacked files are not a valid problem (see `judge_core::problem::load`).
    #[error(transparent)]
    InvalidProblem(#[from] ProblemError),

    /// The manifest names a different problem than the one uploaded to
    /// (`problem.toml`'s `id`, `problem.xml`'s `short-name`).
    #[error(
        "{manifest}: {field} {package:?} does not match the problem {requested:?} it is uploaded as"
    )]
    IdMismatch { manifest: &'static str, field: &'static str, package: String, requested: String },

    /// The package's custom checker is not a WebAssembly component.
    #[error("{path}: not a WebAssembly component")]
    BadChecker { path: String },

    /// Our own disk I/O failed (disk full, permissions): not the uploader's
    /// fault. `what` names the package file, never a server path.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl PackageError {
    /// A stable machine code for the API (`{"error": code, ...}`).
    pub fn code(&self) -> &'static str {
        match self {
            PackageError::InvalidProblemId(_) => "invalid_problem_id",
            PackageError::NotAnArchive { .. } => "not_an_archive",
            PackageError::Unsupported { .. } => "unsupported_entry",
            PackageError::UnsafePath { .. } => "unsafe_path",
            PackageError::TooDeep { .. } => "too_deep",
            PackageError::Symlink { .. } => "symlink",
            PackageError::SpecialFile { .. } => "special_file",
            PackageError::TooManyEntries { .. } => "too_many_entries",
            PackageError::DuplicateEntry { .. } | PackageError::DuplicateNames => "duplicate_entry",
            PackageError::EntryTooLarge { .. } | PackageError::TotalTooLarge { .. } => "too_large",
            PackageError::ZipBomb { .. } | PackageError::StreamBomb { .. } => "zip_bomb",
            PackageError::InvalidProblem(_) => "invalid_problem",
            PackageError::IdMismatch { .. } => "id_mismatch",
            PackageError::BadChecker { .. } => "bad_checker",
            PackageError::Io { .. } => "io",
        }
    }

    /// The HTTP status for this error: 413 for the size caps, 422 for a
    /// well-formed archive that is not a valid problem, 500 for our own I/O
    /// failures, 400 for the rest.
    pub fn http_status(&self) -> u16 {
        match self {
            PackageError::EntryTooLarge { .. } | PackageError::TotalTooLarge { .. } => 413,
            PackageError::InvalidProblem(_)
            | PackageError::IdMismatch { .. }
            | PackageError::BadChecker { .. } => 422,
            PackageError::Io { .. } => 500,
            _ => 400,
        }
    }

    /// A corrupt `kind` archive; `detail` (a library's message, which may
    /// quote archive bytes) is kept to one short printable line.
    pub(crate) fn not_an_archive(kind: ArchiveKind, detail: impl std::fmt::Display) -> Self {
        PackageError::NotAnArchive { kind, detail: one_line(&detail.to_string()) }
    }

    /// An I/O failure of ours while doing `what`.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> PackageError {
        let what = what.into();
        move |source| PackageError::Io { what, source }
    }
}

/// At most 200 characters of `text`, control characters replaced, so a
/// message quoting archive bytes stays one readable line.
fn one_line(text: &str) -> String {
    const MAX_CHARS: usize = 200;
    let mut line: String =
        text.chars().take(MAX_CHARS).map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_archive_details_stay_on_one_short_line() {
        let err =
            PackageError::not_an_archive(ArchiveKind::TarGz, format!("bad\n{}", "x".repeat(300)));
        let message = err.to_string();
        assert!(message.starts_with("not a valid tar.gz archive: bad\u{fffd}xxx"), "{message}");
        assert!(!message.contains('\n'));
        assert!(message.chars().count() < 240);
    }

    #[test]
    fn codes_and_statuses() {
        let entry = || "e".to_string();
        let cases = [
            (PackageError::UnsafePath { entry: entry(), reason: "r" }, "unsafe_path", 400),
            (PackageError::Symlink { entry: entry() }, "symlink", 400),
            (PackageError::SpecialFile { entry: entry(), kind: "fifo" }, "special_file", 400),
            (PackageError::EntryTooLarge { entry: entry(), limit: 1 }, "too_large", 413),
            (PackageError::TotalTooLarge { limit: 1 }, "too_large", 413),
            (PackageError::ZipBomb { entry: entry(), max_ratio: 1 }, "zip_bomb", 400),
            (PackageError::StreamBomb { max_ratio: 1 }, "zip_bomb", 400),
            (PackageError::TooManyEntries { max: 1 }, "too_many_entries", 400),
            (PackageError::DuplicateEntry { entry: entry() }, "duplicate_entry", 400),
            (PackageError::DuplicateNames, "duplicate_entry", 400),
            (PackageError::TooDeep { entry: entry(), depth: 9, max: 8 }, "too_deep", 400),
            (PackageError::not_an_archive(ArchiveKind::Zip, "x"), "not_an_archive", 400),
            (
                PackageError::Unsupported { entry: entry(), what: "w".into() },
                "unsupported_entry",
                400,
            ),
            (PackageError::InvalidProblemId("X".into()), "invalid_problem_id", 400),
            (ProblemError { file: "f".into(), message: "m".into() }.into(), "invalid_problem", 422),
            (
                PackageError::IdMismatch {
                    manifest: "problem.toml",
                    field: "id",
                    package: "a".into(),
                    requested: "b".into(),
                },
                "id_mismatch",
                422,
            ),
            (PackageError::BadChecker { path: "c.wasm".into() }, "bad_checker", 422),
            (
                PackageError::Io { what: "w".into(), source: std::io::Error::other("disk full") },
                "io",
                500,
            ),
        ];
        for (err, code, status) in cases {
            assert_eq!((err.code(), err.http_status()), (code, status), "{err}");
        }
    }
}
