//! `s3://BUCKET/PREFIX`: blobs as objects in an S3-compatible store, through
//! the `object_store` crate, so several backend instances share them.
//!
//! ```text
//! s3://BUCKET/PREFIX/
//!   blobs/<sha256>    one object per blob
//!   tmp/<ulid>        a large upload whose digest was not known beforehand,
//!                     until it is copied under its digest
//! ```
//!
//! - **Where and who from the standard variables** (read as
//!   `AmazonS3Builder::from_env` reads them): `AWS_ENDPOINT_URL`
//!   (any S3-compatible server; `http://` is allowed when named there),
//!   `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and the
//!   other `AWS_*` settings `object_store` reads). With
//!   `AWS_EC2_METADATA_DISABLED=true` and no credentials named, the store
//!   refuses to open rather than ask the instance metadata address.
//! - **Streamed both ways.** A blob that fits in one part ([`PART`]) is
//!   hashed, then sent with one `PUT`; a larger one is a multipart upload of
//!   [`PART`]-sized parts, at most [`PARTS_IN_FLIGHT`] at once, so an upload
//!   holds at most about `(PARTS_IN_FLIGHT + 1) × PART` in memory whatever
//!   its size. Reads are the `GET` body's stream.
//! - **Nothing half-stored is visible.** S3 shows a multipart upload only
//!   when it is completed, and it is completed only once the whole body has
//!   been read and its digest matches: when the caller announced the digest
//!   the upload goes straight to `blobs/<digest>`; when not, to `tmp/` and
//!   is copied (server-side) under its digest after. A failed or dropped
//!   upload is aborted; one a crash interrupts stays invisible until the
//!   bucket's lifecycle rule for incomplete uploads removes it.
//! - **Storing again renews.** A blob stored again is written again (a
//!   `PUT`, or a server-side copy from `tmp/`), and one `put_file` finds
//!   there already is copied aside and back ([`Store::touch`]), so its
//!   `Last-Modified`, which the blob sweep's grace period reads, is now.
//! - **Bounded waits.** Each request may retry 3 times within 30 s;
//!   connecting may take 5 s; a whole request (a blob streamed to a slow
//!   runner) 10 minutes.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as Key;
use object_store::{
    ClientConfigKey, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart,
};

use crate::{Blob, BlobError, ByteStream, Store, StoredBlob, Tally};

/// The size of a multipart upload's parts (S3 wants at least 5 MiB but for
/// the last), and the most a blob sent with one `PUT` may have.
pub const PART: usize = 8 << 20;
/// Parts of one upload sent at once.
pub const PARTS_IN_FLIGHT: usize = 2;

/// Blobs under one prefix of one bucket.
#[derive(Debug)]
pub struct S3Store {
    client: Arc<AmazonS3>,
    /// `PREFIX/` or empty.
    root: String,
}

fn remote(error: object_store::Error) -> BlobError {
    BlobError::Remote(error.to_string())
}

impl S3Store {
    /// The store under `prefix` of `bucket`, configured from the `AWS_*`
    /// variables among `env` (the process's: `std::env::vars()`), once a
    /// listing shows the bucket answers with these credentials.
    pub async fn open(
        bucket: &str,
        prefix: &str,
        env: impl IntoIterator<Item = (String, String)> + Send,
    ) -> Result<Self, BlobError> {
        let mut builder = AmazonS3Builder::new();
        let mut metadata_disabled = false;
        for (name, value) in env {
            if name == "AWS_EC2_METADATA_DISABLED" {
                metadata_disabled = matches!(value.to_ascii_lowercase().as_str(), "true" | "1");
            } else if name.starts_with("AWS_")
                && let Ok(key) = name.to_ascii_lowercase().parse()
            {
                builder = builder.with_config(key, value);
            }
        }
        builder = builder.with_bucket_name(bucket);
        let get = |b: &AmazonS3Builder, key| b.get_config_value(&key).filter(|v| !v.is_empty());
        let endpoint = get(&builder, AmazonS3ConfigKey::Endpoint);
        if endpoint.as_deref().is_some_and(|e| e.starts_with("http://")) {
            builder = builder.with_allow_http(true);
        }
        let named = [
            AmazonS3ConfigKey::AccessKeyId,
            AmazonS3ConfigKey::WebIdentityTokenFile,
            AmazonS3ConfigKey::ContainerCredentialsRelativeUri,
            AmazonS3ConfigKey::ContainerCredentialsFullUri,
        ];
        if metadata_disabled && !named.into_iter().any(|k| get(&builder, k).is_some()) {
            return Err(BlobError::Remote(
                "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
                 (AWS_EC2_METADATA_DISABLED=true forbids asking the instance metadata)"
                    .into(),
            ));
        }
        let client = builder
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout), "5s")
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), "600s")
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..RetryConfig::default()
            })
            .build()
            .map_err(remote)?;
        let root = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        let store = S3Store { client: Arc::new(client), root };
        let at =
            format!("s3://{bucket}/{prefix} (endpoint {})", endpoint.as_deref().unwrap_or("AWS"));
        // A listing of a prefix nothing is stored under: it fails (404) when
        // the bucket is missing, unlike a HEAD of a missing key.
        let probe = store.key("probe/");
        match store.client.list_with_delimiter(Some(&probe)).await {
            Ok(_) => Ok(store),
            Err(e) => Err(BlobError::Remote(format!("{at} did not answer as expected: {e}"))),
        }
    }

    fn key(&self, name: &str) -> Key {
        Key::from(format!("{}{name}", self.root))
    }

    fn blob_key(&self, digest: &str) -> Key {
        self.key(&format!("blobs/{digest}"))
    }

    /// Stores a blob that was too large for one part: a multipart upload of
    /// `first`, then the rest of `body`.
    async fn put_large(
        &self,
        first: Vec<Bytes>,
        mut body: ByteStream,
        mut tally: Tally,
        expected: Option<&str>,
    ) -> Result<Blob, BlobError> {
        let temp = expected.is_none().then(|| self.key(&format!("tmp/{}", ulid::Ulid::new())));
        let key = match (&temp, expected) {
            (Some(temp), _) => temp.clone(),
            (None, Some(digest)) => self.blob_key(digest),
            (None, None) => unreachable!("either a temp key or a digest"),
        };
        let upload = self.client.put_multipart(&key).await.map_err(remote)?;
        let mut upload = Upload(Some(WriteMultipart::new_with_chunk_size(upload, PART)));
        for chunk in first {
            upload.writer().put(chunk);
        }
        while let Some(chunk) = body.next().await {
            let chunk = match chunk.and_then(|chunk| tally.add(&chunk).map(|()| chunk)) {
                Ok(chunk) => chunk,
                Err(e) => {
                    upload.abort().await;
                    return Err(e);
                }
            };
            upload.writer().wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(remote)?;
            upload.writer().put(chunk);
        }
        let blob = match tally.finish(expected) {
            Ok(blob) => blob,
            Err(e) => {
                upload.abort().await;
                return Err(e);
            }
        };
        upload.finish().await?;
        if let Some(temp) = temp {
            let published = self.publish(&temp, &blob.digest).await;
            let removed = self.client.delete(&temp).await.map_err(remote);
            published?;
            removed?;
        }
        Ok(blob)
    }

    /// Copies a finished temp object under its digest (a server-side copy:
    /// a blob already there is replaced by the same content, which renews
    /// its modification time).
    async fn publish(&self, temp: &Key, digest: &str) -> Result<(), BlobError> {
        self.client.copy(temp, &self.blob_key(digest)).await.map_err(remote)
    }
}

/// A multipart upload in progress, aborted when dropped unfinished (a
/// cancelled request), so S3 drops its parts.
struct Upload(Option<WriteMultipart>);

impl Upload {
    fn writer(&mut self) -> &mut WriteMultipart {
        self.0.as_mut().expect("an upload in progress")
    }

    async fn abort(&mut self) {
        if let Some(writer) = self.0.take()
            && let Err(e) = writer.abort().await
        {
            tracing::warn!(error = %e, "aborting a multipart upload failed");
        }
    }

    async fn finish(&mut self) -> Result<(), BlobError> {
        let writer = self.0.take().expect("an upload in progress");
        writer.finish().await.map(drop).map_err(remote)
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Some(writer) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = writer.abort().await;
            });
        }
    }
}

#[async_trait::async_trait]
impl Store for S3Store {
    async fn put(
        &self,
        mut body: ByteStream,
        max_bytes: u64,
        expected: Option<&str>,
    ) -> Result<Blob, BlobError> {
        let mut tally = Tally::new(max_bytes);
        let mut first = Vec::new();
        let mut buffered = 0;
        while buffered < PART {
            let Some(chunk) = body.next().await else {
                // Whole in one part: its digest is known before it is sent.
                let blob = tally.finish(expected)?;
                let payload: PutPayload = first.into_iter().collect();
                self.client.put(&self.blob_key(&blob.digest), payload).await.map_err(remote)?;
                return Ok(blob);
            };
            let chunk = chunk?;
            tally.add(&chunk)?;
            buffered += chunk.len();
            first.push(chunk);
        }
        self.put_large(first, body, tally, expected).await
    }

    async fn get(&self, digest: &str) -> Result<Option<(ByteStream, u64)>, BlobError> {
        match self.client.get(&self.blob_key(digest)).await {
            Ok(result) => {
                let size = result.meta.size;
                Ok(Some((result.into_stream().map(|c| c.map_err(remote)).boxed(), size)))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(remote(e)),
        }
    }

    async fn contains(&self, digest: &str) -> Result<bool, BlobError> {
        match self.client.head(&self.blob_key(digest)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(remote(e)),
        }
    }

    async fn list(&self) -> Result<Vec<StoredBlob>, BlobError> {
        let prefix = self.key("blobs");
        let mut listing = self.client.list(Some(&prefix));
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(remote)?;
            let Some(digest) = meta.location.filename().filter(|d| crate::is_valid_digest(d))
            else {
                continue;
            };
            out.push(StoredBlob {
                digest: digest.to_owned(),
                size: meta.size,
                modified: meta.last_modified.into(),
            });
        }
        Ok(out)
    }

    async fn delete(&self, digest: &str) -> Result<(), BlobError> {
        match self.client.delete(&self.blob_key(digest)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(remote(e)),
        }
    }

    /// S3 cannot renew an object's time in place: the blob is copied aside
    /// and back (server-side copies; no bytes pass through the backend).
    async fn touch(&self, digest: &str) -> Result<(), BlobError> {
        let aside = self.key(&format!("tmp/{}", ulid::Ulid::new()));
        self.client.copy(&self.blob_key(digest), &aside).await.map_err(remote)?;
        let renewed = self.client.copy(&aside, &self.blob_key(digest)).await.map_err(remote);
        let removed = self.client.delete(&aside).await.map_err(remote);
        renewed?;
        removed
    }

    async fn entries(&self) -> Result<Vec<String>, BlobError> {
        let prefix = (!self.root.is_empty()).then(|| Key::from(self.root.trim_end_matches('/')));
        let mut listing = self.client.list(prefix.as_ref());
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            let name = meta.map_err(remote)?.location.to_string();
            out.push(name.strip_prefix(&self.root).unwrap_or(&name).to_string());
        }
        Ok(out)
    }
}
