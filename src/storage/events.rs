//! The append-only record of security events.

use async_trait::async_trait;

use super::sql::{args, Backend, Transaction as _};
use super::StoreError;
use crate::domain::event::{EventFilter, SecurityEvent};

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends a batch, all or nothing.
    async fn insert_events(&self, events: &[SecurityEvent]) -> Result<(), StoreError>;
    /// Those matching `filter`, newest first.
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<SecurityEvent>, StoreError>;
}

const EVENT_COLUMNS: &str = "at, kind, outcome, user_id, client_id, sid, ip, user_agent, detail";

#[derive(sqlx::FromRow)]
struct EventRow {
    at: i64,
    kind: String,
    outcome: String,
    user_id: Option<String>,
    client_id: Option<String>,
    sid: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: Option<String>,
}

impl From<EventRow> for SecurityEvent {
    fn from(r: EventRow) -> Self {
        Self {
            at: r.at,
            kind: r.kind,
            outcome: r.outcome,
            user_id: r.user_id,
            client_id: r.client_id,
            sid: r.sid,
            ip: r.ip,
            user_agent: r.user_agent,
            detail: r.detail,
        }
    }
}

#[async_trait]
impl<B: Backend> EventStore for B {
    async fn insert_events(&self, events: &[SecurityEvent]) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let statement =
            format!("INSERT INTO security_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
        for e in events {
            tx.execute(
                &statement,
                args![
                    e.at,
                    &e.kind,
                    &e.outcome,
                    &e.user_id,
                    &e.client_id,
                    &e.sid,
                    &e.ip,
                    &e.user_agent,
                    &e.detail
                ],
            )
            .await?;
        }
        tx.commit().await
    }

    async fn list_events(&self, f: &EventFilter) -> Result<Vec<SecurityEvent>, StoreError> {
        let rows: Vec<EventRow> = self
            .fetch_all(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM security_events \
                     WHERE ($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR at >= $3) \
                     ORDER BY id DESC LIMIT $4 OFFSET $5"
                ),
                args![&f.user_id, &f.kind, f.since, f.limit, f.offset],
            )
            .await?;
        Ok(rows.into_iter().map(SecurityEvent::from).collect())
    }
}
