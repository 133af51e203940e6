//! The security event log, written off the request path: handlers push events into a bounded
//! channel and a task stores them in batches. When the channel is full the request still
//! succeeds and the event is counted as dropped: an attacker flooding us must not be able to
//! slow every request down by slowing the event table, and the counter makes the loss visible.
//!
//! client_credentials tokens are not events: services mint them at rates where a row per token
//! would be most of the database's writes. They are counted in memory per client and minute,
//! and the same task adds each ended minute's counts to the store (`token_issuance_counts`),
//! one row per client and minute; a flush stores the current minute's too.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::domain::event::SecurityEvent;
use crate::domain::{ClientId, Clock, UnixTime};
use crate::storage::{IssuanceCount, Store, StoreError};

const CAPACITY: usize = 10_000;
const BATCH: usize = 256;
/// How often the writer looks for ended minutes of issuance counts to store.
const ISSUANCE_CHECK: Duration = Duration::from_secs(5);

enum Message {
    Event(SecurityEvent),
    /// Answered once every event sent before it, and every issuance counted before it, is
    /// stored.
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct EventLog {
    sender: mpsc::Sender<Message>,
    dropped: Arc<AtomicU64>,
    issuance: Arc<IssuanceTally>,
}

impl EventLog {
    /// Starts the writer task; it ends when every `EventLog` clone is dropped, after storing
    /// what is still counted. `clock` tells it which minutes have ended.
    pub fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let (sender, receiver) = mpsc::channel(CAPACITY);
        let issuance = Arc::new(IssuanceTally::default());
        tokio::spawn(write_batches(store, clock, issuance.clone(), receiver));
        Self {
            sender,
            dropped: Arc::new(AtomicU64::new(0)),
            issuance,
        }
    }

    pub fn record(&self, event: SecurityEvent) {
        if self.sender.try_send(Message::Event(event)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a client_credentials token issued to `client_id` at `at`, in place of a
    /// `token_issued` event.
    pub fn count_issuance(&self, client_id: &ClientId, at: UnixTime) {
        self.issuance.count(client_id, at);
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until every event recorded and every token counted so far is stored (for tests,
    /// the command line and shutdown).
    pub async fn flush(&self) {
        let (done, stored) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = stored.await;
        }
    }
}

/// One client's tokens in one minute, not yet stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MinuteCount {
    minute: UnixTime,
    count: i64,
    first_at: UnixTime,
    last_at: UnixTime,
}

/// The issuance counts not yet stored, by client. Only authenticated clients are counted, so
/// it holds at most one entry per registered client and unstored minute.
#[derive(Debug, Default)]
struct IssuanceTally(Mutex<HashMap<ClientId, Vec<MinuteCount>>>);

/// The start of the minute `at` is in.
fn minute_of(at: UnixTime) -> UnixTime {
    at - at.rem_euclid(60)
}

impl IssuanceTally {
    fn count(&self, client_id: &ClientId, at: UnixTime) {
        let minute = minute_of(at);
        let mut clients = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Looked up by `&str` first, so a client already counted costs no allocation.
        if !clients.contains_key(client_id.as_str()) {
            clients.insert(client_id.clone(), Vec::new());
        }
        let Some(minutes) = clients.get_mut(client_id.as_str()) else {
            return;
        };
        match minutes.iter_mut().rev().find(|m| m.minute == minute) {
            Some(m) => {
                m.count += 1;
                m.first_at = m.first_at.min(at);
                m.last_at = m.last_at.max(at);
            }
            None => minutes.push(MinuteCount {
                minute,
                count: 1,
                first_at: at,
                last_at: at,
            }),
        }
    }

    /// Takes out the counts of the minutes that started before `before` (every count when
    /// `None`).
    fn take(&self, before: Option<UnixTime>) -> Vec<IssuanceCount> {
        let mut clients = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut taken = Vec::new();
        clients.retain(|client_id, minutes| {
            let (ended, open): (Vec<MinuteCount>, Vec<MinuteCount>) = minutes
                .drain(..)
                .partition(|m| before.is_none_or(|before| m.minute < before));
            taken.extend(ended.into_iter().map(|m| IssuanceCount {
                client_id: client_id.clone(),
                minute: m.minute,
                count: m.count,
                first_at: m.first_at,
                last_at: m.last_at,
            }));
            *minutes = open;
            !minutes.is_empty()
        });
        taken
    }
}

async fn write_batches(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    issuance: Arc<IssuanceTally>,
    mut receiver: mpsc::Receiver<Message>,
) {
    let mut messages = Vec::with_capacity(BATCH);
    let mut check = tokio::time::interval(ISSUANCE_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            // `recv_many` is cancel safe: a tick loses no message.
            received = receiver.recv_many(&mut messages, BATCH) => {
                if received == 0 {
                    break;
                }
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
                if !batch.is_empty() {
                    let stored = with_retries(|| store.insert_events(&batch)).await;
                    if let Err(e) = stored {
                        tracing::error!(error = %e, events = batch.len(), "could not store security events; dropped");
                    }
                }
                if !flushes.is_empty() {
                    store_counts(&*store, issuance.take(None)).await;
                }
                for done in flushes {
                    let _ = done.send(());
                }
            }
            _ = check.tick() => {
                store_counts(&*store, issuance.take(Some(minute_of(clock.now())))).await;
            }
        }
    }
    // Every handle is gone: what is still counted is stored before the task ends.
    store_counts(&*store, issuance.take(None)).await;
}

async fn store_counts(store: &dyn Store, counts: Vec<IssuanceCount>) {
    if counts.is_empty() {
        return;
    }
    if let Err(e) = with_retries(|| store.add_issuance_counts(&counts)).await {
        let tokens: i64 = counts.iter().map(|c| c.count).sum();
        tracing::error!(error = %e, rows = counts.len(), tokens, "could not store client_credentials issuance counts; dropped");
    }
}

/// A failed write is retried a few times, then given up (and logged by the caller) so the
/// channel keeps draining.
async fn with_retries<F, Fut>(mut write: F) -> Result<(), StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let mut attempt = 0;
    loop {
        match write().await {
            Ok(()) => return Ok(()),
            Err(e) if attempt >= 2 => return Err(e),
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(client: &str, minute: UnixTime, count: i64, first_at: UnixTime, last_at: UnixTime) -> IssuanceCount {
        IssuanceCount {
            client_id: client.into(),
            minute,
            count,
            first_at,
            last_at,
        }
    }

    fn sorted(mut counts: Vec<IssuanceCount>) -> Vec<IssuanceCount> {
        counts.sort_by(|a, b| (&a.client_id, a.minute).cmp(&(&b.client_id, b.minute)));
        counts
    }

    #[test]
    fn tokens_are_counted_per_client_and_minute_with_first_and_last() {
        let tally = IssuanceTally::default();
        let (a, b) = (ClientId::from("a"), ClientId::from("b"));
        for at in [125, 121, 179, 180, 239] {
            tally.count(&a, at);
        }
        tally.count(&b, 130);
        assert_eq!(
            sorted(tally.take(None)),
            [
                count("a", 120, 3, 121, 179),
                count("a", 180, 2, 180, 239),
                count("b", 120, 1, 130, 130)
            ]
        );
        assert!(tally.take(None).is_empty(), "taken once");
    }

    #[test]
    fn only_ended_minutes_are_taken_before_a_flush() {
        let tally = IssuanceTally::default();
        let a = ClientId::from("a");
        tally.count(&a, 59);
        tally.count(&a, 60);
        assert_eq!(tally.take(Some(60)), [count("a", 0, 1, 59, 59)]);
        assert!(tally.take(Some(60)).is_empty());
        tally.count(&a, 61);
        assert_eq!(tally.take(None), [count("a", 60, 2, 60, 61)]);
        assert!(
            tally.0.lock().unwrap().is_empty(),
            "a client with nothing counted is forgotten"
        );
    }

    #[test]
    fn minutes_start_at_multiples_of_sixty_before_1970_too() {
        assert_eq!(minute_of(0), 0);
        assert_eq!(minute_of(119), 60);
        assert_eq!(minute_of(-1), -60);
    }
}
