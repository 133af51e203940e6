//! Signing keys. The store is the coordinator between instances: a unique index allows one
//! `active` and one `next` key per algorithm, so two instances racing to create or promote a
//! key cannot both win.

use async_trait::async_trait;

use super::sql::{args, convert_all, parse_column, Backend, Transaction as _};
use super::{SigningKeyRecord, StoreError};
use crate::domain::{SigningAlg, UnixTime};

#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Inserts a key; `Conflict` when the kid exists or the alg already has a key in that
    /// `active`/`next` state.
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError>;
    /// Every key, oldest first.
    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;
    /// Atomically retires the active key of the next key's alg (until `retire_until`) and makes
    /// `kid` active. False when `kid` is not a next key (another instance promoted it).
    async fn promote_signing_key(&self, kid: &str, now: UnixTime, retire_until: UnixTime) -> Result<bool, StoreError>;
    /// Deletes retired keys whose tokens have all expired; returns how many.
    async fn delete_retired_signing_keys(&self, now: UnixTime) -> Result<u64, StoreError>;
    /// An algorithm no longer in use: atomically retires its active key (until `retire_until`)
    /// and deletes its next key, which never signed. Returns how many keys changed.
    async fn retire_signing_alg(&self, alg: SigningAlg, retire_until: UnixTime) -> Result<u64, StoreError>;
}

const KEY_COLUMNS: &str =
    "kid, alg, state, public_jwk, private_sealed, created_at, activates_at, activated_at, retire_until";

#[derive(sqlx::FromRow)]
struct KeyRow {
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

#[async_trait]
impl<B: Backend> KeyStore for B {
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
        self.execute(
            &format!("INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            args![
                &key.kid,
                key.alg.as_str(),
                key.state.as_str(),
                &key.public_jwk,
                &key.private_sealed,
                key.created_at,
                key.activates_at,
                key.activated_at,
                key.retire_until,
            ],
        )
        .await?;
        Ok(())
    }

    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let rows: Vec<KeyRow> = self
            .fetch_all(
                &format!("SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid"),
                args![],
            )
            .await?;
        convert_all(rows)
    }

    async fn promote_signing_key(&self, kid: &str, now: UnixTime, retire_until: UnixTime) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE signing_keys SET state = 'retired', retire_until = $2 \
             WHERE state = 'active' AND alg = (SELECT alg FROM signing_keys WHERE kid = $1 AND state = 'next')",
            args![kid, retire_until],
        )
        .await?;
        let promoted = tx
            .execute(
                "UPDATE signing_keys SET state = 'active', activated_at = $2 WHERE kid = $1 AND state = 'next'",
                args![kid, now],
            )
            .await?;
        if promoted == 1 {
            tx.commit().await?;
            Ok(true)
        } else {
            tx.rollback().await?;
            Ok(false)
        }
    }

    async fn delete_retired_signing_keys(&self, now: UnixTime) -> Result<u64, StoreError> {
        self.execute(
            "DELETE FROM signing_keys WHERE state = 'retired' AND retire_until <= $1",
            args![now],
        )
        .await
    }

    async fn retire_signing_alg(&self, alg: SigningAlg, retire_until: UnixTime) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let deleted = tx
            .execute(
                "DELETE FROM signing_keys WHERE alg = $1 AND state = 'next'",
                args![alg.as_str()],
            )
            .await?;
        let retired = tx
            .execute(
                "UPDATE signing_keys SET state = 'retired', retire_until = $2 WHERE alg = $1 AND state = 'active'",
                args![alg.as_str(), retire_until],
            )
            .await?;
        tx.commit().await?;
        Ok(deleted + retired)
    }
}
