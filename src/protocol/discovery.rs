//! Server metadata: OIDC Discovery 1.0 and RFC 8414. The document lists only what this server
//! implements; each endpoint appears once its handler exists.

use serde_json::{json, Value};

use crate::crypto::keys::SigningAlg;
use crate::domain::user::{scope_claims, CLAIM_SCOPES};

/// Scopes Keyhaven understands (OIDC Core §5.4 plus `offline_access`).
pub const SCOPES: &[&str] = &["openid", "profile", "email", "address", "phone", "offline_access"];

/// Claims of the ID token itself; the person's claims come from `domain::user::scope_claims`.
const PROTOCOL_CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "azp",
    "sid",
];

fn claims_supported() -> Vec<&'static str> {
    let person = CLAIM_SCOPES
        .iter()
        .flat_map(|scope| scope_claims(scope).iter().copied());
    PROTOCOL_CLAIMS.iter().copied().chain(person).collect()
}

/// Endpoint paths, relative to the issuer: the router mounts these and discovery advertises
/// them, so the two cannot drift apart.
pub mod paths {
    pub const OIDC_DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    pub const JWKS: &str = "/jwks";
    pub const AUTHORIZE: &str = "/authorize";
    pub const AUTHORIZE_RESUME: &str = "/authorize/resume";
    pub const TOKEN: &str = "/token";
    pub const USERINFO: &str = "/userinfo";
    pub const INTROSPECT: &str = "/introspect";
    pub const REVOKE: &str = "/revoke";
    pub const LOGOUT: &str = "/logout";
    pub const LOGIN: &str = "/login";
    pub const LOGIN_OTP: &str = "/login/otp";
    pub const RESET: &str = "/reset";
    pub const RESET_LINK: &str = "/reset/{token}";
    pub const ACCOUNT: &str = "/account";
    pub const ACCOUNT_PROFILE: &str = "/account/profile";
    pub const ACCOUNT_EMAIL: &str = "/account/email";
    pub const ACCOUNT_EMAIL_CONFIRM: &str = "/account/email/confirm/{token}";
    pub const ACCOUNT_PASSWORD: &str = "/account/password";
    pub const ACCOUNT_DEVICES: &str = "/account/devices";
    pub const ACCOUNT_DEVICE_REVOKE: &str = "/account/devices/revoke";
    pub const ACCOUNT_DEVICES_REVOKE_OTHERS: &str = "/account/devices/revoke-others";
    pub const ACCOUNT_APPS: &str = "/account/apps";
    pub const ACCOUNT_APP_REMOVE: &str = "/account/apps/remove";
    pub const ACCOUNT_ACTIVITY: &str = "/account/activity";
    pub const RECOVERY_CODES: &str = "/account/security/recovery-codes";
    pub const ACCOUNT_SECURITY: &str = "/account/security";
    pub const TOTP_START: &str = "/account/security/totp/start";
    pub const TOTP_CONFIRM: &str = "/account/security/totp/confirm";
    pub const TOTP_DISABLE: &str = "/account/security/totp/disable";
    pub const CONSENT: &str = "/consent";
    pub const STYLESHEET: &str = "/static/keyhaven.css";
    pub const HEALTHZ: &str = "/healthz";
    pub const METRICS: &str = "/metrics";
    pub const READYZ: &str = "/readyz";
}

pub const USERINFO_PATH: &str = paths::USERINFO;

/// Grants the token endpoint accepts.
pub const GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token", "client_credentials"];

pub fn metadata(issuer: &str) -> Value {
    let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    let at = |path: &str| format!("{issuer}{path}");
    json!({
        "issuer": issuer,
        "authorization_endpoint": at(paths::AUTHORIZE),
        "token_endpoint": at(paths::TOKEN),
        "userinfo_endpoint": at(paths::USERINFO),
        "jwks_uri": at(paths::JWKS),
        "introspection_endpoint": at(paths::INTROSPECT),
        "revocation_endpoint": at(paths::REVOKE),
        "end_session_endpoint": at(paths::LOGOUT),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GRANT_TYPES,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "userinfo_signing_alg_values_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": SCOPES,
        "claims_supported": claims_supported(),
        "claims_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertises_s256_only_and_the_issuer() {
        let doc = metadata("https://id.example");
        assert_eq!(doc["issuer"], "https://id.example");
        assert_eq!(doc["jwks_uri"], "https://id.example/jwks");
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    }
}
