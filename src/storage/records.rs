//! Rows as the store hands them over. Bearer secrets appear here only as SHA-256 hashes, private
//! keys only sealed under the KEK.

use crate::domain::{ClientId, FamilyId, KeyState, SessionId, SigningAlg, UnixTime, UserId};

/// A signing key as stored; `private_sealed` is the KEK-encrypted PKCS#8 DER.
#[derive(Debug, Clone)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub alg: SigningAlg,
    pub state: KeyState,
    pub public_jwk: String,
    pub private_sealed: String,
    pub created_at: UnixTime,
    pub activates_at: UnixTime,
    pub activated_at: Option<UnixTime>,
    pub retire_until: Option<UnixTime>,
}

/// A signed-in browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie value.
    pub id_hash: String,
    /// Public session id, carried by tokens as `sid`.
    pub sid: SessionId,
    pub user_id: UserId,
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
    pub created_at: UnixTime,
    pub last_seen_at: UnixTime,
    pub expires_at: UnixTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An authorization request waiting for sign-in or consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    pub id_hash: String,
    /// SHA-256 of the browser cookie it is bound to.
    pub browser_hash: String,
    /// The validated request, as JSON.
    pub request: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub login_done_at: Option<UnixTime>,
    pub consent_done: bool,
}

/// An authorization code and everything it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub code_hash: String,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub sid: SessionId,
    /// The `redirect_uri` of the authorization request as sent (None when it was absent).
    pub redirect_uri: Option<String>,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: String,
    /// The OIDC `claims` request, as JSON.
    pub claims: Option<String>,
    /// Audiences of the access tokens, JSON array.
    pub audience: String,
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// First use: the code is now spent and a grant family with the given id exists for it.
    Redeemed(Box<CodeRecord>),
    /// The code was already spent; `family_id` is what its first redemption started.
    Replayed {
        family_id: Option<FamilyId>,
    },
    NotFound,
}

/// A grant family: what one code redemption issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRecord {
    pub id: FamilyId,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub sid: SessionId,
    pub scope: String,
    pub claims: Option<String>,
    pub audience: String,
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
    pub created_at: UnixTime,
    /// The absolute end of the family (refresh absolute lifetime).
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
    pub revoked_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub token_hash: String,
    pub family_id: FamilyId,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub rotated_at: Option<UnixTime>,
    /// The token that replaced this one at rotation.
    pub successor_hash: Option<String>,
}

/// One entry of the revocation log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRecord {
    pub seq: i64,
    /// `session` (a sid), `family` (a grant family id), `jti` (one access token) or `client`
    /// (a client whose registration changed).
    pub kind: String,
    pub subject: String,
    pub created_at: UnixTime,
    /// When every token this entry kills has expired anyway.
    pub expires_at: UnixTime,
}

/// A right password waiting for its second factor, bound to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    pub browser_hash: String,
    pub user_id: UserId,
    /// The pending authorization request to resume afterwards, if any.
    pub request_id: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub failures: i64,
    /// The throttle key of the login name typed at the password step (None for steps stored
    /// before it was kept).
    pub name_key: Option<String>,
}
