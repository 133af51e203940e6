//! The store: one async interface of domain operations, two implementations (SQLite, the
//! embedded default, and PostgreSQL for several instances). Queries are built at run time, so
//! the build needs no database.
//!
//! [`Store`] is the sum of one trait per aggregate, each in its own file with its rows and its
//! SQL: `keys.rs`, `clients.rs`, `resources.rs` (the resource-server registry), `users.rs`
//! (accounts, profile, email changes), `credentials.rs` (reset links, second factor, sign-in
//! throttle), `sessions.rs`, `authorization.rs` (pending requests and second-factor steps,
//! consents, codes), `grants.rs` (grant families, refresh tokens, the revocation log),
//! `events.rs`, `issuance.rs` (client_credentials issuance counted per client and minute),
//! `housekeeping.rs` (ping, close, lease, expiry), `device.rs` (the device authorization grant),
//! `registration.rs` (initial access tokens, registration access tokens of self-registered
//! clients), `passkeys.rs` (passkeys and WebAuthn challenges). Both backends speak the same
//! portable SQL, so each operation is written once, over the small [`sql::Backend`] interface;
//! `sqlite.rs` and `postgres.rs` hold what differs: connecting, pragmas, migrations.

mod authorization;
mod clients;
mod credentials;
mod device;
mod events;
mod grants;
mod housekeeping;
mod issuance;
mod keys;
mod passkeys;
mod postgres;
mod records;
mod registration;
mod resources;
mod sessions;
mod sql;
mod sqlite;
mod users;

use std::sync::Arc;
use std::time::Duration;

pub use authorization::AuthorizationStore;
pub use clients::ClientStore;
pub use credentials::CredentialStore;
pub use device::{DeviceApproval, DeviceAuthorization, DevicePoll, DeviceStatus, DeviceStore};
pub use events::EventStore;
pub use grants::GrantStore;
pub use housekeeping::{Expired, HousekeepingStore};
pub use issuance::{IssuanceCount, IssuanceStore};
pub use keys::KeyStore;
pub use passkeys::{ChallengePurpose, ChallengeRecord, PasskeyRecord, PasskeyStore};
pub use postgres::PostgresStore;
pub use records::{
    CodeRecord, CodeRedemption, FamilyRecord, PendingAuthorization, PendingLogin, RefreshTokenRecord, RevocationRecord,
    SessionRecord, SigningKeyRecord,
};
pub use registration::RegistrationStore;
pub use resources::ResourceStore;
pub use sessions::SessionStore;
pub use sqlite::SqliteStore;
pub use users::UserStore;

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

/// Everything the server keeps: every aggregate's operations, on one backend. Callers hold an
/// `Arc<dyn Store>` and call any operation on it.
pub trait Store:
    KeyStore
    + ClientStore
    + ResourceStore
    + UserStore
    + CredentialStore
    + SessionStore
    + AuthorizationStore
    + GrantStore
    + EventStore
    + IssuanceStore
    + HousekeepingStore
    + DeviceStore
    + RegistrationStore
    + PasskeyStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: KeyStore
        + ClientStore
        + ResourceStore
        + UserStore
        + CredentialStore
        + SessionStore
        + AuthorizationStore
        + GrantStore
        + EventStore
        + IssuanceStore
        + HousekeepingStore
        + DeviceStore
        + RegistrationStore
        + PasskeyStore
        + Send
        + Sync
        + 'static
{
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
