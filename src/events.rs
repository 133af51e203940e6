//! The security event log, written off the request path: handlers push events into a bounded
//! channel and a task stores them in batches. When the channel is full the request still
//! succeeds and the event is counted as dropped: an attacker flooding us must not be able to
//! slow every request down by slowing the event table, and the counter makes the loss visible.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::domain::event::SecurityEvent;
use crate::storage::Store;

const CAPACITY: usize = 10_000;
const BATCH: usize = 256;

enum Message {
    Event(SecurityEvent),
    /// Answered once every event sent before it is stored.
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct EventLog {
    sender: mpsc::Sender<Message>,
    dropped: Arc<AtomicU64>,
}

impl EventLog {
    /// Starts the writer task; it ends when every `EventLog` clone is dropped.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (sender, receiver) = mpsc::channel(CAPACITY);
        tokio::spawn(write_batches(store, receiver));
        Self {
            sender,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn record(&self, event: SecurityEvent) {
        if self.sender.try_send(Message::Event(event)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until every event recorded so far is stored (for tests and shutdown).
    pub async fn flush(&self) {
        let (done, stored) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = stored.await;
        }
    }
}

async fn write_batches(store: Arc<dyn Store>, mut receiver: mpsc::Receiver<Message>) {
    let mut messages = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut messages, BATCH).await > 0 {
        let mut flushes = Vec::new();
        let batch: Vec<SecurityEvent> = messages
            .drain(..)
            .filter_map(|m| match m {
                Message::Event(e) => Some(e),
                Message::Flush(done) => {
                    flushes.push(done);
                    None
                }
            })
            .collect();
        // A failed write is retried a few times, then given up (and logged) so the channel
        // keeps draining.
        let mut attempt = 0;
        while !batch.is_empty() {
            match store.insert_events(&batch).await {
                Ok(()) => break,
                Err(e) if attempt >= 2 => {
                    tracing::error!(error = %e, events = batch.len(), "could not store security events; dropped");
                    break;
                }
                Err(_) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}
