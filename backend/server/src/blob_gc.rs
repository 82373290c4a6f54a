//! Retention's background work: the periodic sweep of expired code runs
//! from their listing ([`sweep_runs`]) and the blob sweep ([`sweep_blobs`], every interval:
//! [`sweep_blobs_every`]),
//! which removes blobs nothing refers to.
//!
//! The blob sweep is mark and sweep with a grace period, safe against
//! uploads running beside it:
//!
//! 1. **Lock**: one backend instance sweeps at a time (`P..'gc-lock'`, a
//!    random token with an expiry of [`LOCK_TTL`]; an instance that dies
//!    mid-sweep leaves it to expire). Two sweeps at once would still be
//!    safe, only wasteful.
//! 2. **Cutoff**, taken before the mark: now minus the grace period.
//! 3. **Mark**: every blob the shared state refers to
//!    (`Queue::referenced_blobs`: live problem revisions, problem records,
//!    submissions, unexpired runs, queued and leased jobs, compiled
//!    checkers).
//! 4. **Sweep**: every listed blob that is not marked and was last stored
//!    before the cutoff is removed.
//!
//! A blob referenced after the mark began was stored (or stored again,
//! which renews its time: `blobstore`'s rule) less than the grace period
//! before it was referenced, hence after the cutoff, and is spared; so an
//! upload has the grace period to be referenced. The clocks of the backend
//! and an object store may differ by less than the grace period.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use blobstore::{BlobStore, StoredBlob};
use queue::{Queue, Retention};
use tokio::sync::watch;

/// How long the sweep lock lasts: longer than a sweep takes.
pub const LOCK_TTL: Duration = Duration::from_secs(600);
/// How often expired runs are swept from their listing.
const RETENTION_SWEEP_EVERY: Duration = Duration::from_secs(60);
/// The longest the test hook holds a sweep.
const HOLD_AT_MOST: Duration = Duration::from_secs(120);

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub blobs: u64,
    pub bytes: u64,
}

/// The blobs to remove among `listed` (pure): not in `live`, and last
/// stored before `cutoff`.
pub fn garbage<'a>(
    listed: &'a [StoredBlob],
    live: &HashSet<String>,
    cutoff: SystemTime,
) -> impl Iterator<Item = &'a StoredBlob> {
    listed.iter().filter(move |blob| !live.contains(&blob.digest) && blob.modified < cutoff)
}

/// One blob sweep (see the module), unless another instance holds the
/// lock (`Ok(None)`). `hold`: the test hook (`test_blob_gc_hold`): after
/// the mark, wait while that file exists, having created `FILE.held`.
pub async fn sweep_blobs(
    queue: &Queue,
    blobs: &BlobStore,
    grace: Duration,
    hold: Option<&Path>,
) -> anyhow::Result<Option<Swept>> {
    let token = ulid::Ulid::new().to_string();
    if !queue.lock_blob_sweep(&token, LOCK_TTL).await? {
        return Ok(None);
    }
    let swept = mark_and_sweep(queue, blobs, grace, hold).await;
    let unlocked = queue.unlock_blob_sweep(&token).await;
    let swept = swept?;
    unlocked?;
    queue.record_blob_sweep(swept.blobs, swept.bytes).await?;
    Ok(Some(swept))
}

async fn mark_and_sweep(
    queue: &Queue,
    blobs: &BlobStore,
    grace: Duration,
    hold: Option<&Path>,
) -> anyhow::Result<Swept> {
    let cutoff = SystemTime::now() - grace;
    let live = queue.referenced_blobs().await.context("marking referenced blobs")?;
    if let Some(hold) = hold {
        held(hold).await;
    }
    let listed = blobs.list().await.context("listing blobs")?;
    let mut swept = Swept::default();
    for blob in garbage(&listed, &live, cutoff) {
        blobs.delete(&blob.digest).await.with_context(|| format!("removing {}", blob.digest))?;
        tracing::debug!(digest = %blob.digest, size = blob.size, "swept an unreferenced blob");
        swept.blobs += 1;
        swept.bytes += blob.size;
    }
    Ok(swept)
}

/// The test hook: while `file` exists (at most [`HOLD_AT_MOST`]), wait,
/// with `file.held` created to say so.
async fn held(file: &Path) {
    if !file.exists() {
        return;
    }
    let mut signal = file.as_os_str().to_owned();
    signal.push(".held");
    let _ = std::fs::write(&signal, b"");
    let start = tokio::time::Instant::now();
    while file.exists() && start.elapsed() < HOLD_AT_MOST {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = std::fs::remove_file(&signal);
}

/// Sweeps expired runs from their listing every minute (recording the
/// retention for the scripts) until `shutdown`.
pub async fn sweep_runs(queue: Queue, retention: Retention, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(RETENTION_SWEEP_EVERY) => {}
            () = stopped(&mut shutdown) => return,
        }
        match queue.sweep_retention(retention).await {
            Ok(0) => {}
            Ok(dropped) => tracing::info!(dropped, "expired code runs left the listing"),
            Err(e) => tracing::warn!(error = %e, "sweeping expired runs failed"),
        }
    }
}

/// Sweeps blobs `interval` after the last sweep ended, until `shutdown`.
pub async fn sweep_blobs_every(
    queue: Queue,
    blobs: BlobStore,
    interval: Duration,
    grace: Duration,
    hold: Option<std::path::PathBuf>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = stopped(&mut shutdown) => return,
        }
        match sweep_blobs(&queue, &blobs, grace, hold.as_deref()).await {
            Ok(Some(swept)) => {
                tracing::info!(blobs = swept.blobs, bytes = swept.bytes, "blob sweep done");
            }
            Ok(None) => tracing::debug!("another instance is sweeping blobs"),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "blob sweep failed"),
        }
    }
}

/// Resolves once `shutdown` turns true (holding no borrow of it after).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(n: u8, age_s: u64, now: SystemTime) -> StoredBlob {
        StoredBlob {
            digest: format!("{n:02x}").repeat(32),
            size: u64::from(n),
            modified: now - Duration::from_secs(age_s),
        }
    }

    #[test]
    fn only_unreferenced_blobs_older_than_the_cutoff_are_garbage() {
        let now = SystemTime::now();
        let listed = [blob(1, 7200, now), blob(2, 7200, now), blob(3, 10, now), blob(4, 3600, now)];
        let live: HashSet<String> = [listed[1].digest.clone()].into();
        let cutoff = now - Duration::from_secs(3600);
        let swept: Vec<u64> = garbage(&listed, &live, cutoff).map(|b| b.size).collect();
        assert_eq!(swept, [1], "2 is referenced, 3 is young, 4 is exactly at the cutoff");
    }
}
