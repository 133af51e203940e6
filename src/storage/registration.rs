//! Dynamic client registration: the initial access tokens that `client_registration = token`
//! asks for, and each self-registered client's registration access token (RFC 7592). Both held
//! only as hashes.

use async_trait::async_trait;

use super::sql::{args, Backend};
use super::StoreError;
use crate::domain::UnixTime;

#[async_trait]
pub trait RegistrationStore: Send + Sync {
    /// Keeps an initial access token (its hash) good for `uses` registrations until
    /// `expires_at`. `Conflict` when the hash is there already.
    async fn insert_registration_token(
        &self,
        hash: &str,
        uses: i64,
        expires_at: UnixTime,
        created_at: UnixTime,
        note: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Takes one use of the token `hash`, atomically: false when there is no such token, none
    /// is left, or it expired (at or before `now`).
    async fn use_registration_token(&self, hash: &str, now: UnixTime) -> Result<bool, StoreError>;
    /// Keeps the hash of a self-registered client's registration access token; `Conflict` when
    /// the client has one already, an error when there is no such client.
    async fn insert_client_registration(
        &self,
        client_id: &str,
        token_hash: &str,
        created_at: UnixTime,
    ) -> Result<(), StoreError>;
    /// The hash of the registration access token of `client_id`, if it registered itself (gone
    /// with the client).
    async fn find_client_registration(&self, client_id: &str) -> Result<Option<String>, StoreError>;
}

#[async_trait]
impl<B: Backend> RegistrationStore for B {
    async fn insert_registration_token(
        &self,
        hash: &str,
        uses: i64,
        expires_at: UnixTime,
        created_at: UnixTime,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO registration_tokens (hash, uses_left, expires_at, created_at, note) \
             VALUES ($1, $2, $3, $4, $5)",
            args![hash, uses, expires_at, created_at, note],
        )
        .await?;
        Ok(())
    }

    async fn use_registration_token(&self, hash: &str, now: UnixTime) -> Result<bool, StoreError> {
        // One statement: two registrations racing for the last use cannot both have it.
        let changed = self
            .execute(
                "UPDATE registration_tokens SET uses_left = uses_left - 1 \
                 WHERE hash = $1 AND uses_left > 0 AND expires_at > $2",
                args![hash, now],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn insert_client_registration(
        &self,
        client_id: &str,
        token_hash: &str,
        created_at: UnixTime,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO client_registrations (client_id, token_hash, created_at) VALUES ($1, $2, $3)",
            args![client_id, token_hash, created_at],
        )
        .await?;
        Ok(())
    }

    async fn find_client_registration(&self, client_id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = self
            .fetch_optional(
                "SELECT token_hash FROM client_registrations WHERE client_id = $1",
                args![client_id],
            )
            .await?;
        Ok(row.map(|(hash,)| hash))
    }
}
