//! The work dir's files as artifacts of a run: [`snapshot`] stamps what is
//! there before the run (sources, compile outputs), [`collect`] afterwards
//! returns the regular files created or modified since, bounded in depth,
//! entries, count and bytes, never following a symbolic link.
//!
//! A file counts as unchanged when its inode, size, mtime and ctime are the
//! ones stamped. A program cannot set ctime, and [`snapshot`] waits until
//! the kernel's (tick-grained) file clock has moved on, so any write after
//! the snapshot changes the ctime, even one of the same size in the same
//! millisecond.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use supervisor::wire::Response;

/// The most `/`-separated parts a file's name may have: directories deeper
/// than that are not entered, so their files are not listed at all.
pub const MAX_DEPTH: usize = 8;
/// At most this many directory entries are looked at in all.
pub const MAX_ENTRIES: usize = 10_000;
/// At most this many names of left-out files are reported.
pub const MAX_DROPPED: usize = 1000;
/// Longer than a tick of the kernel's file clock (1/HZ, HZ ≥ 100).
const CLOCK_TICK: Duration = Duration::from_millis(20);

/// What identifies a file's contents without reading them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        Stamp {
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// The stamps of the work dir's regular files at one moment.
#[derive(Debug, Default)]
pub struct Snapshot(HashMap<PathBuf, Stamp>);

/// A regular file found below the work dir.
struct Found {
    /// Relative to the work dir.
    relative: PathBuf,
    stamp: Stamp,
}

/// Stamps the work dir's regular files, then waits a file-clock tick so
/// that a later write cannot leave a file's stamp as it was.
pub fn snapshot(work: &Path) -> Snapshot {
    let stamps = walk(work).into_iter().map(|f| (f.relative, f.stamp)).collect();
    std::thread::sleep(CLOCK_TICK);
    Snapshot(stamps)
}

/// The regular files created or changed since `since` (every file without
/// one), in name order, as long as they fit in `max_files` files and
/// `max_bytes` bytes; the names of the others (and of unreadable files or
/// names that are not UTF-8, shown lossily) are listed as dropped.
pub fn collect(work: &Path, since: Option<&Snapshot>, max_files: u64, max_bytes: u64) -> Response {
    let mut files = Vec::new();
    let mut dropped = Vec::new();
    let mut total = 0u64;
    for found in walk(work) {
        if since.is_some_and(|s| s.0.get(&found.relative) == Some(&found.stamp)) {
            continue;
        }
        let name = found.relative.to_str().map(str::to_string);
        let budget = max_bytes - total;
        let fits = (files.len() as u64) < max_files && found.stamp.size <= budget;
        let data = match name {
            Some(_) if fits => read_capped(&work.join(&found.relative), budget).ok().flatten(),
            _ => None,
        };
        match (name, data) {
            (Some(name), Some(data)) => {
                total += data.len() as u64;
                files.push((name, data));
            }
            _ if dropped.len() < MAX_DROPPED => {
                dropped.push(found.relative.to_string_lossy().into_owned());
            }
            _ => {}
        }
    }
    Response::Files { files, dropped }
}

/// The whole file if it holds at most `cap` bytes; `None` if it is longer.
/// Opened without following a link, and only if it is still a regular file.
fn read_capped(path: &Path, cap: u64) -> io::Result<Option<Vec<u8>>> {
    let file: File = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let mut data = Vec::new();
    io::copy(&mut file.take(cap.saturating_add(1)), &mut data)?;
    Ok((data.len() as u64 <= cap).then_some(data))
}

/// The regular files below `work`, in name order (directory by directory),
/// within [`MAX_DEPTH`] and [`MAX_ENTRIES`].
fn walk(work: &Path) -> Vec<Found> {
    let mut found = Vec::new();
    let mut budget = MAX_ENTRIES;
    visit(work, Path::new(""), 0, &mut budget, &mut found);
    found
}

fn visit(dir: &Path, relative: &Path, depth: usize, budget: &mut usize, found: &mut Vec<Found>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut names: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
    names.sort();
    for name in names {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let path = dir.join(&name);
        // lstat: a symbolic link is neither followed nor returned.
        let Ok(meta) = fs::symlink_metadata(&path) else { continue };
        if meta.is_file() {
            found.push(Found { relative: relative.join(&name), stamp: Stamp::of(&meta) });
        } else if meta.is_dir() && depth + 1 < MAX_DEPTH {
            visit(&path, &relative.join(&name), depth + 1, budget, found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn files(response: Response) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
        match response {
            Response::Files { files, dropped } => (files, dropped),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_files_created_or_changed_since_the_snapshot_are_collected() {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path();
        fs::write(dir.join("input.txt"), "in").unwrap();
        fs::write(dir.join("rewritten"), "aa").unwrap();
        let snap = snapshot(dir);
        // Same size, right after the snapshot: still a change.
        fs::write(dir.join("rewritten"), "bb").unwrap();
        fs::create_dir_all(dir.join("sub/deeper")).unwrap();
        fs::write(dir.join("sub/deeper/x.txt"), "x").unwrap();
        fs::write(dir.join("out.txt"), "out").unwrap();
        symlink("/etc/passwd", dir.join("link")).unwrap();
        let (got, dropped) = files(collect(dir, Some(&snap), 10, 1000));
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["out.txt", "rewritten", "sub/deeper/x.txt"]);
        assert_eq!(got[1].1, b"bb");
        assert!(dropped.is_empty(), "{dropped:?}");
        let (all, _) = files(collect(dir, None, 10, 1000));
        assert_eq!(all.len(), 4, "without a snapshot every regular file counts");
    }

    #[test]
    fn limits_drop_files_by_name() {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path();
        for (name, size) in [("a", 10), ("b", 100), ("c", 10), ("d", 10)] {
            fs::write(dir.join(name), vec![b'x'; size]).unwrap();
        }
        let (got, dropped) = files(collect(dir, None, 2, 50));
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!((names, dropped), (vec!["a", "c"], vec!["b".to_string(), "d".to_string()]));
        let (got, dropped) = files(collect(dir, None, 0, 50));
        assert!(got.is_empty() && dropped.len() == 4);
    }

    #[test]
    fn depth_is_bounded() {
        let work = tempfile::tempdir().unwrap();
        let deep: PathBuf = (0..MAX_DEPTH + 2).map(|i| i.to_string()).collect();
        fs::create_dir_all(work.path().join(&deep)).unwrap();
        let mut path = work.path().to_path_buf();
        for part in deep.iter() {
            path.push(part);
            fs::write(path.join("f"), "f").unwrap();
        }
        let (got, _) = files(collect(work.path(), None, 100, 1000));
        assert_eq!(got.len(), MAX_DEPTH - 1);
        assert!(got.iter().all(|(n, _)| n.split('/').count() <= MAX_DEPTH), "{got:?}");
    }
}
