//! The token endpoint (RFC 6749 §3.2, §5): the request, one module of rules per grant, the
//! response shape. What the grants do with the store, the keys and the events is
//! `service::tokens`.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod id_token;
pub mod refresh_token;

use serde::Serialize;

use self::authorization_code::CodeExchange;
use self::client_credentials::ClientCredentialsRequest;
use self::device_code::DeviceCodeRequest;
use self::refresh_token::RefreshRequest;
use super::error::{err, OAuthError, ProtocolError};
use super::params::Params;
use crate::domain::client::{Client, GrantType, DEVICE_CODE_GRANT};

/// A token request, by `grant_type`. Not `Debug`: codes and refresh tokens are secrets.
pub enum TokenRequest {
    AuthorizationCode(CodeExchange),
    RefreshToken(RefreshRequest),
    ClientCredentials(ClientCredentialsRequest),
    DeviceCode(DeviceCodeRequest),
}

impl TokenRequest {
    /// Reads the grant's parameters from the form (already checked for repeats).
    pub fn from_params(form: &Params) -> Result<Self, ProtocolError> {
        match form.get("grant_type") {
            None => Err(err(OAuthError::InvalidRequest, "grant_type is required")),
            Some("authorization_code") => Ok(Self::AuthorizationCode(CodeExchange {
                code: form.take("code"),
                redirect_uri: form.take("redirect_uri"),
                code_verifier: form.take("code_verifier"),
            })),
            Some("refresh_token") => Ok(Self::RefreshToken(RefreshRequest {
                refresh_token: form.take("refresh_token"),
                scope: form.take("scope"),
            })),
            Some("client_credentials") => Ok(Self::ClientCredentials(ClientCredentialsRequest {
                scope: form.take("scope"),
                resources: form.all("resource").into_iter().map(str::to_owned).collect(),
            })),
            Some(DEVICE_CODE_GRANT) => Ok(Self::DeviceCode(DeviceCodeRequest {
                device_code: form.take("device_code"),
            })),
            Some(_) => Err(err(
                OAuthError::UnsupportedGrantType,
                "this grant type is not supported",
            )),
        }
    }

    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode(_) => GrantType::AuthorizationCode,
            Self::RefreshToken(_) => GrantType::RefreshToken,
            Self::ClientCredentials(_) => GrantType::ClientCredentials,
            Self::DeviceCode(_) => GrantType::DeviceCode,
        }
    }
}

/// `unauthorized_client` unless the client is registered for `grant`.
pub fn check_grant(client: &Client, grant: GrantType) -> Result<(), ProtocolError> {
    if client.allows_grant(grant) {
        Ok(())
    } else {
        Err(err(OAuthError::UnauthorizedClient, "client may not use this grant"))
    }
}

/// RFC 6749 §5.1 plus the OIDC `id_token`.
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}
