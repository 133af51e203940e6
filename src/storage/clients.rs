//! Registered clients (relying parties and services).

use async_trait::async_trait;

use super::sql::{args, convert_all, decode_json, encode_json, parse_column, Backend};
use super::StoreError;
use crate::domain::client::Client;
use crate::domain::scope::ScopeSet;
use crate::domain::UnixTime;

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// `Conflict` when the id is taken.
    async fn insert_client(&self, client: &Client) -> Result<(), StoreError>;
    async fn find_client(&self, id: &str) -> Result<Option<Client>, StoreError>;
    /// Every client, oldest first.
    async fn list_clients(&self) -> Result<Vec<Client>, StoreError>;
    /// False when there was no such client.
    async fn delete_client(&self, id: &str) -> Result<bool, StoreError>;
    /// Rewrites a client's registration (not its id, secret or creation time); false when
    /// there is no such client.
    async fn update_client(&self, client: &Client) -> Result<bool, StoreError>;
    /// False when there is no such confidential client (a public client has no secret).
    async fn set_client_secret(&self, id: &str, secret_hash: &str, now: UnixTime) -> Result<bool, StoreError>;
}

const CLIENT_COLUMNS: &str = "id, name, client_type, secret_hash, redirect_uris, grant_types, scopes, audiences, \
     first_party, id_token_alg, post_logout_redirect_uris, permissions, introspect_any_audience, created_at, updated_at, \
     auth_method, origin, jwks, jwks_uri, logo_uri, client_uri";

#[derive(sqlx::FromRow)]
struct ClientRow {
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
    auth_method: String,
    origin: String,
    jwks: Option<String>,
    jwks_uri: Option<String>,
    logo_uri: Option<String>,
    client_uri: Option<String>,
}

fn url_column(column: &str, value: Option<&str>) -> Result<Option<url::Url>, StoreError> {
    value
        .map(|text| url::Url::parse(text).map_err(|e| StoreError::Unexpected(anyhow::anyhow!("column {column}: {e}"))))
        .transpose()
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
            auth_method: parse_column("clients.auth_method", &r.auth_method)?,
            origin: parse_column("clients.origin", &r.origin)?,
            jwks: r
                .jwks
                .as_deref()
                .map(|text| decode_json("clients.jwks", text))
                .transpose()?,
            jwks_uri: url_column("clients.jwks_uri", r.jwks_uri.as_deref())?,
            logo_uri: url_column("clients.logo_uri", r.logo_uri.as_deref())?,
            client_uri: url_column("clients.client_uri", r.client_uri.as_deref())?,
            id: r.id.into(),
            name: r.name,
            secret_hash: r.secret_hash,
            first_party: r.first_party,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[async_trait]
impl<B: Backend> ClientStore for B {
    async fn insert_client(&self, c: &Client) -> Result<(), StoreError> {
        self.execute(
            &format!(
                "INSERT INTO clients ({CLIENT_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
            ),
            args![
                &c.id,
                &c.name,
                c.client_type.as_str(),
                &c.secret_hash,
                encode_json(&c.redirect_uris)?,
                encode_json(&c.grant_types)?,
                c.scopes.as_ref().map(ToString::to_string),
                encode_json(&c.audiences)?,
                c.first_party,
                c.id_token_alg.as_str(),
                encode_json(&c.post_logout_redirect_uris)?,
                encode_json(&c.permissions)?,
                c.introspect_any_audience,
                c.created_at,
                c.updated_at,
                c.auth_method.as_str(),
                c.origin.as_str(),
                c.jwks.as_ref().map(encode_json).transpose()?,
                c.jwks_uri.as_ref().map(url::Url::as_str),
                c.logo_uri.as_ref().map(url::Url::as_str),
                c.client_uri.as_ref().map(url::Url::as_str),
            ],
        )
        .await?;
        Ok(())
    }

    async fn find_client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        let row: Option<ClientRow> = self
            .fetch_optional(
                &format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1"),
                args![id],
            )
            .await?;
        row.map(Client::try_from).transpose()
    }

    async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        let rows: Vec<ClientRow> = self
            .fetch_all(
                &format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, id"),
                args![],
            )
            .await?;
        convert_all(rows)
    }

    async fn delete_client(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.execute("DELETE FROM clients WHERE id = $1", args![id]).await? == 1)
    }

    async fn update_client(&self, c: &Client) -> Result<bool, StoreError> {
        let updated = self
            .execute(
                "UPDATE clients SET name = $2, client_type = $3, redirect_uris = $4, grant_types = $5, scopes = $6, \
                 audiences = $7, first_party = $8, id_token_alg = $9, post_logout_redirect_uris = $10, \
                 permissions = $11, introspect_any_audience = $12, updated_at = $13, auth_method = $14, origin = $15, \
                 jwks = $16, jwks_uri = $17, logo_uri = $18, client_uri = $19 WHERE id = $1",
                args![
                    &c.id,
                    &c.name,
                    c.client_type.as_str(),
                    encode_json(&c.redirect_uris)?,
                    encode_json(&c.grant_types)?,
                    c.scopes.as_ref().map(ToString::to_string),
                    encode_json(&c.audiences)?,
                    c.first_party,
                    c.id_token_alg.as_str(),
                    encode_json(&c.post_logout_redirect_uris)?,
                    encode_json(&c.permissions)?,
                    c.introspect_any_audience,
                    c.updated_at,
                    c.auth_method.as_str(),
                    c.origin.as_str(),
                    c.jwks.as_ref().map(encode_json).transpose()?,
                    c.jwks_uri.as_ref().map(url::Url::as_str),
                    c.logo_uri.as_ref().map(url::Url::as_str),
                    c.client_uri.as_ref().map(url::Url::as_str),
                ],
            )
            .await?;
        Ok(updated == 1)
    }

    async fn set_client_secret(&self, id: &str, secret_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
        let updated = self
            .execute(
                "UPDATE clients SET secret_hash = $2, updated_at = $3 WHERE id = $1 \
                 AND auth_method IN ('client_secret_basic', 'client_secret_post')",
                args![id, secret_hash, now],
            )
            .await?;
        Ok(updated == 1)
    }
}
