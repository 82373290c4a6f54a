//! Unpacks and validates an uploaded problem package: a zip or a gzip'd tar
//! holding a native (`problem.toml` + `tests/`), Normal-OJ (`meta.json` +
//! `TTCC.in|.out`), Polygon (`problem.xml`, a full package) or Kattis
//! (`problem.yaml` + `data/`) package, as read by
//! [`judge_core::problem::load`].
//!
//! # Threat model
//!
//! The archive comes from `PUT /api/v1/problems/{id}` and is hostile until
//! proven otherwise. The HTTP layer has already capped its *compressed* size
//! while streaming it to a temp file; this crate makes unpacking it safe:
//!
//! - **Path escapes (zip-slip).** An entry name is never joined onto the
//!   destination unchecked: it must be UTF-8, relative, made only of plain
//!   file names (no `..`, no `/` prefix, no `\`, no drive letters, no NUL or
//!   control characters), at most [`UnpackLimits::max_depth`] deep
//!   (module `entry_path`).
//! - **Links and special files.** Symbolic and hard links are refused, never
//!   created, so nothing written later can be redirected outside the folder;
//!   so are devices, fifos, sockets and sparse files. Only files and folders
//!   are created, files with `create_new` (nothing is overwritten), with
//!   default permissions (no modes are taken from the archive).
//! - **Bombs.** Decompressed bytes are counted as they are written, whatever
//!   sizes the archive declares: per entry, in total, and as a ratio to the
//!   compressed size (per entry for zip, over the whole stream for tar.gz).
//!   Zip's declared sizes are also checked up front, as a fast path.
//! - **Floods and confusion.** The number of entries is capped; a path used
//!   twice (after normalization, `./a` is `a`) or used both as a file and a
//!   folder is refused, so what is validated is what is stored.
//! - **Bad packages.** After unpacking, the package is validated by
//!   `judge_core`, its id must match the one uploaded to, a custom
//!   checker must at least start like a WebAssembly component, and the
//!   files read whole (manifests, `testdata.yaml`, `.timelimit`) must be
//!   small.
//!
//! Every refusal is a [`PackageError`] with a one-line message, a stable
//! [`code`](PackageError::code) and an [`http_status`](PackageError::http_status).
//!
//! # Using it
//!
//! ```no_run
//! # fn demo(upload: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
//! use problem_package::{ArchiveKind, UnpackLimits, import};
//!
//! let kind = ArchiveKind::from_content_type("application/zip").ok_or("unsupported type")?;
//! let dest = tempfile::tempdir()?; // fresh and empty; deleted whatever happens
//! let imported = import(upload, kind, dest.path(), "a-plus-b", &UnpackLimits::default())?;
//! for file in &imported.files {
//!     println!("{} {} {}", file.sha256, file.size, file.path);
//! }
//! # Ok(()) }
//! ```
//!
//! After an error, `dest` may hold some of the archive's files: the caller
//! unpacks into a temp folder of its own and deletes it in every case.

mod entry_path;
mod error;
mod from_tar;
mod from_zip;
mod sink;

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use judge_core::problem::{CheckerRef, DirPackage, PackageFormat, Problem, ProblemError};

pub use error::PackageError;

use entry_path::EntryPath;
use sink::Sink;

/// The format of an uploaded archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchiveKind {
    /// A zip file (stored or deflated entries).
    Zip,
    /// A tar stream compressed with gzip.
    TarGz,
}

impl ArchiveKind {
    /// The kind named by an HTTP `Content-Type`, ignoring parameters after
    /// `;` and case: `application/zip`, `application/x-zip-compressed`,
    /// `application/gzip`, `application/x-gzip`, `application/x-tar+gzip`.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/zip" | "application/x-zip-compressed" => Some(ArchiveKind::Zip),
            "application/gzip" | "application/x-gzip" | "application/x-tar+gzip" => {
                Some(ArchiveKind::TarGz)
            }
            _ => None,
        }
    }
}

impl fmt::Display for ArchiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArchiveKind::Zip => "zip",
            ArchiveKind::TarGz => "tar.gz",
        })
    }
}

/// How much an archive may unpack to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnpackLimits {
    /// All files together, in bytes (refused as `too_large`).
    pub max_total_bytes: u64,
    /// One file, in bytes (refused as `too_large`).
    pub max_entry_bytes: u64,
    /// Entries of any kind, folders included (refused as `too_many_entries`).
    pub max_entries: usize,
    /// Decompressed bytes per compressed byte, checked once an entry (zip)
    /// or the stream (tar.gz) is past 1 MiB (refused as `zip_bomb`).
    pub max_ratio: u64,
    /// Path parts of an entry, `a/b/c` being 3 (refused as `too_deep`).
    pub max_depth: usize,
}

impl Default for UnpackLimits {
    /// 512 MiB in total, 256 MiB per file, 20 000 entries, a ratio of 200,
    /// 8 levels.
    fn default() -> Self {
        UnpackLimits {
            max_total_bytes: 512 << 20,
            max_entry_bytes: 256 << 20,
            max_entries: 20_000,
            max_ratio: 200,
            max_depth: 8,
        }
    }
}

/// One unpacked file of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// Relative to the package root, `/`-separated (`tests/01.in`).
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

/// A package unpacked and validated.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The problem, as `judge_core` read it.
    pub problem: Problem,
    /// The package root on disk: `dest`, or its single top-level folder.
    pub root: PathBuf,
    /// Every file of the package, sorted by path.
    pub files: Vec<PackageFile>,
}

/// The largest manifest (`problem.toml`, `meta.json`, `problem.xml`,
/// `problem.yaml`) or other file read whole (`testdata.yaml`, `.timelimit`)
/// we read into memory.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// The first bytes of a WebAssembly component: `\0asm`, then version `0x0d`
/// and layer 1 (a core module has version 1, layer 0).
const COMPONENT_HEADER: [u8; 8] = *b"\0asm\x0d\x00\x01\x00";

/// Unpacks the archive at `archive` into `dest`, an existing empty folder,
/// and validates it as the problem `problem_id`.
///
/// If every file sits under one top-level folder (`a-plus-b/problem.toml`,
/// as Polygon's zips often are), that folder is the package root. The
/// package must be valid for [`judge_core::problem::load`], the id it names
/// (`problem.toml`'s `id`, `problem.xml`'s `short-name`) must be
/// `problem_id`, and a checker component it ships must be a WebAssembly
/// component.
///
/// On error, `dest` may hold partial files: the caller deletes it.
pub fn import(
    archive: &Path,
    kind: ArchiveKind,
    dest: &Path,
    problem_id: &str,
    limits: &UnpackLimits,
) -> Result<Imported, PackageError> {
    if !is_valid_problem_id(problem_id) {
        return Err(PackageError::InvalidProblemId(problem_id.to_string()));
    }
    check_empty(dest)?;
    let mut sink = Sink::new(dest, limits);
    match kind {
        ArchiveKind::Zip => from_zip::unpack(archive, &mut sink)?,
        ArchiveKind::TarGz => from_tar::unpack(archive, &mut sink)?,
    }
    let top = sink.single_top_folder();
    let (root, files) = package_files(dest, top.as_deref(), sink.into_files());
    let problem = validate(&root, &files, problem_id)?;
    Ok(Imported { problem, root, files })
}

/// Whether `id` can name a problem: 1 to 64 characters of `a-z`, `0-9`, `_`
/// and `-`, starting with a letter or digit.
pub fn is_valid_problem_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    (1..=64).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// `dest` must be an existing empty folder: unpacking never merges.
fn check_empty(dest: &Path) -> Result<(), PackageError> {
    let mut entries =
        std::fs::read_dir(dest).map_err(PackageError::io("opening the destination folder"))?;
    if entries.next().is_some() {
        return Err(PackageError::Io {
            what: "the destination folder".into(),
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it is not empty"),
        });
    }
    Ok(())
}

/// The package root and its files relative to it, sorted by path.
fn package_files(
    dest: &Path,
    top: Option<&str>,
    mut files: Vec<PackageFile>,
) -> (PathBuf, Vec<PackageFile>) {
    let root = match top {
        Some(top) => {
            let prefix = format!("{top}/");
            for file in &mut files {
                if let Some(rest) = file.path.strip_prefix(&prefix) {
                    file.path = rest.to_string();
                }
            }
            dest.join(top)
        }
        None => dest.to_path_buf(),
    };
    files.sort_by(|a, b| a.path.cmp(&b.path));
    (root, files)
}

/// Loads the problem at `root` and checks what `judge_core` does not.
fn validate(root: &Path, files: &[PackageFile], problem_id: &str) -> Result<Problem, PackageError> {
    for file in files.iter().filter(|f| read_whole(&f.path)) {
        check_manifest_size(file)?;
    }
    let package = DirPackage::new(root).map_err(PackageError::io("opening the package"))?;
    let problem = judge_core::problem::load(&package, problem_id)?;
    if problem.id != problem_id {
        let (manifest, field) = match problem.format {
            PackageFormat::Polygon => ("problem.xml", "short-name"),
            _ => ("problem.toml", "id"),
        };
        return Err(PackageError::IdMismatch {
            manifest,
            field,
            package: problem.id,
            requested: problem_id.to_string(),
        });
    }
    if let CheckerRef::Package(path) = &problem.checker.plugin {
        check_component(root, path)?;
    }
    Ok(problem)
}

/// Whether `judge_core` reads the file at `path` whole: a manifest, a
/// Kattis `testdata.yaml` or `.timelimit`.
fn read_whole(path: &str) -> bool {
    const MANIFESTS: [&str; 5] =
        ["problem.toml", "meta.json", "problem.xml", "problem.yaml", ".timelimit"];
    MANIFESTS.contains(&path) || (path.starts_with("data/") && path.ends_with("/testdata.yaml"))
}

/// A file read whole must be small.
fn check_manifest_size(file: &PackageFile) -> Result<(), PackageError> {
    if file.size > MAX_MANIFEST_BYTES {
        return Err(ProblemError {
            file: file.path.clone(),
            message: format!("{} bytes is over the limit of {MAX_MANIFEST_BYTES}", file.size),
        }
        .into());
    }
    Ok(())
}

/// The package's checker must start with the component header.
fn check_component(root: &Path, path: &str) -> Result<(), PackageError> {
    let bad = || PackageError::BadChecker { path: path.to_string() };
    let file =
        EntryPath::parse(path.as_bytes(), usize::MAX).ok().flatten().ok_or_else(bad)?.under(root);
    let mut header = [0u8; COMPONENT_HEADER.len()];
    let mut opened = File::open(file).map_err(|_| bad())?;
    match opened.read_exact(&mut header) {
        Ok(()) if header == COMPONENT_HEADER => Ok(()),
        _ => Err(bad()),
    }
}
