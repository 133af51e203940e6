//! SQLite, the embedded default: one file, WAL mode so readers never wait for the writer, a
//! busy timeout so concurrent writers (the server and the CLI) queue instead of failing.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::sql::*;
use super::Expired;
use super::{
    CodeRecord, CodeRedemption, ConnectError, FamilyRecord, PendingAuthorization, PendingLogin, RefreshTokenRecord,
    RevocationRecord, SessionRecord, SigningKeyRecord, StoreError, Timeouts,
};
use crate::domain::client::Client;
use crate::domain::event::{EventFilter, SecurityEvent};
use crate::domain::user::User;
use crate::domain::UnixTime;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
}

pub(super) fn options(url: &str) -> Result<SqliteConnectOptions, ConnectError> {
    let options = SqliteConnectOptions::from_str(url).map_err(|e| ConnectError::Options(e.to_string()))?;
    Ok(options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true))
}

impl SqliteStore {
    pub async fn connect(url: &str, timeouts: Timeouts) -> Result<Self, ConnectError> {
        // A writer waits for another one at most the statement timeout, then the request
        // fails as unavailable (503) rather than hanging.
        let options = options(url)?.busy_timeout(timeouts.statement);
        if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)
                .map_err(|e| ConnectError::Connect(format!("cannot create {}: {e}", dir.display())))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(timeouts.acquire)
            .connect_with(options)
            .await
            .map_err(|e| ConnectError::Connect(e.to_string()))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| ConnectError::Migrate(e.to_string()))?;
        Ok(Self { pool })
    }
}

/// The data folder holds password hashes and sealed keys: owner only.
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

sql_store!(SqliteStore);
