//! The blob store through its public API, on real temp directories.

use std::convert::Infallible;
use std::path::Path;

use blobstore::{Blob, BlobError, BlobStore};
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A body stream of `data` in chunks of `chunk` bytes.
fn body(
    data: &[u8],
    chunk: usize,
) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> + use<> {
    let chunks: Vec<_> = data.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    stream::iter(chunks)
}

/// Deterministic, non-repeating-ish test content.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Every file (not directory) under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn assert_empty(data: &Path) {
    assert_eq!(files_under(&data.join("blobs")), Vec::<std::path::PathBuf>::new());
    assert_eq!(files_under(&data.join("tmp")), Vec::<std::path::PathBuf>::new());
}

async fn read_back(store: &BlobStore, digest: &str) -> Vec<u8> {
    let (mut file, size) = store.open_blob(digest).await.unwrap().unwrap();
    let mut out = Vec::new();
    file.read_to_end(&mut out).await.unwrap();
    assert_eq!(out.len() as u64, size);
    out
}

#[tokio::test]
async fn put_stream_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let data = content(200_000);

    let blob = store.put_stream(body(&data, 7_000), 1 << 20, None).await.unwrap();

    assert_eq!(blob, Blob { digest: sha256_hex(&data), size: data.len() as u64 });
    assert!(store.contains(&blob.digest).unwrap());
    assert_eq!(read_back(&store, &blob.digest).await, data);
    let on_disk = dir.path().join("blobs").join(&blob.digest[..2]).join(&blob.digest[2..]);
    assert_eq!(std::fs::read(on_disk).unwrap(), data);
    assert_eq!(files_under(&dir.path().join("tmp")).len(), 0);
}

#[tokio::test]
async fn put_stream_with_the_right_expected_digest() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let data = b"fn main() {}\n";
    let digest = sha256_hex(data);

    let blob = store.put_stream(body(data, 4), 100, Some(&digest)).await.unwrap();
    assert_eq!(blob.digest, digest);
}

#[tokio::test]
async fn empty_blob() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();

    let blob = store.put_stream(body(b"", 1), 0, None).await.unwrap();

    assert_eq!(blob.digest, sha256_hex(b""));
    assert_eq!(blob.size, 0);
    assert_eq!(read_back(&store, &blob.digest).await, b"");
}

#[tokio::test]
async fn over_the_size_cap_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let data = content(10_001);

    let err = store.put_stream(body(&data, 1_000), 10_000, None).await.unwrap_err();

    assert!(matches!(err, BlobError::TooLarge { limit: 10_000 }), "{err}");
    assert_empty(dir.path());
    // Exactly at the limit is fine.
    store.put_stream(body(&data[..10_000], 1_000), 10_000, None).await.unwrap();
}

#[tokio::test]
async fn over_the_size_cap_stops_reading_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    // The second chunk crosses the limit; the third must never be pulled.
    let chunks = stream::iter(0..3).map(|i| {
        assert!(i < 2, "read past the chunk that crossed the limit");
        Ok::<_, Infallible>(Bytes::from(vec![b'x'; 600]))
    });

    let err = store.put_stream(chunks, 1_000, None).await.unwrap_err();

    assert!(matches!(err, BlobError::TooLarge { .. }), "{err}");
    assert_empty(dir.path());
}

#[tokio::test]
async fn digest_mismatch_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let expected = sha256_hex(b"something else");

    let err = store.put_stream(body(b"content", 3), 100, Some(&expected)).await.unwrap_err();

    match err {
        BlobError::DigestMismatch { expected: e, actual } => {
            assert_eq!(e, expected);
            assert_eq!(actual, sha256_hex(b"content"));
        }
        other => panic!("expected DigestMismatch, got {other}"),
    }
    assert_empty(dir.path());
}

#[tokio::test]
async fn failing_body_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let chunks = stream::iter([
        Ok(Bytes::from_static(b"first chunk")),
        Err("connection reset"),
        Ok(Bytes::from_static(b"never read")),
    ]);

    let err = store.put_stream(chunks, 1_000, None).await.unwrap_err();

    match err {
        BlobError::Source(message) => assert_eq!(message, "connection reset"),
        other => panic!("expected Source, got {other}"),
    }
    assert_empty(dir.path());
}

#[tokio::test]
async fn cancelled_upload_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    // One chunk, then a body that never ends.
    let chunks = stream::iter([Ok::<_, Infallible>(Bytes::from_static(b"partial"))])
        .chain(stream::pending());

    let put = store.put_stream(chunks, 1_000, None);
    let timed_out = tokio::time::timeout(std::time::Duration::from_millis(200), put).await;

    assert!(timed_out.is_err());
    assert_empty(dir.path());
}

#[tokio::test]
async fn invalid_digests_are_refused_before_touching_disk() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let valid = sha256_hex(b"x");
    let invalid = [
        "../x".to_owned(),
        "a/b".to_owned(),
        valid.to_uppercase(),
        valid[..63].to_owned(),
        format!("{valid}0"),
        format!("../{}", &valid[3..]),
        format!("{}/{}", &valid[..2], &valid[3..]),
        String::new(),
        "g".repeat(64),
    ];
    // The data dir is gone: touching the disk would give Io, None or false,
    // never InvalidDigest.
    let data = dir.path().to_owned();
    drop(dir);
    assert!(!data.exists());

    for digest in &invalid {
        let is_invalid = |r: Result<_, BlobError>| matches!(r, Err(BlobError::InvalidDigest(_)));
        assert!(is_invalid(store.contains(digest).map(|_| ())), "{digest}");
        assert!(is_invalid(store.open_blob(digest).await.map(|_| ())), "{digest}");
        assert!(is_invalid(store.read_small(digest, 10).await.map(|_| ())), "{digest}");
        assert!(
            is_invalid(store.put_stream(body(b"x", 1), 10, Some(digest)).await.map(|_| ())),
            "{digest}"
        );
        assert!(!blobstore::is_valid_digest(digest), "{digest}");
    }
    assert!(blobstore::is_valid_digest(&valid));
}

#[tokio::test]
async fn duplicate_put_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();

    let first = store.put_bytes(b"same content").await.unwrap();
    let second = store.put_stream(body(b"same content", 5), 100, None).await.unwrap();
    let third = store.put_bytes(b"same content").await.unwrap();

    assert_eq!(first, second);
    assert_eq!(first, third);
    assert_eq!(files_under(&dir.path().join("blobs")).len(), 1);
    assert_eq!(files_under(&dir.path().join("tmp")).len(), 0);
    assert_eq!(read_back(&store, &first.digest).await, b"same content");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_of_the_same_content() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let data = content(300_000);

    let puts: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            let data = data.clone();
            tokio::spawn(async move { store.put_stream(body(&data, 16_384), 1 << 20, None).await })
        })
        .collect();
    for put in puts {
        let blob = put.await.unwrap().unwrap();
        assert_eq!(blob.digest, sha256_hex(&data));
    }

    assert_eq!(files_under(&dir.path().join("blobs")).len(), 1);
    assert_eq!(files_under(&dir.path().join("tmp")).len(), 0);
    assert_eq!(read_back(&store, &sha256_hex(&data)).await, data);
}

#[tokio::test]
async fn missing_blob_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let digest = sha256_hex(b"never stored");

    assert!(store.open_blob(&digest).await.unwrap().is_none());
    assert!(store.read_small(&digest, 100).await.unwrap().is_none());
    assert!(!store.contains(&digest).unwrap());
}

#[tokio::test]
async fn reopen_cleans_tmp_leftovers_and_keeps_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let blob = store.put_bytes(b"kept").await.unwrap();
    drop(store);
    // What a crash mid-upload leaves behind.
    let tmp = dir.path().join("tmp");
    std::fs::write(tmp.join("1234-0.part"), b"half an upl").unwrap();
    std::fs::create_dir(tmp.join("stray")).unwrap();
    std::fs::write(tmp.join("stray").join("file"), b"x").unwrap();

    let store = BlobStore::open(dir.path()).unwrap();

    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    assert_eq!(read_back(&store, &blob.digest).await, b"kept");
}

#[tokio::test]
async fn open_creates_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested").join("data");

    let store = BlobStore::open(&data).unwrap();
    let blob = store.put_bytes(b"hello").await.unwrap();

    assert!(data.join("blobs").is_dir());
    assert!(data.join("tmp").is_dir());
    assert!(store.contains(&blob.digest).unwrap());
}

#[tokio::test]
async fn large_stream_in_64k_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let data = content(20 << 20);

    let blob = store.put_stream(body(&data, 64 << 10), 20 << 20, None).await.unwrap();

    assert_eq!(blob.size, 20 << 20);
    assert_eq!(blob.digest, sha256_hex(&data));
    assert!(read_back(&store, &blob.digest).await == data);
}

#[tokio::test]
async fn put_bytes_and_read_small() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let manifest = br#"{"tasks": []}"#;

    let blob = store.put_bytes(manifest).await.unwrap();

    assert_eq!(blob.digest, sha256_hex(manifest));
    assert_eq!(store.read_small(&blob.digest, 100).await.unwrap().unwrap(), manifest);
    let exact = manifest.len() as u64;
    assert!(store.read_small(&blob.digest, exact).await.unwrap().is_some());
    let err = store.read_small(&blob.digest, exact - 1).await.unwrap_err();
    assert!(matches!(err, BlobError::TooLarge { .. }), "{err}");
}

#[tokio::test]
async fn put_file_copies_and_matches_hash_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(&dir.path().join("data")).unwrap();
    let data = content(150_000);
    let upload = dir.path().join("upload.bin");
    std::fs::write(&upload, &data).unwrap();

    let blob = store.put_file(&upload).await.unwrap();

    assert_eq!(blob, BlobStore::hash_file(&upload).unwrap());
    assert_eq!(blob.digest, sha256_hex(&data));
    assert_eq!(blob.size, data.len() as u64);
    assert_eq!(std::fs::read(&upload).unwrap(), data, "the source is left alone");
    assert_eq!(read_back(&store, &blob.digest).await, data);
}

#[tokio::test]
async fn put_file_refuses_directories_and_escaping_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(&dir.path().join("data")).unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, b"outside").unwrap();
    let upload = dir.path().join("upload");
    std::fs::create_dir(&upload).unwrap();
    std::os::unix::fs::symlink(&secret, upload.join("absolute")).unwrap();
    std::os::unix::fs::symlink("../secret", upload.join("relative")).unwrap();
    std::fs::create_dir(upload.join("subdir")).unwrap();

    for name in ["absolute", "relative", "subdir", "missing"] {
        let err = store.put_file(&upload.join(name)).await.unwrap_err();
        assert!(matches!(err, BlobError::Io(_)), "{name}: {err}");
        assert!(BlobStore::hash_file(&upload.join(name)).is_err(), "{name}");
    }
    assert_empty(&dir.path().join("data"));
}

#[tokio::test]
async fn stored_blobs_are_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let blob = store.put_bytes(b"immutable").await.unwrap();

    let path = dir.path().join("blobs").join(&blob.digest[..2]).join(&blob.digest[2..]);

    assert!(std::fs::metadata(path).unwrap().permissions().readonly());
}

#[test]
fn store_and_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_shared<T: Clone + Send + Sync + 'static>() {}
    assert_shared::<BlobStore>();

    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    // What an axum handler needs: the futures can move between threads.
    assert_send(&store.put_stream(body(b"x", 1), 1, None));
    assert_send(&store.put_file(Path::new("x")));
    assert_send(&store.put_bytes(b"x"));
    assert_send(&store.open_blob("x"));
    assert_send(&store.read_small("x", 1));
}
