//! The steps of an authorization: requests waiting for sign-in or consent, right passwords
//! waiting for their second factor, the consents people gave, and the codes they end in.
//! Redeeming a code starts its grant family (`grants.rs`) in the same transaction.

use async_trait::async_trait;

use super::grants::FAMILY_COLUMNS;
use super::sql::{args, decode_json, encode_json, Backend, Transaction as _};
use super::{CodeRecord, CodeRedemption, PendingAuthorization, PendingLogin, StoreError};
use crate::domain::UnixTime;

#[async_trait]
pub trait AuthorizationStore: Send + Sync {
    /// Inserts a pending request and deletes the oldest others of its browser, so that the
    /// browser keeps at most `keep_per_browser` (unauthenticated traffic writes these rows).
    async fn insert_pending_authorization(
        &self,
        pending: &PendingAuthorization,
        keep_per_browser: i64,
    ) -> Result<(), StoreError>;
    /// A pending request that has not expired at `now`.
    async fn find_pending_authorization(
        &self,
        id_hash: &str,
        now: UnixTime,
    ) -> Result<Option<PendingAuthorization>, StoreError>;
    /// Records progress: the browser it is bound to (rebound at sign-in, which rotates the
    /// cookie), when the person signed in for it, whether they consented.
    async fn update_pending_authorization(&self, pending: &PendingAuthorization) -> Result<(), StoreError>;
    async fn delete_pending_authorization(&self, id_hash: &str) -> Result<(), StoreError>;

    /// Stores the second-factor step of a browser, replacing any earlier one of it.
    async fn put_pending_login(&self, pending: &PendingLogin) -> Result<(), StoreError>;
    /// The browser's second-factor step, if it has not expired at `now`.
    async fn find_pending_login(&self, browser_hash: &str, now: UnixTime) -> Result<Option<PendingLogin>, StoreError>;
    /// Counts a wrong code; returns the failures so far (`i64::MAX` when the step is gone, so
    /// that a caller comparing against a limit stops).
    async fn record_otp_failure(&self, browser_hash: &str) -> Result<i64, StoreError>;
    async fn delete_pending_login(&self, browser_hash: &str) -> Result<(), StoreError>;

    /// The scope the person allowed the client, if any.
    async fn find_consent(&self, user_id: &str, client_id: &str) -> Result<Option<String>, StoreError>;
    /// Stores the person's consent for the client, replacing an earlier one.
    async fn save_consent(&self, user_id: &str, client_id: &str, scope: &str, now: UnixTime) -> Result<(), StoreError>;
    /// (client id, scope, granted at) of every consent the person gave, oldest first.
    async fn list_consents(&self, user_id: &str) -> Result<Vec<(String, String, UnixTime)>, StoreError>;
    async fn delete_consent(&self, user_id: &str, client_id: &str) -> Result<(), StoreError>;

    /// `Conflict` when the code hash exists.
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
}

const PENDING_COLUMNS: &str = "id_hash, browser_hash, request, created_at, expires_at, login_done_at, consent_done";
const PENDING_LOGIN_COLUMNS: &str = "browser_hash, user_id, request_id, created_at, expires_at, failures, name_key";
const CODE_COLUMNS: &str = "code_hash, client_id, user_id, sid, redirect_uri, code_challenge, nonce, scope, claims, \
     audience, auth_time, amr, created_at, expires_at";

#[derive(sqlx::FromRow)]
struct PendingRow {
    id_hash: String,
    browser_hash: String,
    request: String,
    created_at: i64,
    expires_at: i64,
    login_done_at: Option<i64>,
    consent_done: bool,
}

impl From<PendingRow> for PendingAuthorization {
    fn from(r: PendingRow) -> Self {
        Self {
            id_hash: r.id_hash,
            browser_hash: r.browser_hash,
            request: r.request,
            created_at: r.created_at,
            expires_at: r.expires_at,
            login_done_at: r.login_done_at,
            consent_done: r.consent_done,
        }
    }
}

#[derive(sqlx::FromRow)]
struct PendingLoginRow {
    browser_hash: String,
    user_id: String,
    request_id: Option<String>,
    created_at: i64,
    expires_at: i64,
    failures: i64,
    name_key: Option<String>,
}

impl From<PendingLoginRow> for PendingLogin {
    fn from(r: PendingLoginRow) -> Self {
        Self {
            browser_hash: r.browser_hash,
            user_id: r.user_id.into(),
            request_id: r.request_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            failures: r.failures,
            name_key: r.name_key,
        }
    }
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    code_hash: String,
    client_id: String,
    user_id: String,
    sid: String,
    redirect_uri: Option<String>,
    code_challenge: String,
    nonce: Option<String>,
    scope: String,
    claims: Option<String>,
    audience: String,
    auth_time: i64,
    amr: String,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<CodeRow> for CodeRecord {
    type Error = StoreError;
    fn try_from(r: CodeRow) -> Result<Self, StoreError> {
        Ok(Self {
            amr: decode_json("authorization_codes.amr", &r.amr)?,
            code_hash: r.code_hash,
            client_id: r.client_id.into(),
            user_id: r.user_id.into(),
            sid: r.sid.into(),
            redirect_uri: r.redirect_uri,
            code_challenge: r.code_challenge,
            nonce: r.nonce,
            scope: r.scope,
            claims: r.claims,
            audience: r.audience,
            auth_time: r.auth_time,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }
}

#[async_trait]
impl<B: Backend> AuthorizationStore for B {
    async fn insert_pending_authorization(
        &self,
        p: &PendingAuthorization,
        keep_per_browser: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.execute(
            &format!("INSERT INTO pending_authorizations ({PENDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            args![
                &p.id_hash,
                &p.browser_hash,
                &p.request,
                p.created_at,
                p.expires_at,
                p.login_done_at,
                p.consent_done,
            ],
        )
        .await?;
        // The browser's other requests beyond the newest `keep_per_browser - 1` go.
        tx.execute(
            "DELETE FROM pending_authorizations WHERE browser_hash = $1 AND id_hash <> $2 AND id_hash NOT IN \
             (SELECT id_hash FROM pending_authorizations WHERE browser_hash = $1 AND id_hash <> $2 \
              ORDER BY created_at DESC, id_hash DESC LIMIT $3)",
            args![&p.browser_hash, &p.id_hash, (keep_per_browser - 1).max(0)],
        )
        .await?;
        tx.commit().await
    }

    async fn find_pending_authorization(
        &self,
        id_hash: &str,
        now: UnixTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        let row: Option<PendingRow> = self
            .fetch_optional(
                &format!("SELECT {PENDING_COLUMNS} FROM pending_authorizations WHERE id_hash = $1 AND expires_at > $2"),
                args![id_hash, now],
            )
            .await?;
        Ok(row.map(PendingAuthorization::from))
    }

    async fn update_pending_authorization(&self, p: &PendingAuthorization) -> Result<(), StoreError> {
        self.execute(
            "UPDATE pending_authorizations SET browser_hash = $2, login_done_at = $3, consent_done = $4 \
             WHERE id_hash = $1",
            args![&p.id_hash, &p.browser_hash, p.login_done_at, p.consent_done],
        )
        .await?;
        Ok(())
    }

    async fn delete_pending_authorization(&self, id_hash: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM pending_authorizations WHERE id_hash = $1", args![id_hash])
            .await?;
        Ok(())
    }

    async fn put_pending_login(&self, p: &PendingLogin) -> Result<(), StoreError> {
        self.execute(
            &format!(
                "INSERT INTO pending_logins ({PENDING_LOGIN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (browser_hash) DO UPDATE SET \
                 user_id = excluded.user_id, request_id = excluded.request_id, created_at = excluded.created_at, \
                 expires_at = excluded.expires_at, failures = excluded.failures, name_key = excluded.name_key"
            ),
            args![
                &p.browser_hash,
                &p.user_id,
                &p.request_id,
                p.created_at,
                p.expires_at,
                p.failures,
                &p.name_key,
            ],
        )
        .await?;
        Ok(())
    }

    async fn find_pending_login(&self, browser_hash: &str, now: UnixTime) -> Result<Option<PendingLogin>, StoreError> {
        let row: Option<PendingLoginRow> = self
            .fetch_optional(
                &format!(
                    "SELECT {PENDING_LOGIN_COLUMNS} FROM pending_logins WHERE browser_hash = $1 AND expires_at > $2"
                ),
                args![browser_hash, now],
            )
            .await?;
        Ok(row.map(PendingLogin::from))
    }

    async fn record_otp_failure(&self, browser_hash: &str) -> Result<i64, StoreError> {
        let failures: Option<(i64,)> = self
            .fetch_optional(
                "UPDATE pending_logins SET failures = failures + 1 WHERE browser_hash = $1 RETURNING failures",
                args![browser_hash],
            )
            .await?;
        Ok(failures.map_or(i64::MAX, |(failures,)| failures))
    }

    async fn delete_pending_login(&self, browser_hash: &str) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM pending_logins WHERE browser_hash = $1",
            args![browser_hash],
        )
        .await?;
        Ok(())
    }

    async fn find_consent(&self, user_id: &str, client_id: &str) -> Result<Option<String>, StoreError> {
        let scope: Option<(String,)> = self
            .fetch_optional(
                "SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2",
                args![user_id, client_id],
            )
            .await?;
        Ok(scope.map(|(scope,)| scope))
    }

    async fn save_consent(&self, user_id: &str, client_id: &str, scope: &str, now: UnixTime) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
            args![user_id, client_id, scope, now],
        )
        .await?;
        Ok(())
    }

    async fn list_consents(&self, user_id: &str) -> Result<Vec<(String, String, UnixTime)>, StoreError> {
        self.fetch_all(
            "SELECT client_id, scope, granted_at FROM consents WHERE user_id = $1 ORDER BY granted_at",
            args![user_id],
        )
        .await
    }

    async fn delete_consent(&self, user_id: &str, client_id: &str) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM consents WHERE user_id = $1 AND client_id = $2",
            args![user_id, client_id],
        )
        .await?;
        Ok(())
    }

    async fn insert_authorization_code(&self, c: &CodeRecord) -> Result<(), StoreError> {
        self.execute(
            &format!(
                "INSERT INTO authorization_codes ({CODE_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ),
            args![
                &c.code_hash,
                &c.client_id,
                &c.user_id,
                &c.sid,
                &c.redirect_uri,
                &c.code_challenge,
                &c.nonce,
                &c.scope,
                &c.claims,
                &c.audience,
                c.auth_time,
                encode_json(&c.amr)?,
                c.created_at,
                c.expires_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        family_id: &str,
        now: UnixTime,
        family_expires_at: UnixTime,
    ) -> Result<CodeRedemption, StoreError> {
        let mut tx = self.begin().await?;
        let spent: Option<CodeRow> = tx
            .fetch_optional(
                &format!(
                    "UPDATE authorization_codes SET consumed_at = $2, family_id = $3 \
                     WHERE code_hash = $1 AND consumed_at IS NULL RETURNING {CODE_COLUMNS}"
                ),
                args![code_hash, now, family_id],
            )
            .await?;
        let Some(row) = spent else {
            tx.rollback().await?;
            let earlier: Option<(Option<String>,)> = self
                .fetch_optional(
                    "SELECT family_id FROM authorization_codes WHERE code_hash = $1",
                    args![code_hash],
                )
                .await?;
            return Ok(match earlier {
                Some((family_id,)) => CodeRedemption::Replayed {
                    family_id: family_id.map(Into::into),
                },
                None => CodeRedemption::NotFound,
            });
        };
        tx.execute(
            &format!(
                "INSERT INTO grant_families ({FAMILY_COLUMNS}) \
                 SELECT $1, client_id, user_id, sid, scope, claims, audience, auth_time, amr, $2, $3, NULL, NULL \
                 FROM authorization_codes WHERE code_hash = $4"
            ),
            args![family_id, now, family_expires_at, code_hash],
        )
        .await?;
        tx.commit().await?;
        Ok(CodeRedemption::Redeemed(Box::new(CodeRecord::try_from(row)?)))
    }
}
