//! Security events: what happened, to whom, from where. Never a secret.

use serde::Serialize;

use super::UnixTime;

/// Event kinds, as stored.
pub mod kind {
    pub const LOGIN: &str = "login";
    pub const LOCKOUT: &str = "lockout";
    pub const OTP: &str = "otp";
    pub const RECOVERY_CODE_USED: &str = "recovery_code_used";
    pub const TOTP_ENABLED: &str = "totp_enabled";
    pub const TOTP_DISABLED: &str = "totp_disabled";
    pub const RESET_REQUESTED: &str = "reset_requested";
    pub const RESET_COMPLETED: &str = "reset_completed";
    pub const PASSWORD_CHANGED: &str = "password_changed";
    pub const TOKEN_ISSUED: &str = "token_issued";
    pub const TOKEN_REFRESHED: &str = "token_refreshed";
    pub const REFRESH_TOKEN_REUSE: &str = "refresh_token_reuse";
    pub const TOKEN_REVOKED: &str = "token_revoked";
    pub const CODE_REPLAY: &str = "code_replay";
    pub const LOGOUT: &str = "logout";
    pub const CLIENT_AUTH_FAILED: &str = "client_auth_failed";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const ACCOUNT_CREATED: &str = "account_created";
    pub const ACCOUNT_DISABLED: &str = "account_disabled";
    pub const ACCOUNT_ENABLED: &str = "account_enabled";
    pub const ACCOUNT_CHANGED: &str = "account_changed";
    pub const ACCOUNT_UNLOCKED: &str = "account_unlocked";
    pub const CLIENT_CREATED: &str = "client_created";
    pub const CLIENT_UPDATED: &str = "client_updated";
    pub const CLIENT_SECRET_ROTATED: &str = "client_secret_rotated";
    pub const CLIENT_DELETED: &str = "client_deleted";
    pub const ADMIN_ACTION: &str = "admin_action";
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
    pub fn new(at: UnixTime, kind: &str, outcome: Outcome) -> Self {
        Self {
            at,
            kind: kind.to_owned(),
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
