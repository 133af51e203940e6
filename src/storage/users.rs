//! People: their accounts, profile claims, and the email-change links that move their address.
//! What proves who they are (reset links, second factor, sign-in throttle) is in
//! `credentials.rs`.

use async_trait::async_trait;

use super::sql::{args, convert_all, decode_json, encode_json, Backend, Transaction as _};
use super::StoreError;
use crate::domain::user::{ProfileClaims, User};
use crate::domain::UnixTime;

#[async_trait]
pub trait UserStore: Send + Sync {
    /// `Conflict` when the username or email is taken.
    async fn insert_user(&self, user: &User) -> Result<(), StoreError>;
    async fn find_user_by_id(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// By username or email (both stored lowercased).
    async fn find_user_by_login(&self, login: &str) -> Result<Option<User>, StoreError>;
    /// Every person, by username.
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    /// People whose username or email contains `search` (all when None), by username.
    async fn search_users(&self, search: Option<&str>, offset: i64, limit: i64) -> Result<Vec<User>, StoreError>;
    /// False when there is no such person.
    async fn set_user_password(&self, id: &str, password_hash: &str, now: UnixTime) -> Result<bool, StoreError>;
    /// False when there is no such person.
    async fn set_user_disabled(&self, id: &str, disabled: bool, now: UnixTime) -> Result<bool, StoreError>;
    async fn update_user_claims(&self, user_id: &str, claims: &ProfileClaims, now: UnixTime) -> Result<(), StoreError>;
    /// Sets a verified address; `Conflict` when another account has it.
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
    /// Spends an email-change token once, before it expires; returns (person, new address).
    /// The address a pending, unexpired email change of the person would set.
    async fn find_pending_email_change(&self, user_id: &str, now: UnixTime) -> Result<Option<String>, StoreError>;
    /// Stores a link that puts `old_email` back as the person's address (left at the old
    /// address when it changes).
    async fn insert_email_restore(
        &self,
        user_id: &str,
        token_hash: &str,
        old_email: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<(), StoreError>;
    /// Spends a restore link, voiding the person's pending email changes and reset links with
    /// it; returns the person and the address to put back.
    async fn consume_email_restore(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<(String, String)>, StoreError>;
    async fn consume_email_change(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<(String, String)>, StoreError>;
}

const USER_COLUMNS: &str =
    "id, username, email, email_verified, password_hash, disabled, claims, totp_secret, totp_pending, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    email: String,
    email_verified: bool,
    password_hash: String,
    disabled: bool,
    claims: String,
    totp_secret: Option<String>,
    totp_pending: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(Self {
            claims: decode_json("users.claims", &r.claims)?,
            id: r.id.into(),
            username: r.username,
            email: r.email,
            email_verified: r.email_verified,
            password_hash: r.password_hash,
            disabled: r.disabled,
            totp_secret: r.totp_secret,
            totp_pending: r.totp_pending,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[async_trait]
impl<B: Backend> UserStore for B {
    async fn insert_user(&self, u: &User) -> Result<(), StoreError> {
        self.execute(
            &format!("INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
            args![
                &u.id,
                &u.username,
                &u.email,
                u.email_verified,
                &u.password_hash,
                u.disabled,
                encode_json(&u.claims)?,
                &u.totp_secret,
                &u.totp_pending,
                u.created_at,
                u.updated_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn find_user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = self
            .fetch_optional(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"), args![id])
            .await?;
        row.map(User::try_from).transpose()
    }

    async fn find_user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        let login = login.trim().to_lowercase();
        let row: Option<UserRow> = self
            .fetch_optional(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1 OR email = $1"),
                args![&login],
            )
            .await?;
        row.map(User::try_from).transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = self
            .fetch_all(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"), args![])
            .await?;
        convert_all(rows)
    }

    async fn search_users(&self, search: Option<&str>, offset: i64, limit: i64) -> Result<Vec<User>, StoreError> {
        let pattern = search.map(|s| format!("%{}%", s.to_lowercase().replace(['%', '_'], "")));
        let rows: Vec<UserRow> = self
            .fetch_all(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE ($1 IS NULL OR username LIKE $1 OR email LIKE $1) \
                     ORDER BY username LIMIT $2 OFFSET $3"
                ),
                args![pattern, limit, offset],
            )
            .await?;
        convert_all(rows)
    }

    async fn set_user_password(&self, id: &str, password_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
        let updated = self
            .execute(
                "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
                args![id, password_hash, now],
            )
            .await?;
        Ok(updated == 1)
    }

    async fn set_user_disabled(&self, id: &str, disabled: bool, now: UnixTime) -> Result<bool, StoreError> {
        let updated = self
            .execute(
                "UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1",
                args![id, disabled, now],
            )
            .await?;
        Ok(updated == 1)
    }

    async fn update_user_claims(&self, user_id: &str, claims: &ProfileClaims, now: UnixTime) -> Result<(), StoreError> {
        self.execute(
            "UPDATE users SET claims = $2, updated_at = $3 WHERE id = $1",
            args![user_id, encode_json(claims)?, now],
        )
        .await?;
        Ok(())
    }

    async fn set_user_email(&self, user_id: &str, email: &str, now: UnixTime) -> Result<(), StoreError> {
        self.execute(
            "UPDATE users SET email = $2, email_verified = TRUE, updated_at = $3 WHERE id = $1",
            args![user_id, email, now],
        )
        .await?;
        Ok(())
    }

    async fn replace_email_change(
        &self,
        user_id: &str,
        token_hash: &str,
        new_email: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.execute(
            "DELETE FROM email_changes WHERE user_id = $1 AND purpose = 'change'",
            args![user_id],
        )
        .await?;
        tx.execute(
            "INSERT INTO email_changes (token_hash, user_id, new_email, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, NULL)",
            args![token_hash, user_id, new_email, now, expires_at],
        )
        .await?;
        tx.commit().await
    }

    async fn consume_email_change(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<(String, String)>, StoreError> {
        self.fetch_optional(
            "UPDATE email_changes SET used_at = $2 \
             WHERE token_hash = $1 AND purpose = 'change' AND used_at IS NULL AND expires_at > $2 \
             RETURNING user_id, new_email",
            args![token_hash, now],
        )
        .await
    }

    async fn find_pending_email_change(&self, user_id: &str, now: UnixTime) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = self
            .fetch_optional(
                "SELECT new_email FROM email_changes \
                 WHERE user_id = $1 AND purpose = 'change' AND used_at IS NULL AND expires_at > $2 \
                 ORDER BY created_at DESC LIMIT 1",
                args![user_id, now],
            )
            .await?;
        Ok(row.map(|(email,)| email))
    }

    async fn insert_email_restore(
        &self,
        user_id: &str,
        token_hash: &str,
        old_email: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO email_changes (token_hash, user_id, new_email, created_at, expires_at, used_at, purpose) \
             VALUES ($1, $2, $3, $4, $5, NULL, 'restore')",
            args![token_hash, user_id, old_email, now, expires_at],
        )
        .await?;
        Ok(())
    }

    async fn consume_email_restore(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<(String, String)>, StoreError> {
        let mut tx = self.begin().await?;
        let restored: Option<(String, String)> = tx
            .fetch_optional(
                "UPDATE email_changes SET used_at = $2 \
                 WHERE token_hash = $1 AND purpose = 'restore' AND used_at IS NULL AND expires_at > $2 \
                 RETURNING user_id, new_email",
                args![token_hash, now],
            )
            .await?;
        let Some((user_id, email)) = restored else {
            tx.rollback().await?;
            return Ok(None);
        };
        tx.execute(
            "DELETE FROM email_changes WHERE user_id = $1 AND purpose = 'change'",
            args![&user_id],
        )
        .await?;
        tx.execute("DELETE FROM reset_tokens WHERE user_id = $1", args![&user_id])
            .await?;
        tx.commit().await?;
        Ok(Some((user_id, email)))
    }
}
