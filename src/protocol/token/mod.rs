//! The token endpoint (RFC 6749 §3.2, §5): one module per grant, the response shape here.

pub mod authorization_code;
pub mod client_credentials;
pub mod id_token;
pub mod refresh_token;

use serde::Serialize;

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
