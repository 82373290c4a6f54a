//! `file://DIR`: blobs as files on local disk, the embedded default.
//!
//! ```text
//! <dir>/
//!   blobs/ab/cdef…   one read-only file per blob: 2 hex digits, then the other 62
//!   tmp/             uploads in progress; emptied by `FileStore::open`
//! ```
//!
//! - **Nothing leaves the directory.** Every open, create, rename and
//!   delete goes through a [`cap_std::fs::Dir`] handle for `blobs/` or
//!   `tmp/`, so no path (and no symlink) can reach outside them, even
//!   through a bug; digests are checked before they get here.
//! - **Atomic publication.** An upload is written chunk by chunk to a
//!   uniquely named temp file; once whole it is fsynced, made read-only and
//!   renamed into `blobs/`, and the shard directory is fsynced after.
//!   Readers see a blob whole or not at all, and concurrent uploads of the
//!   same content are harmless.
//! - **Failures leave nothing behind.** A temp file is deleted when its
//!   upload fails or is dropped mid-way (a client disconnect cancels the
//!   future); a crash leaves it in `tmp/`, which the next
//!   [`FileStore::open`] empties. So one process owns a directory: several
//!   backend instances share an `s3://` store, not a `file://` one.
//! - **Storing again renews.** Content already stored is not written again,
//!   but its file's modification time is set to now (what the blob sweep's
//!   grace period reads).
//! - **Blocking work off the runtime.** File I/O runs in
//!   [`tokio::task::spawn_blocking`].

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use futures_util::StreamExt;

use crate::{Blob, BlobError, ByteStream, CHUNK, Store, StoredBlob, Tally, blocking};

/// Blobs in one local directory.
#[derive(Debug)]
pub struct FileStore {
    blobs: Arc<Dir>,
    tmp: Arc<Dir>,
}

/// A checked digest's shard directory and file name.
fn blob_path(digest: &str) -> (&str, &str) {
    digest.split_at(2)
}

impl FileStore {
    /// Opens the store in `dir`, creating `<dir>/blobs` and `<dir>/tmp` as
    /// needed, and deletes whatever is left in `tmp/` (the uploads of a
    /// process that crashed). Blocking.
    pub fn open(dir: &Path) -> io::Result<Self> {
        Dir::create_ambient_dir_all(dir, ambient_authority())?;
        let root = Dir::open_ambient_dir(dir, ambient_authority())?;
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

    /// Shares the directory handles (for work moved to a blocking thread).
    fn handles(&self) -> Self {
        Self { blobs: Arc::clone(&self.blobs), tmp: Arc::clone(&self.tmp) }
    }

    /// Blocking: opens a blob as a std file with its size.
    fn open_std(&self, digest: &str) -> Result<Option<(std::fs::File, u64)>, BlobError> {
        let (shard, name) = blob_path(digest);
        let file = match self.blobs.open(Path::new(shard).join(name)) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let size = file.metadata()?.len();
        Ok(Some((file.into_std(), size)))
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
        file: std::fs::File,
        tally: Tally,
        expected: Option<&str>,
    ) -> Result<Blob, BlobError> {
        let mut permissions = file.metadata()?.permissions();
        permissions.set_readonly(true);
        file.set_permissions(permissions)?;
        file.sync_all()?;
        drop(file);
        let blob = tally.finish(expected)?;

        let (shard_name, name) = blob_path(&blob.digest);
        match self.blobs.create_dir(shard_name) {
            Ok(()) => sync_dir(&self.blobs)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
        let shard = self.blobs.open_dir(shard_name)?;
        // Already stored: renew it; dropping `temp` deletes the copy.
        if shard.try_exists(name)? {
            shard.open(name)?.into_std().set_modified(std::time::SystemTime::now())?;
        } else {
            self.tmp.rename(&temp.name, &shard, name)?;
            sync_dir(&shard)?;
        }
        Ok(blob)
    }
}

#[async_trait::async_trait]
impl Store for FileStore {
    async fn put(
        &self,
        mut body: ByteStream,
        max_bytes: u64,
        expected: Option<&str>,
    ) -> Result<Blob, BlobError> {
        let store = self.handles();
        let (temp, file) = blocking(move || Ok(store.create_temp()?)).await?;
        let mut writing = (file, Tally::new(max_bytes));
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            writing = blocking(move || {
                let (mut file, mut tally) = writing;
                tally.add(&chunk)?;
                file.write_all(&chunk)?;
                Ok((file, tally))
            })
            .await?;
        }
        let store = self.handles();
        let expected = expected.map(str::to_owned);
        let (file, tally) = writing;
        blocking(move || store.finish(temp, file, tally, expected.as_deref())).await
    }

    async fn get(&self, digest: &str) -> Result<Option<(ByteStream, u64)>, BlobError> {
        let store = self.handles();
        let digest = digest.to_owned();
        let Some((file, size)) = blocking(move || store.open_std(&digest)).await? else {
            return Ok(None);
        };
        let file = tokio::fs::File::from_std(file);
        let stream = tokio_util::io::ReaderStream::with_capacity(file, CHUNK);
        Ok(Some((stream.map(|chunk| chunk.map_err(BlobError::Io)).boxed(), size)))
    }

    async fn contains(&self, digest: &str) -> Result<bool, BlobError> {
        let (shard, name) = blob_path(digest);
        let path = Path::new(shard).join(name);
        let blobs = Arc::clone(&self.blobs);
        blocking(move || Ok(blobs.try_exists(path)?)).await
    }

    async fn list(&self) -> Result<Vec<StoredBlob>, BlobError> {
        let blobs = Arc::clone(&self.blobs);
        blocking(move || {
            let mut out = Vec::new();
            for shard in blobs.entries()? {
                let shard = shard?;
                let prefix = shard.file_name().to_string_lossy().into_owned();
                if !shard.file_type()?.is_dir() {
                    continue;
                }
                for entry in shard.open_dir()?.entries()? {
                    let entry = entry?;
                    let digest = format!("{prefix}{}", entry.file_name().to_string_lossy());
                    let meta = entry.metadata()?;
                    if !meta.is_file() || !crate::is_valid_digest(&digest) {
                        continue;
                    }
                    out.push(StoredBlob {
                        digest,
                        size: meta.len(),
                        modified: meta.modified()?.into_std(),
                    });
                }
            }
            Ok(out)
        })
        .await
    }

    async fn delete(&self, digest: &str) -> Result<(), BlobError> {
        let (shard, name) = blob_path(digest);
        let path = Path::new(shard).join(name);
        let blobs = Arc::clone(&self.blobs);
        blocking(move || match blobs.remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        })
        .await
    }

    async fn touch(&self, digest: &str) -> Result<(), BlobError> {
        let (shard, name) = blob_path(digest);
        let path = Path::new(shard).join(name);
        let blobs = Arc::clone(&self.blobs);
        blocking(move || {
            blobs.open(path)?.into_std().set_modified(std::time::SystemTime::now())?;
            Ok(())
        })
        .await
    }

    async fn entries(&self) -> Result<Vec<String>, BlobError> {
        let store = self.handles();
        blocking(move || {
            let mut out = Vec::new();
            for (prefix, dir) in [("blobs", &store.blobs), ("tmp", &store.tmp)] {
                list(dir, PathBuf::from(prefix), &mut out)?;
            }
            Ok(out)
        })
        .await
    }
}

/// Blocking: every file under `dir`, named `prefix/…`.
fn list(dir: &Dir, prefix: PathBuf, out: &mut Vec<String>) -> io::Result<()> {
    for entry in dir.entries()? {
        let entry = entry?;
        let name = prefix.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            list(&entry.open_dir()?, name, out)?;
        } else {
            out.push(name.to_string_lossy().into_owned());
        }
    }
    Ok(())
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
        // next `FileStore::open`.
        let _ = self.dir.remove_file(&self.name);
    }
}

/// Opens a local file through its parent directory (see
/// [`crate::BlobStore::put_file`]). Blocking.
pub(crate) fn open_local(path: &Path) -> io::Result<std::fs::File> {
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
