//! Unpacking a gzip'd tar archive.
//!
//! A tar is a stream: entries are checked and written one at a time. Links,
//! devices, fifos and sparse files are refused from their header, before any
//! data is read. Because gzip compresses the whole stream (headers and
//! padding included), the ratio check is made on the stream: a
//! [`StreamGuard`] between the gzip decoder and the tar reader counts the
//! compressed bytes read from the file and the bytes decompressed, and fails
//! the read once the output passes 1 MiB at more than `max_ratio` times the
//! input, or passes the total cap plus room for headers. That also bounds the
//! long names and pax headers the tar reader keeps in memory.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::rc::Rc;

use flate2::read::GzDecoder;
use tar::EntryType;

use crate::entry_path::EntryPath;
use crate::sink::{RATIO_FLOOR, Sink};
use crate::{ArchiveKind, PackageError, UnpackLimits};

/// Room per entry, beyond file data, for its header, padding and long names.
const OVERHEAD_PER_ENTRY: u64 = 4096;

/// Unpacks the tar.gz at `archive` through `sink`.
pub(crate) fn unpack(archive: &Path, sink: &mut Sink<'_>) -> Result<(), PackageError> {
    let file = File::open(archive).map_err(PackageError::io("opening the uploaded archive"))?;
    let tripped = Rc::new(Cell::new(None));
    let gzip = GzDecoder::new(Counted { inner: file, count: 0 });
    let guard = StreamGuard::new(gzip, sink.limits(), Rc::clone(&tripped));
    let mut tar = tar::Archive::new(guard);
    // A limit tripped inside the stream surfaces as some read error, possibly
    // wrapped by the tar reader: the guard's own record says what it was.
    unpack_entries(&mut tar, sink).map_err(|e| tripped.get().map_or(e, Trip::into_error))
}

fn unpack_entries<R: Read>(
    tar: &mut tar::Archive<R>,
    sink: &mut Sink<'_>,
) -> Result<(), PackageError> {
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        sink.count_entry()?;
        let raw = entry.path_bytes().into_owned();
        let path = EntryPath::parse(&raw, sink.limits().max_depth)?;
        let kind = entry.header().entry_type();
        let Some(path) = path else {
            check_root_entry(kind, &raw)?;
            continue;
        };
        let name = path.as_string();
        match kind {
            EntryType::Regular | EntryType::Continuous if path.is_os_clutter() => {}
            EntryType::Regular | EntryType::Continuous => {
                sink.add_file(&path, &mut entry, None, &corrupt_entry)?;
            }
            EntryType::Directory if path.is_os_clutter() => {}
            EntryType::Directory => sink.add_dir(&path)?,
            EntryType::XGlobalHeader | EntryType::XHeader => {}
            other => return Err(refuse(other, name)),
        }
    }
    Ok(())
}

/// The root (`./`) may only be a folder, or a pax global header (as `git
/// archive` writes first).
fn check_root_entry(kind: EntryType, raw: &[u8]) -> Result<(), PackageError> {
    match kind {
        EntryType::Directory | EntryType::XGlobalHeader | EntryType::XHeader => Ok(()),
        other => Err(refuse(other, String::from_utf8_lossy(raw).into_owned())),
    }
}

/// The error for an entry that is neither a file nor a folder.
fn refuse(kind: EntryType, entry: String) -> PackageError {
    let kind = match kind {
        EntryType::Symlink | EntryType::Link => return PackageError::Symlink { entry },
        EntryType::Char => "character device",
        EntryType::Block => "block device",
        EntryType::Fifo => "fifo",
        EntryType::GNUSparse => "sparse file",
        _ => "special entry of an unknown type",
    };
    PackageError::SpecialFile { entry, kind }
}

fn corrupt(e: io::Error) -> PackageError {
    PackageError::not_an_archive(ArchiveKind::TarGz, e)
}

fn corrupt_entry(name: &str, e: io::Error) -> PackageError {
    PackageError::not_an_archive(ArchiveKind::TarGz, format!("entry {name:?}: {e}"))
}

/// A reader that counts the bytes it has passed on.
#[derive(Debug)]
struct Counted<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Which stream limit a [`StreamGuard`] tripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trip {
    Ratio(u64),
    Total(u64),
}

impl Trip {
    fn into_error(self) -> PackageError {
        match self {
            Trip::Ratio(max_ratio) => PackageError::StreamBomb { max_ratio },
            Trip::Total(limit) => PackageError::TotalTooLarge { limit },
        }
    }
}

/// Checks the decompressed stream against the compressed bytes read so far.
struct StreamGuard<R> {
    gzip: GzDecoder<Counted<R>>,
    out: u64,
    max_out: u64,
    limits: UnpackLimits,
    tripped: Rc<Cell<Option<Trip>>>,
}

impl<R: Read> StreamGuard<R> {
    fn new(
        gzip: GzDecoder<Counted<R>>,
        limits: &UnpackLimits,
        tripped: Rc<Cell<Option<Trip>>>,
    ) -> Self {
        let headers = OVERHEAD_PER_ENTRY.saturating_mul(limits.max_entries as u64 + 1);
        let max_out = limits.max_total_bytes.saturating_add(headers).saturating_add(RATIO_FLOOR);
        StreamGuard { gzip, out: 0, max_out, limits: *limits, tripped }
    }

    fn check(&self) -> Option<Trip> {
        let compressed = self.gzip.get_ref().count.max(1);
        if self.out > self.max_out {
            Some(Trip::Total(self.limits.max_total_bytes))
        } else if self.out > RATIO_FLOOR && self.out / compressed > self.limits.max_ratio {
            Some(Trip::Ratio(self.limits.max_ratio))
        } else {
            None
        }
    }
}

impl<R: Read> Read for StreamGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(trip) = self.tripped.get() {
            return Err(io::Error::other(trip.into_error()));
        }
        let n = self.gzip.read(buf)?;
        self.out += n as u64;
        match self.check() {
            Some(trip) => {
                self.tripped.set(Some(trip));
                Err(io::Error::other(trip.into_error()))
            }
            None => Ok(n),
        }
    }
}
