//! What a failure means for the answer. The store being unavailable (a timeout, a lost
//! connection, a lock held elsewhere) is not a fault of ours to hide: the client is told to try
//! again shortly. Anything else is a fault, answered with nothing specific. Each face (JSON
//! endpoints, pages) builds its own answer from this one classification.

/// Seconds a client is asked to wait before trying again when the service is unavailable.
pub const RETRY_AFTER_SECS: u64 = 5;

/// What a failure calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triage {
    /// The store is unavailable: 503, try again after [`RETRY_AFTER_SECS`].
    Unavailable,
    /// Anything else: a bare 500.
    Fault,
}

/// Classifies `error` and logs it: a warning when the store is unavailable, else an error with
/// the whole chain. `what` says what failed.
pub fn triage(error: &anyhow::Error, what: &str) -> Triage {
    if crate::storage::is_unavailable(error) {
        tracing::warn!(error = format!("{error:#}"), "{what}: the store is unavailable");
        Triage::Unavailable
    } else {
        tracing::error!(error = format!("{error:#}"), "{what}");
        Triage::Fault
    }
}
