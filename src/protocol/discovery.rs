//! Server metadata: OIDC Discovery 1.0 and RFC 8414. The document lists only what this server
//! implements; each endpoint appears once its handler exists.

use serde_json::{json, Value};

use crate::crypto::keys::SigningAlg;

/// Scopes Keyhaven understands (OIDC Core §5.4 plus `offline_access`).
pub const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

/// Claims a person's userinfo / ID token may carry (OIDC Core §5.1) and the ID token's own.
pub const CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
    "email",
    "email_verified",
    "address",
    "phone_number",
    "phone_number_verified",
];

/// Paths of the endpoints this build serves, relative to the issuer.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub jwks: &'static str,
}

pub fn metadata(issuer: &str, endpoints: &Endpoints) -> Value {
    let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}{}", endpoints.jwks),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": SCOPES,
        "claims_supported": CLAIMS,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertises_s256_only_and_the_issuer() {
        let doc = metadata("https://id.example", &Endpoints { jwks: "/jwks" });
        assert_eq!(doc["issuer"], "https://id.example");
        assert_eq!(doc["jwks_uri"], "https://id.example/jwks");
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    }
}
