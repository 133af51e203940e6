//! PostgreSQL, for several instances behind a load balancer: every instance shares codes,
//! refresh families, sessions, keys and counters through it.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use super::sql::*;
use super::Expired;
use super::{
    CodeRecord, CodeRedemption, ConnectError, FamilyRecord, PendingAuthorization, PendingLogin, RefreshTokenRecord,
    RevocationRecord, SessionRecord, SigningKeyRecord, StoreError,
};
use crate::domain::client::Client;
use crate::domain::event::{EventFilter, SecurityEvent};
use crate::domain::user::User;
use crate::domain::UnixTime;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PostgresStore {
    pool: PgPool,
}

pub(super) fn options(url: &str) -> Result<PgConnectOptions, ConnectError> {
    // The parser's message may echo the URL, password included: keep only a generic line.
    PgConnectOptions::from_str(url)
        .map(|o| o.application_name("keyhaven"))
        .map_err(|_| ConnectError::Options("not a valid postgres:// URL".into()))
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options(url)?)
            .await
            .map_err(|e| ConnectError::Connect(e.to_string()))?;
        // sqlx takes an advisory lock, so instances starting together migrate once.
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| ConnectError::Migrate(e.to_string()))?;
        Ok(Self { pool })
    }
}

sql_store!(PostgresStore);
