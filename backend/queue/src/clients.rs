//! API clients: a client's record and the index from its token's hash to
//! its id (the server checks bearer tokens against it); what the admin sets
//! on a client — its priority class and weight (fair dispatch, see
//! `lua/lib.lua`) and its quotas — and the per-client counts `/metrics`
//! shows.

use std::collections::BTreeMap;
use std::time::Duration;

pub use protocol::client::PriorityClass;
use redis::AsyncCommands;

use crate::{Queue, QueueError, Result, keys, scripts};

/// Per-client limits on creates (submissions and code runs together),
/// checked by the script that stores a record. The admin token has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Creates in any 60 s.
    pub creates_per_minute: u32,
    /// Live jobs queued (not yet leased) at once.
    pub max_queued: u32,
}

/// The quotas of a client the admin set none on: room for a busy contest
/// front-end (20 creates a second, sustained; two thousand waiting), while
/// a runaway one is stopped within a minute.
pub const DEFAULT_QUOTAS: Quotas = Quotas { creates_per_minute: 1200, max_queued: 2000 };

/// The highest quota the admin may set: a minute's creates are kept one
/// entry each.
pub const QUOTA_CEILING: u32 = 100_000;

/// The highest weight the admin may set.
pub const MAX_WEIGHT: u32 = 1000;

/// What applies to a client now: what the admin set, else the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    pub name: String,
    pub class: PriorityClass,
    pub weight: u32,
    pub quotas: Quotas,
}

/// What the admin changes on a client (`None`: unchanged). The caller
/// checks the ranges (weight 1..=[`MAX_WEIGHT`], quotas
/// 1..=[`QUOTA_CEILING`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientUpdate {
    pub class: Option<PriorityClass>,
    pub weight: Option<u32>,
    pub creates_per_minute: Option<u32>,
    pub max_queued: Option<u32>,
}

/// A create refused by a quota: nothing was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// `queue_full` (too many jobs queued at once) or `rate_limited` (too
    /// many creates in the last minute).
    pub reason: &'static str,
    /// When a retry may pass.
    pub retry_after: Duration,
}

impl Refusal {
    /// A quota script's answer `{reason, ms}`.
    pub(crate) fn read(reason: &str, ms: &str) -> Result<Refusal> {
        let reason = match reason {
            "queue_full" => "queue_full",
            "rate_limited" => "rate_limited",
            other => return Err(QueueError::Corrupt(format!("quota answered {other:?}"))),
        };
        let ms = ms.parse().map_err(|_| QueueError::Corrupt(format!("quota retry {ms:?}")))?;
        Ok(Refusal { reason, retry_after: Duration::from_millis(ms) })
    }
}

/// One owner's jobs now and its refused creates so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerCounts {
    pub queued: u64,
    pub running: u64,
    /// By reason (`queue_full`, `rate_limited`).
    pub refused: BTreeMap<String, u64>,
}

impl Queue {
    pub async fn create_client(&self, client_id: &str, name: &str, token_hash: &str) -> Result<()> {
        // One transaction, spelled out so `acknowledged` can follow it
        // with `WAIT` (the answer is EXEC's).
        let mut write = redis::pipe();
        write
            .cmd("MULTI")
            .ignore()
            .hset_multiple(keys::client(self.prefix(), client_id), &[("name", name)])
            .ignore()
            .set(keys::client_token(self.prefix(), token_hash), client_id)
            .ignore()
            .cmd("EXEC");
        let _: redis::Value = self.acknowledged(&write).await?;
        Ok(())
    }

    /// The client a token (its SHA-256) belongs to.
    pub async fn client_for_token(&self, token_hash: &str) -> Result<Option<String>> {
        Ok(self.conn().get(keys::client_token(self.prefix(), token_hash)).await?)
    }

    /// What applies to client `client_id` now; `None` if there is no such
    /// client.
    pub async fn client(&self, client_id: &str) -> Result<Option<ClientSettings>> {
        let fields: BTreeMap<String, String> =
            self.conn().hgetall(keys::client(self.prefix(), client_id)).await?;
        let Some(name) = fields.get("name") else { return Ok(None) };
        let number = |field: &str| fields.get(field).and_then(|v| v.parse::<u32>().ok());
        let defaults = self.config.quotas;
        Ok(Some(ClientSettings {
            name: name.clone(),
            class: match fields.get("class").map(String::as_str) {
                Some("contest") => PriorityClass::Contest,
                _ => PriorityClass::Practice,
            },
            weight: number("weight").unwrap_or(1),
            quotas: Quotas {
                creates_per_minute: number("creates_per_minute")
                    .unwrap_or(defaults.creates_per_minute),
                max_queued: number("max_queued").unwrap_or(defaults.max_queued),
            },
        }))
    }

    /// Changes what the admin sets on a client, at once
    /// (`lua/client_set.lua`); `false` if there is no such client.
    pub async fn update_client(&self, client_id: &str, update: &ClientUpdate) -> Result<bool> {
        let mut fields = Vec::new();
        if let Some(class) = update.class {
            fields.push(("class", class.as_str().to_string()));
        }
        let numbers = [
            ("weight", update.weight),
            ("creates_per_minute", update.creates_per_minute),
            ("max_queued", update.max_queued),
        ];
        for (field, value) in numbers {
            if let Some(value) = value {
                fields.push((field, value.to_string()));
            }
        }
        let reply: String = self.script(&scripts::ClientSet { client_id, fields }).await?;
        Ok(reply == "ok")
    }

    /// Whether `owner` is over a quota for one more create now (a read;
    /// the create decides again, atomically). Asked before anything is
    /// stored outside Redis for a create.
    pub async fn over_quota(&self, owner: &str) -> Result<Option<Refusal>> {
        let call = scripts::Quota { owner, default_quotas: self.config.quotas };
        let reply: Vec<String> = self.script(&call).await?;
        match reply.as_slice() {
            [] => Ok(None),
            [reason, ms] => Refusal::read(reason, ms).map(Some),
            other => Err(QueueError::Corrupt(format!("quota answered {other:?}"))),
        }
    }

    /// Each owner's queued and running jobs now and its refused creates,
    /// for `/metrics`: owners with none of them are left out.
    pub async fn owner_counts(&self) -> Result<BTreeMap<String, OwnerCounts>> {
        let flat: Vec<String> = self.script(&scripts::ClientStats).await?;
        let refused: BTreeMap<String, u64> =
            self.conn().hgetall(keys::refused(self.prefix())).await?;
        let mut counts: BTreeMap<String, OwnerCounts> = BTreeMap::new();
        for row in flat.chunks(3) {
            let [owner, queued, running] = row else {
                return Err(QueueError::Corrupt(format!("client stats answered {flat:?}")));
            };
            let entry = counts.entry(owner.clone()).or_default();
            entry.queued = queued.parse().unwrap_or(0);
            entry.running = running.parse().unwrap_or(0);
        }
        for (field, n) in refused {
            // `owner:reason`; owners have no ':'.
            if let Some((owner, reason)) = field.split_once(':') {
                counts.entry(owner.to_string()).or_default().refused.insert(reason.to_string(), n);
            }
        }
        Ok(counts)
    }
}
