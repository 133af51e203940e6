//! SQLite, the embedded default: one file, WAL mode so readers never wait for the writer. SQLite
//! admits one writer at a time, so the server writes through one connection (its writes queue
//! in the pool, in order, instead of several connections polling the lock) and reads through a
//! pool of eight. Transactions begin `IMMEDIATE`, taking the write lock at once, so one never
//! fails halfway because another process (the command line) wrote past its snapshot; the busy
//! timeout covers waiting for that process, and a statement SQLite refuses at once is run again
//! (`sql::retry_busy`).

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::sql::sql_backend;
use super::{ConnectError, Timeouts};
use crate::private_files;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    /// Readers.
    pool: SqlitePool,
    /// The one writer connection.
    writer: SqlitePool,
}

impl SqliteStore {
    const BEGIN: &'static str = "BEGIN IMMEDIATE";

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }
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
        // An in-memory database (tests, experiments) has no file to protect.
        if !(url.contains(":memory:") || url.contains("mode=memory")) {
            private_database(options.get_filename())?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(timeouts.acquire)
            .connect_with(options.clone())
            .await
            .map_err(|e| ConnectError::Connect(e.to_string()))?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| ConnectError::Migrate(e.to_string()))?;
        // An in-memory database is one per connection: there, the writer reads too.
        let pool = if url.contains(":memory:") || url.contains("mode=memory") {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(timeouts.acquire)
                .connect_with(options)
                .await
                .map_err(|e| ConnectError::Connect(e.to_string()))?
        };
        Ok(Self { pool, writer })
    }
}

/// The database holds password hashes and sealed keys: the file is owner only (0600), made so
/// before SQLite opens it, and SQLite gives its `-wal` and `-shm` files the database file's
/// mode; a folder made for it is owner only (0700). A database file open to group or others,
/// or a folder they may write in (and so replace the files), stops the start.
fn private_database(file: &Path) -> Result<(), ConnectError> {
    let folder = file.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = folder {
        private_files::create_dir(dir)
            .map_err(|e| ConnectError::Connect(format!("cannot create {}: {e}", dir.display())))?;
        private_files::check_not_writable(dir).map_err(ConnectError::Exposed)?;
    }
    private_files::create_file(file)
        .map_err(|e| ConnectError::Connect(format!("cannot create {}: {e}", file.display())))?;
    for companion in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(companion);
        private_files::check(Path::new(&path)).map_err(ConnectError::Exposed)?;
    }
    Ok(())
}

sql_backend!(SqliteStore, sqlx::Sqlite, SqliteTransaction);
