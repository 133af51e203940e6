//! The device authorization grant (RFC 8628): one row per request of a device, found by the
//! hash of its device code (the device polling `/token`) or of its user code (the person at
//! `/device`), and the wrong user codes typed, counted per key. Redeeming an approved request
//! starts its grant family (`grants.rs`) in the same transaction.

use async_trait::async_trait;

use super::grants::FAMILY_COLUMNS;
use super::sql::{args, decode_json, encode_json, Backend, Transaction as _};
use super::StoreError;
use crate::domain::{ClientId, SessionId, UnixTime, UserId};

/// Where a device authorization stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the person.
    Pending,
    Approved,
    Denied,
    /// Approved, and its tokens issued: the device code is spent.
    Redeemed,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Redeemed => "redeemed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "pending" => Ok(Self::Pending),
            "approved" => Ok(Self::Approved),
            "denied" => Ok(Self::Denied),
            "redeemed" => Ok(Self::Redeemed),
            other => Err(StoreError::Unexpected(anyhow::anyhow!(
                "device_authorizations.status `{other}` is unknown"
            ))),
        }
    }
}

/// Who approved a device, and how they had signed in: what its tokens carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceApproval {
    pub user_id: UserId,
    pub sid: SessionId,
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
}

/// A device authorization as stored. Both codes appear only as SHA-256 hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuthorization {
    pub device_code_hash: String,
    pub user_code_hash: String,
    pub client_id: ClientId,
    pub scope: String,
    /// Audiences of the access tokens, JSON array (resolved at the request).
    pub audience: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    /// Seconds the device must wait between polls; grows by 5 with each poll sooner.
    pub interval: i64,
    pub last_polled_at: Option<UnixTime>,
    pub status: DeviceStatus,
    /// Set once the person approved.
    pub approval: Option<DeviceApproval>,
}

/// What a poll found: the authorization after the poll, and whether the poll came sooner than
/// the interval after the one before while the request was pending (its interval has then grown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePoll {
    pub authorization: DeviceAuthorization,
    pub too_fast: bool,
}

#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// `Conflict` when either code hash exists.
    async fn insert_device_authorization(&self, authorization: &DeviceAuthorization) -> Result<(), StoreError>;
    /// The pending, unexpired authorization of this user code.
    async fn find_device_authorization_by_user_code(
        &self,
        user_code_hash: &str,
        now: UnixTime,
    ) -> Result<Option<DeviceAuthorization>, StoreError>;
    /// The person's answer for a pending, unexpired authorization: approved by `approval`, or
    /// denied when it is None. False when it was not pending (decided already, or expired).
    async fn decide_device_authorization(
        &self,
        user_code_hash: &str,
        approval: Option<&DeviceApproval>,
        now: UnixTime,
    ) -> Result<bool, StoreError>;
    /// Records a poll at `now` in one update: a pending authorization polled sooner than its
    /// interval after the last poll gets 5 s more interval (RFC 8628 §3.5).
    async fn poll_device_authorization(
        &self,
        device_code_hash: &str,
        now: UnixTime,
    ) -> Result<Option<DevicePoll>, StoreError>;
    /// Spends an approved, unexpired authorization and, in the same transaction, creates grant
    /// family `family_id` from it (ending at `family_expires_at`). Of concurrent redemptions
    /// exactly one gets it; None for the others and anything not approved.
    async fn redeem_device_authorization(
        &self,
        device_code_hash: &str,
        family_id: &str,
        now: UnixTime,
        family_expires_at: UnixTime,
    ) -> Result<Option<DeviceAuthorization>, StoreError>;
    /// Counts one wrong user code against `key` (a session, an address).
    async fn record_device_code_failure(&self, key: &str, now: UnixTime) -> Result<(), StoreError>;
    /// The wrong user codes of `key` at or after `since`: how many, and when the first was.
    async fn device_code_failures(&self, key: &str, since: UnixTime) -> Result<(i64, Option<UnixTime>), StoreError>;
}

const DEVICE_COLUMNS: &str = "device_code_hash, user_code_hash, client_id, scope, audience, created_at, expires_at, \
     poll_interval, last_polled_at, polled_too_fast, status, user_id, sid, auth_time, amr";

#[derive(sqlx::FromRow)]
struct DeviceRow {
    device_code_hash: String,
    user_code_hash: String,
    client_id: String,
    scope: String,
    audience: String,
    created_at: i64,
    expires_at: i64,
    poll_interval: i64,
    last_polled_at: Option<i64>,
    polled_too_fast: bool,
    status: String,
    user_id: Option<String>,
    sid: Option<String>,
    auth_time: Option<i64>,
    amr: Option<String>,
}

impl TryFrom<DeviceRow> for DevicePoll {
    type Error = StoreError;
    fn try_from(r: DeviceRow) -> Result<Self, StoreError> {
        let approval = match (r.user_id, r.sid, r.auth_time) {
            (Some(user_id), Some(sid), Some(auth_time)) => Some(DeviceApproval {
                user_id: user_id.into(),
                sid: sid.into(),
                auth_time,
                amr: match r.amr {
                    Some(amr) => decode_json("device_authorizations.amr", &amr)?,
                    None => Vec::new(),
                },
            }),
            _ => None,
        };
        Ok(Self {
            too_fast: r.polled_too_fast,
            authorization: DeviceAuthorization {
                device_code_hash: r.device_code_hash,
                user_code_hash: r.user_code_hash,
                client_id: r.client_id.into(),
                scope: r.scope,
                audience: r.audience,
                created_at: r.created_at,
                expires_at: r.expires_at,
                interval: r.poll_interval,
                last_polled_at: r.last_polled_at,
                status: DeviceStatus::parse(&r.status)?,
                approval,
            },
        })
    }
}

fn authorization(row: DeviceRow) -> Result<DeviceAuthorization, StoreError> {
    DevicePoll::try_from(row).map(|p| p.authorization)
}

/// A poll sooner than the interval after the last one, while the person has not answered.
const TOO_FAST: &str =
    "status = 'pending' AND expires_at > $2 AND last_polled_at IS NOT NULL AND $2 < last_polled_at + poll_interval";

#[async_trait]
impl<B: Backend> DeviceStore for B {
    async fn insert_device_authorization(&self, d: &DeviceAuthorization) -> Result<(), StoreError> {
        let approval = d.approval.as_ref();
        self.execute(
            &format!(
                "INSERT INTO device_authorizations ({DEVICE_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, $10, $11, $12, $13, $14)"
            ),
            args![
                &d.device_code_hash,
                &d.user_code_hash,
                &d.client_id,
                &d.scope,
                &d.audience,
                d.created_at,
                d.expires_at,
                d.interval,
                d.last_polled_at,
                d.status.as_str(),
                approval.map(|a| a.user_id.as_str().to_owned()),
                approval.map(|a| a.sid.as_str().to_owned()),
                approval.map(|a| a.auth_time),
                approval.map(|a| encode_json(&a.amr)).transpose()?,
            ],
        )
        .await?;
        Ok(())
    }

    async fn find_device_authorization_by_user_code(
        &self,
        user_code_hash: &str,
        now: UnixTime,
    ) -> Result<Option<DeviceAuthorization>, StoreError> {
        let row: Option<DeviceRow> = self
            .fetch_optional(
                &format!(
                    "SELECT {DEVICE_COLUMNS} FROM device_authorizations \
                     WHERE user_code_hash = $1 AND status = 'pending' AND expires_at > $2"
                ),
                args![user_code_hash, now],
            )
            .await?;
        row.map(authorization).transpose()
    }

    async fn decide_device_authorization(
        &self,
        user_code_hash: &str,
        approval: Option<&DeviceApproval>,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let changed = match approval {
            Some(a) => {
                self.execute(
                    "UPDATE device_authorizations SET status = 'approved', user_id = $3, sid = $4, auth_time = $5, \
                     amr = $6, decided_at = $2 \
                     WHERE user_code_hash = $1 AND status = 'pending' AND expires_at > $2",
                    args![
                        user_code_hash,
                        now,
                        &a.user_id,
                        &a.sid,
                        a.auth_time,
                        encode_json(&a.amr)?,
                    ],
                )
                .await?
            }
            None => {
                self.execute(
                    "UPDATE device_authorizations SET status = 'denied', decided_at = $2 \
                     WHERE user_code_hash = $1 AND status = 'pending' AND expires_at > $2",
                    args![user_code_hash, now],
                )
                .await?
            }
        };
        Ok(changed == 1)
    }

    async fn poll_device_authorization(
        &self,
        device_code_hash: &str,
        now: UnixTime,
    ) -> Result<Option<DevicePoll>, StoreError> {
        // Every right-hand side reads the row as it was before the update.
        let row: Option<DeviceRow> = self
            .fetch_optional(
                &format!(
                    "UPDATE device_authorizations SET \
                     polled_too_fast = CASE WHEN {TOO_FAST} THEN TRUE ELSE FALSE END, \
                     poll_interval = CASE WHEN {TOO_FAST} THEN poll_interval + 5 ELSE poll_interval END, \
                     last_polled_at = $2 \
                     WHERE device_code_hash = $1 RETURNING {DEVICE_COLUMNS}"
                ),
                args![device_code_hash, now],
            )
            .await?;
        row.map(DevicePoll::try_from).transpose()
    }

    async fn redeem_device_authorization(
        &self,
        device_code_hash: &str,
        family_id: &str,
        now: UnixTime,
        family_expires_at: UnixTime,
    ) -> Result<Option<DeviceAuthorization>, StoreError> {
        let mut tx = self.begin().await?;
        let spent: Option<DeviceRow> = tx
            .fetch_optional(
                &format!(
                    "UPDATE device_authorizations SET status = 'redeemed' \
                     WHERE device_code_hash = $1 AND status = 'approved' AND expires_at > $2 \
                     RETURNING {DEVICE_COLUMNS}"
                ),
                args![device_code_hash, now],
            )
            .await?;
        let Some(row) = spent else {
            tx.rollback().await?;
            return Ok(None);
        };
        tx.execute(
            &format!(
                "INSERT INTO grant_families ({FAMILY_COLUMNS}) \
                 SELECT $1, client_id, user_id, sid, scope, NULL, audience, auth_time, amr, $2, $3, NULL, NULL \
                 FROM device_authorizations WHERE device_code_hash = $4"
            ),
            args![family_id, now, family_expires_at, device_code_hash],
        )
        .await?;
        tx.commit().await?;
        authorization(row).map(Some)
    }

    async fn record_device_code_failure(&self, key: &str, now: UnixTime) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO device_code_failures (failure_key, at) VALUES ($1, $2)",
            args![key, now],
        )
        .await?;
        Ok(())
    }

    async fn device_code_failures(&self, key: &str, since: UnixTime) -> Result<(i64, Option<UnixTime>), StoreError> {
        let (count, first): (i64, Option<i64>) = self
            .fetch_optional(
                "SELECT COUNT(*), MIN(at) FROM device_code_failures WHERE failure_key = $1 AND at >= $2",
                args![key, since],
            )
            .await?
            .unwrap_or((0, None));
        Ok((count, first))
    }
}
