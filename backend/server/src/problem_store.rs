//! Problems as the backend keeps them: [`ProblemRecord`] (what Redis holds
//! for a problem: its view and its manifest blob) and [`ProblemCache`],
//! this instance's copies of the records for building submissions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use protocol::client::ProblemView;
use protocol::runner::BlobRef;
use queue::Queue;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

/// What Redis keeps for a problem: its view and its manifest blob.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProblemRecord {
    pub view: ProblemView,
    pub manifest: BlobRef,
}

impl ProblemRecord {
    /// The problem's record as Redis holds it now.
    pub async fn load(queue: &Queue, id: &str) -> ApiResult<Option<ProblemRecord>> {
        match queue.problem(id).await? {
            None => Ok(None),
            Some(json) => serde_json::from_str(&json).map(Some).map_err(ApiError::internal),
        }
    }
}

/// Problem records by id, as last read (see [`ProblemCache::record`]).
#[derive(Clone, Default)]
pub struct ProblemCache(Arc<Mutex<HashMap<String, Arc<ProblemRecord>>>>);

/// Most problems cached at once (emptied when full).
const PROBLEM_CACHE_CAPACITY: usize = 4096;

impl ProblemCache {
    /// The record as this instance last read it, or read now when there is
    /// none or `fresh` is asked. Only for building submissions: their
    /// script refuses one built from a revision that is no longer the
    /// problem's (`Submitted::ProblemChanged`), and the caller reads afresh.
    pub async fn record(
        &self,
        queue: &Queue,
        id: &str,
        fresh: bool,
    ) -> ApiResult<Option<Arc<ProblemRecord>>> {
        if !fresh && let Some(record) = self.get(id) {
            return Ok(Some(record));
        }
        let record = ProblemRecord::load(queue, id).await?.map(Arc::new);
        match &record {
            Some(record) => self.put(id, record.clone()),
            None => self.forget(id),
        }
        Ok(record)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ProblemRecord>>> {
        // A cache: any state after a panic is fine (single inserts/removes).
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, id: &str) -> Option<Arc<ProblemRecord>> {
        self.lock().get(id).cloned()
    }

    /// Remembers `record` (a problem just stored).
    pub fn put(&self, id: &str, record: Arc<ProblemRecord>) {
        let mut cache = self.lock();
        if cache.len() >= PROBLEM_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(id.to_string(), record);
    }

    fn forget(&self, id: &str) {
        self.lock().remove(id);
    }
}
