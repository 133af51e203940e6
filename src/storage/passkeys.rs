//! Passkeys (WebAuthn credentials) per person, and the server side of the WebAuthn ceremonies:
//! each challenge kept under the hash of its handle, bound to the browser that asked for it,
//! taken by exactly one use before it expires.

use async_trait::async_trait;

use super::sql::{args, Backend, Transaction as _};
use super::StoreError;
use crate::domain::{UnixTime, UserId};

/// A passkey as stored. `credential` is the library's serialized credential (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// The credential id, base64url without padding.
    pub credential_id: String,
    pub user_id: UserId,
    pub credential: String,
    /// What the person called it.
    pub name: String,
    /// The authenticator model (a UUID), when the authenticator said.
    pub aaguid: Option<String>,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

/// What a WebAuthn challenge was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengePurpose {
    /// A person adding a passkey.
    Registration,
    /// Signing in with a passkey, no name given (discoverable credentials).
    SignIn,
    /// A passkey as the second factor of a person who gave their password.
    SecondFactor,
}

impl ChallengePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::SignIn => "sign_in",
            Self::SecondFactor => "second_factor",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "registration" => Ok(Self::Registration),
            "sign_in" => Ok(Self::SignIn),
            "second_factor" => Ok(Self::SecondFactor),
            other => Err(StoreError::Unexpected(anyhow::anyhow!(
                "webauthn_challenges.purpose `{other}` is unknown"
            ))),
        }
    }
}

/// The server side of one ceremony. `state` is the library's serialized ceremony state (it
/// holds the challenge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRecord {
    /// SHA-256 of the handle the browser echoes.
    pub id_hash: String,
    pub browser_hash: String,
    pub purpose: ChallengePurpose,
    /// The person the ceremony is for; None when signing in without a name.
    pub user_id: Option<UserId>,
    pub state: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// `Conflict` when the credential id is registered already (to anyone).
    async fn insert_passkey(&self, passkey: &PasskeyRecord) -> Result<(), StoreError>;
    /// The passkey with this credential id, whoever it belongs to.
    async fn find_passkey(&self, credential_id: &str) -> Result<Option<PasskeyRecord>, StoreError>;
    /// A person's passkeys, oldest first.
    async fn list_passkeys(&self, user_id: &UserId) -> Result<Vec<PasskeyRecord>, StoreError>;
    /// After a sign-in with it: the credential as the library updated it (counter, backup
    /// state), and when. False when `user_id` has no such passkey.
    async fn record_passkey_use(
        &self,
        user_id: &UserId,
        credential_id: &str,
        credential: &str,
        backed_up: bool,
        now: UnixTime,
    ) -> Result<bool, StoreError>;
    /// False when `user_id` has no such passkey.
    async fn rename_passkey(&self, user_id: &UserId, credential_id: &str, name: &str) -> Result<bool, StoreError>;
    /// False when `user_id` has no such passkey.
    async fn delete_passkey(&self, user_id: &UserId, credential_id: &str) -> Result<bool, StoreError>;
    /// Inserts a challenge and deletes the oldest others of its browser, so that the browser
    /// keeps at most `keep_per_browser` (unauthenticated traffic writes these rows).
    /// `Conflict` when the handle's hash exists.
    async fn insert_webauthn_challenge(
        &self,
        challenge: &ChallengeRecord,
        keep_per_browser: i64,
    ) -> Result<(), StoreError>;
    /// Takes (deletes and returns) the challenge `id_hash` of `purpose` if this browser made
    /// it and it has not expired (at or after `expires_at`). One use: of concurrent takes one
    /// gets it. A challenge of another browser stays where it is.
    async fn take_webauthn_challenge(
        &self,
        id_hash: &str,
        browser_hash: &str,
        purpose: ChallengePurpose,
        now: UnixTime,
    ) -> Result<Option<ChallengeRecord>, StoreError>;
}

const PASSKEY_COLUMNS: &str =
    "credential_id, user_id, credential, name, aaguid, backup_eligible, backed_up, created_at, last_used_at";
const CHALLENGE_COLUMNS: &str = "id_hash, browser_hash, purpose, user_id, state, created_at, expires_at";

#[derive(sqlx::FromRow)]
struct PasskeyRow {
    credential_id: String,
    user_id: String,
    credential: String,
    name: String,
    aaguid: Option<String>,
    backup_eligible: bool,
    backed_up: bool,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl From<PasskeyRow> for PasskeyRecord {
    fn from(r: PasskeyRow) -> Self {
        Self {
            credential_id: r.credential_id,
            user_id: r.user_id.into(),
            credential: r.credential,
            name: r.name,
            aaguid: r.aaguid,
            backup_eligible: r.backup_eligible,
            backed_up: r.backed_up,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    id_hash: String,
    browser_hash: String,
    purpose: String,
    user_id: Option<String>,
    state: String,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<ChallengeRow> for ChallengeRecord {
    type Error = StoreError;
    fn try_from(r: ChallengeRow) -> Result<Self, StoreError> {
        Ok(Self {
            purpose: ChallengePurpose::parse(&r.purpose)?,
            id_hash: r.id_hash,
            browser_hash: r.browser_hash,
            user_id: r.user_id.map(UserId::from),
            state: r.state,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }
}

#[async_trait]
impl<B: Backend> PasskeyStore for B {
    async fn insert_passkey(&self, p: &PasskeyRecord) -> Result<(), StoreError> {
        self.execute(
            &format!("INSERT INTO passkeys ({PASSKEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            args![
                &p.credential_id,
                &p.user_id,
                &p.credential,
                &p.name,
                &p.aaguid,
                p.backup_eligible,
                p.backed_up,
                p.created_at,
                p.last_used_at
            ],
        )
        .await?;
        Ok(())
    }

    async fn find_passkey(&self, credential_id: &str) -> Result<Option<PasskeyRecord>, StoreError> {
        let row: Option<PasskeyRow> = self
            .fetch_optional(
                &format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = $1"),
                args![credential_id],
            )
            .await?;
        Ok(row.map(PasskeyRecord::from))
    }

    async fn list_passkeys(&self, user_id: &UserId) -> Result<Vec<PasskeyRecord>, StoreError> {
        let rows: Vec<PasskeyRow> = self
            .fetch_all(
                &format!(
                    "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, credential_id"
                ),
                args![user_id],
            )
            .await?;
        Ok(rows.into_iter().map(PasskeyRecord::from).collect())
    }

    async fn record_passkey_use(
        &self,
        user_id: &UserId,
        credential_id: &str,
        credential: &str,
        backed_up: bool,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let changed = self
            .execute(
                "UPDATE passkeys SET credential = $1, backed_up = $2, last_used_at = $3 \
                 WHERE credential_id = $4 AND user_id = $5",
                args![credential, backed_up, now, credential_id, user_id],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn rename_passkey(&self, user_id: &UserId, credential_id: &str, name: &str) -> Result<bool, StoreError> {
        let changed = self
            .execute(
                "UPDATE passkeys SET name = $1 WHERE credential_id = $2 AND user_id = $3",
                args![name, credential_id, user_id],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn delete_passkey(&self, user_id: &UserId, credential_id: &str) -> Result<bool, StoreError> {
        let changed = self
            .execute(
                "DELETE FROM passkeys WHERE credential_id = $1 AND user_id = $2",
                args![credential_id, user_id],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn insert_webauthn_challenge(&self, c: &ChallengeRecord, keep_per_browser: i64) -> Result<(), StoreError> {
        let user_id = c.user_id.as_ref().map(UserId::as_str);
        let mut tx = self.begin().await?;
        tx.execute(
            &format!("INSERT INTO webauthn_challenges ({CHALLENGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            args![
                &c.id_hash,
                &c.browser_hash,
                c.purpose.as_str(),
                user_id,
                &c.state,
                c.created_at,
                c.expires_at
            ],
        )
        .await?;
        // The browser's other challenges beyond the newest `keep_per_browser - 1` go.
        tx.execute(
            "DELETE FROM webauthn_challenges WHERE browser_hash = $1 AND id_hash <> $2 AND id_hash NOT IN \
             (SELECT id_hash FROM webauthn_challenges WHERE browser_hash = $1 AND id_hash <> $2 \
              ORDER BY created_at DESC, id_hash DESC LIMIT $3)",
            args![&c.browser_hash, &c.id_hash, (keep_per_browser - 1).max(0)],
        )
        .await?;
        tx.commit().await
    }

    async fn take_webauthn_challenge(
        &self,
        id_hash: &str,
        browser_hash: &str,
        purpose: ChallengePurpose,
        now: UnixTime,
    ) -> Result<Option<ChallengeRecord>, StoreError> {
        // One statement: of two uses racing for it, one deletes the row and the other finds none.
        let row: Option<ChallengeRow> = self
            .fetch_optional(
                &format!(
                    "DELETE FROM webauthn_challenges \
                     WHERE id_hash = $1 AND browser_hash = $2 AND purpose = $3 AND expires_at > $4 \
                     RETURNING {CHALLENGE_COLUMNS}"
                ),
                args![id_hash, browser_hash, purpose.as_str(), now],
            )
            .await?;
        row.map(ChallengeRecord::try_from).transpose()
    }
}
