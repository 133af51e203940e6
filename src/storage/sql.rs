//! The store operations, written once in the SQL both backends accept (`$n` placeholders,
//! TEXT / BIGINT / BOOLEAN columns). `sql_store!` instantiates them for a backend's pool type.
//! Writes that must be atomic are single statements or transactions that write first, so
//! SQLite takes its write lock at once instead of failing a lock upgrade.

use anyhow::Context as _;
use serde::de::DeserializeOwned;

use super::{SigningKeyRecord, StoreError};
use crate::domain::client::Client;
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;

pub(super) fn db_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::RowNotFound => StoreError::NotFound,
        _ => StoreError::Unexpected(anyhow::Error::new(e).context("database query failed")),
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

fn parse_column<T: std::str::FromStr<Err = String>>(
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
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
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;
    fn try_from(r: ClientRow) -> Result<Self, StoreError> {
        let scopes = match r.scopes.as_deref() {
            Some(text) => Some(ScopeSet::parse(text).map_err(|e| {
                StoreError::Unexpected(anyhow::anyhow!("column clients.scopes: {e}"))
            })?),
            None => None,
        };
        Ok(Self {
            client_type: parse_column("clients.client_type", &r.client_type)?,
            redirect_uris: decode_json("clients.redirect_uris", &r.redirect_uris)?,
            grant_types: decode_json("clients.grant_types", &r.grant_types)?,
            audiences: decode_json("clients.audiences", &r.audiences)?,
            scopes,
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
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(super) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

pub(super) const KEY_COLUMNS: &str = "kid, alg, state, public_jwk, private_sealed, created_at, activates_at, activated_at, retire_until";
pub(super) const CLIENT_COLUMNS: &str = "id, name, client_type, secret_hash, redirect_uris, grant_types, scopes, audiences, first_party, created_at, updated_at";
pub(super) const USER_COLUMNS: &str =
    "id, username, email, email_verified, password_hash, disabled, claims, created_at, updated_at";

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
                sqlx::query(&format!("INSERT INTO clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
                    .bind(&c.id)
                    .bind(&c.name)
                    .bind(c.client_type.as_str())
                    .bind(&c.secret_hash)
                    .bind(encode_json(&c.redirect_uris)?)
                    .bind(encode_json(&c.grant_types)?)
                    .bind(c.scopes.as_ref().map(ToString::to_string))
                    .bind(encode_json(&c.audiences)?)
                    .bind(c.first_party)
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
                sqlx::query(&format!("INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
                    .bind(&u.id)
                    .bind(&u.username)
                    .bind(&u.email)
                    .bind(u.email_verified)
                    .bind(&u.password_hash)
                    .bind(u.disabled)
                    .bind(encode_json(&u.claims)?)
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
        }
    };
}

pub(super) use sql_store;
