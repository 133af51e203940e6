//! PostgreSQL, for several instances behind a load balancer: every instance shares codes,
//! refresh families, sessions, keys and counters through it.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgPool};

use super::sql::sql_backend;
use super::{ConnectError, Timeouts};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl PostgresStore {
    const BEGIN: &'static str = "BEGIN";

    /// PostgreSQL admits concurrent writers: one pool for everything.
    fn writer(&self) -> &PgPool {
        &self.pool
    }
}

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
    pub async fn connect(url: &str, timeouts: Timeouts) -> Result<Self, ConnectError> {
        // Every pooled connection carries the statement and lock timeouts, so a stalled
        // database or a lock held elsewhere fails a request in seconds instead of holding it
        // and its connection.
        let millis = timeouts.statement.as_millis().to_string();
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(timeouts.acquire)
            .connect_with(options(url)?.options([("statement_timeout", &millis), ("lock_timeout", &millis)]))
            .await
            .map_err(|e| ConnectError::Connect(e.to_string()))?;
        // Migrations run on a connection taken out of the pool and freed of those timeouts: a
        // migration may rightly take longer, and instances starting together wait on the
        // advisory lock sqlx takes, so that they migrate once.
        let migrate = async {
            let mut conn = pool.acquire().await?.detach();
            conn.execute("SET statement_timeout = 0; SET lock_timeout = 0").await?;
            MIGRATOR.run(&mut conn).await?;
            conn.close().await?;
            Ok::<(), sqlx::Error>(())
        };
        migrate.await.map_err(|e| ConnectError::Migrate(e.to_string()))?;
        Ok(Self { pool })
    }
}

sql_backend!(PostgresStore, sqlx::Postgres, PostgresTransaction);
