//! The database itself, and keeping it small: the readiness ping, closing, the lease that lets
//! one instance at a time run the housekeeping pass, and that pass's bounded deletes.

use async_trait::async_trait;

use super::sql::{args, Backend};
use super::StoreError;
use crate::domain::UnixTime;

#[async_trait]
pub trait HousekeepingStore: Send + Sync {
    /// Cheap round trip for readiness checks.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Closes every connection; later calls fail.
    async fn close(&self);
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
    /// [`Expired`]); returns how many.
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
    /// Security events, and the client_credentials issuance counts, older than the retention
    /// (`now` is then the cut-off).
    Events,
    /// Device authorizations an hour past expiry (a late poll still hears `expired_token`),
    /// and wrong user codes past their 15-minute window.
    DeviceAuthorizations,
    /// The `jti`s of client assertions past their expiry (a replay is refused as expired).
    ClientAssertions,
    /// Initial access tokens of dynamic registration that expired or have no use left (an
    /// unknown token is refused the same way).
    RegistrationTokens,
    /// WebAuthn challenges past their 5 minutes (a late answer is refused the same way).
    WebauthnChallenges,
}

impl Expired {
    /// (table, key column, condition on `$1` = now) of the rows this deletes, then of the
    /// table that travels with it: second-factor steps with pending authorizations, email
    /// changes with reset links, issuance counts with security events.
    fn tables(self) -> [Option<(&'static str, &'static str, &'static str)>; 2] {
        match self {
            Self::Codes => [
                Some(("authorization_codes", "code_hash", "expires_at <= $1 - 3600")),
                None,
            ],
            Self::RefreshTokens => [Some(("refresh_tokens", "token_hash", "expires_at <= $1")), None],
            Self::Families => [Some(("grant_families", "id", "expires_at <= $1")), None],
            Self::Sessions => [
                Some((
                    "browser_sessions",
                    "id_hash",
                    "(ended_at IS NOT NULL AND ended_at <= $1 - 86400) OR expires_at <= $1 - 86400",
                )),
                None,
            ],
            Self::PendingSteps => [
                Some(("pending_authorizations", "id_hash", "expires_at <= $1")),
                Some(("pending_logins", "browser_hash", "expires_at <= $1")),
            ],
            Self::Links => [
                Some(("reset_tokens", "token_hash", "expires_at <= $1 OR used_at IS NOT NULL")),
                Some(("email_changes", "token_hash", "expires_at <= $1 OR used_at IS NOT NULL")),
            ],
            Self::Revocations => [Some(("revocations", "seq", "expires_at <= $1")), None],
            // A row that was locked is kept a day after its lock ended (`lockout::MEMORY`), so
            // the back-off outlives a pause between bursts.
            Self::LoginThrottle => [
                Some((
                    "login_throttle",
                    "account_key",
                    "(locked_until IS NULL OR locked_until <= $1 - 86400) AND window_start <= $1 - 900",
                )),
                None,
            ],
            Self::Events => [
                Some(("security_events", "id", "at <= $1")),
                Some(("token_issuance_counts", "id", "minute <= $1")),
            ],
            Self::DeviceAuthorizations => [
                Some(("device_authorizations", "device_code_hash", "expires_at <= $1 - 3600")),
                Some(("device_code_failures", "id", "at <= $1 - 900")),
            ],
            Self::ClientAssertions => [Some(("client_assertions", "id", "expires_at <= $1")), None],
            Self::RegistrationTokens => [
                Some(("registration_tokens", "hash", "(expires_at <= $1 OR uses_left = 0)")),
                None,
            ],
            Self::WebauthnChallenges => [Some(("webauthn_challenges", "id_hash", "expires_at <= $1")), None],
        }
    }
}

#[async_trait]
impl<B: Backend> HousekeepingStore for B {
    async fn ping(&self) -> Result<(), StoreError> {
        self.execute("SELECT 1", args![]).await?;
        Ok(())
    }

    async fn close(&self) {
        self.close_pool().await;
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<bool, StoreError> {
        let taken: Option<(String,)> = self
            .fetch_optional(
                "INSERT INTO janitor_lease (name, holder, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                 WHERE janitor_lease.expires_at <= $4 OR janitor_lease.holder = excluded.holder RETURNING holder",
                args![name, holder, expires_at, now],
            )
            .await?;
        Ok(taken.is_some_and(|(taken,)| taken == holder))
    }

    async fn delete_expired(&self, what: Expired, now: UnixTime, limit: i64) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for (table, key, condition) in what.tables().into_iter().flatten() {
            let statement =
                format!("DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} LIMIT $2)");
            deleted += self.execute(&statement, args![now, limit]).await?;
        }
        Ok(deleted)
    }
}
