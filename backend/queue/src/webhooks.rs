//! Owners' webhooks: where an owner's final verdicts are posted, and the
//! deliveries the scripts queue for them (taken by one backend at a time,
//! retried with backoff until delivered or out of attempts).

use std::collections::BTreeMap;
use std::time::Duration;

use protocol::client::{DeliveryState, DeliveryView};

use crate::{Queue, Result, keys, scripts};

impl Queue {
    /// Sets `owner`'s webhook (replacing its URL and secret).
    pub async fn set_webhook(&self, owner: &str, url: &str, secret: &str) -> Result<()> {
        let key = keys::webhook(self.prefix(), owner);
        let mut write = redis::pipe();
        write.hset_multiple(key, &[("url", url), ("secret", secret)]);
        let _: () = self.acknowledged(&write).await?;
        Ok(())
    }

    /// Removes `owner`'s webhook; whether it had one. Pending deliveries to
    /// it fail when they fall due.
    pub async fn delete_webhook(&self, owner: &str) -> Result<bool> {
        let mut write = redis::pipe();
        write.del(keys::webhook(self.prefix(), owner));
        let removed: u64 = self.acknowledged(&write).await?;
        Ok(removed > 0)
    }

    /// `owner`'s webhook URL and its newest deliveries, or `None`.
    pub async fn webhook(&self, owner: &str) -> Result<Option<(String, Vec<DeliveryView>)>> {
        let (url, ids): (Option<String>, Vec<String>) = redis::pipe()
            .hget(keys::webhook(self.prefix(), owner), "url")
            .lrange(keys::webhook_deliveries(self.prefix(), owner), 0, -1)
            .query_async(&mut self.conn())
            .await?;
        let Some(url) = url else { return Ok(None) };
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.hgetall(keys::delivery(self.prefix(), id));
        }
        let records: Vec<BTreeMap<String, String>> = pipe.query_async(&mut self.conn()).await?;
        let deliveries =
            ids.into_iter().zip(records).filter_map(|(id, r)| delivery_view(id, &r)).collect();
        Ok(Some((url, deliveries)))
    }

    /// Deliveries that are due, hidden from other instances for `hide`.
    pub async fn take_deliveries(&self, limit: usize, hide: Duration) -> Result<Vec<DueDelivery>> {
        let flat: Vec<String> = self.script(&scripts::WebhookTake { limit, hide }).await?;
        Ok(flat
            .chunks_exact(4)
            .map(|c| DueDelivery {
                delivery_id: c[0].clone(),
                url: c[1].clone(),
                body: c[2].clone(),
                secret: c[3].clone(),
            })
            .collect())
    }

    /// Records one attempt at a delivery (see `lua/webhook_done.lua`).
    pub async fn delivery_attempted(
        &self,
        delivery_id: &str,
        attempt: &Attempt,
        policy: &RetryPolicy,
    ) -> Result<DeliveryState> {
        let reply: String = self
            .script(&scripts::WebhookDone {
                delivery_id,
                delivered: attempt.delivered,
                status_code: attempt.status_code,
                error: &attempt.error,
                max_attempts: policy.max_attempts,
                first_backoff: policy.first_backoff,
                max_backoff: policy.max_backoff,
            })
            .await?;
        Ok(match reply.as_str() {
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        })
    }
}

/// A delivery to attempt now.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub delivery_id: String,
    pub url: String,
    /// The JSON to post, exactly (the signature covers these bytes).
    pub body: String,
    pub secret: String,
}

/// How one attempt went.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    /// The receiver answered 2xx.
    pub delivered: bool,
    pub status_code: Option<u16>,
    pub error: String,
}

/// How failed deliveries are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    /// The wait after the first failure; it doubles after each one.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

fn delivery_view(id: String, r: &BTreeMap<String, String>) -> Option<DeliveryView> {
    let number = |name: &str| r.get(name).and_then(|v| v.parse::<f64>().ok()).map(|v| v as u64);
    let state = match r.get("state")?.as_str() {
        "delivered" => DeliveryState::Delivered,
        "failed" => DeliveryState::Failed,
        _ => DeliveryState::Pending,
    };
    Some(DeliveryView {
        delivery_id: id,
        submission_id: r.get("sub").cloned().unwrap_or_default(),
        state,
        attempts: number("attempts").map_or(0, |a| a as u32),
        last_status_code: number("last_code").and_then(|c| u16::try_from(c).ok()),
        last_error: r.get("last_error").cloned().unwrap_or_default(),
        created_at_ms: number("created_at").unwrap_or(0),
        next_attempt_at_ms: number("next_at"),
        delivered_at_ms: number("delivered_at"),
    })
}
