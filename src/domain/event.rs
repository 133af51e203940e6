//! Security events: what happened, to whom, from where. Never a secret.

use serde::Serialize;

use super::UnixTime;

/// What a security event records; one of [`kind`]'s, so no caller can make up a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventKind(&'static str);

impl EventKind {
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<EventKind> for String {
    fn eq(&self, other: &EventKind) -> bool {
        self == other.0
    }
}

impl PartialEq<EventKind> for str {
    fn eq(&self, other: &EventKind) -> bool {
        self == other.0
    }
}

impl PartialEq<EventKind> for &str {
    fn eq(&self, other: &EventKind) -> bool {
        *self == other.0
    }
}

/// Event kinds, as stored.
pub mod kind {
    use super::EventKind;

    pub const LOGIN: EventKind = EventKind("login");
    pub const LOCKOUT: EventKind = EventKind("lockout");
    pub const OTP: EventKind = EventKind("otp");
    pub const RECOVERY_CODE_USED: EventKind = EventKind("recovery_code_used");
    pub const TOTP_ENABLED: EventKind = EventKind("totp_enabled");
    pub const TOTP_DISABLED: EventKind = EventKind("totp_disabled");
    pub const RESET_REQUESTED: EventKind = EventKind("reset_requested");
    pub const RESET_COMPLETED: EventKind = EventKind("reset_completed");
    pub const PASSWORD_CHANGED: EventKind = EventKind("password_changed");
    pub const TOKEN_ISSUED: EventKind = EventKind("token_issued");
    pub const TOKEN_REFRESHED: EventKind = EventKind("token_refreshed");
    pub const REFRESH_TOKEN_REUSE: EventKind = EventKind("refresh_token_reuse");
    pub const TOKEN_REVOKED: EventKind = EventKind("token_revoked");
    pub const CODE_REPLAY: EventKind = EventKind("code_replay");
    pub const LOGOUT: EventKind = EventKind("logout");
    pub const CLIENT_AUTH_FAILED: EventKind = EventKind("client_auth_failed");
    pub const RATE_LIMITED: EventKind = EventKind("rate_limited");
    pub const ACCOUNT_CREATED: EventKind = EventKind("account_created");
    pub const ACCOUNT_DISABLED: EventKind = EventKind("account_disabled");
    pub const ACCOUNT_ENABLED: EventKind = EventKind("account_enabled");
    pub const ACCOUNT_CHANGED: EventKind = EventKind("account_changed");
    pub const ACCOUNT_UNLOCKED: EventKind = EventKind("account_unlocked");
    pub const CLIENT_CREATED: EventKind = EventKind("client_created");
    pub const CLIENT_UPDATED: EventKind = EventKind("client_updated");
    pub const CLIENT_SECRET_ROTATED: EventKind = EventKind("client_secret_rotated");
    pub const CLIENT_DELETED: EventKind = EventKind("client_deleted");
    pub const RESOURCE_CREATED: EventKind = EventKind("resource_created");
    pub const RESOURCE_UPDATED: EventKind = EventKind("resource_updated");
    pub const RESOURCE_DELETED: EventKind = EventKind("resource_deleted");
    pub const ADMIN_ACTION: EventKind = EventKind("admin_action");
    pub const DEVICE_AUTHORIZATION_STARTED: EventKind = EventKind("device_authorization_started");
    pub const DEVICE_APPROVED: EventKind = EventKind("device_approved");
    pub const DEVICE_DENIED: EventKind = EventKind("device_denied");
    pub const DEVICE_USER_CODE_WRONG: EventKind = EventKind("device_user_code_wrong");
    pub const DEVICE_CODE_REDEEMED: EventKind = EventKind("device_code_redeemed");
    /// RFC 7591/7592: a client registered itself, changed or deleted its registration; an
    /// initial access token was made; a registration or management token was refused.
    pub const CLIENT_REGISTERED: EventKind = EventKind("client_registered");
    pub const CLIENT_REGISTRATION_UPDATED: EventKind = EventKind("client_registration_updated");
    pub const CLIENT_REGISTRATION_DELETED: EventKind = EventKind("client_registration_deleted");
    pub const REGISTRATION_TOKEN_CREATED: EventKind = EventKind("registration_token_created");
    pub const REGISTRATION_TOKEN_REFUSED: EventKind = EventKind("registration_token_refused");
    /// Passkeys: one added (or the attempt refused), one used to sign in or as second factor
    /// (or refused), one removed (or the removal refused).
    pub const PASSKEY_REGISTERED: EventKind = EventKind("passkey_registered");
    pub const PASSKEY_USED: EventKind = EventKind("passkey_used");
    pub const PASSKEY_REMOVED: EventKind = EventKind("passkey_removed");

    /// Every kind, for code that must say something about each (the activity page's words).
    pub const ALL: &[EventKind] = &[
        LOGIN,
        LOCKOUT,
        OTP,
        RECOVERY_CODE_USED,
        TOTP_ENABLED,
        TOTP_DISABLED,
        RESET_REQUESTED,
        RESET_COMPLETED,
        PASSWORD_CHANGED,
        TOKEN_ISSUED,
        TOKEN_REFRESHED,
        REFRESH_TOKEN_REUSE,
        TOKEN_REVOKED,
        CODE_REPLAY,
        LOGOUT,
        CLIENT_AUTH_FAILED,
        RATE_LIMITED,
        ACCOUNT_CREATED,
        ACCOUNT_DISABLED,
        ACCOUNT_ENABLED,
        ACCOUNT_CHANGED,
        ACCOUNT_UNLOCKED,
        CLIENT_CREATED,
        CLIENT_UPDATED,
        CLIENT_SECRET_ROTATED,
        CLIENT_DELETED,
        RESOURCE_CREATED,
        RESOURCE_UPDATED,
        RESOURCE_DELETED,
        ADMIN_ACTION,
        DEVICE_AUTHORIZATION_STARTED,
        DEVICE_APPROVED,
        DEVICE_DENIED,
        DEVICE_USER_CODE_WRONG,
        DEVICE_CODE_REDEEMED,
        CLIENT_REGISTERED,
        CLIENT_REGISTRATION_UPDATED,
        CLIENT_REGISTRATION_DELETED,
        REGISTRATION_TOKEN_CREATED,
        REGISTRATION_TOKEN_REFUSED,
        PASSKEY_REGISTERED,
        PASSKEY_USED,
        PASSKEY_REMOVED,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityEvent {
    pub at: UnixTime,
    pub kind: String,
    pub outcome: String,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub sid: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Free text for people; never a password, code, token or secret.
    pub detail: Option<String>,
}

impl SecurityEvent {
    pub fn new(at: UnixTime, kind: EventKind, outcome: Outcome) -> Self {
        Self {
            at,
            kind: kind.as_str().to_owned(),
            outcome: outcome.as_str().to_owned(),
            user_id: None,
            client_id: None,
            sid: None,
            ip: None,
            user_agent: None,
            detail: None,
        }
    }

    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    pub fn client(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    pub fn session(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    pub fn from_peer(mut self, ip: Option<String>, user_agent: Option<String>) -> Self {
        self.ip = ip;
        self.user_agent = user_agent;
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Which events to read back.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub user_id: Option<String>,
    pub kind: Option<String>,
    pub since: Option<UnixTime>,
    pub limit: i64,
    pub offset: i64,
}
