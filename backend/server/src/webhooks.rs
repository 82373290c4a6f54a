//! The webhook sender: every backend instance takes the deliveries that are
//! due (a Lua script hides each from the others while it is tried), posts
//! them, and records the outcome; failures are retried with exponential
//! backoff until the attempts are spent. Delivery state lives in Redis, so
//! a killed instance loses nothing: its deliveries fall due again.
//!
//! Each post carries `Gavel-Delivery: <id>` and `Gavel-Signature:
//! t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the
//! webhook's secret>`. A receiver recomputes it over the raw body, compares
//! in constant time, and refuses a `t` more than five minutes away from its
//! clock (replays); the delivery id makes retries idempotent.
//!
//! Before each post the URL is vetted again (`webhook_target`): its name is
//! resolved once, every address must pass the egress policy, and the post
//! connects to those addresses only, on a client made for the delivery (no
//! proxy, no redirects, no other lookup). A refused target is a failed
//! attempt whose `last_error` says why.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use queue::{Attempt, DueDelivery, Queue, RetryPolicy};
use sha2::Sha256;
use tokio::sync::watch;

use crate::webhook_target::{Target, WebhookEgress};

/// How failed deliveries are retried: 1 s, 2 s, 4 s … at most 5 min apart,
/// 8 attempts (about 8 minutes in all).
pub const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 8,
    first_backoff: Duration::from_secs(1),
    max_backoff: Duration::from_secs(300),
};
/// How long one post may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a taken delivery stays hidden from other instances.
const HIDE: Duration = Duration::from_secs(30);
/// Deliveries posted at once by one instance.
const BATCH: usize = 32;
/// How often an idle sender looks for due deliveries.
const IDLE: Duration = Duration::from_millis(250);

/// The `Gavel-Signature` value of `body` sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: u64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts due deliveries until shutdown, each only to where `egress` lets
/// it go.
pub async fn send(queue: Queue, egress: WebhookEgress, mut shutdown: watch::Receiver<bool>) {
    loop {
        let due = match queue.take_deliveries(BATCH, HIDE).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "taking due webhook deliveries failed");
                Vec::new()
            }
        };
        let idle = due.is_empty();
        let posts = due.into_iter().map(|delivery| deliver(&queue, &egress, delivery));
        futures_util::future::join_all(posts).await;
        if idle {
            tokio::select! {
                () = tokio::time::sleep(IDLE) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }
}

async fn deliver(queue: &Queue, egress: &WebhookEgress, delivery: DueDelivery) {
    let attempt = attempt(egress, &delivery).await;
    match queue.delivery_attempted(&delivery.delivery_id, &attempt, &RETRY).await {
        Ok(state) => tracing::info!(
            delivery_id = delivery.delivery_id,
            ?state,
            code = attempt.status_code,
            error = attempt.error,
            "webhook attempted"
        ),
        Err(e) => {
            tracing::warn!(delivery_id = delivery.delivery_id, error = %e, "recording a webhook attempt failed")
        }
    }
}

/// One try: the URL vetted (its name resolved once), then posted to the
/// vetted addresses. A refused target is a failed attempt like any other,
/// retried while the policy allows.
async fn attempt(egress: &WebhookEgress, delivery: &DueDelivery) -> Attempt {
    let failed = |error: String| Attempt { delivered: false, status_code: None, error };
    let target = match egress.vet(&delivery.url).await {
        Ok(target) => target,
        Err(vetoed) => return failed(format!("not sent: {vetoed}")),
    };
    let http = match client(&target) {
        Ok(http) => http,
        Err(e) => return failed(format!("not sent: no HTTP client: {e}")),
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let sent = http
        .post(target.url)
        .header("Content-Type", "application/json")
        .header("Gavel-Delivery", &delivery.delivery_id)
        .header("Gavel-Signature", signature(&delivery.secret, now, &delivery.body))
        .body(delivery.body.clone())
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => Attempt {
            delivered: true,
            status_code: Some(response.status().as_u16()),
            error: String::new(),
        },
        Ok(response) => Attempt {
            delivered: false,
            status_code: Some(response.status().as_u16()),
            error: format!("the receiver answered {}", response.status()),
        },
        Err(e) => failed(e.to_string()),
    }
}

/// The client of one delivery: a name connects only to its vetted
/// addresses, and nothing else is ever looked up ([`NoLookups`]); no proxy
/// (a proxy would connect where it likes); redirects are not followed (a
/// `3xx` is a failed attempt), so no answer can send a post elsewhere.
fn client(target: &Target) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(NoLookups))
        .user_agent(concat!("gavel-webhooks/", env!("CARGO_PKG_VERSION")));
    if let Some((name, addresses)) = &target.pinned {
        builder = builder.resolve_to_addrs(name, addresses);
    }
    builder.build()
}

/// The sender's DNS: every name a post may reach was resolved and vetted
/// already, so any other lookup is refused.
struct NoLookups;

impl reqwest::dns::Resolve for NoLookups {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let error = format!("{} was not vetted: the sender looks up no names", name.as_str());
        Box::pin(std::future::ready(Err(error.into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_exact_body() {
        let sig = signature("whsec_k", 1_700_000_000, r#"{"a":1}"#);
        assert!(sig.starts_with("t=1700000000,v1=") && sig.len() == 16 + 64, "{sig}");
        assert_ne!(sig, signature("whsec_k", 1_700_000_000, r#"{"a":2}"#));
        assert_ne!(sig, signature("whsec_k", 1_700_000_001, r#"{"a":1}"#));
        assert_ne!(sig, signature("whsec_other", 1_700_000_000, r#"{"a":1}"#));
        assert_eq!(sig, signature("whsec_k", 1_700_000_000, r#"{"a":1}"#));
    }
}
