//! The runner's blob cache: sources, testdata and problem checkers by
//! SHA-256, on disk. A blob is downloaded once (concurrent jobs wanting the
//! same blob wait for one download), verified by hash before it enters the
//! cache, and the cache stays under a byte budget by evicting the least
//! recently used blobs that no running job holds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::client::{BackendClient, ClientError, Identity};

/// The largest blob a runner accepts.
pub const MAX_BLOB_BYTES: u64 = 1 << 30;

/// Blobs on disk, bounded by a byte budget.
#[derive(Debug)]
pub struct BlobCache {
    dir: PathBuf,
    budget: u64,
    /// Per-digest download locks, and how many jobs hold each blob.
    state: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    downloads: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
    pins: HashMap<String, usize>,
}

/// A blob a job is using: it is not evicted until the pin drops.
#[derive(Debug)]
pub struct Pinned {
    cache: Arc<BlobCache>,
    digest: String,
    pub path: PathBuf,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let mut state = self.cache.lock();
        if let Some(count) = state.pins.get_mut(&self.digest) {
            *count -= 1;
            if *count == 0 {
                state.pins.remove(&self.digest);
            }
        }
    }
}

impl BlobCache {
    /// Opens (creating) the cache in `dir`, removing partial downloads a
    /// crash left behind.
    pub fn open(dir: &Path, budget: u64) -> std::io::Result<Arc<BlobCache>> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "part") {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(Arc::new(BlobCache { dir: dir.to_path_buf(), budget, state: Mutex::default() }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The blob's path, downloading it first if needed; pinned until the
    /// returned guard drops.
    pub async fn get(
        self: &Arc<Self>,
        client: &BackendClient,
        me: &Identity,
        digest: &str,
    ) -> Result<Pinned, ClientError> {
        if !protocol::is_digest(digest) {
            return Err(ClientError::Blob { digest: digest.into(), reason: "not a digest".into() });
        }
        let path = self.dir.join(digest);
        let download = {
            let mut state = self.lock();
            *state.pins.entry(digest.to_string()).or_default() += 1;
            state.downloads.entry(digest.to_string()).or_default().clone()
        };
        let pinned = Pinned { cache: self.clone(), digest: digest.to_string(), path: path.clone() };
        let _one_at_a_time = download.lock().await;
        if tokio::fs::try_exists(&path).await? {
            touch(&path);
            return Ok(pinned);
        }
        let part = self.dir.join(format!("{digest}.part"));
        let result = client.download(me, digest, &part, MAX_BLOB_BYTES).await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(e);
        }
        tokio::fs::rename(&part, &path).await?;
        self.evict();
        Ok(pinned)
    }

    /// Removes least recently used, unpinned blobs until the cache fits its
    /// budget.
    fn evict(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let mut blobs: Vec<(SystemTime, u64, PathBuf, String)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let meta = e.metadata().ok()?;
                protocol::is_digest(&name).then(|| {
                    (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len(), e.path(), name)
                })
            })
            .collect();
        let mut total: u64 = blobs.iter().map(|b| b.1).sum();
        blobs.sort();
        let state = self.lock();
        for (_, size, path, name) in blobs {
            if total <= self.budget {
                break;
            }
            if state.pins.contains_key(&name) {
                continue;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= size;
            }
        }
    }
}

/// Marks a blob as just used (its modification time orders eviction).
fn touch(path: &Path) {
    if let Ok(file) = std::fs::File::options().write(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_drops_the_oldest_unpinned_blobs_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::open(dir.path(), 2500).unwrap();
        let names: Vec<String> = (1..=4u8).map(|n| format!("{n:02x}").repeat(32)).collect();
        for (age, name) in names.iter().enumerate() {
            let path = dir.path().join(name);
            std::fs::write(&path, vec![0u8; 1000]).unwrap();
            let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000 + age as u64);
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(when).unwrap();
        }
        // The oldest is pinned by a running job: the next oldest go instead.
        cache.lock().pins.insert(names[0].clone(), 1);
        cache.evict();
        let left: Vec<bool> = names.iter().map(|n| dir.path().join(n).exists()).collect();
        assert_eq!(left, [true, false, false, true]);
    }

    #[test]
    fn partial_downloads_are_removed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(format!("{}.part", "ab".repeat(32))), b"half").unwrap();
        BlobCache::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
