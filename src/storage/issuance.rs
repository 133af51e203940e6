//! client_credentials issuance, counted per client and minute: machine tokens are minted at
//! rates where one security event per token would be most of the database's writes, so each
//! instance tallies them in memory (`events.rs`) and adds its tallies here.

use async_trait::async_trait;

use super::sql::{args, Backend, Transaction as _};
use super::StoreError;
use crate::domain::{ClientId, UnixTime};

/// How many tokens one client got in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuanceCount {
    pub client_id: ClientId,
    /// The Unix time the minute starts at (a multiple of 60).
    pub minute: UnixTime,
    pub count: i64,
    /// The first and last issuance counted in the minute.
    pub first_at: UnixTime,
    pub last_at: UnixTime,
}

#[async_trait]
pub trait IssuanceStore: Send + Sync {
    /// Adds each count to the row of its client and minute, all or nothing: the counts add up,
    /// `first_at` becomes the earlier and `last_at` the later of the two. Instances write the
    /// same rows, so this is what they agree on whatever the order of their writes.
    async fn add_issuance_counts(&self, counts: &[IssuanceCount]) -> Result<(), StoreError>;
    /// The rows of `client_id` for the minutes from `since` on, oldest first.
    async fn list_issuance_counts(
        &self,
        client_id: &ClientId,
        since: UnixTime,
    ) -> Result<Vec<IssuanceCount>, StoreError>;
}

#[derive(sqlx::FromRow)]
struct CountRow {
    client_id: String,
    minute: i64,
    count: i64,
    first_at: i64,
    last_at: i64,
}

impl From<CountRow> for IssuanceCount {
    fn from(r: CountRow) -> Self {
        Self {
            client_id: r.client_id.into(),
            minute: r.minute,
            count: r.count,
            first_at: r.first_at,
            last_at: r.last_at,
        }
    }
}

/// The upsert, in SQL both backends speak (no LEAST/GREATEST in SQLite, no two-argument min/max
/// in PostgreSQL).
const ADD_COUNT: &str = "INSERT INTO token_issuance_counts (client_id, minute, count, first_at, last_at) \
     VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (client_id, minute) DO UPDATE SET \
     count = token_issuance_counts.count + excluded.count, \
     first_at = CASE WHEN excluded.first_at < token_issuance_counts.first_at \
     THEN excluded.first_at ELSE token_issuance_counts.first_at END, \
     last_at = CASE WHEN excluded.last_at > token_issuance_counts.last_at \
     THEN excluded.last_at ELSE token_issuance_counts.last_at END";

#[async_trait]
impl<B: Backend> IssuanceStore for B {
    async fn add_issuance_counts(&self, counts: &[IssuanceCount]) -> Result<(), StoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        // Rows locked in one order on every instance, so two batches cannot deadlock.
        let mut ordered: Vec<&IssuanceCount> = counts.iter().collect();
        ordered.sort_by(|a, b| (&a.client_id, a.minute).cmp(&(&b.client_id, b.minute)));
        let mut tx = self.begin().await?;
        for c in ordered {
            tx.execute(ADD_COUNT, args![&c.client_id, c.minute, c.count, c.first_at, c.last_at])
                .await?;
        }
        tx.commit().await
    }

    async fn list_issuance_counts(
        &self,
        client_id: &ClientId,
        since: UnixTime,
    ) -> Result<Vec<IssuanceCount>, StoreError> {
        let rows: Vec<CountRow> = self
            .fetch_all(
                "SELECT client_id, minute, count, first_at, last_at FROM token_issuance_counts \
                 WHERE client_id = $1 AND minute >= $2 ORDER BY minute",
                args![client_id, since],
            )
            .await?;
        Ok(rows.into_iter().map(IssuanceCount::from).collect())
    }
}
