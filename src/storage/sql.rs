//! The portable SQL layer. Both backends accept the same SQL (`$n` placeholders, TEXT / BIGINT /
//! BOOLEAN columns), so each store operation is written once, in the file of its aggregate, as
//! an ordinary generic impl over [`Backend`]: a handful of primitives (run a statement, fetch
//! rows, open a transaction) that `sql_backend!` implements for each backend's pool type.
//!
//! Writes that must be atomic are single statements or transactions that write first, so
//! SQLite takes its write lock at once instead of failing a lock upgrade.

use std::borrow::Cow;

use anyhow::Context as _;
use async_trait::async_trait;
use serde::de::DeserializeOwned;

use super::StoreError;

/// A value for one `$n` placeholder, in the three column types the schema uses. Text binds as
/// `Option<&str>`, Int as `Option<i64>`, Bool as `bool`, so a NULL keeps its type (TEXT or
/// BIGINT) on PostgreSQL, where `$n IS NULL` needs one.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
    Bool(bool),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Self::Text(Some(Cow::Borrowed(v)))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Self::Text(Some(Cow::Borrowed(v)))
    }
}

/// Identifiers bind as the strings they are.
macro_rules! id_args {
    ($($id:ty),*) => {$(
        impl<'a> From<&'a $id> for Arg<'a> {
            fn from(v: &'a $id) -> Self {
                Self::Text(Some(Cow::Borrowed(v.as_str())))
            }
        }
    )*};
}
id_args!(
    crate::domain::ClientId,
    crate::domain::UserId,
    crate::domain::SessionId,
    crate::domain::FamilyId,
    crate::domain::Audience
);

impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Self::Text(Some(Cow::Owned(v)))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Self::Text(v.map(Cow::Borrowed))
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Self::Text(v.as_deref().map(Cow::Borrowed))
    }
}

impl From<Option<String>> for Arg<'_> {
    fn from(v: Option<String>) -> Self {
        Self::Text(v.map(Cow::Owned))
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

/// The arguments of one statement, `$1` first.
pub type Args<'a> = Vec<Arg<'a>>;

/// `args![a, b]`: the arguments `$1 = a, $2 = b`.
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        vec![$($crate::storage::sql::Arg::from($arg)),*]
    };
}
pub(super) use args;

/// A row type that both backends can decode (`#[derive(sqlx::FromRow)]` structs and tuples).
pub trait Row:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin
{
}

impl<T> Row for T where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

/// What the store operations need of a database: statements on the pool, and transactions.
/// Every error comes back through [`db_error`]. Sealed: the trait lives in a private module,
/// so raw SQL is no part of the public store interface.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    type Tx: Transaction;
    /// Runs one statement; returns how many rows it changed.
    async fn execute(&self, sql: &str, args: Args<'_>) -> Result<u64, StoreError>;
    async fn fetch_optional<R: Row>(&self, sql: &str, args: Args<'_>) -> Result<Option<R>, StoreError>;
    async fn fetch_all<R: Row>(&self, sql: &str, args: Args<'_>) -> Result<Vec<R>, StoreError>;
    async fn begin(&self) -> Result<Self::Tx, StoreError>;
    /// Closes every pooled connection; later statements fail.
    async fn close_pool(&self);
}

/// An open transaction; dropped without `commit`, it rolls back.
#[async_trait]
pub trait Transaction: Send {
    async fn execute(&mut self, sql: &str, args: Args<'_>) -> Result<u64, StoreError>;
    async fn fetch_one<R: Row>(&mut self, sql: &str, args: Args<'_>) -> Result<R, StoreError>;
    async fn fetch_optional<R: Row>(&mut self, sql: &str, args: Args<'_>) -> Result<Option<R>, StoreError>;
    async fn commit(self) -> Result<(), StoreError>;
    async fn rollback(self) -> Result<(), StoreError>;
}

/// Whether a statement only reads (and so may run on a reader connection).
pub fn is_read(sql: &str) -> bool {
    sql.trim_start()
        .get(..6)
        .is_some_and(|head| head.eq_ignore_ascii_case("select"))
}

/// Implements [`Backend`] for `$store` (a struct with a `pool: sqlx::Pool<$db>` field), with
/// `$tx` as its transaction type. The only code that names a backend's sqlx types.
macro_rules! sql_backend {
    ($store:ty, $db:ty, $tx:ident) => {
        pub struct $tx(sqlx::Transaction<'static, $db>);

        /// Binds each argument as the Rust type it stands for.
        fn arguments<'q>(
            args: &'q [$crate::storage::sql::Arg<'_>],
        ) -> Result<<$db as sqlx::Database>::Arguments<'q>, $crate::storage::StoreError> {
            use $crate::storage::sql::Arg;
            let mut out = <$db as sqlx::Database>::Arguments::<'q>::default();
            for arg in args {
                match arg {
                    Arg::Text(v) => sqlx::Arguments::add(&mut out, v.as_deref()),
                    Arg::Int(v) => sqlx::Arguments::add(&mut out, *v),
                    Arg::Bool(v) => sqlx::Arguments::add(&mut out, *v),
                }
                .map_err(|e| $crate::storage::sql::db_error(sqlx::Error::Encode(e)))?;
            }
            Ok(out)
        }

        impl $store {
            /// The pool a statement runs on: reads on the readers, anything that writes on the
            /// writer.
            fn pool_for(&self, sql: &str) -> &sqlx::Pool<$db> {
                if $crate::storage::sql::is_read(sql) {
                    &self.pool
                } else {
                    self.writer()
                }
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::sql::Backend for $store {
            type Tx = $tx;

            async fn execute(
                &self,
                sql: &str,
                args: $crate::storage::sql::Args<'_>,
            ) -> Result<u64, $crate::storage::StoreError> {
                let done = $crate::storage::sql::retry_busy(|| {
                    Ok(sqlx::query_with(sql, arguments(&args)?).execute(self.writer()))
                })
                .await
                .map_err($crate::storage::sql::db_error)?;
                Ok(done.rows_affected())
            }

            async fn fetch_optional<R: $crate::storage::sql::Row>(
                &self,
                sql: &str,
                args: $crate::storage::sql::Args<'_>,
            ) -> Result<Option<R>, $crate::storage::StoreError> {
                // Every row is read, so the statement runs to its end: SQLite ends a statement's
                // implicit transaction (and the write lock of an `UPDATE ... RETURNING`) only then,
                // and a statement left after its first row would hold it until the connection's
                // next use. Our lookups return at most one row.
                $crate::storage::sql::retry_busy(|| {
                    Ok(sqlx::query_as_with(sql, arguments(&args)?).fetch_all(self.pool_for(sql)))
                })
                .await
                .map(|rows: Vec<R>| rows.into_iter().next())
                .map_err($crate::storage::sql::db_error)
            }

            async fn fetch_all<R: $crate::storage::sql::Row>(
                &self,
                sql: &str,
                args: $crate::storage::sql::Args<'_>,
            ) -> Result<Vec<R>, $crate::storage::StoreError> {
                $crate::storage::sql::retry_busy(|| {
                    Ok(sqlx::query_as_with(sql, arguments(&args)?).fetch_all(self.pool_for(sql)))
                })
                .await
                .map_err($crate::storage::sql::db_error)
            }

            async fn begin(&self) -> Result<$tx, $crate::storage::StoreError> {
                let tx = $crate::storage::sql::retry_busy(|| Ok(self.writer().begin_with(Self::BEGIN)))
                    .await
                    .map_err($crate::storage::sql::db_error)?;
                Ok($tx(tx))
            }

            async fn close_pool(&self) {
                self.writer().close().await;
                self.pool.close().await;
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::sql::Transaction for $tx {
            async fn execute(
                &mut self,
                sql: &str,
                args: $crate::storage::sql::Args<'_>,
            ) -> Result<u64, $crate::storage::StoreError> {
                let done = sqlx::query_with(sql, arguments(&args)?)
                    .execute(&mut *self.0)
                    .await
                    .map_err($crate::storage::sql::db_error)?;
                Ok(done.rows_affected())
            }

            async fn fetch_one<R: $crate::storage::sql::Row>(
                &mut self,
                sql: &str,
                args: $crate::storage::sql::Args<'_>,
            ) -> Result<R, $crate::storage::StoreError> {
                sqlx::query_as_with(sql, arguments(&args)?)
                    .fetch_one(&mut *self.0)
                    .await
                    .map_err($crate::storage::sql::db_error)
            }

            async fn fetch_optional<R: $crate::storage::sql::Row>(
                &mut self,
                sql: &str,
                args: $crate::storage::sql::Args<'_>,
            ) -> Result<Option<R>, $crate::storage::StoreError> {
                sqlx::query_as_with(sql, arguments(&args)?)
                    .fetch_optional(&mut *self.0)
                    .await
                    .map_err($crate::storage::sql::db_error)
            }

            async fn commit(self) -> Result<(), $crate::storage::StoreError> {
                self.0.commit().await.map_err($crate::storage::sql::db_error)
            }

            async fn rollback(self) -> Result<(), $crate::storage::StoreError> {
                self.0.rollback().await.map_err($crate::storage::sql::db_error)
            }
        }
    };
}
pub(super) use sql_backend;

/// Runs a statement again while SQLite answers `SQLITE_BUSY` at once, for at most two seconds.
/// The busy timeout makes a connection wait for another's write lock, but SQLite skips it in
/// one case: a statement that began reading on a snapshot another process (the command line,
/// a second server) has since written past cannot take the write lock, and waiting would not
/// help; the statement must start again on a new snapshot. Only whole statements and the
/// start of a transaction are retried, never a statement inside one.
pub async fn retry_busy<T, F, Fut>(mut run: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Result<Fut, StoreError>,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    const BUDGET: std::time::Duration = std::time::Duration::from_secs(2);
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(2);
    loop {
        let attempt = run().map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        match attempt.await {
            Err(e) if is_sqlite_busy(&e) && started.elapsed() < BUDGET => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn is_sqlite_busy(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .is_some_and(|sqlite| {
            sqlx::error::DatabaseError::code(sqlite)
                .and_then(|c| c.parse::<i32>().ok())
                .is_some_and(|c| c & 0xff == 5)
        })
}

pub fn db_error(e: sqlx::Error) -> StoreError {
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

pub(super) fn decode_json<T: DeserializeOwned>(column: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .with_context(|| format!("column {column} holds malformed JSON"))
        .map_err(StoreError::Unexpected)
}

pub(super) fn encode_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .context("cannot encode a JSON column")
        .map_err(StoreError::Unexpected)
}

pub(super) fn parse_column<T: std::str::FromStr<Err = String>>(column: &str, text: &str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|e: String| StoreError::Unexpected(anyhow::anyhow!("column {column}: {e}")))
}

pub(super) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

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
