//! Every blob the shared state refers to: the mark of the blob sweep (the
//! backend's `blob_gc`), and the lock that lets one backend instance sweep
//! at a time.
//!
//! A blob is referenced by
//! - a live problem revision: the current revision of each stored problem
//!   and every revision a submission or run still names (a rejudge runs the
//!   submission's own spec again); of each, its manifest (the revision is
//!   the manifest's digest), the files in `P..'revision:'..rev` and its
//!   compiled checker (`P..'compiled-checker:'..rev`);
//! - a problem's record;
//! - a submission or unexpired run: its source and whatever its job spec
//!   and Normal-OJ payload name;
//! - a queued or leased job's spec.
//!
//! Specs and records are JSON of several shapes; rather than parse each,
//! the mark takes every 64-hex-digit word in them ([`digests_in`]): a word
//! that is not a blob keeps nothing alive that exists, and a blob a spec
//! names is never missed.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use redis::AsyncCommands;

use crate::{Queue, Result, keys, millis};

/// Ids read per round trip while marking.
const MARK_PAGE: isize = 500;

/// Every 64-lowercase-hex-digit word in `text` (words are maximal runs of
/// hex digits, so a longer hex string is not cut into digests).
pub fn digests_in(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !matches!(c, '0'..='9' | 'a'..='f')).filter(|word| word.len() == 64)
}

impl Queue {
    /// The digests of every blob the state refers to now (see the module).
    /// Not one snapshot: something referenced while this runs may be
    /// missed, which is why the sweep spares blobs written within its grace
    /// period.
    pub async fn referenced_blobs(&self) -> Result<HashSet<String>> {
        let p = self.prefix();
        let mut conn = self.conn();
        let mut live = HashSet::new();
        let mut revisions = BTreeSet::new();
        let add_all = |live: &mut HashSet<String>, text: &str| {
            live.extend(digests_in(text).map(str::to_owned));
        };

        let problems: Vec<String> = conn.smembers(keys::problems(p)).await?;
        for ids in problems.chunks(MARK_PAGE as usize) {
            let mut pipe = redis::pipe();
            for id in ids {
                pipe.get(keys::problem_revision(p, id)).get(keys::problem(p, id));
            }
            let rows: Vec<Option<String>> = pipe.query_async(&mut conn).await?;
            for pair in rows.chunks(2) {
                if let Some(revision) = &pair[0] {
                    revisions.insert(revision.clone());
                }
                if let Some(record) = &pair[1] {
                    add_all(&mut live, record);
                }
            }
        }

        for index in [keys::submissions(p), keys::runs(p)] {
            let mut first = 0;
            loop {
                let ids: Vec<String> = conn.zrange(&index, first, first + MARK_PAGE - 1).await?;
                if ids.is_empty() {
                    break;
                }
                let mut pipe = redis::pipe();
                for id in &ids {
                    pipe.cmd("HMGET")
                        .arg(keys::submission(p, id))
                        .arg(&["revision", "source", "spec", "noj"]);
                }
                let rows: Vec<Vec<Option<String>>> = pipe.query_async(&mut conn).await?;
                for row in rows {
                    if let Some(revision) = row[0].as_deref().filter(|r| !r.is_empty()) {
                        revisions.insert(revision.to_owned());
                    }
                    for text in row.iter().flatten() {
                        add_all(&mut live, text);
                    }
                }
                if ids.len() < MARK_PAGE as usize {
                    break;
                }
                first += MARK_PAGE;
            }
        }

        let mut jobs: Vec<String> = conn.zrange(keys::pending(p), 0, -1).await?;
        jobs.extend(conn.zrange::<_, Vec<String>>(keys::leases(p), 0, -1).await?);
        for ids in jobs.chunks(MARK_PAGE as usize) {
            let mut pipe = redis::pipe();
            for id in ids {
                pipe.cmd("HMGET").arg(keys::job(p, id)).arg(&["spec", "noj"]);
            }
            let rows: Vec<Vec<Option<String>>> = pipe.query_async(&mut conn).await?;
            for text in rows.iter().flatten().flatten() {
                add_all(&mut live, text);
            }
        }

        for revision in &revisions {
            add_all(&mut live, revision);
            let (files, checker): (Vec<String>, Option<String>) = redis::pipe()
                .smembers(keys::revision(p, revision))
                .get(keys::compiled_checker(p, revision))
                .query_async(&mut conn)
                .await?;
            live.extend(files);
            if let Some(checker) = checker {
                add_all(&mut live, &checker);
            }
        }
        Ok(live)
    }

    /// Takes the sweep lock for `ttl` under `token` (random, this sweep's):
    /// whether no other instance holds it.
    pub async fn lock_blob_sweep(&self, token: &str, ttl: Duration) -> Result<bool> {
        let set: Option<String> = redis::cmd("SET")
            .arg(keys::gc_lock(self.prefix()))
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl).max(1))
            .query_async(&mut self.conn())
            .await?;
        Ok(set.is_some())
    }

    /// Releases the sweep lock if `token` still holds it.
    pub async fn unlock_blob_sweep(&self, token: &str) -> Result<()> {
        const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
                               return redis.call('DEL', KEYS[1]) end return 0";
        let _: i64 = redis::Script::new(RELEASE)
            .key(keys::gc_lock(self.prefix()))
            .arg(token)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Counts a finished sweep in the shared counters (`/metrics`): blobs
    /// and bytes removed, and when it ended (ms, Redis's clock).
    pub async fn record_blob_sweep(&self, blobs: u64, bytes: u64) -> Result<()> {
        let now = self.server_time_ms().await?;
        let stats = keys::stats(self.prefix());
        let _: () = redis::pipe()
            .hincr(&stats, "gc_swept_blobs", blobs)
            .hincr(&stats, "gc_swept_bytes", bytes)
            .hincr(&stats, "gc_runs", 1)
            .hset(&stats, "gc_last_run_ms", now)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::digests_in;

    #[test]
    fn digests_are_whole_64_hex_digit_words() {
        let a = "a".repeat(64);
        let b = "0123456789abcdef".repeat(4);
        let text = format!(
            r#"{{"source":{{"digest":"{a}"}},"files":["{b}"],"long":"{a}0","upper":"{}","x":1}}"#,
            a.to_uppercase()
        );
        assert_eq!(digests_in(&text).collect::<Vec<_>>(), [a.as_str(), b.as_str()]);
        assert_eq!(digests_in(&a).count(), 1);
        assert_eq!(digests_in("").count(), 0);
    }
}
