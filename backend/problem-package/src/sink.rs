//! [`Sink`]: writes archive entries under the destination folder, whatever
//! the archive format, and enforces the limits that count what is written.
//!
//! - Every entry counts against `max_entries`.
//! - A path may be used once: a second entry with the same normalized path,
//!   or a file where a folder is needed (`a` then `a/b`), is a duplicate.
//! - File data is copied through `take(max_entry_bytes + 1)` and counted as it
//!   comes out of the decompressor; declared sizes are never trusted. An
//!   entry over `max_entry_bytes`, a running total over `max_total_bytes`, or
//!   (given the entry's compressed size) a ratio over `max_ratio` past 1 MiB
//!   stops the copy before the offending chunk is written.
//! - Files are created with `create_new`, so nothing existing is overwritten
//!   or followed, and hashed with SHA-256 while they are written.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::entry_path::EntryPath;
use crate::{PackageError, PackageFile, UnpackLimits};

/// Below this many bytes, compression ratios are not checked: small files of
/// zeros or repeated lines legitimately compress very well.
pub(crate) const RATIO_FLOOR: u64 = 1 << 20;

/// The copy buffer.
const CHUNK: usize = 64 * 1024;

/// What a used path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
}

/// How a read from the archive failed, for [`Sink::add_file`]'s caller to
/// explain (corrupt data, or a limit tripped inside a stream guard).
pub(crate) type ReadErrorMap<'a> = &'a dyn Fn(&str, io::Error) -> PackageError;

/// Writes entries under `dest` within `limits`.
pub(crate) struct Sink<'a> {
    dest: &'a Path,
    limits: &'a UnpackLimits,
    entries: usize,
    total: u64,
    used: BTreeMap<String, Kind>,
    files: Vec<PackageFile>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(dest: &'a Path, limits: &'a UnpackLimits) -> Self {
        Sink { dest, limits, entries: 0, total: 0, used: BTreeMap::new(), files: Vec::new() }
    }

    /// The limits in force.
    pub(crate) fn limits(&self) -> &UnpackLimits {
        self.limits
    }

    /// Counts one archive entry of any kind, skipped ones included.
    pub(crate) fn count_entry(&mut self) -> Result<(), PackageError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(PackageError::TooManyEntries { max: self.limits.max_entries });
        }
        Ok(())
    }

    /// Creates a folder.
    pub(crate) fn add_dir(&mut self, path: &EntryPath) -> Result<(), PackageError> {
        self.claim_parents(path)?;
        let name = path.as_string();
        match self.used.get(&name) {
            Some(Kind::File) => return Err(PackageError::DuplicateEntry { entry: name }),
            Some(Kind::Dir) => {}
            None => {
                self.used.insert(name.clone(), Kind::Dir);
            }
        }
        std::fs::create_dir_all(path.under(self.dest))
            .map_err(PackageError::io(format!("creating folder {name}")))
    }

    /// Creates a file from `data`. `compressed` is the entry's size inside
    /// the archive, when the format knows it, for the ratio check.
    pub(crate) fn add_file(
        &mut self,
        path: &EntryPath,
        data: &mut dyn Read,
        compressed: Option<u64>,
        read_error: ReadErrorMap<'_>,
    ) -> Result<(), PackageError> {
        let name = path.as_string();
        self.claim_parents(path)?;
        if self.used.contains_key(&name) {
            return Err(PackageError::DuplicateEntry { entry: name });
        }
        self.used.insert(name.clone(), Kind::File);
        let target = path.under(self.dest);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(PackageError::io(format!("creating the folder of {name}")))?;
        }
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(PackageError::io(format!("creating {name}")))?;
        let (size, sha256) = self.copy(&name, data, &mut out, compressed, read_error)?;
        self.total += size;
        self.files.push(PackageFile { path: name, size, sha256 });
        Ok(())
    }

    /// Every folder above `path` must be (or become) a folder, not a file.
    fn claim_parents(&mut self, path: &EntryPath) -> Result<(), PackageError> {
        for ancestor in path.ancestors() {
            match self.used.get(&ancestor) {
                Some(Kind::File) => return Err(PackageError::DuplicateEntry { entry: ancestor }),
                Some(Kind::Dir) => {}
                None => {
                    self.used.insert(ancestor, Kind::Dir);
                }
            }
        }
        Ok(())
    }

    /// Copies and hashes one file, checking the limits before each chunk is
    /// written. Returns the size and the lowercase hex SHA-256.
    fn copy(
        &self,
        name: &str,
        data: &mut dyn Read,
        out: &mut File,
        compressed: Option<u64>,
        read_error: ReadErrorMap<'_>,
    ) -> Result<(u64, String), PackageError> {
        let mut data = data.take(self.limits.max_entry_bytes.saturating_add(1));
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; CHUNK];
        let mut size = 0u64;
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(name, e)),
            };
            size += n as u64;
            self.check_size(name, size, compressed)?;
            out.write_all(&buf[..n]).map_err(PackageError::io(format!("writing {name}")))?;
            hasher.update(&buf[..n]);
        }
        Ok((size, hex::encode(hasher.finalize())))
    }

    /// The limits on one entry's size so far.
    pub(crate) fn check_size(
        &self,
        name: &str,
        size: u64,
        compressed: Option<u64>,
    ) -> Result<(), PackageError> {
        let limits = self.limits;
        if size > limits.max_entry_bytes {
            return Err(PackageError::EntryTooLarge {
                entry: name.to_string(),
                limit: limits.max_entry_bytes,
            });
        }
        if self.total.saturating_add(size) > limits.max_total_bytes {
            return Err(PackageError::TotalTooLarge { limit: limits.max_total_bytes });
        }
        if let Some(compressed) = compressed
            && size > RATIO_FLOOR
            && size / compressed.max(1) > limits.max_ratio
        {
            return Err(PackageError::ZipBomb {
                entry: name.to_string(),
                max_ratio: limits.max_ratio,
            });
        }
        Ok(())
    }

    /// The top-level folder holding every unpacked file and folder, if there
    /// is exactly one such folder and nothing beside it.
    pub(crate) fn single_top_folder(&self) -> Option<String> {
        let mut tops = self.used.keys().map(|p| p.split('/').next().unwrap_or(p));
        let first = tops.next()?;
        let only_one = tops.all(|t| t == first);
        (only_one && self.used.get(first) == Some(&Kind::Dir)).then(|| first.to_string())
    }

    /// The files written, in archive order.
    pub(crate) fn into_files(self) -> Vec<PackageFile> {
        self.files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> EntryPath {
        EntryPath::parse(p.as_bytes(), 8).unwrap().unwrap()
    }

    fn corrupt(name: &str, e: io::Error) -> PackageError {
        PackageError::not_an_archive(crate::ArchiveKind::Zip, format!("{name}: {e}"))
    }

    #[test]
    fn actual_bytes_are_counted_whatever_was_declared() {
        let dir = tempfile::tempdir().unwrap();
        let limits = UnpackLimits { max_entry_bytes: 3 << 20, ..UnpackLimits::default() };
        let mut sink = Sink::new(dir.path(), &limits);
        // A "compressed size" of 10 KiB claimed for endless zeros: refused
        // as a bomb as soon as the output passes 1 MiB and 200×.
        let mut zeros = io::repeat(0);
        let err = sink.add_file(&path("a"), &mut zeros, Some(10 << 10), &corrupt).unwrap_err();
        assert_eq!(err.code(), "zip_bomb");
        let written = std::fs::metadata(dir.path().join("a")).unwrap().len();
        assert!(written <= 2 << 20, "stopped early, wrote {written}");
        // Without a compressed size, the entry cap stops it.
        let err = sink.add_file(&path("b"), &mut zeros, None, &corrupt).unwrap_err();
        assert_eq!(err.code(), "too_large");
        assert!(std::fs::metadata(dir.path().join("b")).unwrap().len() <= 3 << 20);
    }

    #[test]
    fn the_running_total_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let limits = UnpackLimits { max_total_bytes: 100, ..UnpackLimits::default() };
        let mut sink = Sink::new(dir.path(), &limits);
        sink.add_file(&path("a"), &mut &[1u8; 60][..], None, &corrupt).unwrap();
        let err = sink.add_file(&path("b"), &mut &[1u8; 60][..], None, &corrupt).unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("too_large", 413));
    }

    #[test]
    fn paths_are_used_once() {
        let dir = tempfile::tempdir().unwrap();
        let limits = UnpackLimits::default();
        let mut sink = Sink::new(dir.path(), &limits);
        sink.add_dir(&path("d")).unwrap();
        sink.add_dir(&path("d")).unwrap();
        sink.add_file(&path("d/f"), &mut &b"x"[..], None, &corrupt).unwrap();
        for (p, is_dir) in [("d/f", false), ("d/f", true), ("d/f/g", false), ("d", false)] {
            let err = if is_dir {
                sink.add_dir(&path(p))
            } else {
                sink.add_file(&path(p), &mut &b"y"[..], None, &corrupt)
            };
            assert_eq!(err.unwrap_err().code(), "duplicate_entry", "{p} dir={is_dir}");
        }
        assert_eq!(sink.single_top_folder().as_deref(), Some("d"));
        assert_eq!(std::fs::read(dir.path().join("d/f")).unwrap(), b"x");
    }
}
