//! Turns Redis pub/sub into in-process wake-ups, so nothing on the server
//! sleep-polls: long-polls park in [`Listener::park`] and are woken one per
//! claimable job (see `waiters.rs`), SSE streams follow [`Listener::events`]
//! (a submission's log grew). One subscription per backend instance serves
//! every waiter. After a lost connection the listener resubscribes and wakes
//! everyone, so a message missed meanwhile only costs waiters one extra look;
//! when the queue switches to a new primary (Sentinels, see `topology`) it
//! drops its subscription to the old one and subscribes on the new.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{broadcast, watch};

use crate::keys;
use crate::topology::Node;
use crate::waiters::{Waiter, Waiters, Wake};

/// In-process fan-out of the queue's channels.
#[derive(Clone)]
pub struct Listener {
    waiters: Waiters,
    events: broadcast::Sender<Arc<str>>,
}

impl Listener {
    pub(crate) fn spawn(primary: watch::Receiver<Arc<Node>>, prefix: String) -> Listener {
        let (events, _) = broadcast::channel(4096);
        let listener = Listener { waiters: Waiters::default(), events };
        tokio::spawn(listener.clone().run(primary, prefix));
        listener
    }

    /// Parks a long-poll until a job its runner can run is queued (see
    /// [`Waiter`]). Park before the first claim, so a job queued between the
    /// claim and the wait is not missed.
    pub fn park(&self) -> Waiter {
        self.waiters.park()
    }

    /// This instance's parked long-polls.
    pub fn waiters(&self) -> &Waiters {
        &self.waiters
    }

    /// Submission ids whose event log grew (or `*` after a reconnect: every
    /// stream should look again).
    pub fn events(&self) -> broadcast::Receiver<Arc<str>> {
        self.events.subscribe()
    }

    fn wake_everyone(&self) {
        self.waiters.wake_all();
        let _ = self.events.send(Arc::from("*"));
    }

    async fn run(self, mut primary: watch::Receiver<Arc<Node>>, prefix: String) {
        let wake_channel = keys::wake_channel(&prefix);
        let events_pattern = keys::events_channel(&prefix, "*");
        let events_prefix = keys::events_channel(&prefix, "");
        let mut backoff = Duration::from_millis(100);
        loop {
            let client = primary.borrow_and_update().client.clone();
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => {
                    let subscribed = async {
                        pubsub.subscribe(&wake_channel).await?;
                        pubsub.psubscribe(&events_pattern).await
                    };
                    if let Err(e) = subscribed.await {
                        tracing::warn!(error = %e, "subscribing to the queue's channels failed");
                    } else {
                        backoff = Duration::from_millis(100);
                        // Whatever was published while we were away.
                        self.wake_everyone();
                        let mut messages = pubsub.on_message();
                        loop {
                            let message = tokio::select! {
                                message = messages.next() => message,
                                // A new primary: subscribe there.
                                changed = primary.changed() => match changed {
                                    Ok(()) => break,
                                    Err(_) => return,
                                },
                            };
                            let Some(message) = message else { break };
                            let channel = message.get_channel_name();
                            if channel == wake_channel {
                                let payload: String = message.get_payload().unwrap_or_default();
                                match Wake::parse(&payload) {
                                    Some(wake) => self.waiters.dispatch(wake),
                                    // A runner's capabilities changed.
                                    None => self.waiters.wake_all(),
                                }
                            } else if let Some(sid) = channel.strip_prefix(&events_prefix) {
                                let _ = self.events.send(Arc::from(sid));
                            }
                        }
                        tracing::warn!("lost the queue's pub/sub connection; reconnecting");
                        self.wake_everyone();
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "connecting to redis for pub/sub failed"),
            }
            // Or at once when the queue switches to a new primary.
            if let Ok(Err(_)) = tokio::time::timeout(backoff, primary.changed()).await {
                return; // The queue is gone.
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
            self.wake_everyone();
        }
    }
}
