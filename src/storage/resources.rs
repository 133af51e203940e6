//! The registry of resource servers: the audiences whose access tokens take an algorithm of
//! their own.

use async_trait::async_trait;

use super::sql::{args, convert_all, parse_column, Backend};
use super::StoreError;
use crate::domain::ResourceServer;

#[async_trait]
pub trait ResourceStore: Send + Sync {
    /// `Conflict` when the URI is registered already.
    async fn insert_resource(&self, resource: &ResourceServer) -> Result<(), StoreError>;
    async fn find_resource(&self, uri: &str) -> Result<Option<ResourceServer>, StoreError>;
    /// Every resource server, by URI.
    async fn list_resources(&self) -> Result<Vec<ResourceServer>, StoreError>;
    /// Rewrites the name, the algorithm, whether it is open to self-registered clients and
    /// `updated_at` (not the URI or creation time); false
    /// when there is no such resource server.
    async fn update_resource(&self, resource: &ResourceServer) -> Result<bool, StoreError>;
    /// False when there was no such resource server.
    async fn delete_resource(&self, uri: &str) -> Result<bool, StoreError>;
}

const RESOURCE_COLUMNS: &str = "uri, name, access_token_alg, created_at, updated_at, open_to_self_registered";

#[derive(sqlx::FromRow)]
struct ResourceRow {
    uri: String,
    name: String,
    access_token_alg: String,
    created_at: i64,
    updated_at: i64,
    open_to_self_registered: bool,
}

impl TryFrom<ResourceRow> for ResourceServer {
    type Error = StoreError;
    fn try_from(r: ResourceRow) -> Result<Self, StoreError> {
        Ok(Self {
            access_token_alg: parse_column("resource_servers.access_token_alg", &r.access_token_alg)?,
            uri: r.uri.into(),
            name: r.name,
            open_to_self_registered: r.open_to_self_registered,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[async_trait]
impl<B: Backend> ResourceStore for B {
    async fn insert_resource(&self, r: &ResourceServer) -> Result<(), StoreError> {
        self.execute(
            &format!("INSERT INTO resource_servers ({RESOURCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            args![
                &r.uri,
                &r.name,
                r.access_token_alg.as_str(),
                r.created_at,
                r.updated_at,
                r.open_to_self_registered
            ],
        )
        .await?;
        Ok(())
    }

    async fn find_resource(&self, uri: &str) -> Result<Option<ResourceServer>, StoreError> {
        let row: Option<ResourceRow> = self
            .fetch_optional(
                &format!("SELECT {RESOURCE_COLUMNS} FROM resource_servers WHERE uri = $1"),
                args![uri],
            )
            .await?;
        row.map(ResourceServer::try_from).transpose()
    }

    async fn list_resources(&self) -> Result<Vec<ResourceServer>, StoreError> {
        let rows: Vec<ResourceRow> = self
            .fetch_all(
                &format!("SELECT {RESOURCE_COLUMNS} FROM resource_servers ORDER BY uri"),
                args![],
            )
            .await?;
        convert_all(rows)
    }

    async fn update_resource(&self, r: &ResourceServer) -> Result<bool, StoreError> {
        let updated = self
            .execute(
                "UPDATE resource_servers SET name = $2, access_token_alg = $3, updated_at = $4, \
                 open_to_self_registered = $5 WHERE uri = $1",
                args![
                    &r.uri,
                    &r.name,
                    r.access_token_alg.as_str(),
                    r.updated_at,
                    r.open_to_self_registered
                ],
            )
            .await?;
        Ok(updated == 1)
    }

    async fn delete_resource(&self, uri: &str) -> Result<bool, StoreError> {
        Ok(self
            .execute("DELETE FROM resource_servers WHERE uri = $1", args![uri])
            .await?
            == 1)
    }
}
