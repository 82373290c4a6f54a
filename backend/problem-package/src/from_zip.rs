//! Unpacking a zip archive.
//!
//! A zip has a central directory, so everything that metadata can tell is
//! checked before a single byte is written: the entry count, every name, the
//! entry kinds (from the Unix mode), encryption and compression method, and
//! the declared sizes and ratios (a fast path: a bomb that admits it is one is
//! refused at once). The declared sizes are then *not* trusted: the data is
//! counted again as it is decompressed (see [`Sink`]).

use std::fs::File;
use std::io::{self, BufReader};
use std::path::Path;

use zip::read::ZipFileEntry;
use zip::{CompressionMethod, ZipArchive};

use crate::entry_path::EntryPath;
use crate::sink::{RATIO_FLOOR, Sink};
use crate::{ArchiveKind, PackageError};

/// Unix file-type bits of a zip entry's mode.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

/// What to do with one entry, decided from the central directory.
#[derive(Debug)]
enum Plan {
    Dir(EntryPath),
    File { path: EntryPath, compressed: u64 },
    Skip,
}

/// Unpacks the zip at `archive` through `sink`.
pub(crate) fn unpack(archive: &Path, sink: &mut Sink<'_>) -> Result<(), PackageError> {
    let file = File::open(archive).map_err(PackageError::io("opening the uploaded archive"))?;
    let mut zip = ZipArchive::new(BufReader::new(file)).map_err(|e| not_a_zip(e.to_string()))?;
    if zip.len() > sink.limits().max_entries {
        return Err(PackageError::TooManyEntries { max: sink.limits().max_entries });
    }
    if zip.has_duplicate_names() {
        return Err(PackageError::DuplicateNames);
    }
    let plans = plan(&zip, sink)?;
    for (index, plan) in plans.into_iter().enumerate() {
        match plan {
            Plan::Dir(path) => sink.add_dir(&path)?,
            Plan::File { path, compressed } => {
                let mut data = zip
                    .by_index(index)
                    .map_err(|e| not_a_zip(format!("entry {:?}: {e}", path.as_string())))?;
                sink.add_file(&path, &mut data, Some(compressed), &corrupt_entry)?;
            }
            Plan::Skip => {}
        }
    }
    Ok(())
}

/// Checks every entry's metadata and decides what to do with it.
fn plan(zip: &ZipArchive<BufReader<File>>, sink: &mut Sink<'_>) -> Result<Vec<Plan>, PackageError> {
    let mut declared_total = 0u64;
    let mut plans = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        sink.count_entry()?;
        let entry = zip.by_index_data(index).map_err(|e| not_a_zip(e.to_string()))?;
        let plan = plan_entry(&entry, sink)?;
        if let Plan::File { path, .. } = &plan {
            declared_total = declared_total.saturating_add(entry.size());
            if declared_total > sink.limits().max_total_bytes {
                return Err(PackageError::TotalTooLarge { limit: sink.limits().max_total_bytes });
            }
            check_declared(&path.as_string(), &entry, sink)?;
        }
        plans.push(plan);
    }
    Ok(plans)
}

/// Decides from one entry's name and mode what it is.
fn plan_entry(entry: &ZipFileEntry<'_>, sink: &Sink<'_>) -> Result<Plan, PackageError> {
    let raw = entry.name_raw();
    let Some(path) = EntryPath::parse(raw, sink.limits().max_depth)? else {
        return Ok(Plan::Skip);
    };
    let name = path.as_string();
    let mode = entry.unix_mode().unwrap_or(0) & S_IFMT;
    match mode {
        S_IFLNK => return Err(PackageError::Symlink { entry: name }),
        0 | S_IFREG | S_IFDIR => {}
        _ => return Err(PackageError::SpecialFile { entry: name, kind: "special file" }),
    }
    if path.is_os_clutter() {
        return Ok(Plan::Skip);
    }
    if raw.ends_with(b"/") || mode == S_IFDIR {
        return Ok(Plan::Dir(path));
    }
    if entry.encrypted() {
        return Err(PackageError::Unsupported { entry: name, what: "encrypted".into() });
    }
    let method = entry.compression();
    if !matches!(method, CompressionMethod::Stored | CompressionMethod::Deflated) {
        return Err(PackageError::Unsupported {
            entry: name,
            what: format!("compressed with {method}"),
        });
    }
    Ok(Plan::File { path, compressed: entry.compressed_size() })
}

/// The fast path: refuses an entry whose declared size is already too big.
fn check_declared(
    name: &str,
    entry: &ZipFileEntry<'_>,
    sink: &Sink<'_>,
) -> Result<(), PackageError> {
    let limits = sink.limits();
    let size = entry.size();
    if size > limits.max_entry_bytes {
        return Err(PackageError::EntryTooLarge {
            entry: name.to_string(),
            limit: limits.max_entry_bytes,
        });
    }
    if size > RATIO_FLOOR && size / entry.compressed_size().max(1) > limits.max_ratio {
        return Err(PackageError::ZipBomb { entry: name.to_string(), max_ratio: limits.max_ratio });
    }
    Ok(())
}

fn not_a_zip(detail: String) -> PackageError {
    PackageError::not_an_archive(ArchiveKind::Zip, detail)
}

/// A read error inside an entry: corrupt data (bad deflate stream, CRC
/// mismatch, truncated file).
fn corrupt_entry(name: &str, e: io::Error) -> PackageError {
    not_a_zip(format!("entry {name:?}: {e}"))
}
