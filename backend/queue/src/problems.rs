//! Problems: a problem's record (JSON, as the server builds it) and the set
//! of blobs its revision reads, stored together; and the listing of them.

use redis::AsyncCommands;

use crate::{Queue, Result, keys, scripts};

impl Queue {
    /// Stores a problem's record and its revision's blob set atomically;
    /// returns whether it replaced an existing problem.
    pub async fn put_problem(
        &self,
        id: &str,
        revision: &str,
        record_json: &str,
        digests: impl IntoIterator<Item = &str>,
    ) -> Result<bool> {
        let digests = digests.into_iter().collect();
        let reply: String =
            self.script(&scripts::PutProblem { id, revision, record_json, digests }).await?;
        Ok(reply == "replaced")
    }

    pub async fn problem(&self, id: &str) -> Result<Option<String>> {
        Ok(self.conn().get(keys::problem(self.prefix(), id)).await?)
    }

    /// The checker program of problem revision `revision` as a runner
    /// compiled it (its checker is C/C++ source), if one has.
    pub async fn compiled_checker(&self, revision: &str) -> Result<Option<String>> {
        Ok(self.conn().get(keys::compiled_checker(self.prefix(), revision)).await?)
    }

    /// Whether problem revision `revision` was ever stored (its blob set
    /// exists).
    pub async fn revision_exists(&self, revision: &str) -> Result<bool> {
        Ok(self.conn().exists(keys::revision(self.prefix(), revision)).await?)
    }

    /// Records a runner's compile of revision `revision`'s checker (blob
    /// `digest`, `blob_json` its reference): the blob joins the revision's
    /// set first, so runners holding its jobs may read it once it is named.
    pub async fn put_compiled_checker(
        &self,
        revision: &str,
        digest: &str,
        blob_json: &str,
    ) -> Result<()> {
        let prefix = self.prefix();
        let _: () = redis::pipe()
            .atomic()
            .sadd(keys::revision(prefix, revision), digest)
            .set(keys::compiled_checker(prefix, revision), blob_json)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    pub async fn problem_ids(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = self.conn().smembers(keys::problems(self.prefix())).await?;
        ids.sort();
        Ok(ids)
    }
}
