//! Housekeeping: every instance wakes up every `janitor_interval`, but only the holder of the
//! store's lease works, so two instances never do the same deletions. A pass ends lapsed
//! sessions (revoking what they started), then deletes, in batches, every row nothing can need
//! any more: expired codes, refresh tokens, families, sessions, pending steps, used or expired
//! links, revocation-log entries past their tokens' lifetime, old security events, the `jti`s of
//! expired client assertions. Every
//! instance also sweeps its own mail outbox, lease or not: a written mail holds a live link,
//! and once the link has expired (`reset_token_ttl`) the file has no reason to exist.

use crate::protocol::revocation;
use crate::service::Services;
use crate::storage::{Expired, StoreError};

const LEASE: &str = "janitor";
const BATCH: i64 = 500;
/// A pass stops after this many batches per kind; the next pass goes on.
const MAX_BATCHES: usize = 200;
/// A pass looks at this many outbox entries at most; the next pass goes on.
const MAX_OUTBOX_ENTRIES: usize = 10_000;

/// What one pass removed, by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    pub lapsed_sessions: usize,
    pub deleted: Vec<(Expired, u64)>,
    /// Expired mails deleted from this instance's outbox.
    pub outbox_mails: usize,
}

impl PassReport {
    pub fn deleted(&self, what: Expired) -> u64 {
        self.deleted.iter().filter(|(w, _)| *w == what).map(|(_, n)| n).sum()
    }
}

/// One pass, if this instance (`holder`) gets the lease; None when another instance has it.
pub async fn run_pass(state: &Services, holder: &str) -> Result<Option<PassReport>, StoreError> {
    let outbox_mails = sweep_outbox(state).await;
    let ctx = state.protocol();
    let lease_for = i64::try_from(state.settings.janitor_interval.as_secs())
        .unwrap_or(300)
        .max(60)
        * 2;
    if !state
        .store
        .take_lease(LEASE, holder, ctx.now, ctx.now + lease_for)
        .await?
    {
        tracing::debug!(outbox_mails, "housekeeping: outbox swept");
        return Ok(None);
    }
    let mut report = PassReport {
        outbox_mails,
        ..PassReport::default()
    };
    for _ in 0..MAX_BATCHES {
        let ended = revocation::end_lapsed_sessions(&ctx, BATCH).await?;
        report.lapsed_sessions += ended;
        if i64::try_from(ended).unwrap_or(0) < BATCH {
            break;
        }
    }
    for what in [
        Expired::Codes,
        Expired::RefreshTokens,
        Expired::Families,
        Expired::Sessions,
        Expired::PendingSteps,
        Expired::Links,
        Expired::Revocations,
        Expired::LoginThrottle,
        Expired::Events,
        Expired::DeviceAuthorizations,
        Expired::ClientAssertions,
        Expired::RegistrationTokens,
        Expired::WebauthnChallenges,
    ] {
        let cut_off = if what == Expired::Events {
            ctx.now - state.settings.event_retention
        } else {
            ctx.now
        };
        let mut total = 0;
        for _ in 0..MAX_BATCHES {
            let deleted = state.store.delete_expired(what, cut_off, BATCH).await?;
            total += deleted;
            if deleted < u64::try_from(BATCH).unwrap_or(0) {
                break;
            }
        }
        report.deleted.push((what, total));
    }
    Ok(Some(report))
}

/// Deletes the outbox's `.eml` (and `.eml.part`) files older than `reset_token_ttl` by the
/// injected clock; returns how many. Failures are logged and left for the next pass.
pub async fn sweep_outbox(state: &Services) -> usize {
    let dir = crate::mail::outbox(&state.settings);
    let cut_off = state.clock.now() - state.settings.reset_token_ttl;
    match tokio::task::spawn_blocking(move || sweep_dir(&dir, cut_off)).await {
        Ok(deleted) => deleted,
        Err(e) => {
            tracing::error!(error = %e, "outbox sweep failed");
            0
        }
    }
}

fn sweep_dir(dir: &std::path::Path, cut_off: i64) -> usize {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return 0,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot read the outbox");
            return 0;
        }
    };
    let mut deleted = 0;
    for entry in entries.take(MAX_OUTBOX_ENTRIES).flatten() {
        let path = entry.path();
        // Only plain files we wrote (a mail, or one whose writing was cut short); a symlink,
        // a folder or another file someone put there is left alone.
        let Ok(metadata) = entry.metadata() else { continue };
        if !metadata.is_file() || path.extension().is_none_or(|e| e != "eml" && e != "part") {
            continue;
        }
        let written = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_secs()).ok());
        if written.is_some_and(|at| at <= cut_off) {
            match std::fs::remove_file(&path) {
                Ok(()) => deleted += 1,
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot delete an expired mail"),
            }
        }
    }
    deleted
}

/// The background task of `Application::run_until_stopped`.
pub async fn run(state: std::sync::Arc<Services>) {
    let holder = uuid::Uuid::new_v4().to_string();
    let mut tick = tokio::time::interval(state.settings.janitor_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first pass waits one interval: starting instances have other work to do.
    tick.tick().await;
    loop {
        tick.tick().await;
        match run_pass(&state, &holder).await {
            Ok(Some(report)) => tracing::debug!(?report, "housekeeping pass done"),
            Ok(None) => tracing::debug!("housekeeping: another instance holds the lease"),
            Err(e) => tracing::error!(error = %e, "housekeeping pass failed"),
        }
    }
}
