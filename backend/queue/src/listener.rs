//! Turns Redis pub/sub into in-process wake-ups, so nothing on the server
//! sleep-polls: long-polls wait on [`Listener::wake`] (a job became
//! claimable) and SSE streams on [`Listener::events`] (a submission's log
//! grew). One subscription per backend instance serves every waiter. After a
//! lost connection the listener resubscribes and wakes everyone, so a message
//! missed meanwhile only costs waiters one extra look.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{Notify, broadcast};

/// In-process fan-out of the queue's channels.
#[derive(Clone)]
pub struct Listener {
    wake: Arc<Notify>,
    events: broadcast::Sender<Arc<str>>,
}

impl Listener {
    pub(crate) fn spawn(client: redis::Client, prefix: String) -> Listener {
        let (events, _) = broadcast::channel(4096);
        let listener = Listener { wake: Arc::new(Notify::new()), events };
        tokio::spawn(listener.clone().run(client, prefix));
        listener
    }

    /// Notified whenever a job may have become claimable. Create the
    /// `notified()` future (and `enable` it) before looking at the queue, so
    /// a wake-up between the look and the wait is not lost.
    pub fn wake(&self) -> &Notify {
        &self.wake
    }

    /// Submission ids whose event log grew (or `*` after a reconnect: every
    /// stream should look again).
    pub fn events(&self) -> broadcast::Receiver<Arc<str>> {
        self.events.subscribe()
    }

    fn wake_everyone(&self) {
        self.wake.notify_waiters();
        let _ = self.events.send(Arc::from("*"));
    }

    async fn run(self, client: redis::Client, prefix: String) {
        let wake_channel = format!("{prefix}wake");
        let events_pattern = format!("{prefix}events:*");
        let events_prefix = format!("{prefix}events:");
        let mut backoff = Duration::from_millis(100);
        loop {
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
                        while let Some(message) = messages.next().await {
                            let channel = message.get_channel_name();
                            if channel == wake_channel {
                                self.wake.notify_waiters();
                            } else if let Some(sid) = channel.strip_prefix(&events_prefix) {
                                let _ = self.events.send(Arc::from(sid));
                            }
                        }
                        tracing::warn!("lost the queue's pub/sub connection; reconnecting");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "connecting to redis for pub/sub failed"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
            self.wake_everyone();
        }
    }
}
