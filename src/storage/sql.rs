//! The store operations, written once in the SQL both backends accept (`$n` placeholders,
//! TEXT / BIGINT / BOOLEAN columns). `sql_store!` instantiates them for a backend's pool type.
//! Writes that must be atomic are single statements or transactions that write first, so
//! SQLite takes its write lock at once instead of failing a lock upgrade.

use anyhow::Context as _;
use serde::de::DeserializeOwned;

use super::{
    CodeRecord, FamilyRecord, PendingAuthorization, PendingLogin, RefreshTokenRecord, RevocationRecord, SessionRecord,
    SigningKeyRecord, StoreError,
};
use crate::domain::client::Client;
use crate::domain::event::SecurityEvent;
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;

pub(super) fn db_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::RowNotFound => StoreError::NotFound,
        _ if is_transient(&e) => StoreError::Unavailable(super::Unavailable(e)),
        _ => StoreError::Unexpected(anyhow::Error::new(e).context("database query failed")),
    }
}

/// Errors that say the database is out of reach or too slow right now, not that the query is
/// wrong: the pool's acquire timeout, a closed pool, a broken connection, PostgreSQL's statement
/// and lock timeouts and connection failures, SQLite's busy and locked.
fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                let code = pg.code();
                // 57014 query_canceled (statement_timeout), 55P03 lock_not_available
                // (lock_timeout), class 08 connection exceptions, 57P01-57P03 shutdown or
                // starting up, 53300 too_many_connections.
                matches!(code, "57014" | "55P03" | "57P01" | "57P02" | "57P03" | "53300") || code.starts_with("08")
            } else if let Some(sqlite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                // The primary result code is the low byte of the extended one:
                // 5 SQLITE_BUSY (the busy timeout passed), 6 SQLITE_LOCKED.
                let primary = sqlx::error::DatabaseError::code(sqlite)
                    .and_then(|c| c.parse::<i32>().ok())
                    .map(|c| c & 0xff);
                matches!(primary, Some(5 | 6))
            } else {
                false
            }
        }
        _ => false,
    }
}

fn decode_json<T: DeserializeOwned>(column: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .with_context(|| format!("column {column} holds malformed JSON"))
        .map_err(StoreError::Unexpected)
}

pub(super) fn encode_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .context("cannot encode a JSON column")
        .map_err(StoreError::Unexpected)
}

fn parse_column<T: std::str::FromStr<Err = String>>(column: &str, text: &str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|e: String| StoreError::Unexpected(anyhow::anyhow!("column {column}: {e}")))
}

#[derive(sqlx::FromRow)]
pub(super) struct KeyRow {
    kid: String,
    alg: String,
    state: String,
    public_jwk: String,
    private_sealed: String,
    created_at: i64,
    activates_at: i64,
    activated_at: Option<i64>,
    retire_until: Option<i64>,
}

impl TryFrom<KeyRow> for SigningKeyRecord {
    type Error = StoreError;
    fn try_from(r: KeyRow) -> Result<Self, StoreError> {
        Ok(Self {
            alg: parse_column("signing_keys.alg", &r.alg)?,
            state: parse_column("signing_keys.state", &r.state)?,
            kid: r.kid,
            public_jwk: r.public_jwk,
            private_sealed: r.private_sealed,
            created_at: r.created_at,
            activates_at: r.activates_at,
            activated_at: r.activated_at,
            retire_until: r.retire_until,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    id: String,
    name: String,
    client_type: String,
    secret_hash: Option<String>,
    redirect_uris: String,
    grant_types: String,
    scopes: Option<String>,
    audiences: String,
    first_party: bool,
    id_token_alg: String,
    post_logout_redirect_uris: String,
    permissions: String,
    introspect_any_audience: bool,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;
    fn try_from(r: ClientRow) -> Result<Self, StoreError> {
        let scopes = match r.scopes.as_deref() {
            Some(text) => Some(
                ScopeSet::parse(text)
                    .map_err(|e| StoreError::Unexpected(anyhow::anyhow!("column clients.scopes: {e}")))?,
            ),
            None => None,
        };
        Ok(Self {
            client_type: parse_column("clients.client_type", &r.client_type)?,
            redirect_uris: decode_json("clients.redirect_uris", &r.redirect_uris)?,
            grant_types: decode_json("clients.grant_types", &r.grant_types)?,
            audiences: decode_json("clients.audiences", &r.audiences)?,
            scopes,
            id_token_alg: parse_column("clients.id_token_alg", &r.id_token_alg)?,
            post_logout_redirect_uris: decode_json("clients.post_logout_redirect_uris", &r.post_logout_redirect_uris)?,
            permissions: decode_json("clients.permissions", &r.permissions)?,
            introspect_any_audience: r.introspect_any_audience,
            id: r.id,
            name: r.name,
            secret_hash: r.secret_hash,
            first_party: r.first_party,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
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
            id: r.id,
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

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
    id_hash: String,
    sid: String,
    user_id: String,
    auth_time: i64,
    amr: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Self {
            amr: decode_json("browser_sessions.amr", &r.amr)?,
            id_hash: r.id_hash,
            sid: r.sid,
            user_id: r.user_id,
            auth_time: r.auth_time,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ip: r.ip,
            user_agent: r.user_agent,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PendingRow {
    id_hash: String,
    browser_hash: String,
    request: String,
    created_at: i64,
    expires_at: i64,
    login_done_at: Option<i64>,
    consent_done: bool,
}

impl TryFrom<PendingRow> for PendingAuthorization {
    type Error = StoreError;
    fn try_from(r: PendingRow) -> Result<Self, StoreError> {
        Ok(Self {
            id_hash: r.id_hash,
            browser_hash: r.browser_hash,
            request: r.request,
            created_at: r.created_at,
            expires_at: r.expires_at,
            login_done_at: r.login_done_at,
            consent_done: r.consent_done,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CodeRow {
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
            client_id: r.client_id,
            user_id: r.user_id,
            sid: r.sid,
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

#[derive(sqlx::FromRow)]
pub(super) struct FamilyRow {
    id: String,
    client_id: String,
    user_id: String,
    sid: String,
    scope: String,
    claims: Option<String>,
    audience: String,
    auth_time: i64,
    amr: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    revoked_reason: Option<String>,
}

impl TryFrom<FamilyRow> for FamilyRecord {
    type Error = StoreError;
    fn try_from(r: FamilyRow) -> Result<Self, StoreError> {
        Ok(Self {
            amr: decode_json("grant_families.amr", &r.amr)?,
            id: r.id,
            client_id: r.client_id,
            user_id: r.user_id,
            sid: r.sid,
            scope: r.scope,
            claims: r.claims,
            audience: r.audience,
            auth_time: r.auth_time,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            revoked_reason: r.revoked_reason,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RefreshRow {
    token_hash: String,
    family_id: String,
    created_at: i64,
    expires_at: i64,
    rotated_at: Option<i64>,
    successor_hash: Option<String>,
}

impl TryFrom<RefreshRow> for RefreshTokenRecord {
    type Error = StoreError;
    fn try_from(r: RefreshRow) -> Result<Self, StoreError> {
        Ok(Self {
            token_hash: r.token_hash,
            family_id: r.family_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            rotated_at: r.rotated_at,
            successor_hash: r.successor_hash,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RevocationRow {
    seq: i64,
    kind: String,
    subject: String,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<RevocationRow> for RevocationRecord {
    type Error = StoreError;
    fn try_from(r: RevocationRow) -> Result<Self, StoreError> {
        Ok(Self {
            seq: r.seq,
            kind: r.kind,
            subject: r.subject,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    at: i64,
    kind: String,
    outcome: String,
    user_id: Option<String>,
    client_id: Option<String>,
    sid: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: Option<String>,
}

impl TryFrom<EventRow> for SecurityEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        Ok(Self {
            at: r.at,
            kind: r.kind,
            outcome: r.outcome,
            user_id: r.user_id,
            client_id: r.client_id,
            sid: r.sid,
            ip: r.ip,
            user_agent: r.user_agent,
            detail: r.detail,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PendingLoginRow {
    browser_hash: String,
    user_id: String,
    request_id: Option<String>,
    created_at: i64,
    expires_at: i64,
    failures: i64,
    name_key: Option<String>,
}

impl TryFrom<PendingLoginRow> for PendingLogin {
    type Error = StoreError;
    fn try_from(r: PendingLoginRow) -> Result<Self, StoreError> {
        Ok(Self {
            browser_hash: r.browser_hash,
            user_id: r.user_id,
            request_id: r.request_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            failures: r.failures,
            name_key: r.name_key,
        })
    }
}

pub(super) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

pub(super) const KEY_COLUMNS: &str =
    "kid, alg, state, public_jwk, private_sealed, created_at, activates_at, activated_at, retire_until";
pub(super) const CLIENT_COLUMNS: &str = "id, name, client_type, secret_hash, redirect_uris, grant_types, scopes, audiences, \
     first_party, id_token_alg, post_logout_redirect_uris, permissions, introspect_any_audience, created_at, updated_at";
pub(super) const USER_COLUMNS: &str =
    "id, username, email, email_verified, password_hash, disabled, claims, totp_secret, totp_pending, created_at, updated_at";

pub(super) const SESSION_COLUMNS: &str =
    "id_hash, sid, user_id, auth_time, amr, created_at, last_seen_at, expires_at, ip, user_agent";
pub(super) const PENDING_COLUMNS: &str =
    "id_hash, browser_hash, request, created_at, expires_at, login_done_at, consent_done";
pub(super) const CODE_COLUMNS: &str = "code_hash, client_id, user_id, sid, redirect_uri, code_challenge, nonce, scope, claims, audience, auth_time, amr, created_at, expires_at";
pub(super) const FAMILY_COLUMNS: &str =
    "id, client_id, user_id, sid, scope, claims, audience, auth_time, amr, created_at, expires_at, revoked_at, revoked_reason";
pub(super) const REFRESH_COLUMNS: &str = "token_hash, family_id, created_at, expires_at, rotated_at, successor_hash";
pub(super) const EVENT_COLUMNS: &str = "at, kind, outcome, user_id, client_id, sid, ip, user_agent, detail";

/// Implements [`super::Store`] for a struct with a `pool: sqlx::Pool<DB>` field.
macro_rules! sql_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::storage::Store for $store {
            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_error)?;
                Ok(())
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
                sqlx::query(&format!("INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
                    .bind(&key.kid)
                    .bind(key.alg.as_str())
                    .bind(key.state.as_str())
                    .bind(&key.public_jwk)
                    .bind(&key.private_sealed)
                    .bind(key.created_at)
                    .bind(key.activates_at)
                    .bind(key.activated_at)
                    .bind(key.retire_until)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
                let rows: Vec<KeyRow> = sqlx::query_as(&format!("SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid"))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_error)?;
                convert_all(rows)
            }

            async fn promote_signing_key(&self, kid: &str, now: UnixTime, retire_until: UnixTime) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query(
                    "UPDATE signing_keys SET state = 'retired', retire_until = $2 \
                     WHERE state = 'active' AND alg = (SELECT alg FROM signing_keys WHERE kid = $1 AND state = 'next')",
                )
                .bind(kid)
                .bind(retire_until)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                let promoted = sqlx::query("UPDATE signing_keys SET state = 'active', activated_at = $2 WHERE kid = $1 AND state = 'next'")
                    .bind(kid)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?
                    .rows_affected();
                if promoted == 1 {
                    tx.commit().await.map_err(db_error)?;
                    Ok(true)
                } else {
                    tx.rollback().await.map_err(db_error)?;
                    Ok(false)
                }
            }

            async fn delete_retired_signing_keys(&self, now: UnixTime) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM signing_keys WHERE state = 'retired' AND retire_until <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected())
            }

            async fn insert_client(&self, c: &Client) -> Result<(), StoreError> {
                sqlx::query(&format!("INSERT INTO clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"))
                    .bind(&c.id)
                    .bind(&c.name)
                    .bind(c.client_type.as_str())
                    .bind(&c.secret_hash)
                    .bind(encode_json(&c.redirect_uris)?)
                    .bind(encode_json(&c.grant_types)?)
                    .bind(c.scopes.as_ref().map(ToString::to_string))
                    .bind(encode_json(&c.audiences)?)
                    .bind(c.first_party)
                    .bind(c.id_token_alg.as_str())
                    .bind(encode_json(&c.post_logout_redirect_uris)?)
                    .bind(encode_json(&c.permissions)?)
                    .bind(c.introspect_any_audience)
                    .bind(c.created_at)
                    .bind(c.updated_at)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn find_client(&self, id: &str) -> Result<Option<Client>, StoreError> {
                let row: Option<ClientRow> = sqlx::query_as(&format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?;
                row.map(Client::try_from).transpose()
            }

            async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
                let rows: Vec<ClientRow> = sqlx::query_as(&format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, id"))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_error)?;
                convert_all(rows)
            }

            async fn delete_client(&self, id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM clients WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_user(&self, u: &User) -> Result<(), StoreError> {
                sqlx::query(&format!("INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
                    .bind(&u.id)
                    .bind(&u.username)
                    .bind(&u.email)
                    .bind(u.email_verified)
                    .bind(&u.password_hash)
                    .bind(u.disabled)
                    .bind(encode_json(&u.claims)?)
                    .bind(&u.totp_secret)
                    .bind(&u.totp_pending)
                    .bind(u.created_at)
                    .bind(u.updated_at)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn find_user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
                let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?;
                row.map(User::try_from).transpose()
            }

            async fn find_user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
                let login = login.trim().to_lowercase();
                let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1 OR email = $1"))
                    .bind(&login)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?;
                row.map(User::try_from).transpose()
            }

            async fn list_users(&self) -> Result<Vec<User>, StoreError> {
                let rows: Vec<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_error)?;
                convert_all(rows)
            }

            async fn set_user_password(&self, id: &str, password_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(password_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_user_disabled(&self, id: &str, disabled: bool, now: UnixTime) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(disabled)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }
            async fn insert_session(&self, r: &SessionRecord) -> Result<(), StoreError> {
                sqlx::query(&format!("INSERT INTO browser_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
                    .bind(&r.id_hash)
                    .bind(&r.sid)
                    .bind(&r.user_id)
                    .bind(r.auth_time)
                    .bind(encode_json(&r.amr)?)
                    .bind(r.created_at)
                    .bind(r.last_seen_at)
                    .bind(r.expires_at)
                    .bind(&r.ip)
                    .bind(&r.user_agent)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn find_live_session(&self, id_hash: &str, now: UnixTime) -> Result<Option<SessionRecord>, StoreError> {
                let row: Option<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM browser_sessions WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > $2"
                ))
                .bind(id_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
                row.map(SessionRecord::try_from).transpose()
            }

            async fn end_session(&self, id_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE browser_sessions SET ended_at = $2 WHERE id_hash = $1 AND ended_at IS NULL")
                    .bind(id_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_pending_authorization(&self, p: &PendingAuthorization, keep_per_browser: i64) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query(&format!("INSERT INTO pending_authorizations ({PENDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
                    .bind(&p.id_hash)
                    .bind(&p.browser_hash)
                    .bind(&p.request)
                    .bind(p.created_at)
                    .bind(p.expires_at)
                    .bind(p.login_done_at)
                    .bind(p.consent_done)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                // The browser's other requests beyond the newest `keep_per_browser - 1` go.
                sqlx::query(
                    "DELETE FROM pending_authorizations WHERE browser_hash = $1 AND id_hash <> $2 AND id_hash NOT IN \
                     (SELECT id_hash FROM pending_authorizations WHERE browser_hash = $1 AND id_hash <> $2 \
                      ORDER BY created_at DESC, id_hash DESC LIMIT $3)",
                )
                .bind(&p.browser_hash)
                .bind(&p.id_hash)
                .bind((keep_per_browser - 1).max(0))
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(())
            }

            async fn find_pending_authorization(&self, id_hash: &str, now: UnixTime) -> Result<Option<PendingAuthorization>, StoreError> {
                let row: Option<PendingRow> =
                    sqlx::query_as(&format!("SELECT {PENDING_COLUMNS} FROM pending_authorizations WHERE id_hash = $1 AND expires_at > $2"))
                        .bind(id_hash)
                        .bind(now)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db_error)?;
                row.map(PendingAuthorization::try_from).transpose()
            }

            async fn update_pending_authorization(&self, p: &PendingAuthorization) -> Result<(), StoreError> {
                sqlx::query("UPDATE pending_authorizations SET browser_hash = $2, login_done_at = $3, consent_done = $4 WHERE id_hash = $1")
                    .bind(&p.id_hash)
                    .bind(&p.browser_hash)
                    .bind(p.login_done_at)
                    .bind(p.consent_done)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn delete_pending_authorization(&self, id_hash: &str) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM pending_authorizations WHERE id_hash = $1")
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn find_consent(&self, user_id: &str, client_id: &str) -> Result<Option<String>, StoreError> {
                sqlx::query_scalar("SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2")
                    .bind(user_id)
                    .bind(client_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)
            }

            async fn save_consent(&self, user_id: &str, client_id: &str, scope: &str, now: UnixTime) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
                )
                .bind(user_id)
                .bind(client_id)
                .bind(scope)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(())
            }

            async fn insert_authorization_code(&self, c: &CodeRecord) -> Result<(), StoreError> {
                sqlx::query(&format!(
                    "INSERT INTO authorization_codes ({CODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                ))
                .bind(&c.code_hash)
                .bind(&c.client_id)
                .bind(&c.user_id)
                .bind(&c.sid)
                .bind(&c.redirect_uri)
                .bind(&c.code_challenge)
                .bind(&c.nonce)
                .bind(&c.scope)
                .bind(&c.claims)
                .bind(&c.audience)
                .bind(c.auth_time)
                .bind(encode_json(&c.amr)?)
                .bind(c.created_at)
                .bind(c.expires_at)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(())
            }

            async fn redeem_authorization_code(
                &self,
                code_hash: &str,
                family_id: &str,
                now: UnixTime,
                family_expires_at: UnixTime,
            ) -> Result<CodeRedemption, StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                let spent: Option<CodeRow> = sqlx::query_as(&format!(
                    "UPDATE authorization_codes SET consumed_at = $2, family_id = $3 \
                     WHERE code_hash = $1 AND consumed_at IS NULL RETURNING {CODE_COLUMNS}"
                ))
                .bind(code_hash)
                .bind(now)
                .bind(family_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
                let Some(row) = spent else {
                    tx.rollback().await.map_err(db_error)?;
                    let earlier: Option<(Option<String>,)> =
                        sqlx::query_as("SELECT family_id FROM authorization_codes WHERE code_hash = $1")
                            .bind(code_hash)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(db_error)?;
                    return Ok(match earlier {
                        Some((family_id,)) => CodeRedemption::Replayed { family_id },
                        None => CodeRedemption::NotFound,
                    });
                };
                sqlx::query(&format!(
                    "INSERT INTO grant_families ({FAMILY_COLUMNS}) \
                     SELECT $1, client_id, user_id, sid, scope, claims, audience, auth_time, amr, $2, $3, NULL, NULL \
                     FROM authorization_codes WHERE code_hash = $4"
                ))
                .bind(family_id)
                .bind(now)
                .bind(family_expires_at)
                .bind(code_hash)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(CodeRedemption::Redeemed(Box::new(CodeRecord::try_from(row)?)))
            }

            async fn find_family(&self, id: &str) -> Result<Option<FamilyRecord>, StoreError> {
                let row: Option<FamilyRow> = sqlx::query_as(&format!("SELECT {FAMILY_COLUMNS} FROM grant_families WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?;
                row.map(FamilyRecord::try_from).transpose()
            }

            async fn revoke_family(&self, id: &str, now: UnixTime, reason: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE grant_families SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(now)
                    .bind(reason)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_refresh_token(&self, t: &RefreshTokenRecord) -> Result<(), StoreError> {
                sqlx::query(&format!("INSERT INTO refresh_tokens ({REFRESH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
                    .bind(&t.token_hash)
                    .bind(&t.family_id)
                    .bind(t.created_at)
                    .bind(t.expires_at)
                    .bind(t.rotated_at)
                    .bind(&t.successor_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn find_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
                let row: Option<RefreshRow> = sqlx::query_as(&format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = $1"))
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?;
                row.map(RefreshTokenRecord::try_from).transpose()
            }
            async fn rotate_refresh_token(&self, old_hash: &str, new: &RefreshTokenRecord, now: UnixTime) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                let swapped = sqlx::query(
                    "UPDATE refresh_tokens SET rotated_at = $2, successor_hash = $3 WHERE token_hash = $1 AND rotated_at IS NULL",
                )
                .bind(old_hash)
                .bind(now)
                .bind(&new.token_hash)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
                if swapped != 1 {
                    tx.rollback().await.map_err(db_error)?;
                    return Ok(false);
                }
                sqlx::query(&format!("INSERT INTO refresh_tokens ({REFRESH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
                    .bind(&new.token_hash)
                    .bind(&new.family_id)
                    .bind(new.created_at)
                    .bind(new.expires_at)
                    .bind(new.rotated_at)
                    .bind(&new.successor_hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(true)
            }

            async fn find_session_by_sid(&self, sid: &str) -> Result<Option<SessionRecord>, StoreError> {
                let row: Option<SessionRow> = sqlx::query_as(&format!("SELECT {SESSION_COLUMNS} FROM browser_sessions WHERE sid = $1"))
                    .bind(sid)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?;
                row.map(SessionRecord::try_from).transpose()
            }

            async fn end_session_by_sid(&self, sid: &str, now: UnixTime) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE browser_sessions SET ended_at = $2 WHERE sid = $1 AND ended_at IS NULL")
                    .bind(sid)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_session_families(&self, sid: &str, now: UnixTime, reason: &str) -> Result<Vec<String>, StoreError> {
                sqlx::query_scalar(
                    "UPDATE grant_families SET revoked_at = $2, revoked_reason = $3 WHERE sid = $1 AND revoked_at IS NULL RETURNING id",
                )
                .bind(sid)
                .bind(now)
                .bind(reason)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)
            }

            async fn append_revocation(&self, kind: &str, subject: &str, now: UnixTime, expires_at: UnixTime) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO revocations (kind, subject, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(kind)
                    .bind(subject)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn revocations_since(&self, since: UnixTime, now: UnixTime) -> Result<Vec<RevocationRecord>, StoreError> {
                let rows: Vec<RevocationRow> = sqlx::query_as(
                    "SELECT seq, kind, subject, created_at, expires_at FROM revocations WHERE created_at >= $1 AND expires_at > $2 ORDER BY seq",
                )
                .bind(since)
                .bind(now)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
                convert_all(rows)
            }

            async fn insert_events(&self, events: &[SecurityEvent]) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                for e in events {
                    sqlx::query(&format!("INSERT INTO security_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
                        .bind(e.at)
                        .bind(&e.kind)
                        .bind(&e.outcome)
                        .bind(&e.user_id)
                        .bind(&e.client_id)
                        .bind(&e.sid)
                        .bind(&e.ip)
                        .bind(&e.user_agent)
                        .bind(&e.detail)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)?;
                Ok(())
            }

            async fn list_events(&self, f: &EventFilter) -> Result<Vec<SecurityEvent>, StoreError> {
                let rows: Vec<EventRow> = sqlx::query_as(&format!(
                    "SELECT {EVENT_COLUMNS} FROM security_events \
                     WHERE ($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR at >= $3) \
                     ORDER BY id DESC LIMIT $4 OFFSET $5"
                ))
                .bind(&f.user_id)
                .bind(&f.kind)
                .bind(f.since)
                .bind(f.limit)
                .bind(f.offset)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
                convert_all(rows)
            }
            async fn list_live_sessions(&self, user_id: &str, now: UnixTime) -> Result<Vec<SessionRecord>, StoreError> {
                let rows: Vec<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM browser_sessions WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 ORDER BY created_at"
                ))
                .bind(user_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
                convert_all(rows)
            }

            async fn replace_reset_token(&self, user_id: &str, token_hash: &str, now: UnixTime, expires_at: UnixTime) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query("DELETE FROM reset_tokens WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                sqlx::query("INSERT INTO reset_tokens (token_hash, user_id, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, NULL)")
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                tx.commit().await.map_err(db_error)
            }

            async fn find_reset_token(&self, token_hash: &str, now: UnixTime) -> Result<Option<String>, StoreError> {
                sqlx::query_scalar("SELECT user_id FROM reset_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)
            }

            async fn consume_reset_token(&self, token_hash: &str, now: UnixTime) -> Result<Option<String>, StoreError> {
                sqlx::query_scalar(
                    "UPDATE reset_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)
            }

            async fn login_locked_until(&self, account_key: &str, now: UnixTime) -> Result<Option<UnixTime>, StoreError> {
                let until: Option<Option<i64>> = sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE account_key = $1")
                    .bind(account_key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(until.flatten().filter(|until| *until > now))
            }

            async fn record_login_failure(&self, account_key: &str, now: UnixTime) -> Result<Option<UnixTime>, StoreError> {
                use crate::domain::user::lockout;
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                let (failures, lockouts): (i64, i64) = sqlx::query_as(
                    "INSERT INTO login_throttle (account_key, failures, window_start, locked_until, lockouts) VALUES ($1, 1, $2, NULL, 0) \
                     ON CONFLICT (account_key) DO UPDATE SET \
                       failures = CASE WHEN login_throttle.window_start + $3 <= $2 THEN 1 ELSE login_throttle.failures + 1 END, \
                       window_start = CASE WHEN login_throttle.window_start + $3 <= $2 THEN $2 ELSE login_throttle.window_start END \
                     RETURNING failures, lockouts",
                )
                .bind(account_key)
                .bind(now)
                .bind(lockout::WINDOW)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
                let locked = if failures >= lockout::MAX_FAILURES {
                    let until = now + lockout::duration(lockouts);
                    sqlx::query(
                        "UPDATE login_throttle SET locked_until = $2, lockouts = lockouts + 1, failures = 0, window_start = $3 WHERE account_key = $1",
                    )
                    .bind(account_key)
                    .bind(until)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                    Some(until)
                } else {
                    None
                };
                tx.commit().await.map_err(db_error)?;
                Ok(locked)
            }

            async fn forget_login_failures(&self, account_key: &str) -> Result<(), StoreError> {
                sqlx::query("UPDATE login_throttle SET failures = 0 WHERE account_key = $1")
                    .bind(account_key)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn clear_login_failures(&self, account_key: &str) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM login_throttle WHERE account_key = $1")
                    .bind(account_key)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn set_totp_pending(&self, user_id: &str, sealed: Option<&str>) -> Result<(), StoreError> {
                sqlx::query("UPDATE users SET totp_pending = $2 WHERE id = $1")
                    .bind(user_id)
                    .bind(sealed)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn enable_totp(&self, user_id: &str, sealed: &str, recovery_hashes: &[String]) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query("UPDATE users SET totp_secret = $2, totp_pending = NULL, totp_last_step = NULL WHERE id = $1")
                    .bind(user_id)
                    .bind(sealed)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                for hash in recovery_hashes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)")
                        .bind(user_id)
                        .bind(hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)
            }

            async fn disable_totp(&self, user_id: &str) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query("UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL WHERE id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                tx.commit().await.map_err(db_error)
            }

            async fn accept_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                )
                .bind(user_id)
                .bind(step)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn use_recovery_code(&self, user_id: &str, code_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL")
                    .bind(user_id)
                    .bind(code_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn replace_recovery_codes(&self, user_id: &str, hashes: &[String]) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                for hash in hashes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)")
                        .bind(user_id)
                        .bind(hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)
            }

            async fn put_pending_login(&self, p: &PendingLogin) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO pending_logins (browser_hash, user_id, request_id, created_at, expires_at, failures, name_key) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (browser_hash) DO UPDATE SET \
                     user_id = excluded.user_id, request_id = excluded.request_id, created_at = excluded.created_at, \
                     expires_at = excluded.expires_at, failures = excluded.failures, name_key = excluded.name_key",
                )
                .bind(&p.browser_hash)
                .bind(&p.user_id)
                .bind(&p.request_id)
                .bind(p.created_at)
                .bind(p.expires_at)
                .bind(p.failures)
                .bind(&p.name_key)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(())
            }

            async fn find_pending_login(&self, browser_hash: &str, now: UnixTime) -> Result<Option<PendingLogin>, StoreError> {
                let row: Option<PendingLoginRow> = sqlx::query_as(
                    "SELECT browser_hash, user_id, request_id, created_at, expires_at, failures, name_key FROM pending_logins \
                     WHERE browser_hash = $1 AND expires_at > $2",
                )
                .bind(browser_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
                row.map(PendingLogin::try_from).transpose()
            }

            async fn record_otp_failure(&self, browser_hash: &str) -> Result<i64, StoreError> {
                let failures: Option<i64> =
                    sqlx::query_scalar("UPDATE pending_logins SET failures = failures + 1 WHERE browser_hash = $1 RETURNING failures")
                        .bind(browser_hash)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db_error)?;
                Ok(failures.unwrap_or(i64::MAX))
            }

            async fn delete_pending_login(&self, browser_hash: &str) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM pending_logins WHERE browser_hash = $1")
                    .bind(browser_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }
            async fn revoke_user_families(&self, user_id: &str, keep_sid: Option<&str>, now: UnixTime, reason: &str) -> Result<Vec<String>, StoreError> {
                sqlx::query_scalar(
                    "UPDATE grant_families SET revoked_at = $2, revoked_reason = $3 \
                     WHERE user_id = $1 AND revoked_at IS NULL AND ($4 IS NULL OR sid <> $4) RETURNING id",
                )
                .bind(user_id)
                .bind(now)
                .bind(reason)
                .bind(keep_sid)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)
            }
            async fn touch_session(&self, id_hash: &str, now: UnixTime) -> Result<(), StoreError> {
                sqlx::query("UPDATE browser_sessions SET last_seen_at = $2 WHERE id_hash = $1")
                    .bind(id_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn list_live_families(&self, user_id: &str, now: UnixTime) -> Result<Vec<FamilyRecord>, StoreError> {
                let rows: Vec<FamilyRow> = sqlx::query_as(&format!(
                    "SELECT {FAMILY_COLUMNS} FROM grant_families WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at"
                ))
                .bind(user_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
                convert_all(rows)
            }

            async fn list_consents(&self, user_id: &str) -> Result<Vec<(String, String, UnixTime)>, StoreError> {
                sqlx::query_as("SELECT client_id, scope, granted_at FROM consents WHERE user_id = $1 ORDER BY granted_at")
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_error)
            }

            async fn delete_consent(&self, user_id: &str, client_id: &str) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
                    .bind(user_id)
                    .bind(client_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn revoke_client_families(&self, user_id: &str, client_id: &str, now: UnixTime, reason: &str) -> Result<Vec<String>, StoreError> {
                sqlx::query_scalar(
                    "UPDATE grant_families SET revoked_at = $3, revoked_reason = $4 \
                     WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL RETURNING id",
                )
                .bind(user_id)
                .bind(client_id)
                .bind(now)
                .bind(reason)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)
            }

            async fn update_user_claims(&self, user_id: &str, claims: &crate::domain::user::ProfileClaims, now: UnixTime) -> Result<(), StoreError> {
                sqlx::query("UPDATE users SET claims = $2, updated_at = $3 WHERE id = $1")
                    .bind(user_id)
                    .bind(encode_json(claims)?)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn set_user_email(&self, user_id: &str, email: &str, now: UnixTime) -> Result<(), StoreError> {
                sqlx::query("UPDATE users SET email = $2, email_verified = TRUE, updated_at = $3 WHERE id = $1")
                    .bind(user_id)
                    .bind(email)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn replace_email_change(&self, user_id: &str, token_hash: &str, new_email: &str, now: UnixTime, expires_at: UnixTime) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(db_error)?;
                sqlx::query("DELETE FROM email_changes WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                sqlx::query("INSERT INTO email_changes (token_hash, user_id, new_email, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, NULL)")
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(new_email)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                tx.commit().await.map_err(db_error)
            }

            async fn consume_email_change(&self, token_hash: &str, now: UnixTime) -> Result<Option<(String, String)>, StoreError> {
                sqlx::query_as(
                    "UPDATE email_changes SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id, new_email",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)
            }
            async fn lapsed_sessions(&self, now: UnixTime, idle_since: UnixTime, limit: i64) -> Result<Vec<String>, StoreError> {
                sqlx::query_scalar(
                    "SELECT sid FROM browser_sessions WHERE ended_at IS NULL AND (expires_at <= $1 OR last_seen_at <= $2) LIMIT $3",
                )
                .bind(now)
                .bind(idle_since)
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)
            }
            async fn take_lease(&self, name: &str, holder: &str, now: UnixTime, expires_at: UnixTime) -> Result<bool, StoreError> {
                let taken: Option<String> = sqlx::query_scalar(
                    "INSERT INTO janitor_lease (name, holder, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                     WHERE janitor_lease.expires_at <= $4 OR janitor_lease.holder = excluded.holder RETURNING holder",
                )
                .bind(name)
                .bind(holder)
                .bind(expires_at)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(taken.as_deref() == Some(holder))
            }

            async fn delete_expired(&self, what: Expired, now: UnixTime, limit: i64) -> Result<u64, StoreError> {
                let (table, key, condition) = match what {
                    Expired::Codes => ("authorization_codes", "code_hash", "expires_at <= $1 - 3600"),
                    Expired::RefreshTokens => ("refresh_tokens", "token_hash", "expires_at <= $1"),
                    Expired::Families => ("grant_families", "id", "expires_at <= $1"),
                    Expired::Sessions => ("browser_sessions", "id_hash", "(ended_at IS NOT NULL AND ended_at <= $1 - 86400) OR expires_at <= $1 - 86400"),
                    Expired::PendingSteps => ("pending_authorizations", "id_hash", "expires_at <= $1"),
                    Expired::Links => ("reset_tokens", "token_hash", "expires_at <= $1 OR used_at IS NOT NULL"),
                    Expired::Revocations => ("revocations", "seq", "expires_at <= $1"),
                    // A row that was locked is kept a day after its lock ended
                    // (`lockout::MEMORY`), so the back-off outlives a pause between bursts.
                    Expired::LoginThrottle => (
                        "login_throttle",
                        "account_key",
                        "(locked_until IS NULL OR locked_until <= $1 - 86400) AND window_start <= $1 - 900",
                    ),
                    Expired::Events => ("security_events", "id", "at <= $1"),
                };
                let statement = format!("DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} LIMIT $2)");
                let mut deleted = sqlx::query(&statement)
                    .bind(now)
                    .bind(limit)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?
                    .rows_affected();
                // Tables that travel with another: second-factor steps with pending
                // authorizations, email changes with reset links.
                let companion = match what {
                    Expired::PendingSteps => Some(("pending_logins", "browser_hash", "expires_at <= $1")),
                    Expired::Links => Some(("email_changes", "token_hash", "expires_at <= $1 OR used_at IS NOT NULL")),
                    _ => None,
                };
                if let Some((table, key, condition)) = companion {
                    let statement = format!("DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} LIMIT $2)");
                    deleted += sqlx::query(&statement)
                        .bind(now)
                        .bind(limit)
                        .execute(&self.pool)
                        .await
                        .map_err(db_error)?
                        .rows_affected();
                }
                Ok(deleted)
            }
            async fn update_client(&self, c: &Client) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE clients SET name = $2, client_type = $3, redirect_uris = $4, grant_types = $5, scopes = $6, audiences = $7, \
                     first_party = $8, id_token_alg = $9, post_logout_redirect_uris = $10, permissions = $11, introspect_any_audience = $12, \
                     updated_at = $13 WHERE id = $1",
                )
                .bind(&c.id)
                .bind(&c.name)
                .bind(c.client_type.as_str())
                .bind(encode_json(&c.redirect_uris)?)
                .bind(encode_json(&c.grant_types)?)
                .bind(c.scopes.as_ref().map(ToString::to_string))
                .bind(encode_json(&c.audiences)?)
                .bind(c.first_party)
                .bind(c.id_token_alg.as_str())
                .bind(encode_json(&c.post_logout_redirect_uris)?)
                .bind(encode_json(&c.permissions)?)
                .bind(c.introspect_any_audience)
                .bind(c.updated_at)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_client_secret(&self, id: &str, secret_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE clients SET secret_hash = $2, updated_at = $3 WHERE id = $1 AND client_type = 'confidential'")
                    .bind(id)
                    .bind(secret_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn search_users(&self, search: Option<&str>, offset: i64, limit: i64) -> Result<Vec<User>, StoreError> {
                let pattern = search.map(|s| format!("%{}%", s.to_lowercase().replace('%', "").replace('_', "")));
                let rows: Vec<UserRow> = sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE ($1 IS NULL OR username LIKE $1 OR email LIKE $1) ORDER BY username LIMIT $2 OFFSET $3"
                ))
                .bind(pattern)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
                convert_all(rows)
            }
        }
    };
}

pub(super) use sql_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_connection_failures_are_unavailable_other_errors_unexpected() {
        let reset = || sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        for transient in [sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed, reset()] {
            assert!(matches!(db_error(transient), StoreError::Unavailable(_)));
        }
        assert!(matches!(db_error(sqlx::Error::RowNotFound), StoreError::NotFound));
        assert!(matches!(
            db_error(sqlx::Error::ColumnNotFound("kid".into())),
            StoreError::Unexpected(_)
        ));
    }
}
