//! Gavel's blob store: content-addressed blobs behind one seam, [`Store`],
//! with two implementations chosen by one setting ([`Location`]):
//!
//! - `file://DIR` ([`file::FileStore`], the embedded default): files under
//!   a local data directory, confined to it with cap-std;
//! - `s3://BUCKET/PREFIX` ([`s3::S3Store`]): objects in any S3-compatible
//!   object store (AWS S3, MinIO, Ceph RGW, Garage, R2…), so several backend
//!   instances share one store.
//!
//! Submissions' large sources, problem files and manifests, and compiled
//! checkers are stored once, under the lowercase hex SHA-256 of their
//! content. [`BlobStore`] is what the backend holds: it checks every digest
//! a caller gives before any store sees it, and keeps the rules both stores
//! share in one place:
//!
//! - **Streaming, never whole blobs in memory.** Uploads are hashed and
//!   counted chunk by chunk ([`Tally`]) while the store writes them; reads
//!   are streams. (`put_bytes` and `read_small` are for small blobs that are
//!   in memory anyway.)
//! - **Nothing half-stored is ever visible.** A store publishes a blob only
//!   once its whole content is written and its digest is known and matches
//!   what the caller announced; a failed, refused or cancelled upload leaves
//!   nothing under a digest.
//! - **Verified on read.** [`BlobStore::open_blob`] hashes what it streams
//!   and ends the stream with [`BlobError::Corrupt`] when the content is not
//!   the digest's (a disk or an object store that changed it), so a reader
//!   never takes wrong bytes for a blob.
//! - **Storing again renews.** Storing content that is already there
//!   succeeds and renews the blob's modification time ([`Store::touch`]),
//!   so the backend's blob sweep, which spares blobs younger than its grace
//!   period, never removes content an upload just stored, even when the
//!   upload found it there already.

pub mod file;
mod location;
pub mod s3;
pub mod testing;

use std::fmt::Display;
use std::io::{self, Read};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use sha2::{Digest as _, Sha256};

pub use location::Location;

/// Size of the reads when copying or hashing a local file.
const CHUNK: usize = 64 * 1024;

/// A blob's bytes as a stream of chunks.
pub type ByteStream = BoxStream<'static, Result<Bytes, BlobError>>;

/// The seam: what a blob store does. Implementations see only valid
/// digests ([`is_valid_digest`]); [`BlobStore`] checks them first.
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Stores everything `body` yields, counted and hashed with a [`Tally`]
    /// of `max_bytes`, and publishes it under its digest only when the body
    /// ended without error and the digest is `expected` (when given).
    /// Storing content that is already there succeeds.
    async fn put(
        &self,
        body: ByteStream,
        max_bytes: u64,
        expected: Option<&str>,
    ) -> Result<Blob, BlobError>;

    /// The stored bytes of `digest` and their size, unverified; `None` when
    /// there is no such blob.
    async fn get(&self, digest: &str) -> Result<Option<(ByteStream, u64)>, BlobError>;

    /// Whether the blob `digest` is stored.
    async fn contains(&self, digest: &str) -> Result<bool, BlobError>;

    /// Every published blob, with its size and when it was last stored
    /// (storing content that is already there renews that time): what the
    /// backend's blob sweep looks at.
    async fn list(&self) -> Result<Vec<StoredBlob>, BlobError>;

    /// Removes the blob `digest`; one that is not there is no error.
    async fn delete(&self, digest: &str) -> Result<(), BlobError>;

    /// Renews the blob's modification time, as storing it again would; one
    /// that is not there is [`BlobError::Io`] `NotFound` or
    /// [`BlobError::Remote`].
    async fn touch(&self, digest: &str) -> Result<(), BlobError>;

    /// Every entry the store holds, blobs and uploads in progress alike,
    /// by name relative to the store's root (`blobs/…`, `tmp/…`): for tests
    /// and sweeps.
    async fn entries(&self) -> Result<Vec<String>, BlobError>;
}

/// The backend's blob store: one [`Store`] behind the checks and rules
/// every store shares. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn Store>,
}

/// A stored blob: its SHA-256 (64 lowercase hex characters) and its size.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Blob {
    pub digest: String,
    pub size: u64,
}

/// A published blob as [`Store::list`] shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    pub digest: String,
    pub size: u64,
    /// When it was last stored (the store's clock).
    pub modified: std::time::SystemTime,
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
    /// truncated); no store was asked.
    #[error("invalid blob digest {0:?}: expected 64 lowercase hex characters")]
    InvalidDigest(String),
    /// A stored blob's content is not its digest's (or not its size): the
    /// store changed it. The read ends with this error.
    #[error("stored blob {digest} is corrupt: {why}")]
    Corrupt { digest: String, why: String },
    /// The filesystem failed.
    #[error("blob store I/O: {0}")]
    Io(#[from] io::Error),
    /// The object store failed or could not be reached.
    #[error("object store: {0}")]
    Remote(String),
    /// The upload's body stream failed; nothing was stored.
    #[error("reading the blob body: {0}")]
    Source(String),
}

/// Whether `digest` is a valid blob name: exactly 64 lowercase hex characters.
pub fn is_valid_digest(digest: &str) -> bool {
    digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `Ok(())` for a valid digest, else [`BlobError::InvalidDigest`] (kept
/// short, as is any log line made of it).
fn check_digest(digest: &str) -> Result<(), BlobError> {
    if is_valid_digest(digest) {
        Ok(())
    } else {
        Err(BlobError::InvalidDigest(digest.chars().take(80).collect()))
    }
}

/// An upload's running size and SHA-256, refusing to grow past a limit.
#[derive(Debug)]
pub struct Tally {
    hasher: Sha256,
    size: u64,
    max_bytes: u64,
}

impl Tally {
    pub fn new(max_bytes: u64) -> Self {
        Self { hasher: Sha256::new(), size: 0, max_bytes }
    }

    /// Counts and hashes a chunk, unless it takes the size over the limit
    /// ([`BlobError::TooLarge`]: the caller stops reading at once).
    pub fn add(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.size = self
            .size
            .checked_add(chunk.len() as u64)
            .filter(|&size| size <= self.max_bytes)
            .ok_or(BlobError::TooLarge { limit: self.max_bytes })?;
        self.hasher.update(chunk);
        Ok(())
    }

    /// The blob counted, if its digest is `expected` (when given).
    pub fn finish(self, expected: Option<&str>) -> Result<Blob, BlobError> {
        let digest = hex::encode(self.hasher.finalize());
        match expected {
            Some(expected) if expected != digest => {
                Err(BlobError::DigestMismatch { expected: expected.to_owned(), actual: digest })
            }
            _ => Ok(Blob { digest, size: self.size }),
        }
    }
}

impl BlobStore {
    /// The store at `location`: `file://` opens (and creates) the directory
    /// and empties its `tmp/` (see [`file::FileStore::open`]); `s3://` reads
    /// the endpoint, region and credentials from the standard `AWS_*`
    /// variables and checks that the bucket answers (see
    /// [`s3::S3Store::open`]).
    pub async fn open(location: &Location) -> Result<Self, BlobError> {
        Self::open_with_env(location, std::env::vars().collect::<Vec<_>>()).await
    }

    /// [`BlobStore::open`] with the `AWS_*` variables taken from `env`
    /// instead of the process's environment.
    pub async fn open_with_env(
        location: &Location,
        env: impl IntoIterator<Item = (String, String)> + Send,
    ) -> Result<Self, BlobError> {
        let store: Arc<dyn Store> = match location {
            Location::File(dir) => {
                let dir = dir.clone();
                Arc::new(blocking(move || Ok(file::FileStore::open(&dir)?)).await?)
            }
            Location::S3 { bucket, prefix } => {
                Arc::new(s3::S3Store::open(bucket, prefix, env).await?)
            }
        };
        Ok(Self { store })
    }

    /// The local store in `data_dir` (`file://DATA_DIR`).
    pub fn file(data_dir: &Path) -> io::Result<Self> {
        Ok(Self { store: Arc::new(file::FileStore::open(data_dir)?) })
    }

    /// A blob store over any [`Store`].
    pub fn with_store(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Stores the content of `body`, streamed to the store while hashed.
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
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Display,
    {
        if let Some(expected) = expected {
            check_digest(expected)?;
        }
        let body = body.map(|chunk| chunk.map_err(|e| BlobError::Source(e.to_string())));
        self.store.put(body.boxed(), max_bytes, expected).await
    }

    /// Stores a copy of the local file at `path` (e.g. an unpacked upload);
    /// the file itself is left alone. The file is hashed first, so content
    /// already stored is not sent again.
    ///
    /// `path` is opened through its parent directory with cap-std, so a
    /// symlink that leads outside that directory is refused, as is anything
    /// but a regular file.
    pub async fn put_file(&self, path: &Path) -> Result<Blob, BlobError> {
        let hashed = path.to_owned();
        let blob = blocking(move || Ok(Self::hash_file(&hashed)?)).await?;
        if self.store.contains(&blob.digest).await? {
            // Stored again, as far as the blob sweep's grace period goes.
            self.store.touch(&blob.digest).await?;
            return Ok(blob);
        }
        let opened = path.to_owned();
        let file = blocking(move || Ok(file::open_local(&opened)?)).await?;
        let body =
            tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(file), CHUNK);
        // The digest found above: a file that changed since is refused.
        self.put_stream(body, blob.size, Some(&blob.digest)).await
    }

    /// Stores a small blob that is already in memory (a submission's source,
    /// a manifest).
    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<Blob, BlobError> {
        let chunk = Bytes::copy_from_slice(bytes);
        let body = futures_util::stream::iter([Ok::<_, io::Error>(chunk)]);
        self.put_stream(body, u64::MAX, None).await
    }

    /// Opens the blob `digest` for streaming: its bytes, verified as they
    /// pass (the stream ends with [`BlobError::Corrupt`] if they are not the
    /// digest's), and its size; `None` if there is no such blob.
    pub async fn open_blob(&self, digest: &str) -> Result<Option<(ByteStream, u64)>, BlobError> {
        check_digest(digest)?;
        let Some((stream, size)) = self.store.get(digest).await? else {
            return Ok(None);
        };
        let verified =
            Verified { inner: stream, tally: Some(Tally::new(size)), digest: digest.into() };
        Ok(Some((verified.boxed(), size)))
    }

    /// Reads a small blob (a manifest) whole, verified: `None` if there is
    /// no such blob, [`BlobError::TooLarge`] if it is over `max_bytes`.
    pub async fn read_small(
        &self,
        digest: &str,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>, BlobError> {
        let Some((mut stream, size)) = self.open_blob(digest).await? else {
            return Ok(None);
        };
        if size > max_bytes {
            return Err(BlobError::TooLarge { limit: max_bytes });
        }
        let mut content = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        while let Some(chunk) = stream.next().await {
            content.extend_from_slice(&chunk?);
        }
        Ok(Some(content))
    }

    /// Blocking [`BlobStore::open_blob`], for code that reads many blobs in
    /// one blocking task (packing a problem's testdata): a verified reader
    /// and the size. Call it from a blocking thread of a tokio runtime
    /// (`spawn_blocking`), never from async code.
    pub fn open_blocking(
        &self,
        digest: &str,
    ) -> Result<Option<(impl Read + Send + use<>, u64)>, BlobError> {
        let handle = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let Some((stream, size)) = handle.block_on(self.open_blob(digest))? else {
            return Ok(None);
        };
        let reader = tokio_util::io::StreamReader::new(stream.map(|r| r.map_err(io::Error::other)));
        Ok(Some((tokio_util::io::SyncIoBridge::new_with_handle(reader, handle), size)))
    }

    /// Whether the blob `digest` is stored.
    pub async fn contains(&self, digest: &str) -> Result<bool, BlobError> {
        check_digest(digest)?;
        self.store.contains(digest).await
    }

    /// Every published blob with its size and when it was last stored
    /// (see [`Store::list`]).
    pub async fn list(&self) -> Result<Vec<StoredBlob>, BlobError> {
        self.store.list().await
    }

    /// Removes the blob `digest` (nothing if it is not there). Only the
    /// blob sweep calls this, for blobs nothing refers to.
    pub async fn delete(&self, digest: &str) -> Result<(), BlobError> {
        check_digest(digest)?;
        self.store.delete(digest).await
    }

    /// Every entry the store holds, blobs and uploads in progress alike
    /// (see [`Store::entries`]), sorted.
    pub async fn entries(&self) -> Result<Vec<String>, BlobError> {
        let mut entries = self.store.entries().await?;
        entries.sort();
        Ok(entries)
    }

    /// The digest and size of the local file at `path`, read in chunks; the
    /// same digest [`BlobStore::put_file`] would store it under (and with the
    /// same rules for opening `path`). Blocking.
    pub fn hash_file(path: &Path) -> io::Result<Blob> {
        let mut file = file::open_local(path)?;
        let mut tally = Tally::new(u64::MAX);
        let mut buf = vec![0; CHUNK];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            tally.add(&buf[..n]).map_err(io::Error::other)?;
        }
        tally.finish(None).map_err(io::Error::other)
    }
}

/// A stored blob's stream, hashed as it passes: the end is an error when the
/// content is not `digest`'s or not the size the store announced.
struct Verified {
    inner: ByteStream,
    /// `None` once the end has been checked.
    tally: Option<Tally>,
    digest: String,
}

impl Stream for Verified {
    type Item = Result<Bytes, BlobError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(tally) = this.tally.as_mut() else { return Poll::Ready(None) };
        let corrupt = |why: String| BlobError::Corrupt { digest: this.digest.clone(), why };
        match this.inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => match tally.add(&chunk) {
                Ok(()) => Poll::Ready(Some(Ok(chunk))),
                Err(_) => {
                    this.tally = None;
                    Poll::Ready(Some(Err(corrupt("longer than its size".into()))))
                }
            },
            Poll::Ready(Some(Err(e))) => {
                this.tally = None;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                let tally = this.tally.take().expect("checked above");
                let expected = tally.max_bytes;
                let size = tally.size;
                match tally.finish(Some(&this.digest)) {
                    Ok(_) if size == expected => Poll::Ready(None),
                    Ok(_) => Poll::Ready(Some(Err(corrupt(format!(
                        "{size} bytes, announced {expected}"
                    ))))),
                    Err(_) => Poll::Ready(Some(Err(corrupt("content hashes otherwise".into())))),
                }
            }
        }
    }
}

/// Runs blocking filesystem work on tokio's blocking pool.
async fn blocking<T, F>(work: F) -> Result<T, BlobError>
where
    F: FnOnce() -> Result<T, BlobError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work).await.map_err(|e| BlobError::Io(io::Error::other(e)))?
}
