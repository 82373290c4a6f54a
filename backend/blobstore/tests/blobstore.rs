//! The blob store through its public API, every behaviour against both
//! stores: `file://` on real temp directories and `s3://` on a real S3
//! server on loopback (moto, see `blobstore::testing`), one bucket per test
//! binary and one prefix per test.

use std::convert::Infallible;
use std::path::Path;
use std::sync::OnceLock;

use blobstore::testing::S3Server;
use blobstore::{Blob, BlobError, BlobStore, Location};
use bytes::Bytes;
use futures_util::{FutureExt, StreamExt, stream};
use sha2::{Digest, Sha256};

const BUCKET: &str = "gavel-blobstore-tests";

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A body stream of `data` in chunks of `chunk` bytes.
fn body(
    data: &[u8],
    chunk: usize,
) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> + Send + use<> {
    let chunks: Vec<_> = data.chunks(chunk.max(1)).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    stream::iter(chunks)
}

/// Deterministic, non-repeating-ish test content.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// The S3 server every test of this binary shares; it exits with the
/// process.
fn server() -> &'static S3Server {
    static SERVER: OnceLock<S3Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let log =
            std::env::temp_dir().join(format!("gavel-blobstore-s3-{}.log", std::process::id()));
        S3Server::start(&[BUCKET], &log).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// A store under test and what it lives in.
struct Fixture {
    store: BlobStore,
    /// The `file://` store's directory; `None` for `s3://`.
    dir: Option<tempfile::TempDir>,
    location: Location,
}

impl Fixture {
    async fn file() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::File(dir.path().to_path_buf());
        let store = BlobStore::open(&location).await.unwrap();
        Fixture { store, dir: Some(dir), location }
    }

    async fn s3(test: &str) -> Fixture {
        let prefix = format!("{test}-{}", ulid_like());
        let location = Location::S3 { bucket: BUCKET.into(), prefix };
        let env = server().env().into_iter().map(|(k, v)| (k.to_string(), v));
        let store = BlobStore::open_with_env(&location, env).await.unwrap();
        Fixture { store, dir: None, location }
    }

    /// Another handle on the same store (a second backend, a restart).
    async fn reopen(&self) -> BlobStore {
        let env = server().env().into_iter().map(|(k, v)| (k.to_string(), v));
        match &self.location {
            Location::S3 { .. } => BlobStore::open_with_env(&self.location, env).await.unwrap(),
            Location::File(_) => BlobStore::open(&self.location).await.unwrap(),
        }
    }

    async fn entries(&self) -> Vec<String> {
        self.store.entries().await.unwrap()
    }

    async fn assert_empty(&self) {
        assert_eq!(self.entries().await, Vec::<String>::new());
    }
}

/// A name unique to this process and moment, for S3 prefixes.
fn ulid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{}-{nanos}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

async fn read_back(store: &BlobStore, digest: &str) -> Vec<u8> {
    let (mut stream, size) = store.open_blob(digest).await.unwrap().unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(out.len() as u64, size);
    out
}

/// Runs `$test(fixture)` once per store: `$name::file` and `$name::s3`.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn file() {
                super::$name(super::Fixture::file().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn s3() {
                super::$name(super::Fixture::s3(stringify!($name)).await).await;
            }
        }
    )*};
}

both_stores!(
    put_stream_round_trip,
    put_stream_with_the_right_expected_digest,
    empty_blob,
    over_the_size_cap_stores_nothing,
    over_the_size_cap_stops_reading_at_once,
    digest_mismatch_stores_nothing,
    failing_body_stores_nothing,
    cancelled_upload_leaves_nothing,
    invalid_digests_are_refused_before_any_store_is_asked,
    duplicate_put_is_idempotent,
    concurrent_puts_of_the_same_content,
    missing_blob_is_none,
    reopened_store_keeps_blobs,
    large_stream_in_64k_chunks,
    large_stream_with_a_wrong_expected_digest_stores_nothing,
    put_bytes_and_read_small,
    put_file_copies_and_matches_hash_file,
    put_file_refuses_directories_and_escaping_symlinks,
    open_blocking_reads_the_blob,
    list_delete_and_storing_again_renews,
);

/// What the blob sweep relies on: a listing of blobs with size and time,
/// deletion, and a blob stored again (even one `put_file` finds there
/// already) listed as new.
async fn list_delete_and_storing_again_renews(fx: Fixture) {
    let a = fx.store.put_bytes(b"first blob").await.unwrap();
    let big = content(200_000);
    let b = fx.store.put_stream(body(&big, 65_536), u64::MAX, None).await.unwrap();
    let mut listed = fx.store.list().await.unwrap();
    listed.sort_by(|x, y| x.digest.cmp(&y.digest));
    let mut expected = [(a.digest.clone(), a.size), (b.digest.clone(), b.size)];
    expected.sort();
    let got: Vec<_> = listed.iter().map(|s| (s.digest.clone(), s.size)).collect();
    assert_eq!(got, expected);
    let old = |digest: &str, listed: &[blobstore::StoredBlob]| {
        listed.iter().find(|s| s.digest == digest).unwrap().modified
    };
    let (a_then, b_then) = (old(&a.digest, &listed), old(&b.digest, &listed));

    // S3 dates objects to the second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    fx.store.put_bytes(b"first blob").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big"), &big).unwrap();
    assert_eq!(fx.store.put_file(&dir.path().join("big")).await.unwrap(), b);
    let listed = fx.store.list().await.unwrap();
    assert!(old(&a.digest, &listed) > a_then, "put_bytes of stored content renews it");
    assert!(old(&b.digest, &listed) > b_then, "put_file of stored content renews it");

    fx.store.delete(&a.digest).await.unwrap();
    fx.store.delete(&a.digest).await.unwrap();
    assert!(!fx.store.contains(&a.digest).await.unwrap());
    assert_eq!(fx.store.list().await.unwrap().len(), 1);
    assert_eq!(read_back(&fx.store, &b.digest).await, big);
    assert!(matches!(fx.store.delete("../x").await, Err(BlobError::InvalidDigest(_))));
}

async fn put_stream_round_trip(fx: Fixture) {
    let data = content(200_000);

    let blob = fx.store.put_stream(body(&data, 7_000), 1 << 20, None).await.unwrap();

    assert_eq!(blob, Blob { digest: sha256_hex(&data), size: data.len() as u64 });
    assert!(fx.store.contains(&blob.digest).await.unwrap());
    assert_eq!(read_back(&fx.store, &blob.digest).await, data);
    assert_eq!(fx.entries().await, [format!("blobs/{}", fx.name_of(&blob.digest))]);
    if let Some(dir) = &fx.dir {
        let on_disk = dir.path().join("blobs").join(&blob.digest[..2]).join(&blob.digest[2..]);
        assert_eq!(std::fs::read(on_disk).unwrap(), data);
    }
}

impl Fixture {
    /// How a blob is named under `blobs/`: sharded on disk, flat in S3.
    fn name_of(&self, digest: &str) -> String {
        match self.dir {
            Some(_) => format!("{}/{}", &digest[..2], &digest[2..]),
            None => digest.to_string(),
        }
    }
}

async fn put_stream_with_the_right_expected_digest(fx: Fixture) {
    let data = b"fn main() {}\n";
    let digest = sha256_hex(data);

    let blob = fx.store.put_stream(body(data, 4), 100, Some(&digest)).await.unwrap();
    assert_eq!(blob.digest, digest);
    assert_eq!(read_back(&fx.store, &digest).await, data);
}

async fn empty_blob(fx: Fixture) {
    let blob = fx.store.put_stream(body(b"", 1), 0, None).await.unwrap();

    assert_eq!(blob.digest, sha256_hex(b""));
    assert_eq!(blob.size, 0);
    assert_eq!(read_back(&fx.store, &blob.digest).await, b"");
}

async fn over_the_size_cap_stores_nothing(fx: Fixture) {
    let data = content(10_001);

    let err = fx.store.put_stream(body(&data, 1_000), 10_000, None).await.unwrap_err();

    assert!(matches!(err, BlobError::TooLarge { limit: 10_000 }), "{err}");
    fx.assert_empty().await;
    // Exactly at the limit is fine.
    fx.store.put_stream(body(&data[..10_000], 1_000), 10_000, None).await.unwrap();
}

async fn over_the_size_cap_stops_reading_at_once(fx: Fixture) {
    // The second chunk crosses the limit; the third must never be pulled.
    let chunks = stream::iter(0..3).map(|i| {
        assert!(i < 2, "read past the chunk that crossed the limit");
        Ok::<_, Infallible>(Bytes::from(vec![b'x'; 600]))
    });

    let err = fx.store.put_stream(chunks, 1_000, None).await.unwrap_err();

    assert!(matches!(err, BlobError::TooLarge { .. }), "{err}");
    fx.assert_empty().await;
}

async fn digest_mismatch_stores_nothing(fx: Fixture) {
    let expected = sha256_hex(b"something else");

    let err = fx.store.put_stream(body(b"content", 3), 100, Some(&expected)).await.unwrap_err();

    match err {
        BlobError::DigestMismatch { expected: e, actual } => {
            assert_eq!(e, expected);
            assert_eq!(actual, sha256_hex(b"content"));
        }
        other => panic!("expected DigestMismatch, got {other}"),
    }
    fx.assert_empty().await;
}

async fn failing_body_stores_nothing(fx: Fixture) {
    let chunks = stream::iter([
        Ok(Bytes::from_static(b"first chunk")),
        Err("connection reset"),
        Ok(Bytes::from_static(b"never read")),
    ]);

    let err = fx.store.put_stream(chunks, 1_000, None).await.unwrap_err();

    match err {
        BlobError::Source(message) => assert_eq!(message, "connection reset"),
        other => panic!("expected Source, got {other}"),
    }
    fx.assert_empty().await;
}

async fn cancelled_upload_leaves_nothing(fx: Fixture) {
    // One chunk, then a body that never ends; and a large one (a multipart
    // upload to S3) that stops after 12 MiB.
    let small = stream::iter([Ok::<_, Infallible>(Bytes::from_static(b"partial"))])
        .chain(stream::pending());
    let large = body(&content(12 << 20), 64 << 10).chain(stream::pending());

    for put in [
        fx.store.put_stream(small, 1_000, None).boxed(),
        fx.store.put_stream(large, 1 << 30, None).boxed(),
    ] {
        let timed_out = tokio::time::timeout(std::time::Duration::from_millis(1500), put).await;
        assert!(timed_out.is_err());
    }
    fx.assert_empty().await;
}

async fn invalid_digests_are_refused_before_any_store_is_asked(fx: Fixture) {
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
    // A file store whose directory is gone: touching the disk would give
    // Io, None or false, never InvalidDigest.
    let store = match fx.dir {
        Some(dir) => {
            let store = fx.store.clone();
            drop(dir);
            store
        }
        None => fx.store.clone(),
    };

    for digest in &invalid {
        let is_invalid = |r: Result<_, BlobError>| matches!(r, Err(BlobError::InvalidDigest(_)));
        assert!(is_invalid(store.contains(digest).await.map(|_| ())), "{digest}");
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

async fn duplicate_put_is_idempotent(fx: Fixture) {
    let first = fx.store.put_bytes(b"same content").await.unwrap();
    let second = fx.store.put_stream(body(b"same content", 5), 100, None).await.unwrap();
    let third = fx.store.put_bytes(b"same content").await.unwrap();

    assert_eq!(first, second);
    assert_eq!(first, third);
    assert_eq!(fx.entries().await.len(), 1);
    assert_eq!(read_back(&fx.store, &first.digest).await, b"same content");
}

async fn concurrent_puts_of_the_same_content(fx: Fixture) {
    let data = content(300_000);

    let puts: Vec<_> = (0..20)
        .map(|_| {
            let store = fx.store.clone();
            let data = data.clone();
            tokio::spawn(async move { store.put_stream(body(&data, 16_384), 1 << 20, None).await })
        })
        .collect();
    for put in puts {
        let blob = put.await.unwrap().unwrap();
        assert_eq!(blob.digest, sha256_hex(&data));
    }

    assert_eq!(fx.entries().await.len(), 1);
    assert_eq!(read_back(&fx.store, &sha256_hex(&data)).await, data);
}

async fn missing_blob_is_none(fx: Fixture) {
    let digest = sha256_hex(b"never stored");

    assert!(fx.store.open_blob(&digest).await.unwrap().is_none());
    assert!(fx.store.read_small(&digest, 100).await.unwrap().is_none());
    assert!(!fx.store.contains(&digest).await.unwrap());
}

async fn reopened_store_keeps_blobs(fx: Fixture) {
    let blob = fx.store.put_bytes(b"kept").await.unwrap();

    let again = fx.reopen().await;

    assert_eq!(read_back(&again, &blob.digest).await, b"kept");
}

async fn large_stream_in_64k_chunks(fx: Fixture) {
    // Three parts of a multipart upload to S3, the digest not known before.
    let data = content(20 << 20);

    let blob = fx.store.put_stream(body(&data, 64 << 10), 20 << 20, None).await.unwrap();

    assert_eq!(blob.size, 20 << 20);
    assert_eq!(blob.digest, sha256_hex(&data));
    assert!(read_back(&fx.store, &blob.digest).await == data);
    // No upload left behind under tmp/.
    assert_eq!(fx.entries().await, [format!("blobs/{}", fx.name_of(&blob.digest))]);
    // Announced, the same content goes (again) straight under its digest.
    let again = fx.store.put_stream(body(&data, 64 << 10), 20 << 20, Some(&blob.digest)).await;
    assert_eq!(again.unwrap(), blob);
    assert_eq!(fx.entries().await.len(), 1);
}

async fn large_stream_with_a_wrong_expected_digest_stores_nothing(fx: Fixture) {
    let data = content(20 << 20);
    let wrong = sha256_hex(b"not this");

    let err = fx.store.put_stream(body(&data, 64 << 10), 20 << 20, Some(&wrong)).await.unwrap_err();

    assert!(matches!(err, BlobError::DigestMismatch { .. }), "{err}");
    assert!(!fx.store.contains(&wrong).await.unwrap());
    fx.assert_empty().await;
}

async fn put_bytes_and_read_small(fx: Fixture) {
    let manifest = br#"{"tasks": []}"#;

    let blob = fx.store.put_bytes(manifest).await.unwrap();

    assert_eq!(blob.digest, sha256_hex(manifest));
    assert_eq!(fx.store.read_small(&blob.digest, 100).await.unwrap().unwrap(), manifest);
    let exact = manifest.len() as u64;
    assert!(fx.store.read_small(&blob.digest, exact).await.unwrap().is_some());
    let err = fx.store.read_small(&blob.digest, exact - 1).await.unwrap_err();
    assert!(matches!(err, BlobError::TooLarge { .. }), "{err}");
}

async fn put_file_copies_and_matches_hash_file(fx: Fixture) {
    let dir = tempfile::tempdir().unwrap();
    for len in [150_000, 9 << 20] {
        let data = content(len);
        let upload = dir.path().join("upload.bin");
        std::fs::write(&upload, &data).unwrap();

        let blob = fx.store.put_file(&upload).await.unwrap();

        assert_eq!(blob, BlobStore::hash_file(&upload).unwrap());
        assert_eq!(blob.digest, sha256_hex(&data));
        assert_eq!(blob.size, data.len() as u64);
        assert_eq!(std::fs::read(&upload).unwrap(), data, "the source is left alone");
        assert!(read_back(&fx.store, &blob.digest).await == data);
        // Stored already: stored once.
        assert_eq!(fx.store.put_file(&upload).await.unwrap(), blob);
    }
    assert_eq!(fx.entries().await.len(), 2);
}

async fn put_file_refuses_directories_and_escaping_symlinks(fx: Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, b"outside").unwrap();
    let upload = dir.path().join("upload");
    std::fs::create_dir(&upload).unwrap();
    std::os::unix::fs::symlink(&secret, upload.join("absolute")).unwrap();
    std::os::unix::fs::symlink("../secret", upload.join("relative")).unwrap();
    std::fs::create_dir(upload.join("subdir")).unwrap();

    for name in ["absolute", "relative", "subdir", "missing"] {
        let err = fx.store.put_file(&upload.join(name)).await.unwrap_err();
        assert!(matches!(err, BlobError::Io(_)), "{name}: {err}");
        assert!(BlobStore::hash_file(&upload.join(name)).is_err(), "{name}");
    }
    fx.assert_empty().await;
}

async fn open_blocking_reads_the_blob(fx: Fixture) {
    let data = content(300_000);
    let blob = fx.store.put_bytes(&data).await.unwrap();
    let missing = sha256_hex(b"missing");

    let store = fx.store.clone();
    let (read, none) = tokio::task::spawn_blocking(move || {
        let (mut reader, size) = store.open_blocking(&blob.digest).unwrap().unwrap();
        let mut out = Vec::new();
        std::io::copy(&mut reader, &mut out).unwrap();
        assert_eq!(size, out.len() as u64);
        (out, store.open_blocking(&missing).unwrap().is_none())
    })
    .await
    .unwrap();

    assert!(read == data);
    assert!(none);
}

// What only one store has.

#[tokio::test]
async fn file_store_reopen_cleans_tmp_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::file(dir.path()).unwrap();
    let blob = store.put_bytes(b"kept").await.unwrap();
    drop(store);
    // What a crash mid-upload leaves behind.
    let tmp = dir.path().join("tmp");
    std::fs::write(tmp.join("1234-0.part"), b"half an upl").unwrap();
    std::fs::create_dir(tmp.join("stray")).unwrap();
    std::fs::write(tmp.join("stray").join("file"), b"x").unwrap();

    let store = BlobStore::file(dir.path()).unwrap();

    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    assert_eq!(read_back(&store, &blob.digest).await, b"kept");
}

#[tokio::test]
async fn file_store_creates_its_dir_and_stores_read_only_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested").join("data");

    let store = BlobStore::file(&data).unwrap();
    let blob = store.put_bytes(b"immutable").await.unwrap();

    assert!(data.join("tmp").is_dir());
    let path = data.join("blobs").join(&blob.digest[..2]).join(&blob.digest[2..]);
    assert!(std::fs::metadata(path).unwrap().permissions().readonly());
}

/// Replaces a stored blob's bytes behind the store's back.
async fn tamper(fx: &Fixture, digest: &str, bytes: &[u8]) {
    match &fx.dir {
        Some(dir) => {
            let path = dir.path().join("blobs").join(&digest[..2]).join(&digest[2..]);
            let mut permissions = std::fs::metadata(&path).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            std::fs::set_permissions(&path, permissions).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
        None => {
            use object_store::ObjectStoreExt;
            let Location::S3 { prefix, .. } = &fx.location else { unreachable!() };
            let mut builder = object_store::aws::AmazonS3Builder::new()
                .with_bucket_name(BUCKET)
                .with_allow_http(true);
            for (key, value) in server().env() {
                if let Ok(key) = key.to_ascii_lowercase().parse() {
                    builder = builder.with_config(key, value);
                }
            }
            let client = builder.build().unwrap();
            let key = object_store::path::Path::from(format!("{prefix}/blobs/{digest}"));
            client.put(&key, Bytes::copy_from_slice(bytes).into()).await.unwrap();
        }
    }
}

both_stores!(changed_bytes_are_refused_on_read);

async fn changed_bytes_are_refused_on_read(fx: Fixture) {
    let data = content(100_000);
    let blob = fx.store.put_bytes(&data).await.unwrap();
    let mut changed = data.clone();
    changed[5_000] ^= 1;

    for bytes in [changed, data[..99_999].to_vec()] {
        tamper(&fx, &blob.digest, &bytes).await;
        let (mut stream, _) = fx.store.open_blob(&blob.digest).await.unwrap().unwrap();
        let mut last = None;
        while let Some(chunk) = stream.next().await {
            last = Some(chunk);
        }
        let err = last.unwrap().unwrap_err();
        assert!(matches!(err, BlobError::Corrupt { .. }), "{err}");
        let err = fx.store.read_small(&blob.digest, 1 << 20).await.unwrap_err();
        assert!(matches!(err, BlobError::Corrupt { .. }), "{err}");
    }
}

#[tokio::test]
async fn s3_store_without_credentials_or_server_refuses_to_open() {
    let location = Location::S3 { bucket: BUCKET.into(), prefix: "x".into() };
    let var = |k: &str, v: &str| (k.to_string(), v.to_string());
    // No credentials and no metadata service allowed: refused before any request.
    let env =
        [var("AWS_ENDPOINT_URL", "http://127.0.0.1:9"), var("AWS_EC2_METADATA_DISABLED", "true")];
    let err = BlobStore::open_with_env(&location, env).await.unwrap_err();
    assert!(err.to_string().contains("no S3 credentials"), "{err}");
    // Nothing listening at the endpoint: refused, naming it.
    let env = [
        var("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        var("AWS_ACCESS_KEY_ID", "a"),
        var("AWS_SECRET_ACCESS_KEY", "b"),
        var("AWS_REGION", "us-east-1"),
    ];
    let err = BlobStore::open_with_env(&location, env).await.unwrap_err();
    assert!(err.to_string().contains("http://127.0.0.1:9"), "{err}");
    // A bucket that does not exist.
    let missing = Location::S3 { bucket: "no-such-bucket".into(), prefix: String::new() };
    let env = server().env().into_iter().map(|(k, v)| (k.to_string(), v));
    let err = BlobStore::open_with_env(&missing, env).await.unwrap_err();
    assert!(err.to_string().contains("s3://no-such-bucket"), "{err}");
}

#[test]
fn store_and_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_shared<T: Clone + Send + Sync + 'static>() {}
    assert_shared::<BlobStore>();

    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::file(dir.path()).unwrap();
    // What an axum handler needs: the futures can move between threads.
    assert_send(&store.put_stream(body(b"x", 1), 1, None));
    assert_send(&store.put_file(Path::new("x")));
    assert_send(&store.put_bytes(b"x"));
    assert_send(&store.open_blob("x"));
    assert_send(&store.read_small("x", 1));
    assert_send(&store.contains("x"));
}
