//! The durable outbox: every result is written to disk (and fsynced) before
//! it is sent, and sent until the backend acknowledges it (200) or refuses
//! its lease (409), across restarts. A result is never lost to a backend
//! that is down for minutes or to a runner that is restarted.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use protocol::runner::JobResult;
use serde::{Deserialize, Serialize};

/// One result waiting for delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The runner whose lease this is (a result is only ever sent as it).
    pub runner_id: String,
    pub job_id: String,
    pub lease: String,
    pub result: JobResult,
}

/// A folder of pending deliveries, one JSON file per job.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

const SUFFIX: &str = ".json";
const PARTIAL: &str = ".partial";

impl Outbox {
    /// Opens (creating) the outbox in `dir`, dropping half-written files a
    /// crash left behind (their result was never acknowledged as stored).
    pub fn open(dir: &Path) -> io::Result<Outbox> {
        fs::create_dir_all(dir)?;
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.to_string_lossy().ends_with(PARTIAL) {
                fs::remove_file(&path)?;
            }
        }
        Ok(Outbox { dir: dir.to_path_buf() })
    }

    fn path(&self, job_id: &str) -> PathBuf {
        // Job ids are the backend's (`jb_<ULID>`); keep only safe characters.
        let name: String = job_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        self.dir.join(format!("{name}{SUFFIX}"))
    }

    /// Stores a delivery durably: written beside, fsynced, renamed into
    /// place, and the folder fsynced.
    pub fn put(&self, delivery: &Delivery) -> io::Result<()> {
        let path = self.path(&delivery.job_id);
        let partial = PathBuf::from(format!("{}{PARTIAL}", path.display()));
        let mut file = fs::File::create(&partial)?;
        file.write_all(&serde_json::to_vec(delivery).map_err(io::Error::other)?)?;
        file.sync_all()?;
        fs::rename(&partial, &path)?;
        fs::File::open(&self.dir)?.sync_all()
    }

    /// Every pending delivery, oldest job first. Unreadable files are
    /// reported and skipped (kept on disk for a human to look at).
    pub fn pending(&self) -> io::Result<Vec<Delivery>> {
        let mut paths: Vec<PathBuf> = fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(SUFFIX))
            .collect();
        paths.sort();
        let mut out = Vec::new();
        for path in paths {
            match fs::read(&path).map(|bytes| serde_json::from_slice::<Delivery>(&bytes)) {
                Ok(Ok(delivery)) => out.push(delivery),
                Ok(Err(e)) => {
                    tracing::error!(path = %path.display(), error = %e, "unreadable outbox entry")
                }
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "unreadable outbox entry")
                }
            }
        }
        Ok(out)
    }

    /// Forgets a delivered (or refused) result.
    pub fn remove(&self, job_id: &str) -> io::Result<()> {
        match fs::remove_file(self.path(job_id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(job: &str) -> Delivery {
        Delivery {
            runner_id: "rn_1".into(),
            job_id: job.into(),
            lease: "ls_1".into(),
            result: judge_core::report::JudgeReport::from_tasks(String::new(), Vec::new()).into(),
        }
    }

    #[test]
    fn deliveries_survive_a_reopen_until_removed() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(dir.path()).unwrap();
        outbox.put(&delivery("jb_2")).unwrap();
        outbox.put(&delivery("jb_1")).unwrap();
        let reopened = Outbox::open(dir.path()).unwrap();
        let pending = reopened.pending().unwrap();
        assert_eq!(pending.iter().map(|d| d.job_id.as_str()).collect::<Vec<_>>(), ["jb_1", "jb_2"]);
        assert_eq!(pending[0], delivery("jb_1"));
        reopened.remove("jb_1").unwrap();
        reopened.remove("jb_1").unwrap();
        assert_eq!(reopened.pending().unwrap().len(), 1);
    }

    #[test]
    fn half_written_entries_are_dropped_and_junk_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("jb_9.json.partial"), b"{\"runner_id\":").unwrap();
        fs::write(dir.path().join("jb_8.json"), b"not json").unwrap();
        let outbox = Outbox::open(dir.path()).unwrap();
        assert!(!dir.path().join("jb_9.json.partial").exists());
        assert!(outbox.pending().unwrap().is_empty());
    }

    #[test]
    fn job_ids_cannot_name_paths_outside_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(&dir.path().join("outbox")).unwrap();
        outbox.put(&delivery("../../evil")).unwrap();
        assert!(dir.path().join("outbox/evil.json").exists());
    }
}
