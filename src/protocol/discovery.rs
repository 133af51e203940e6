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

/// The endpoints discovery advertises, as paths under the issuer. The faces own their paths
/// (`web::paths`, `http::routes`) and the router mounts them from there; `app` hands the same
/// paths here, so the document and the router cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    pub authorization: &'static str,
    pub token: &'static str,
    pub userinfo: &'static str,
    pub jwks: &'static str,
    pub introspection: &'static str,
    pub revocation: &'static str,
    pub end_session: &'static str,
    pub device_authorization: &'static str,
}

/// Grants the token endpoint accepts.
pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "client_credentials",
    crate::domain::client::DEVICE_CODE_GRANT,
];

pub fn metadata(issuer: &str, endpoints: &Endpoints) -> Value {
    let algs: Vec<&str> = SigningAlg::ID_TOKEN.iter().map(|a| a.as_str()).collect();
    let at = |path: &str| format!("{issuer}{path}");
    // What `private_key_jwt` assertions may be signed with (`protocol::client_assertion`).
    let assertion_algs: Vec<&str> = super::client_assertion::ALGS.iter().map(|a| a.as_str()).collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": at(endpoints.authorization),
        "token_endpoint": at(endpoints.token),
        "userinfo_endpoint": at(endpoints.userinfo),
        "jwks_uri": at(endpoints.jwks),
        "introspection_endpoint": at(endpoints.introspection),
        "revocation_endpoint": at(endpoints.revocation),
        "end_session_endpoint": at(endpoints.end_session),
        "device_authorization_endpoint": at(endpoints.device_authorization),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none", "private_key_jwt"],
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GRANT_TYPES,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "userinfo_signing_alg_values_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "scopes_supported": SCOPES,
        "claims_supported": claims_supported(),
        "claims_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": crate::i18n::Locale::SUPPORTED.map(crate::i18n::Locale::as_str),
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENDPOINTS: Endpoints = Endpoints {
        authorization: "/authorize",
        token: "/token",
        userinfo: "/userinfo",
        jwks: "/jwks",
        introspection: "/introspect",
        revocation: "/revoke",
        end_session: "/logout",
        device_authorization: "/device_authorization",
    };

    #[test]
    fn advertises_s256_only_and_the_issuer() {
        let doc = metadata("https://id.example", &ENDPOINTS);
        assert_eq!(doc["issuer"], "https://id.example");
        assert_eq!(doc["jwks_uri"], "https://id.example/jwks");
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    }

    #[test]
    fn advertises_private_key_jwt_with_asymmetric_algs_only() {
        let doc = metadata("https://id.example", &ENDPOINTS);
        for endpoint in ["token", "introspection", "revocation"] {
            let methods = doc[format!("{endpoint}_endpoint_auth_methods_supported")]
                .as_array()
                .unwrap();
            assert!(methods.contains(&json!("private_key_jwt")), "{endpoint}");
            assert_eq!(
                doc[format!("{endpoint}_endpoint_auth_signing_alg_values_supported")],
                json!(["RS256", "ES256", "EdDSA"]),
                "{endpoint}"
            );
        }
    }
}
