//! Withdrawing trust from JWT access tokens without a database round trip per check.
//!
//! A revocation writes its effect to the store (family or session rows) and appends an entry to
//! the revocation log. Every instance keeps the log's live entries in memory, refreshed from the
//! store every `revocation_refresh_interval` (default 1 s), and applies its own revocations at
//! once. So a revocation made on one instance is seen by all within about one interval, and
//! introspection and userinfo check a token against memory only.
//!
//! The log also carries client changes (kind [`CLIENT`]): a client made, changed, given a new
//! secret or deleted. They revoke no token; [`RevocationCache::refresh`] hands their client ids
//! to the caller, which reloads those clients (`service::client_cache`).

use std::collections::HashMap;
use std::sync::RwLock;

use super::access_token::AccessClaims;
use super::Context;
use crate::domain::{ClientId, FamilyId, SessionId, UnixTime, UserId};
use crate::storage::{Store, StoreError};

pub const SESSION: &str = "session";
pub const FAMILY: &str = "family";
pub const JTI: &str = "jti";
/// A client's registration changed; the subject is its id.
pub const CLIENT: &str = "client";

/// How long a client entry stays in the log: an instance that could not read the log for a
/// while still finds it when it can again. (Instances reload every client now and then too.)
const CLIENT_ENTRY_TTL: i64 = 3600;

/// Log entries are re-read for this many seconds after their time, so an entry whose insert
/// committed late (or was stamped by an instance with a slower clock) is still picked up.
const OVERLAP: i64 = 30;

#[derive(Default)]
struct Entries {
    /// (kind, subject) -> when the entry stops mattering.
    revoked: HashMap<(String, String), UnixTime>,
    /// The newest `created_at` read from the log.
    high_water: UnixTime,
    /// When the last refresh from the store succeeded.
    refreshed_at: UnixTime,
    /// Client entries already handed out, by `seq` (with their `created_at`, to forget them
    /// once the overlap can no longer read them again): each change is reported once.
    clients_seen: HashMap<i64, UnixTime>,
}

#[derive(Default)]
pub struct RevocationCache {
    entries: RwLock<Entries>,
}

impl RevocationCache {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn apply(&self, kind: &str, subject: &str, expires_at: UnixTime) {
        let mut entries = self.write();
        let slot = entries
            .revoked
            .entry((kind.to_owned(), subject.to_owned()))
            .or_insert(expires_at);
        *slot = (*slot).max(expires_at);
    }

    /// Whether the token's `jti`, grant family or session was revoked.
    pub fn is_revoked(&self, claims: &AccessClaims) -> bool {
        let entries = self.read();
        let hit = |kind: &str, subject: Option<&str>| {
            subject.is_some_and(|s| entries.revoked.contains_key(&(kind.to_owned(), s.to_owned())))
        };
        hit(JTI, Some(&claims.jti)) || hit(FAMILY, claims.family_id.as_deref()) || hit(SESSION, claims.sid.as_deref())
    }

    /// Reads new log entries and forgets those no token needs any more. The first call (with
    /// an empty cache) reads every live entry. Returns the clients whose registration changed
    /// in the entries read, each change once (in log order, an id repeated if it changed twice).
    pub async fn refresh(&self, store: &dyn Store, now: UnixTime) -> Result<Vec<ClientId>, StoreError> {
        let since = match self.read().high_water {
            0 => 0,
            high => high - OVERLAP,
        };
        let fresh = store.revocations_since(since, now).await?;
        let mut changed_clients = Vec::new();
        let mut entries = self.write();
        for r in fresh {
            entries.high_water = entries.high_water.max(r.created_at);
            if r.kind == CLIENT {
                if entries.clients_seen.insert(r.seq, r.created_at).is_none() {
                    changed_clients.push(ClientId::new(r.subject));
                }
                continue;
            }
            let slot = entries.revoked.entry((r.kind, r.subject)).or_insert(r.expires_at);
            *slot = (*slot).max(r.expires_at);
        }
        entries.revoked.retain(|_, expires_at| *expires_at > now);
        let rereadable_from = entries.high_water - OVERLAP;
        entries
            .clients_seen
            .retain(|_, created_at| *created_at >= rereadable_from);
        entries.refreshed_at = now;
        Ok(changed_clients)
    }

    /// How many entries are held, and when they were last refreshed (for metrics).
    pub fn stats(&self) -> (usize, UnixTime) {
        let entries = self.read();
        (entries.revoked.len(), entries.refreshed_at)
    }
}

/// Until when a family or session entry matters: the last access token issued before the
/// revocation expires within one access-token lifetime (plus a minute of clock skew).
fn access_horizon(ctx: &Context<'_>) -> UnixTime {
    ctx.now + ctx.settings.access_token_ttl + 60
}

/// Revokes a grant family: its refresh tokens die in the store, its access tokens everywhere.
pub async fn revoke_family(ctx: &Context<'_>, family_id: &FamilyId, reason: &str) -> Result<bool, StoreError> {
    let changed = ctx.store.revoke_family(family_id, ctx.now, reason).await?;
    ctx.store
        .append_revocation(FAMILY, family_id, ctx.now, access_horizon(ctx))
        .await?;
    ctx.revocations.apply(FAMILY, family_id, access_horizon(ctx));
    Ok(changed)
}

/// Logs a family that the store already marked revoked, so every instance drops its access
/// tokens.
pub async fn record_family_revoked(ctx: &Context<'_>, family_id: &FamilyId) -> Result<(), StoreError> {
    ctx.store
        .append_revocation(FAMILY, family_id, ctx.now, access_horizon(ctx))
        .await?;
    ctx.revocations.apply(FAMILY, family_id, access_horizon(ctx));
    Ok(())
}

/// Logs a change to a client's registration, so every instance reloads it within one refresh
/// interval. The caller reloads it on this instance at once.
pub async fn record_client_changed(ctx: &Context<'_>, client_id: &ClientId) -> Result<(), StoreError> {
    ctx.store
        .append_revocation(CLIENT, client_id, ctx.now, ctx.now + CLIENT_ENTRY_TTL)
        .await
}

/// Makes one access token inactive until it expires.
pub async fn revoke_access_token(ctx: &Context<'_>, jti: &str, exp: UnixTime) -> Result<(), StoreError> {
    ctx.store.append_revocation(JTI, jti, ctx.now, exp).await?;
    ctx.revocations.apply(JTI, jti, exp);
    Ok(())
}

/// Ends a browser session server-side with everything started from it: the session row, its
/// families' refresh tokens, and (through the log) every access token carrying its `sid`.
pub async fn end_session(ctx: &Context<'_>, sid: &SessionId, reason: &str) -> Result<Vec<FamilyId>, StoreError> {
    ctx.store.end_session_by_sid(sid, ctx.now).await?;
    let families = ctx.store.revoke_session_families(sid, ctx.now, reason).await?;
    ctx.store
        .append_revocation(SESSION, sid, ctx.now, access_horizon(ctx))
        .await?;
    ctx.revocations.apply(SESSION, sid, access_horizon(ctx));
    Ok(families)
}

/// Ends every session of a person but `keep_sid`, and revokes every grant family of theirs
/// outside it (also those whose session already expired): a password reset or change.
pub async fn end_user_sessions(
    ctx: &Context<'_>,
    user_id: &UserId,
    keep_sid: Option<&SessionId>,
    reason: &str,
) -> Result<(), StoreError> {
    for session in ctx.store.list_live_sessions(user_id, ctx.now).await? {
        if Some(&session.sid) != keep_sid {
            end_session(ctx, &session.sid, reason).await?;
        }
    }
    for family in ctx
        .store
        .revoke_user_families(user_id, keep_sid.map(SessionId::as_str), ctx.now, reason)
        .await?
    {
        ctx.store
            .append_revocation(FAMILY, &family, ctx.now, access_horizon(ctx))
            .await?;
        ctx.revocations.apply(FAMILY, &family, access_horizon(ctx));
    }
    Ok(())
}

/// Signs out sessions that lapsed (absolute end, or idle) without anyone noticing, and revokes
/// what they started; returns how many. Run by the housekeeping pass, in batches.
pub async fn end_lapsed_sessions(ctx: &Context<'_>, batch: i64) -> Result<usize, StoreError> {
    let idle_since = ctx.now - ctx.settings.session_idle_ttl;
    let lapsed = ctx.store.lapsed_sessions(ctx.now, idle_since, batch).await?;
    for sid in &lapsed {
        end_session(ctx, sid, "session_expired").await?;
    }
    Ok(lapsed.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;

    const NOW: UnixTime = 1_000_000;

    #[tokio::test]
    async fn each_client_change_is_reported_once_and_revokes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::storage::connect(&format!("sqlite://{}/store.db", dir.path().display()))
            .await
            .unwrap();
        let cache = RevocationCache::default();
        store.append_revocation(CLIENT, "c1", NOW, NOW + 3600).await.unwrap();
        store.append_revocation(SESSION, "sid-1", NOW, NOW + 600).await.unwrap();
        assert_eq!(cache.refresh(&*store, NOW).await.unwrap(), [ClientId::from("c1")]);
        assert_eq!(cache.stats().0, 1, "only the session is a revocation");
        // Read again within the overlap: not reported again.
        assert!(cache.refresh(&*store, NOW + 1).await.unwrap().is_empty());
        // A second change of the same client is.
        store
            .append_revocation(CLIENT, "c1", NOW + 2, NOW + 3600)
            .await
            .unwrap();
        store
            .append_revocation(CLIENT, "c2", NOW + 2, NOW + 3600)
            .await
            .unwrap();
        assert_eq!(
            cache.refresh(&*store, NOW + 2).await.unwrap(),
            [ClientId::from("c1"), ClientId::from("c2")]
        );
        assert!(cache.refresh(&*store, NOW + 3).await.unwrap().is_empty());
    }
}
