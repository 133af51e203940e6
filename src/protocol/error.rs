//! OAuth/OIDC error codes, one variant per code, with its wire string.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    // RFC 6749 §4.1.2.1 and §5.2.
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    // OIDC Core §3.1.2.6.
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    // RFC 8707.
    InvalidTarget,
    // RFC 7009.
    UnsupportedTokenType,
    // RFC 6750.
    InvalidToken,
    // RFC 8628 §3.5.
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
}

impl OAuthError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidTarget => "invalid_target",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidToken => "invalid_token",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
        }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest `error_description` sent, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 200;

/// An error code with a plain-ASCII description for the client developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    pub error: OAuthError,
    pub description: String,
}

impl ProtocolError {
    pub fn new(error: OAuthError, description: impl Into<String>) -> Self {
        let description: String = description.into();
        // Descriptions may quote the request (an unknown scope, a parameter name): keep them
        // short so a request cannot decide the size of what we send back.
        let mut description: String = description.chars().take(MAX_DESCRIPTION_LEN + 1).collect();
        if description.chars().count() > MAX_DESCRIPTION_LEN {
            description = description.chars().take(MAX_DESCRIPTION_LEN - 3).collect::<String>() + "...";
        }
        // RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
        let description = description
            .chars()
            .map(|c| {
                if (' '..='~').contains(&c) && c != '"' && c != '\\' {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        Self { error, description }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

/// Shorthand: `err(InvalidGrant, "code expired")`.
pub fn err(error: OAuthError, description: impl Into<String>) -> ProtocolError {
    ProtocolError::new(error, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_ascii_and_bounded() {
        let e = err(
            OAuthError::InvalidScope,
            format!("unknown scope {}", "x".repeat(1_000_000)),
        );
        assert_eq!(e.description.chars().count(), MAX_DESCRIPTION_LEN);
        assert!(e.description.ends_with("..."));
        assert_eq!(err(OAuthError::InvalidScope, "a\"b\n").description, "a?b?");
        assert_eq!(err(OAuthError::InvalidScope, "short").description, "short");
    }
}
