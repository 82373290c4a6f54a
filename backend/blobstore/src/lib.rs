//! Gavel's blob store: content-addressed files on local disk.
//!
//! Submissions' sources, testdata and checker plugins are stored once, under
//! the lowercase hex SHA-256 of their content:
//!
//! ```text
//! <data_dir>/
//!   blobs/ab/cdef…   one read-only file per blob: 2 hex digits, then the other 62
//!   tmp/             uploads in progress; emptied by `BlobStore::open`
//! ```
//!
//! Design choices:
//!
//! - **Nothing leaves the data directory.** Every open, create, rename and
//!   delete goes through a [`cap_std::fs::Dir`] handle for `blobs/` or `tmp/`,
//!   so no path (and no symlink) can reach outside them, even through a bug.
//!   On top of that, a digest from a caller must be exactly 64 lowercase hex
//!   characters before any path is built from it ([`is_valid_digest`]).
//! - **Streaming, never whole blobs in memory.** Uploads are written chunk by
//!   chunk to a uniquely named temp file while being hashed; downloads hand out
//!   an open [`tokio::fs::File`].
//! - **Atomic publication.** A finished temp file is fsynced, made read-only
//!   and renamed into `blobs/`; the shard directory is fsynced after. Readers
//!   therefore see a blob whole or not at all, and concurrent uploads of the
//!   same content are harmless: whichever rename lands last replaces an
//!   identical file.
//! - **Failures leave nothing behind.** A temp file is deleted when its upload
//!   fails (too large, digest mismatch, body error) or is dropped mid-way
//!   (a client disconnect cancels the future); a crash leaves it in `tmp/`,
//!   which the next [`BlobStore::open`] empties. One process owns a data
//!   directory.
//! - **Blocking work off the runtime.** File I/O and hashing run in
//!   [`tokio::task::spawn_blocking`].

use std::fmt::Display;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use futures_util::{Stream, StreamExt};
use sha2::{Digest as _, Sha256};

/// Size of the reads when copying or hashing a local file.
const CHUNK: usize = 64 * 1024;

/// A content-addressed blob store rooted in one data directory.
///
/// Cheap to clone: clones share the directory handles.
#[derive(Clone, Debug)]
pub struct BlobStore {
    blobs: Arc<Dir>,
    tmp: Arc<Dir>,
}

/// A stored blob: its SHA-256 (64 lowercase hex characters) and its size.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Blob {
    pub digest: String,
    pub size: u64,
}

/// Why a blob could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The content is larger than the caller's limit; nothing was stored.
    #[error("blob is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The content's SHA-256 is not the one the caller announced; nothing was stored.
    #[error("blob digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: String, actual: String },
    /// A digest from the caller is not 64 lowercase hex characters (shown
    /// truncated); the disk was not touched.
    #[error("invalid blob digest {0:?}: expected 64 lowercase hex characters")]
    InvalidDigest(String),
    /// The filesystem failed.
    #[error("blob store I/O: {0}")]
    Io(#[from] io::Error),
    /// The upload's body stream failed; nothing was stored.
    #[error("reading the blob body: {0}")]
    Source(String),
}

/// Whether `digest` is a valid blob name: exactly 64 lowercase hex characters.
pub fn is_valid_digest(digest: &str) -> bool {
    digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Splits a checked digest into its shard directory and file name; the only
/// way a digest becomes a path.
fn blob_path(digest: &str) -> Result<(&str, &str), BlobError> {
    if !is_valid_digest(digest) {
        // Keep the error (and any log line made of it) short.
        return Err(BlobError::InvalidDigest(digest.chars().take(80).collect()));
    }
    Ok(digest.split_at(2))
}

impl BlobStore {
    /// Opens the store in `data_dir`, creating `<data_dir>/blobs` and
    /// `<data_dir>/tmp` as needed, and deletes whatever is left in `tmp/` (the
    /// uploads of a process that crashed).
    pub fn open(data_dir: &Path) -> io::Result<Self> {
        Dir::create_ambient_dir_all(data_dir, ambient_authority())?;
        let root = Dir::open_ambient_dir(data_dir, ambient_authority())?;
        root.create_dir_all("blobs")?;
        root.create_dir_all("tmp")?;
        let blobs = root.open_dir("blobs")?;
        let tmp = root.open_dir("tmp")?;
        for entry in tmp.entries()? {
            let entry = entry?;
            let name = entry.file_name();
            if entry.file_type()?.is_dir() {
                tmp.remove_dir_all(&name)?;
            } else {
                tmp.remove_file(&name)?;
            }
        }
        Ok(Self { blobs: Arc::new(blobs), tmp: Arc::new(tmp) })
    }

    /// Stores the content of `body`, streamed to a temp file while hashed.
    ///
    /// Refuses content over `max_bytes` as soon as a chunk crosses the limit
    /// ([`BlobError::TooLarge`]), and content whose digest is not `expected`
    /// ([`BlobError::DigestMismatch`]; an invalid `expected` is refused before
    /// reading anything). A failed chunk ends the upload with
    /// [`BlobError::Source`]. In all these cases nothing is stored. Storing
    /// content that is already there succeeds and changes nothing.
    pub async fn put_stream<S, E>(
        &self,
        body: S,
        max_bytes: u64,
        expected: Option<&str>,
    ) -> Result<Blob, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Display,
    {
        if let Some(expected) = expected {
            blob_path(expected)?;
        }
        let store = self.clone();
        let (temp, file) = blocking(move || Ok(store.create_temp()?)).await?;
        let mut writer = Writer::new(file, max_bytes);
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| BlobError::Source(e.to_string()))?;
            writer = blocking(move || {
                writer.write(&chunk)?;
                Ok(writer)
            })
            .await?;
        }
        let store = self.clone();
        let expected = expected.map(str::to_owned);
        blocking(move || store.finish(temp, writer, expected.as_deref())).await
    }

    /// Stores a copy of the local file at `path` (e.g. an unpacked upload);
    /// the file itself is left alone.
    ///
    /// `path` is opened through its parent directory with cap-std, so a
    /// symlink that leads outside that directory is refused, as is anything
    /// but a regular file.
    pub async fn put_file(&self, path: &Path) -> Result<Blob, BlobError> {
        let store = self.clone();
        let path = path.to_owned();
        blocking(move || {
            let file = open_local(&path)?;
            store.put_reader(file, u64::MAX)
        })
        .await
    }

    /// Stores a small blob that is already in memory (a submission's source,
    /// a manifest).
    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<Blob, BlobError> {
        let store = self.clone();
        let bytes = bytes.to_vec();
        blocking(move || store.put_reader(bytes.as_slice(), u64::MAX)).await
    }

    /// Opens the blob `digest` for streaming: the file and its size, or
    /// `None` if there is no such blob.
    pub async fn open_blob(
        &self,
        digest: &str,
    ) -> Result<Option<(tokio::fs::File, u64)>, BlobError> {
        let store = self.clone();
        let digest = digest.to_owned();
        let opened = blocking(move || store.open_std(&digest)).await?;
        Ok(opened.map(|(file, size)| (tokio::fs::File::from_std(file), size)))
    }

    /// Reads a small blob (a manifest) whole: `None` if there is no such blob,
    /// [`BlobError::TooLarge`] if it is over `max_bytes`.
    pub async fn read_small(
        &self,
        digest: &str,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>, BlobError> {
        let store = self.clone();
        let digest = digest.to_owned();
        blocking(move || {
            let Some((mut file, size)) = store.open_std(&digest)? else {
                return Ok(None);
            };
            if size > max_bytes {
                return Err(BlobError::TooLarge { limit: max_bytes });
            }
            // Blobs never change once stored: read exactly `size` bytes.
            let size = usize::try_from(size).map_err(io::Error::other)?;
            let mut content = vec![0; size];
            file.read_exact(&mut content)?;
            Ok(Some(content))
        })
        .await
    }

    /// Whether the blob `digest` is stored.
    pub fn contains(&self, digest: &str) -> Result<bool, BlobError> {
        let (shard, name) = blob_path(digest)?;
        Ok(self.blobs.try_exists(Path::new(shard).join(name))?)
    }

    /// The digest and size of the local file at `path`, read in chunks; the
    /// same digest [`BlobStore::put_file`] would store it under (and with the
    /// same rules for opening `path`). Blocking.
    pub fn hash_file(path: &Path) -> io::Result<Blob> {
        let mut file = open_local(path)?;
        let mut hasher = Sha256::new();
        let mut size = 0;
        let mut buf = vec![0; CHUNK];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        Ok(Blob { digest: hex::encode(hasher.finalize()), size })
    }

    /// Blocking: opens a blob as a std file with its size.
    /// Blocking [`BlobStore::open_blob`]: for code that reads many blobs in
    /// one blocking task (e.g. packing a problem's testdata).
    pub fn open_std(&self, digest: &str) -> Result<Option<(std::fs::File, u64)>, BlobError> {
        let (shard, name) = blob_path(digest)?;
        let file = match self.blobs.open(Path::new(shard).join(name)) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let size = file.metadata()?.len();
        Ok(Some((file.into_std(), size)))
    }

    /// Blocking: stores everything `reader` yields.
    fn put_reader(&self, mut reader: impl Read, max_bytes: u64) -> Result<Blob, BlobError> {
        let (temp, file) = self.create_temp()?;
        let mut writer = Writer::new(file, max_bytes);
        let mut buf = vec![0; CHUNK];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            writer.write(&buf[..n])?;
        }
        self.finish(temp, writer, None)
    }

    /// Blocking: creates a new, uniquely named file in `tmp/`.
    fn create_temp(&self) -> io::Result<(TempFile, std::fs::File)> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let name = format!("{}-{n}.part", std::process::id());
            match self.tmp.open_with(&name, &options) {
                Ok(file) => {
                    let temp = TempFile { dir: Arc::clone(&self.tmp), name };
                    return Ok((temp, file.into_std()));
                }
                // Left by an earlier process with our pid; try the next name.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Blocking: makes a fully written temp file durable, checks its digest
    /// and publishes it under `blobs/`.
    fn finish(
        &self,
        temp: TempFile,
        writer: Writer,
        expected: Option<&str>,
    ) -> Result<Blob, BlobError> {
        let Writer { file, hasher, size, .. } = writer;
        let mut permissions = file.metadata()?.permissions();
        permissions.set_readonly(true);
        file.set_permissions(permissions)?;
        file.sync_all()?;
        drop(file);

        let digest = hex::encode(hasher.finalize());
        if let Some(expected) = expected
            && expected != digest
        {
            return Err(BlobError::DigestMismatch {
                expected: expected.to_owned(),
                actual: digest,
            });
        }

        let (shard_name, name) = blob_path(&digest)?;
        match self.blobs.create_dir(shard_name) {
            Ok(()) => sync_dir(&self.blobs)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
        let shard = self.blobs.open_dir(shard_name)?;
        // Already stored: dropping `temp` deletes the copy.
        if !shard.try_exists(name)? {
            self.tmp.rename(&temp.name, &shard, name)?;
            sync_dir(&shard)?;
        }
        Ok(Blob { digest, size })
    }
}

/// A file in `tmp/`, deleted when dropped: after a failure, a cancelled
/// upload, or once renamed away (then there is nothing left to delete).
struct TempFile {
    dir: Arc<Dir>,
    name: String,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // NotFound after a successful rename; anything else is swept by the
        // next `BlobStore::open`.
        let _ = self.dir.remove_file(&self.name);
    }
}

/// The temp file being written, with the running hash and size.
struct Writer {
    file: std::fs::File,
    hasher: Sha256,
    size: u64,
    max_bytes: u64,
}

impl Writer {
    fn new(file: std::fs::File, max_bytes: u64) -> Self {
        Self { file, hasher: Sha256::new(), size: 0, max_bytes }
    }

    /// Blocking: appends a chunk, unless it takes the size over the limit.
    fn write(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.size = self
            .size
            .checked_add(chunk.len() as u64)
            .filter(|&size| size <= self.max_bytes)
            .ok_or(BlobError::TooLarge { limit: self.max_bytes })?;
        self.hasher.update(chunk);
        self.file.write_all(chunk)?;
        Ok(())
    }
}

/// Opens a local file through its parent directory (see [`BlobStore::put_file`]).
fn open_local(path: &Path) -> io::Result<std::fs::File> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", path.display()),
        )
    })?;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let dir = Dir::open_ambient_dir(&parent, ambient_authority())?;
    let file = dir.open(name)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(file.into_std())
}

/// Blocking: makes a directory's entries durable.
fn sync_dir(dir: &Dir) -> io::Result<()> {
    // A `Dir` is an `O_PATH` handle on Linux, which cannot be fsynced; open
    // the directory itself for reading.
    dir.open(".")?.sync_all()
}

/// Runs blocking filesystem work on tokio's blocking pool.
async fn blocking<T, F>(work: F) -> Result<T, BlobError>
where
    F: FnOnce() -> Result<T, BlobError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work).await.map_err(|e| BlobError::Io(io::Error::other(e)))?
}
