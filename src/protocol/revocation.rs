//! Withdrawing trust from JWT access tokens without a database round trip per check.
//!
//! A revocation writes its effect to the store (family or session rows) and appends an entry to
//! the revocation log. Every instance keeps the log's live entries in memory, refreshed from the
//! store every `revocation_refresh_interval` (default 1 s), and applies its own revocations at
//! once. So a revocation made on one instance is seen by all within about one interval, and
//! introspection and userinfo check a token against memory only.

use std::collections::HashMap;
use std::sync::RwLock;

use super::access_token::AccessClaims;
use super::Context;
use crate::domain::{FamilyId, SessionId, UnixTime, UserId};
use crate::storage::{Store, StoreError};

pub const SESSION: &str = "session";
pub const FAMILY: &str = "family";
pub const JTI: &str = "jti";

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
    /// an empty cache) reads every live entry.
    pub async fn refresh(&self, store: &dyn Store, now: UnixTime) -> Result<(), StoreError> {
        let since = match self.read().high_water {
            0 => 0,
            high => high - OVERLAP,
        };
        let fresh = store.revocations_since(since, now).await?;
        let mut entries = self.write();
        for r in fresh {
            entries.high_water = entries.high_water.max(r.created_at);
            let slot = entries.revoked.entry((r.kind, r.subject)).or_insert(r.expires_at);
            *slot = (*slot).max(r.expires_at);
        }
        entries.revoked.retain(|_, expires_at| *expires_at > now);
        entries.refreshed_at = now;
        Ok(())
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
