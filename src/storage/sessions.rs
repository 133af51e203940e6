//! Browser sessions: the `__Host-keyhaven` cookie (stored as its SHA-256) and the public `sid`
//! that tokens carry.

use async_trait::async_trait;

use super::sql::{args, convert_all, decode_json, encode_json, Backend};
use super::{SessionRecord, StoreError};
use crate::domain::{SessionId, UnixTime};

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// `Conflict` when the cookie hash or the sid is taken.
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// A session that has not ended and has not expired at `now`.
    async fn find_live_session(&self, id_hash: &str, now: UnixTime) -> Result<Option<SessionRecord>, StoreError>;
    /// A session by its public id, ended or expired or not.
    async fn find_session_by_sid(&self, sid: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Whether the person has a session, neither ended nor expired, from a browser that names
    /// itself `user_agent` (one row read, however many sessions there are).
    async fn has_live_session_from(
        &self,
        user_id: &str,
        user_agent: Option<&str>,
        now: UnixTime,
    ) -> Result<bool, StoreError>;
    /// The person's sessions that have neither ended nor expired, oldest first.
    async fn list_live_sessions(&self, user_id: &str, now: UnixTime) -> Result<Vec<SessionRecord>, StoreError>;
    /// Notes that the session was used (callers do it at most once a minute).
    async fn touch_session(&self, id_hash: &str, now: UnixTime) -> Result<(), StoreError>;
    /// Ends a session; false when it had already ended or does not exist.
    async fn end_session(&self, id_hash: &str, now: UnixTime) -> Result<bool, StoreError>;
    /// Ends a session by its public id; false when it had already ended or does not exist.
    async fn end_session_by_sid(&self, sid: &str, now: UnixTime) -> Result<bool, StoreError>;
    /// Sids of sessions past their absolute end, or unused since `idle_since`, that nobody
    /// ended yet (at most `limit`).
    async fn lapsed_sessions(
        &self,
        now: UnixTime,
        idle_since: UnixTime,
        limit: i64,
    ) -> Result<Vec<SessionId>, StoreError>;
}

const SESSION_COLUMNS: &str =
    "id_hash, sid, user_id, auth_time, amr, created_at, last_seen_at, expires_at, ip, user_agent";

#[derive(sqlx::FromRow)]
struct SessionRow {
    id_hash: String,
    sid: String,
    user_id: String,
    auth_time: i64,
    amr: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Self {
            amr: decode_json("browser_sessions.amr", &r.amr)?,
            id_hash: r.id_hash,
            sid: r.sid.into(),
            user_id: r.user_id.into(),
            auth_time: r.auth_time,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ip: r.ip,
            user_agent: r.user_agent,
        })
    }
}

#[async_trait]
impl<B: Backend> SessionStore for B {
    async fn insert_session(&self, r: &SessionRecord) -> Result<(), StoreError> {
        self.execute(
            &format!(
                "INSERT INTO browser_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            args![
                &r.id_hash,
                &r.sid,
                &r.user_id,
                r.auth_time,
                encode_json(&r.amr)?,
                r.created_at,
                r.last_seen_at,
                r.expires_at,
                &r.ip,
                &r.user_agent,
            ],
        )
        .await?;
        Ok(())
    }

    async fn find_live_session(&self, id_hash: &str, now: UnixTime) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<SessionRow> = self
            .fetch_optional(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM browser_sessions \
                     WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > $2"
                ),
                args![id_hash, now],
            )
            .await?;
        row.map(SessionRecord::try_from).transpose()
    }

    async fn find_session_by_sid(&self, sid: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<SessionRow> = self
            .fetch_optional(
                &format!("SELECT {SESSION_COLUMNS} FROM browser_sessions WHERE sid = $1"),
                args![sid],
            )
            .await?;
        row.map(SessionRecord::try_from).transpose()
    }

    async fn list_live_sessions(&self, user_id: &str, now: UnixTime) -> Result<Vec<SessionRecord>, StoreError> {
        let rows: Vec<SessionRow> = self
            .fetch_all(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM browser_sessions \
                     WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 ORDER BY created_at"
                ),
                args![user_id, now],
            )
            .await?;
        convert_all(rows)
    }

    async fn has_live_session_from(
        &self,
        user_id: &str,
        user_agent: Option<&str>,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let found: Option<(String,)> = match user_agent {
            Some(agent) => {
                self.fetch_optional(
                    "SELECT user_id FROM browser_sessions WHERE user_id = $1 AND user_agent = $2 \
                     AND ended_at IS NULL AND expires_at > $3 LIMIT 1",
                    args![user_id, agent, now],
                )
                .await?
            }
            None => {
                self.fetch_optional(
                    "SELECT user_id FROM browser_sessions WHERE user_id = $1 AND user_agent IS NULL \
                     AND ended_at IS NULL AND expires_at > $2 LIMIT 1",
                    args![user_id, now],
                )
                .await?
            }
        };
        Ok(found.is_some())
    }

    async fn touch_session(&self, id_hash: &str, now: UnixTime) -> Result<(), StoreError> {
        self.execute(
            "UPDATE browser_sessions SET last_seen_at = $2 WHERE id_hash = $1",
            args![id_hash, now],
        )
        .await?;
        Ok(())
    }

    async fn end_session(&self, id_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
        let ended = self
            .execute(
                "UPDATE browser_sessions SET ended_at = $2 WHERE id_hash = $1 AND ended_at IS NULL",
                args![id_hash, now],
            )
            .await?;
        Ok(ended == 1)
    }

    async fn end_session_by_sid(&self, sid: &str, now: UnixTime) -> Result<bool, StoreError> {
        let ended = self
            .execute(
                "UPDATE browser_sessions SET ended_at = $2 WHERE sid = $1 AND ended_at IS NULL",
                args![sid, now],
            )
            .await?;
        Ok(ended == 1)
    }

    async fn lapsed_sessions(
        &self,
        now: UnixTime,
        idle_since: UnixTime,
        limit: i64,
    ) -> Result<Vec<SessionId>, StoreError> {
        let sids: Vec<(String,)> = self
            .fetch_all(
                "SELECT sid FROM browser_sessions \
                 WHERE ended_at IS NULL AND (expires_at <= $1 OR last_seen_at <= $2) LIMIT $3",
                args![now, idle_since, limit],
            )
            .await?;
        Ok(sids.into_iter().map(|(sid,)| sid.into()).collect())
    }
}
