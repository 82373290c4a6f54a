//! Helpers: archives built in memory from a list of [`Item`]s (hostile ones
//! included, by writing raw names and modes), and a [`Sandbox`] that imports
//! one and can tell whether anything was written outside `dest`.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use problem_package::{ArchiveKind, Imported, PackageError, UnpackLimits, import};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// One archive entry, by raw name.
#[derive(Debug, Clone)]
pub enum Item {
    File(Vec<u8>, Vec<u8>),
    Dir(Vec<u8>),
    Symlink(Vec<u8>, &'static str),
    HardLink(Vec<u8>, &'static str),
    /// A Unix special file: its `S_IFMT` bits (zip) and tar entry type.
    Special(Vec<u8>, u32, tar::EntryType),
}

pub fn file(name: impl AsRef<[u8]>, data: impl AsRef<[u8]>) -> Item {
    Item::File(name.as_ref().to_vec(), data.as_ref().to_vec())
}

pub fn dir(name: impl AsRef<[u8]>) -> Item {
    Item::Dir(name.as_ref().to_vec())
}

/// An archive of `items` in the format `kind`.
pub fn archive(kind: ArchiveKind, items: &[Item]) -> Vec<u8> {
    match kind {
        ArchiveKind::Zip => zip_of(items),
        ArchiveKind::TarGz => tar_gz_of(items),
    }
}

pub fn zip_of(items: &[Item]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for item in items {
        match item {
            Item::File(name, data) => {
                zip.start_file_with_options(options.name(name)).unwrap();
                zip.write_all(data).unwrap();
            }
            Item::Dir(name) => {
                let name = std::str::from_utf8(name).unwrap();
                zip.add_directory(name, options).unwrap();
            }
            Item::Symlink(name, target) | Item::HardLink(name, target) => {
                let name = std::str::from_utf8(name).unwrap();
                zip.add_symlink(name, *target, options).unwrap();
            }
            Item::Special(name, ifmt, _) => {
                let mode = ifmt | 0o644;
                let options = options.name(name).external_attributes(mode << 16);
                zip.start_file_with_options(options).unwrap();
            }
        }
    }
    zip.finish().unwrap().into_inner()
}

pub fn tar_gz_of(items: &[Item]) -> Vec<u8> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for item in items {
        let (name, kind, data, link): (&[u8], _, &[u8], _) = match item {
            Item::File(name, data) => (name, tar::EntryType::Regular, data, None),
            Item::Dir(name) => (name, tar::EntryType::Directory, &[], None),
            Item::Symlink(name, target) => (name, tar::EntryType::Symlink, &[], Some(*target)),
            Item::HardLink(name, target) => (name, tar::EntryType::Link, &[], Some(*target)),
            Item::Special(name, _, kind) => (name, *kind, &[], None),
        };
        tar.append(&tar_header(name, kind, data.len() as u64, link), data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// A GNU header with a raw, unchecked name (the `tar` crate's `set_path`
/// refuses hostile names, which is what we want to test).
fn tar_header(name: &[u8], kind: tar::EntryType, size: u64, link: Option<&str>) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
    if let Some(link) = link {
        header.set_link_name(link).unwrap();
    }
    let gnu = header.as_gnu_mut().unwrap();
    assert!(name.len() < gnu.name.len(), "name too long for the test helper");
    gnu.name = [0; 100];
    gnu.name[..name.len()].copy_from_slice(name);
    header.set_cksum();
    header
}

/// A gzip stream of `data` (not a tar).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// A temp folder holding an empty `dest`, and the uploaded archive kept
/// elsewhere, so that anything but `dest` in `outer` was written by mistake.
pub struct Sandbox {
    pub outer: tempfile::TempDir,
    pub dest: PathBuf,
    upload: tempfile::NamedTempFile,
}

impl Sandbox {
    pub fn new(bytes: &[u8]) -> Self {
        let outer = tempfile::tempdir().unwrap();
        let dest = outer.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        let mut upload = tempfile::NamedTempFile::new().unwrap();
        upload.write_all(bytes).unwrap();
        Sandbox { outer, dest, upload }
    }

    /// Replaces the uploaded archive.
    pub fn set_upload(&mut self, bytes: &[u8]) {
        self.upload = tempfile::NamedTempFile::new().unwrap();
        self.upload.write_all(bytes).unwrap();
    }

    pub fn import(
        &self,
        kind: ArchiveKind,
        id: &str,
        limits: &UnpackLimits,
    ) -> Result<Imported, PackageError> {
        import(self.upload.path(), kind, &self.dest, id, limits)
    }

    /// Nothing but `dest` was created beside it.
    pub fn assert_nothing_outside_dest(&self) {
        let names: Vec<_> = std::fs::read_dir(self.outer.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["dest"], "written outside dest");
    }
}

/// Imports `items` packed as `kind` with `limits`, expects the error `code`,
/// checks nothing escaped `dest`, and returns the error.
pub fn refused_with(
    kind: ArchiveKind,
    items: &[Item],
    limits: &UnpackLimits,
    code: &str,
) -> PackageError {
    refused_bytes(kind, &archive(kind, items), limits, code)
}

/// [`refused_with`] the default limits.
pub fn refused(kind: ArchiveKind, items: &[Item], code: &str) -> PackageError {
    refused_with(kind, items, &UnpackLimits::default(), code)
}

/// [`refused`] when imported as the problem `id`.
pub fn refused_as(kind: ArchiveKind, items: &[Item], id: &str, code: &str) -> PackageError {
    refused_import(kind, &archive(kind, items), id, &UnpackLimits::default(), code)
}

/// [`refused_with`] for raw archive bytes.
pub fn refused_bytes(
    kind: ArchiveKind,
    bytes: &[u8],
    limits: &UnpackLimits,
    code: &str,
) -> PackageError {
    refused_import(kind, bytes, "p", limits, code)
}

fn refused_import(
    kind: ArchiveKind,
    bytes: &[u8],
    id: &str,
    limits: &UnpackLimits,
    code: &str,
) -> PackageError {
    let sandbox = Sandbox::new(bytes);
    let err = match sandbox.import(kind, id, limits) {
        Ok(imported) => panic!("{kind}: expected {code}, imported {:?}", imported.files),
        Err(err) => err,
    };
    assert_eq!(err.code(), code, "{kind}: {err}");
    let message = err.to_string();
    assert!(!message.contains('\n'), "not one line: {message:?}");
    sandbox.assert_nothing_outside_dest();
    err
}

/// Both archive kinds, for tests that hold for each.
pub const KINDS: [ArchiveKind; 2] = [ArchiveKind::Zip, ArchiveKind::TarGz];

/// The files of `examples/problems/NAME`, skipping dotfiles and the built
/// (git-ignored) `checker.wasm`, by relative path.
pub fn example(name: &str) -> Vec<(String, Vec<u8>)> {
    package(&format!("examples/problems/{name}"))
}

/// The files of a package of the repository (`examples/problems/NAME`,
/// `tests/e2e/packages/NAME`), skipping the same files as [`example`] but
/// for Kattis' `.timelimit`.
pub fn package(path: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    let mut out = Vec::new();
    walk(&root, "", &mut out);
    out.sort();
    assert!(!out.is_empty(), "no package {path}");
    out
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if (name.starts_with('.') && name != ".timelimit") || name == "checker.wasm" {
            continue;
        }
        let path = format!("{prefix}{name}");
        if entry.file_type().unwrap().is_dir() {
            walk(&entry.path(), &format!("{path}/"), out);
        } else {
            out.push((path, std::fs::read(entry.path()).unwrap()));
        }
    }
}

/// `files` as archive items, under `top/` if given.
pub fn items(files: &[(String, Vec<u8>)], top: Option<&str>) -> Vec<Item> {
    let prefix = top.map(|t| format!("{t}/")).unwrap_or_default();
    files.iter().map(|(path, data)| file(format!("{prefix}{path}"), data)).collect()
}

/// The `(path, size, sha256)` an import should report for `files`.
pub fn expected(files: &[(String, Vec<u8>)]) -> Vec<(String, u64, String)> {
    files
        .iter()
        .map(|(path, data)| (path.clone(), data.len() as u64, hex::encode(Sha256::digest(data))))
        .collect()
}

/// What an import reported, as `(path, size, sha256)`.
pub fn reported(imported: &Imported) -> Vec<(String, u64, String)> {
    imported.files.iter().map(|f| (f.path.clone(), f.size, f.sha256.clone())).collect()
}
