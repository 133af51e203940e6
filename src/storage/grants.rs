//! Grant families (everything one code redemption issued), their refresh tokens, and the
//! revocation log every instance replays into its in-memory revocation set.

use async_trait::async_trait;

use super::sql::{args, convert_all, decode_json, Backend, Transaction as _};
use super::{FamilyRecord, RefreshTokenRecord, RevocationRecord, StoreError};
use crate::domain::{FamilyId, UnixTime};

#[async_trait]
pub trait GrantStore: Send + Sync {
    async fn find_family(&self, id: &str) -> Result<Option<FamilyRecord>, StoreError>;
    /// Grant families of the person that are neither revoked nor past their absolute end,
    /// oldest first.
    async fn list_live_families(&self, user_id: &str, now: UnixTime) -> Result<Vec<FamilyRecord>, StoreError>;
    /// Marks a family revoked (its refresh tokens die with it); false if it already was.
    async fn revoke_family(&self, id: &str, now: UnixTime, reason: &str) -> Result<bool, StoreError>;
    /// Revokes every live family started from session `sid`; returns their ids.
    async fn revoke_session_families(
        &self,
        sid: &str,
        now: UnixTime,
        reason: &str,
    ) -> Result<Vec<FamilyId>, StoreError>;
    /// Revokes every live family of the person except those of session `keep_sid`; returns
    /// their ids.
    async fn revoke_user_families(
        &self,
        user_id: &str,
        keep_sid: Option<&str>,
        now: UnixTime,
        reason: &str,
    ) -> Result<Vec<FamilyId>, StoreError>;
    /// Revokes the person's live families with `client_id`; returns their ids.
    async fn revoke_client_families(
        &self,
        user_id: &str,
        client_id: &str,
        now: UnixTime,
        reason: &str,
    ) -> Result<Vec<FamilyId>, StoreError>;
    /// Revokes every person's live families with `client_id` (a deleted client that can come
    /// back, such as a metadata-document client); returns their ids.
    async fn revoke_all_client_families(
        &self,
        client_id: &str,
        now: UnixTime,
        reason: &str,
    ) -> Result<Vec<FamilyId>, StoreError>;

    /// `Conflict` when the token hash exists; `Unexpected` when its family does not.
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError>;
    async fn find_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>, StoreError>;
    /// The refresh token and its family in one read (what a rotation starts from).
    async fn find_refresh_grant(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, FamilyRecord)>, StoreError>;
    /// The compare-and-swap of refresh rotation: marks `old_hash` rotated (pointing at `new`)
    /// only if it is still live, and inserts `new`, atomically. False when another request
    /// rotated it first: of concurrent rotations exactly one returns true.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new: &RefreshTokenRecord,
        now: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Appends to the revocation log: `kind` is `session`, `family`, `jti` or `client`.
    async fn append_revocation(
        &self,
        kind: &str,
        subject: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<(), StoreError>;
    /// Entries written at or after `since` that still matter at `now`, in log order.
    async fn revocations_since(&self, since: UnixTime, now: UnixTime) -> Result<Vec<RevocationRecord>, StoreError>;
}

pub(super) const FAMILY_COLUMNS: &str =
    "id, client_id, user_id, sid, scope, claims, audience, auth_time, amr, created_at, expires_at, revoked_at, revoked_reason";
const REFRESH_COLUMNS: &str = "token_hash, family_id, created_at, expires_at, rotated_at, successor_hash";

#[derive(sqlx::FromRow)]
struct FamilyRow {
    id: String,
    client_id: String,
    user_id: String,
    sid: String,
    scope: String,
    claims: Option<String>,
    audience: String,
    auth_time: i64,
    amr: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    revoked_reason: Option<String>,
}

impl TryFrom<FamilyRow> for FamilyRecord {
    type Error = StoreError;
    fn try_from(r: FamilyRow) -> Result<Self, StoreError> {
        Ok(Self {
            amr: decode_json("grant_families.amr", &r.amr)?,
            id: r.id.into(),
            client_id: r.client_id.into(),
            user_id: r.user_id.into(),
            sid: r.sid.into(),
            scope: r.scope,
            claims: r.claims,
            audience: r.audience,
            auth_time: r.auth_time,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            revoked_reason: r.revoked_reason,
        })
    }
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    token_hash: String,
    family_id: String,
    created_at: i64,
    expires_at: i64,
    rotated_at: Option<i64>,
    successor_hash: Option<String>,
}

impl From<RefreshRow> for RefreshTokenRecord {
    fn from(r: RefreshRow) -> Self {
        Self {
            token_hash: r.token_hash,
            family_id: r.family_id.into(),
            created_at: r.created_at,
            expires_at: r.expires_at,
            rotated_at: r.rotated_at,
            successor_hash: r.successor_hash,
        }
    }
}

/// A refresh token joined to its family; the token's own columns carry a `t_` prefix.
#[derive(sqlx::FromRow)]
struct RefreshGrantRow {
    t_token_hash: String,
    t_created_at: i64,
    t_expires_at: i64,
    t_rotated_at: Option<i64>,
    t_successor_hash: Option<String>,
    #[sqlx(flatten)]
    family: FamilyRow,
}

impl TryFrom<RefreshGrantRow> for (RefreshTokenRecord, FamilyRecord) {
    type Error = StoreError;
    fn try_from(r: RefreshGrantRow) -> Result<Self, StoreError> {
        let token = RefreshTokenRecord {
            token_hash: r.t_token_hash,
            family_id: r.family.id.clone().into(),
            created_at: r.t_created_at,
            expires_at: r.t_expires_at,
            rotated_at: r.t_rotated_at,
            successor_hash: r.t_successor_hash,
        };
        Ok((token, FamilyRecord::try_from(r.family)?))
    }
}

#[derive(sqlx::FromRow)]
struct RevocationRow {
    seq: i64,
    kind: String,
    subject: String,
    created_at: i64,
    expires_at: i64,
}

impl From<RevocationRow> for RevocationRecord {
    fn from(r: RevocationRow) -> Self {
        Self {
            seq: r.seq,
            kind: r.kind,
            subject: r.subject,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }
    }
}

fn ids(rows: Vec<(String,)>) -> Vec<FamilyId> {
    rows.into_iter().map(|(id,)| id.into()).collect()
}

#[async_trait]
impl<B: Backend> GrantStore for B {
    async fn find_family(&self, id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        let row: Option<FamilyRow> = self
            .fetch_optional(
                &format!("SELECT {FAMILY_COLUMNS} FROM grant_families WHERE id = $1"),
                args![id],
            )
            .await?;
        row.map(FamilyRecord::try_from).transpose()
    }

    async fn list_live_families(&self, user_id: &str, now: UnixTime) -> Result<Vec<FamilyRecord>, StoreError> {
        let rows: Vec<FamilyRow> = self
            .fetch_all(
                &format!(
                    "SELECT {FAMILY_COLUMNS} FROM grant_families \
                     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at"
                ),
                args![user_id, now],
            )
            .await?;
        convert_all(rows)
    }

    async fn revoke_family(&self, id: &str, now: UnixTime, reason: &str) -> Result<bool, StoreError> {
        let revoked = self
            .execute(
                "UPDATE grant_families SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL",
                args![id, now, reason],
            )
            .await?;
        Ok(revoked == 1)
    }

    async fn revoke_session_families(
        &self,
        sid: &str,
        now: UnixTime,
        reason: &str,
    ) -> Result<Vec<FamilyId>, StoreError> {
        let rows = self
            .fetch_all(
                "UPDATE grant_families SET revoked_at = $2, revoked_reason = $3 \
                 WHERE sid = $1 AND revoked_at IS NULL RETURNING id",
                args![sid, now, reason],
            )
            .await?;
        Ok(ids(rows))
    }

    async fn revoke_user_families(
        &self,
        user_id: &str,
        keep_sid: Option<&str>,
        now: UnixTime,
        reason: &str,
    ) -> Result<Vec<FamilyId>, StoreError> {
        let rows = self
            .fetch_all(
                "UPDATE grant_families SET revoked_at = $2, revoked_reason = $3 \
                 WHERE user_id = $1 AND revoked_at IS NULL AND ($4 IS NULL OR sid <> $4) RETURNING id",
                args![user_id, now, reason, keep_sid],
            )
            .await?;
        Ok(ids(rows))
    }

    async fn revoke_client_families(
        &self,
        user_id: &str,
        client_id: &str,
        now: UnixTime,
        reason: &str,
    ) -> Result<Vec<FamilyId>, StoreError> {
        let rows = self
            .fetch_all(
                "UPDATE grant_families SET revoked_at = $3, revoked_reason = $4 \
                 WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL RETURNING id",
                args![user_id, client_id, now, reason],
            )
            .await?;
        Ok(ids(rows))
    }

    async fn revoke_all_client_families(
        &self,
        client_id: &str,
        now: UnixTime,
        reason: &str,
    ) -> Result<Vec<FamilyId>, StoreError> {
        let rows = self
            .fetch_all(
                "UPDATE grant_families SET revoked_at = $2, revoked_reason = $3 \
                 WHERE client_id = $1 AND revoked_at IS NULL RETURNING id",
                args![client_id, now, reason],
            )
            .await?;
        Ok(ids(rows))
    }

    async fn insert_refresh_token(&self, t: &RefreshTokenRecord) -> Result<(), StoreError> {
        self.execute(
            &format!("INSERT INTO refresh_tokens ({REFRESH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            args![
                &t.token_hash,
                &t.family_id,
                t.created_at,
                t.expires_at,
                t.rotated_at,
                &t.successor_hash
            ],
        )
        .await?;
        Ok(())
    }

    async fn find_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let row: Option<RefreshRow> = self
            .fetch_optional(
                &format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = $1"),
                args![token_hash],
            )
            .await?;
        Ok(row.map(RefreshTokenRecord::from))
    }

    async fn find_refresh_grant(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, FamilyRecord)>, StoreError> {
        let row: Option<RefreshGrantRow> = self
            .fetch_optional(
                "SELECT t.token_hash AS t_token_hash, t.created_at AS t_created_at, \
                 t.expires_at AS t_expires_at, t.rotated_at AS t_rotated_at, \
                 t.successor_hash AS t_successor_hash, f.id, f.client_id, f.user_id, f.sid, f.scope, \
                 f.claims, f.audience, f.auth_time, f.amr, f.created_at, f.expires_at, f.revoked_at, \
                 f.revoked_reason \
                 FROM refresh_tokens t JOIN grant_families f ON f.id = t.family_id \
                 WHERE t.token_hash = $1",
                args![token_hash],
            )
            .await?;
        row.map(<(RefreshTokenRecord, FamilyRecord)>::try_from).transpose()
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new: &RefreshTokenRecord,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let swapped = tx
            .execute(
                "UPDATE refresh_tokens SET rotated_at = $2, successor_hash = $3 \
                 WHERE token_hash = $1 AND rotated_at IS NULL",
                args![old_hash, now, &new.token_hash],
            )
            .await?;
        if swapped != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.execute(
            &format!("INSERT INTO refresh_tokens ({REFRESH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            args![
                &new.token_hash,
                &new.family_id,
                new.created_at,
                new.expires_at,
                new.rotated_at,
                &new.successor_hash,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn append_revocation(
        &self,
        kind: &str,
        subject: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO revocations (kind, subject, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            args![kind, subject, now, expires_at],
        )
        .await?;
        Ok(())
    }

    async fn revocations_since(&self, since: UnixTime, now: UnixTime) -> Result<Vec<RevocationRecord>, StoreError> {
        let rows: Vec<RevocationRow> = self
            .fetch_all(
                "SELECT seq, kind, subject, created_at, expires_at FROM revocations \
                 WHERE created_at >= $1 AND expires_at > $2 ORDER BY seq",
                args![since, now],
            )
            .await?;
        Ok(rows.into_iter().map(RevocationRecord::from).collect())
    }
}
