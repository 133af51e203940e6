//! The store: one async interface of domain operations, two implementations (SQLite, the
//! embedded default, and PostgreSQL for several instances). Queries are built at run time, so
//! the build needs no database.
//!
//! Both backends speak the same portable SQL (`$n` placeholders, TEXT / BIGINT / BOOLEAN
//! columns), so the operations are written once in `sql.rs` and instantiated for each backend;
//! `sqlite.rs` and `postgres.rs` hold what differs: connecting, pragmas, migrations.

mod postgres;
mod records;
mod sql;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::client::Client;
use crate::domain::event::{EventFilter, SecurityEvent};
use crate::domain::user::User;
use crate::domain::UnixTime;

pub use postgres::PostgresStore;
pub use records::{
    CodeRecord, CodeRedemption, FamilyRecord, PendingAuthorization, PendingLogin, RefreshTokenRecord, RevocationRecord,
    SessionRecord, SigningKeyRecord,
};
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflicts with an existing record")]
    Conflict,
    /// Worth trying again shortly: the database did not answer in time or could not be reached.
    #[error("the store is temporarily unavailable")]
    Unavailable(#[source] Unavailable),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why the store is unavailable: no free connection within the acquire timeout, a statement or
/// lock wait past its timeout, a lost or refused connection, a database locked by another
/// writer. Its own type so that the HTTP layer can find it in any error chain, even behind
/// transparent wrappers, and answer 503 instead of 500.
#[derive(Debug, thiserror::Error)]
#[error("database query failed")]
pub struct Unavailable(#[source] pub sqlx::Error);

/// Whether the store being unavailable is behind `error` (anywhere in its chain).
pub fn is_unavailable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<Unavailable>())
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Cheap round trip for readiness checks.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Closes every connection; later calls fail.
    async fn close(&self);

    // Signing keys.
    /// Inserts a key; `Conflict` when the kid exists or the alg already has a key in that
    /// `active`/`next` state.
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError>;
    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;
    /// Atomically retires the active key of the next key's alg (until `retire_until`) and makes
    /// `kid` active. False when `kid` is not a next key (another instance promoted it).
    async fn promote_signing_key(&self, kid: &str, now: UnixTime, retire_until: UnixTime) -> Result<bool, StoreError>;
    /// Deletes retired keys whose tokens have all expired; returns how many.
    async fn delete_retired_signing_keys(&self, now: UnixTime) -> Result<u64, StoreError>;

    // Clients.
    async fn insert_client(&self, client: &Client) -> Result<(), StoreError>;
    async fn find_client(&self, id: &str) -> Result<Option<Client>, StoreError>;
    async fn list_clients(&self) -> Result<Vec<Client>, StoreError>;
    async fn delete_client(&self, id: &str) -> Result<bool, StoreError>;

    // Users.
    /// `Conflict` when the username or email is taken.
    async fn insert_user(&self, user: &User) -> Result<(), StoreError>;
    async fn find_user_by_id(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// By username or email (both stored lowercased).
    async fn find_user_by_login(&self, login: &str) -> Result<Option<User>, StoreError>;
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    async fn set_user_password(&self, id: &str, password_hash: &str, now: UnixTime) -> Result<bool, StoreError>;
    async fn set_user_disabled(&self, id: &str, disabled: bool, now: UnixTime) -> Result<bool, StoreError>;

    // Browser sessions.
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// A session that has not ended and has not expired at `now`.
    async fn find_live_session(&self, id_hash: &str, now: UnixTime) -> Result<Option<SessionRecord>, StoreError>;
    /// Ends a session; false when it had already ended or does not exist.
    async fn end_session(&self, id_hash: &str, now: UnixTime) -> Result<bool, StoreError>;

    // Pending authorization requests.
    /// Inserts a pending request and deletes the oldest others of its browser, so that the
    /// browser keeps at most `keep_per_browser` (unauthenticated traffic writes these rows).
    async fn insert_pending_authorization(
        &self,
        pending: &PendingAuthorization,
        keep_per_browser: i64,
    ) -> Result<(), StoreError>;
    async fn find_pending_authorization(
        &self,
        id_hash: &str,
        now: UnixTime,
    ) -> Result<Option<PendingAuthorization>, StoreError>;
    /// Records progress: the browser it is bound to (rebound at sign-in, which rotates the
    /// cookie), when the person signed in for it, whether they consented.
    async fn update_pending_authorization(&self, pending: &PendingAuthorization) -> Result<(), StoreError>;
    async fn delete_pending_authorization(&self, id_hash: &str) -> Result<(), StoreError>;

    // Consents.
    async fn find_consent(&self, user_id: &str, client_id: &str) -> Result<Option<String>, StoreError>;
    async fn save_consent(&self, user_id: &str, client_id: &str, scope: &str, now: UnixTime) -> Result<(), StoreError>;

    // Authorization codes and grant families.
    async fn insert_authorization_code(&self, code: &CodeRecord) -> Result<(), StoreError>;
    /// Spends the code and, in the same transaction, creates grant family `family_id` from it
    /// (ending at `family_expires_at`). Of concurrent redemptions exactly one is `Redeemed`.
    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        family_id: &str,
        now: UnixTime,
        family_expires_at: UnixTime,
    ) -> Result<CodeRedemption, StoreError>;
    async fn find_family(&self, id: &str) -> Result<Option<FamilyRecord>, StoreError>;
    /// Marks a family revoked (its refresh tokens die with it); false if it already was.
    async fn revoke_family(&self, id: &str, now: UnixTime, reason: &str) -> Result<bool, StoreError>;
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError>;
    async fn find_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>, StoreError>;
    /// The compare-and-swap of refresh rotation: marks `old_hash` rotated (pointing at `new`)
    /// only if it is still live, and inserts `new`, atomically. False when another request
    /// rotated it first: of concurrent rotations exactly one returns true.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new: &RefreshTokenRecord,
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    // Ending sessions and what they started.
    async fn find_session_by_sid(&self, sid: &str) -> Result<Option<SessionRecord>, StoreError>;
    async fn end_session_by_sid(&self, sid: &str, now: UnixTime) -> Result<bool, StoreError>;
    /// Revokes every live family started from session `sid`; returns their ids.
    async fn revoke_session_families(&self, sid: &str, now: UnixTime, reason: &str) -> Result<Vec<String>, StoreError>;

    // The revocation log.
    async fn append_revocation(
        &self,
        kind: &str,
        subject: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<(), StoreError>;
    /// Entries written at or after `since` that still matter at `now`.
    async fn revocations_since(&self, since: UnixTime, now: UnixTime) -> Result<Vec<RevocationRecord>, StoreError>;

    // Security events.
    async fn insert_events(&self, events: &[SecurityEvent]) -> Result<(), StoreError>;
    /// Newest first.
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<SecurityEvent>, StoreError>;

    // Account security.
    async fn list_live_sessions(&self, user_id: &str, now: UnixTime) -> Result<Vec<SessionRecord>, StoreError>;
    /// Stores a new reset token for the person, deleting any older one (a newer link voids it).
    async fn replace_reset_token(
        &self,
        user_id: &str,
        token_hash: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<(), StoreError>;
    /// The person an unused, unexpired reset token belongs to.
    async fn find_reset_token(&self, token_hash: &str, now: UnixTime) -> Result<Option<String>, StoreError>;
    /// Spends a reset token (once, atomically); returns its person.
    async fn consume_reset_token(&self, token_hash: &str, now: UnixTime) -> Result<Option<String>, StoreError>;
    /// Until when the account (or unknown login name) is locked, if it is.
    async fn login_locked_until(&self, account_key: &str, now: UnixTime) -> Result<Option<UnixTime>, StoreError>;
    /// Counts a failure; returns the end of the lockout when this failure started one.
    async fn record_login_failure(&self, account_key: &str, now: UnixTime) -> Result<Option<UnixTime>, StoreError>;
    /// After a whole successful sign-in: forgets the failures counted so far, but keeps any
    /// lock and the number of lockouts (the back-off).
    async fn forget_login_failures(&self, account_key: &str) -> Result<(), StoreError>;
    /// Unlocks: forgets failures, lock and back-off (a password reset, an administrator).
    async fn clear_login_failures(&self, account_key: &str) -> Result<(), StoreError>;
    async fn set_totp_pending(&self, user_id: &str, sealed: Option<&str>) -> Result<(), StoreError>;
    /// Turns TOTP on with `sealed` and replaces the recovery codes, atomically.
    async fn enable_totp(&self, user_id: &str, sealed: &str, recovery_hashes: &[String]) -> Result<(), StoreError>;
    async fn disable_totp(&self, user_id: &str) -> Result<(), StoreError>;
    /// Accepts time step `step` for the person only if it is later than every step accepted
    /// before (a code works once).
    async fn accept_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError>;
    async fn use_recovery_code(&self, user_id: &str, code_hash: &str, now: UnixTime) -> Result<bool, StoreError>;
    async fn replace_recovery_codes(&self, user_id: &str, hashes: &[String]) -> Result<(), StoreError>;
    async fn put_pending_login(&self, pending: &PendingLogin) -> Result<(), StoreError>;
    async fn find_pending_login(&self, browser_hash: &str, now: UnixTime) -> Result<Option<PendingLogin>, StoreError>;
    /// Counts a wrong code; returns the failures so far.
    async fn record_otp_failure(&self, browser_hash: &str) -> Result<i64, StoreError>;
    async fn delete_pending_login(&self, browser_hash: &str) -> Result<(), StoreError>;
    /// Revokes every live family of the person except those of session `keep_sid`; returns
    /// their ids.
    async fn revoke_user_families(
        &self,
        user_id: &str,
        keep_sid: Option<&str>,
        now: UnixTime,
        reason: &str,
    ) -> Result<Vec<String>, StoreError>;

    // The account area.
    /// Notes that the session was used (callers do it at most once a minute).
    async fn touch_session(&self, id_hash: &str, now: UnixTime) -> Result<(), StoreError>;
    /// Grant families of the person that are neither revoked nor past their absolute end.
    async fn list_live_families(&self, user_id: &str, now: UnixTime) -> Result<Vec<FamilyRecord>, StoreError>;
    /// (client id, scope, granted at) of every consent the person gave.
    async fn list_consents(&self, user_id: &str) -> Result<Vec<(String, String, UnixTime)>, StoreError>;
    async fn delete_consent(&self, user_id: &str, client_id: &str) -> Result<(), StoreError>;
    /// Revokes the person's live families with `client_id`; returns their ids.
    async fn revoke_client_families(
        &self,
        user_id: &str,
        client_id: &str,
        now: UnixTime,
        reason: &str,
    ) -> Result<Vec<String>, StoreError>;
    async fn update_user_claims(
        &self,
        user_id: &str,
        claims: &crate::domain::user::ProfileClaims,
        now: UnixTime,
    ) -> Result<(), StoreError>;
    /// `Conflict` when another account has the address.
    async fn set_user_email(&self, user_id: &str, email: &str, now: UnixTime) -> Result<(), StoreError>;
    /// Stores a pending email change, voiding older ones of the person.
    async fn replace_email_change(
        &self,
        user_id: &str,
        token_hash: &str,
        new_email: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<(), StoreError>;
    /// Spends an email-change token once; returns (person, new address).
    async fn consume_email_change(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<(String, String)>, StoreError>;
    /// Sessions past their absolute end, or unused since `idle_since`, that nobody ended yet
    /// (at most `limit`).
    async fn lapsed_sessions(&self, now: UnixTime, idle_since: UnixTime, limit: i64)
        -> Result<Vec<String>, StoreError>;

    // Administration.
    /// Rewrites a client's registration (not its id, secret or creation time).
    async fn update_client(&self, client: &Client) -> Result<bool, StoreError>;
    async fn set_client_secret(&self, id: &str, secret_hash: &str, now: UnixTime) -> Result<bool, StoreError>;
    /// People whose username or email contains `search` (all when None), by username.
    async fn search_users(&self, search: Option<&str>, offset: i64, limit: i64) -> Result<Vec<User>, StoreError>;

    // Housekeeping.
    /// Takes (or renews) the named lease for `holder` until `expires_at` if it is free or
    /// already theirs; true when `holder` has it.
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<bool, StoreError>;
    /// Deletes at most `limit` rows that no one needs any more from one table (see
    /// `storage::Expired`); returns how many.
    async fn delete_expired(&self, what: Expired, now: UnixTime, limit: i64) -> Result<u64, StoreError>;
}

/// What the housekeeping pass deletes, each once nothing can need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// Codes an hour past expiry (kept that long so a late replay still revokes its family).
    Codes,
    /// Refresh tokens past their idle end.
    RefreshTokens,
    /// Grant families past their absolute end (their refresh tokens go with them).
    Families,
    /// Sessions ended or expired more than a day ago.
    Sessions,
    /// Pending authorizations and second-factor steps past expiry.
    PendingSteps,
    /// Reset and email-change links past expiry or used.
    Links,
    /// Revocation-log entries whose tokens have all expired.
    Revocations,
    /// Failure counters with no lock and no failure in the window.
    LoginThrottle,
    /// Security events older than the retention (`now` is then the cut-off).
    Events,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("`{0}` is neither a sqlite: nor a postgres:// URL")]
    Scheme(String),
    #[error("{0}")]
    Options(String),
    #[error("cannot open the database: {0}")]
    Connect(String),
    #[error("cannot apply migrations: {0}")]
    Migrate(String),
    /// A database file or its folder that group or others may read or write.
    #[error("{0}")]
    Exposed(String),
}

/// How long a store operation may wait: for a pooled connection, and for one statement (or a
/// lock it needs). Past either, the operation fails with [`StoreError::Unavailable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub acquire: Duration,
    pub statement: Duration,
}

impl Default for Timeouts {
    /// The defaults of the `database_acquire_timeout` and `database_statement_timeout` settings.
    fn default() -> Self {
        Self {
            acquire: Duration::from_secs(3),
            statement: Duration::from_secs(3),
        }
    }
}

/// Opens the store named by `url` with the default timeouts; see [`connect_with`].
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, ConnectError> {
    connect_with(url, Timeouts::default()).await
}

/// Opens the store named by `url` (creating a SQLite file and its folder when missing) and
/// applies pending migrations.
pub async fn connect_with(url: &str, timeouts: Timeouts) -> Result<Arc<dyn Store>, ConnectError> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(SqliteStore::connect(url, timeouts).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(PostgresStore::connect(url, timeouts).await?)
    } else {
        return Err(ConnectError::Scheme(
            url.split(':').next().unwrap_or_default().to_owned(),
        ));
    };
    Ok(store)
}

/// Checks that `url` names a database this build can open, without connecting.
pub fn check_url(url: &str) -> Result<(), ConnectError> {
    if url.starts_with("sqlite:") {
        sqlite::options(url).map(|_| ())
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        postgres::options(url).map(|_| ())
    } else {
        Err(ConnectError::Scheme(
            url.split(':').next().unwrap_or_default().to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable() -> StoreError {
        StoreError::Unavailable(Unavailable(sqlx::Error::PoolTimedOut))
    }

    #[test]
    fn unavailable_is_found_behind_wrappers_and_context() {
        assert!(is_unavailable(&anyhow::Error::new(unavailable())));
        assert!(is_unavailable(&anyhow::Error::new(unavailable()).context("signing in")));
        let fault = StoreError::Unexpected(anyhow::anyhow!("malformed row"));
        assert!(!is_unavailable(&anyhow::Error::new(fault)));
        assert!(!is_unavailable(&anyhow::Error::new(StoreError::NotFound)));
    }
}
