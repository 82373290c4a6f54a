//! Where a package's files come from: [`PackageFiles`], over a folder on
//! disk ([`DirPackage`]) or an archive held in memory ([`MemPackage`]).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::model::ProblemError;

/// A package's files, by relative `/`-separated path.
pub trait PackageFiles {
    /// Every file's path.
    fn list(&self) -> Vec<String>;
    /// One file's contents.
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>>;
}

/// A package held in memory (an unpacked upload, or a test's fixture).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemPackage(pub BTreeMap<String, Vec<u8>>);

impl PackageFiles for MemPackage {
    fn list(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
    }
}

/// A package in a folder on disk. Paths are checked to stay inside it, and
/// symbolic links are neither listed nor followed.
#[derive(Debug, Clone)]
pub struct DirPackage {
    root: PathBuf,
}

impl DirPackage {
    /// A package rooted at `root`, which must be a folder.
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        if !std::fs::metadata(&root)?.is_dir() {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a folder"));
        }
        Ok(DirPackage { root })
    }

    fn walk(&self, dir: &Path, prefix: &str, out: &mut Vec<String>, depth: usize) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("{prefix}{name}");
            if kind.is_file() {
                out.push(path);
            } else if kind.is_dir() && depth < 8 {
                self.walk(&entry.path(), &format!("{path}/"), out, depth + 1);
            }
        }
    }
}

impl PackageFiles for DirPackage {
    fn list(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&self.root, "", &mut out, 0);
        out.sort();
        out
    }

    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        let relative = Path::new(path);
        if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "path leaves the package",
            ));
        }
        let full = self.root.join(relative);
        if std::fs::symlink_metadata(&full)?.file_type().is_symlink() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "symbolic links are not followed",
            ));
        }
        std::fs::read(full)
    }
}

/// A package file as UTF-8 text.
pub(crate) fn read_text(files: &dyn PackageFiles, path: &str) -> Result<String, ProblemError> {
    let bytes =
        files.read(path).map_err(|e| ProblemError::new(path, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|_| ProblemError::new(path, "not valid UTF-8"))
}
