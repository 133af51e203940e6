//! What proves who a person is, and what guards it: password-reset links, the second factor
//! (TOTP and recovery codes), and the sign-in throttle (failure counters and lockouts, shared by
//! every instance).

use async_trait::async_trait;

use super::sql::{args, Backend, Transaction as _};
use super::StoreError;
use crate::domain::user::lockout;
use crate::domain::UnixTime;

#[async_trait]
pub trait CredentialStore: Send + Sync {
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

    /// Sets (or with None clears) the secret being enrolled, sealed under the KEK.
    async fn set_totp_pending(&self, user_id: &str, sealed: Option<&str>) -> Result<(), StoreError>;
    /// Turns TOTP on with `sealed` and replaces the recovery codes, atomically.
    async fn enable_totp(&self, user_id: &str, sealed: &str, recovery_hashes: &[String]) -> Result<(), StoreError>;
    /// Turns TOTP off and deletes the recovery codes.
    async fn disable_totp(&self, user_id: &str) -> Result<(), StoreError>;
    /// Accepts time step `step` for the person only if it is later than every step accepted
    /// before (a code works once).
    async fn accept_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError>;
    /// Spends one of the person's recovery codes; false when it is unknown or spent.
    async fn use_recovery_code(&self, user_id: &str, code_hash: &str, now: UnixTime) -> Result<bool, StoreError>;
    async fn replace_recovery_codes(&self, user_id: &str, hashes: &[String]) -> Result<(), StoreError>;

    /// Until when the account (or unknown login name) is locked, if it is.
    async fn login_locked_until(&self, account_key: &str, now: UnixTime) -> Result<Option<UnixTime>, StoreError>;
    /// Counts a failure; returns the end of the lockout when this failure started one.
    async fn record_login_failure(&self, account_key: &str, now: UnixTime) -> Result<Option<UnixTime>, StoreError>;
    /// After a whole successful sign-in: forgets the failures counted so far, but keeps any
    /// lock and the number of lockouts (the back-off).
    async fn forget_login_failures(&self, account_key: &str) -> Result<(), StoreError>;
    /// Unlocks: forgets failures, lock and back-off (a password reset, an administrator).
    async fn clear_login_failures(&self, account_key: &str) -> Result<(), StoreError>;

    /// Spends the `jti` of a client's assertion (`private_key_jwt`), kept until `expires_at`:
    /// true when it was new, false when the client already used it and it has not expired.
    /// One atomic insert under a unique key, so it holds across instances.
    async fn spend_client_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
impl<B: Backend> CredentialStore for B {
    async fn replace_reset_token(
        &self,
        user_id: &str,
        token_hash: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.execute("DELETE FROM reset_tokens WHERE user_id = $1", args![user_id])
            .await?;
        tx.execute(
            "INSERT INTO reset_tokens (token_hash, user_id, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, NULL)",
            args![token_hash, user_id, now, expires_at],
        )
        .await?;
        tx.commit().await
    }

    async fn find_reset_token(&self, token_hash: &str, now: UnixTime) -> Result<Option<String>, StoreError> {
        let user: Option<(String,)> = self
            .fetch_optional(
                "SELECT user_id FROM reset_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
                args![token_hash, now],
            )
            .await?;
        Ok(user.map(|(id,)| id))
    }

    async fn consume_reset_token(&self, token_hash: &str, now: UnixTime) -> Result<Option<String>, StoreError> {
        let user: Option<(String,)> = self
            .fetch_optional(
                "UPDATE reset_tokens SET used_at = $2 \
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
                args![token_hash, now],
            )
            .await?;
        Ok(user.map(|(id,)| id))
    }

    async fn set_totp_pending(&self, user_id: &str, sealed: Option<&str>) -> Result<(), StoreError> {
        self.execute(
            "UPDATE users SET totp_pending = $2 WHERE id = $1",
            args![user_id, sealed],
        )
        .await?;
        Ok(())
    }

    async fn enable_totp(&self, user_id: &str, sealed: &str, recovery_hashes: &[String]) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE users SET totp_secret = $2, totp_pending = NULL, totp_last_step = NULL WHERE id = $1",
            args![user_id, sealed],
        )
        .await?;
        tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", args![user_id])
            .await?;
        for hash in recovery_hashes {
            tx.execute(
                "INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)",
                args![user_id, hash],
            )
            .await?;
        }
        tx.commit().await
    }

    async fn disable_totp(&self, user_id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL WHERE id = $1",
            args![user_id],
        )
        .await?;
        tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", args![user_id])
            .await?;
        tx.commit().await
    }

    async fn accept_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let accepted = self
            .execute(
                "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                args![user_id, step],
            )
            .await?;
        Ok(accepted == 1)
    }

    async fn use_recovery_code(&self, user_id: &str, code_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
        let used = self
            .execute(
                "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                args![user_id, code_hash, now],
            )
            .await?;
        Ok(used == 1)
    }

    async fn replace_recovery_codes(&self, user_id: &str, hashes: &[String]) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", args![user_id])
            .await?;
        for hash in hashes {
            tx.execute(
                "INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)",
                args![user_id, hash],
            )
            .await?;
        }
        tx.commit().await
    }

    async fn login_locked_until(&self, account_key: &str, now: UnixTime) -> Result<Option<UnixTime>, StoreError> {
        let until: Option<(Option<i64>,)> = self
            .fetch_optional(
                "SELECT locked_until FROM login_throttle WHERE account_key = $1",
                args![account_key],
            )
            .await?;
        Ok(until.and_then(|(until,)| until).filter(|until| *until > now))
    }

    async fn record_login_failure(&self, account_key: &str, now: UnixTime) -> Result<Option<UnixTime>, StoreError> {
        let mut tx = self.begin().await?;
        let (failures, lockouts): (i64, i64) = tx
            .fetch_one(
                "INSERT INTO login_throttle (account_key, failures, window_start, locked_until, lockouts) \
                 VALUES ($1, 1, $2, NULL, 0) \
                 ON CONFLICT (account_key) DO UPDATE SET \
                   failures = CASE WHEN login_throttle.window_start + $3 <= $2 THEN 1 \
                                   ELSE login_throttle.failures + 1 END, \
                   window_start = CASE WHEN login_throttle.window_start + $3 <= $2 THEN $2 \
                                       ELSE login_throttle.window_start END \
                 RETURNING failures, lockouts",
                args![account_key, now, lockout::WINDOW],
            )
            .await?;
        let locked = if failures >= lockout::MAX_FAILURES {
            let until = now + lockout::duration(lockouts);
            tx.execute(
                "UPDATE login_throttle SET locked_until = $2, lockouts = lockouts + 1, failures = 0, window_start = $3 \
                 WHERE account_key = $1",
                args![account_key, until, now],
            )
            .await?;
            Some(until)
        } else {
            None
        };
        tx.commit().await?;
        Ok(locked)
    }

    async fn forget_login_failures(&self, account_key: &str) -> Result<(), StoreError> {
        self.execute(
            "UPDATE login_throttle SET failures = 0 WHERE account_key = $1",
            args![account_key],
        )
        .await?;
        Ok(())
    }

    async fn clear_login_failures(&self, account_key: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM login_throttle WHERE account_key = $1", args![account_key])
            .await?;
        Ok(())
    }

    async fn spend_client_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        // A row whose assertion has expired (and the janitor has not yet deleted) no longer
        // guards anything: it is taken over.
        let spent = self
            .execute(
                "INSERT INTO client_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at \
                 WHERE client_assertions.expires_at <= $4",
                args![client_id, jti, expires_at, now],
            )
            .await?;
        Ok(spent == 1)
    }
}
