//! API clients: a client's record and the index from its token's hash to
//! its id (the server checks bearer tokens against it).

use redis::AsyncCommands;

use crate::{Queue, Result, keys};

impl Queue {
    pub async fn create_client(&self, client_id: &str, name: &str, token_hash: &str) -> Result<()> {
        let _: () = redis::pipe()
            .atomic()
            .hset_multiple(keys::client(self.prefix(), client_id), &[("name", name)])
            .set(keys::client_token(self.prefix(), token_hash), client_id)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// The client a token (its SHA-256) belongs to.
    pub async fn client_for_token(&self, token_hash: &str) -> Result<Option<String>> {
        Ok(self.conn().get(keys::client_token(self.prefix(), token_hash)).await?)
    }
}
