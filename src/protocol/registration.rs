//! Dynamic client registration (RFC 7591) and its management (RFC 7592): which client metadata
//! a client may give about itself, what it becomes (always a client nobody vetted: origin
//! `registered`, never first-party, its grants and scopes within the server's policy), the
//! errors of RFC 7591 §3.2.2, and the client information response (§3.2.1; RFC 7592 §3).

use serde::Deserialize;
use serde_json::{json, Map, Value};
use url::Url;

use crate::domain::client::{AuthMethod, Client, ClientOrigin, ClientRegistration, ClientType, GrantType, RedirectUri};
use crate::domain::scope::ScopeSet;

/// The largest registration request body read.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The most redirect URIs one client may register.
pub const MAX_REDIRECT_URIS: usize = 20;

/// What a client without a `client_name` is called.
pub const UNNAMED: &str = "Unnamed app";

/// The error codes of RFC 7591 §3.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataErrorCode {
    InvalidRedirectUri,
    InvalidClientMetadata,
}

impl MetadataErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
        }
    }
}

/// Client metadata refused: the RFC 7591 error code and why, in words for the developer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct MetadataError {
    pub code: MetadataErrorCode,
    pub description: String,
}

fn invalid(description: impl Into<String>) -> MetadataError {
    MetadataError {
        code: MetadataErrorCode::InvalidClientMetadata,
        description: description.into(),
    }
}

fn bad_redirect(description: impl Into<String>) -> MetadataError {
    MetadataError {
        code: MetadataErrorCode::InvalidRedirectUri,
        description: description.into(),
    }
}

/// The client metadata of RFC 7591 §2 that Keyhaven reads. Unknown members are ignored (§2);
/// `contacts`, `software_id` and `software_version` are accepted and not kept.
#[derive(Debug, Default, Deserialize)]
pub struct ClientMetadata {
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub response_types: Option<Vec<String>>,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub client_uri: Option<String>,
    #[serde(default)]
    pub logo_uri: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub jwks: Option<Value>,
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Only in an update (RFC 7592 §2.2): must name the client being changed.
    #[serde(default)]
    pub client_id: Option<String>,
}

impl ClientMetadata {
    /// Reads a JSON object; anything else (or a member of the wrong type) is
    /// `invalid_client_metadata`.
    pub fn from_json(body: &[u8]) -> Result<Self, MetadataError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(invalid(format!("the body is larger than {MAX_BODY_BYTES} bytes")));
        }
        serde_json::from_slice(body).map_err(|e| invalid(format!("the body is not client metadata: {e}")))
    }
}

/// What the server lets a client nobody vetted ask for (`self_registered_grants`,
/// `self_registered_scopes`).
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    pub grants: &'a [GrantType],
    pub scopes: &'a ScopeSet,
}

/// The registration a client's metadata asks for, checked against RFC 7591, the registration
/// rules every client meets ([`ClientRegistration::validate`]) and `policy`. Defaults (§2):
/// `client_secret_basic`, the `authorization_code` grant, the `code` response type; without a
/// `scope`, every scope the policy allows.
pub fn registration(meta: &ClientMetadata, policy: Policy<'_>) -> Result<ClientRegistration, MetadataError> {
    let auth_method: AuthMethod = match &meta.token_endpoint_auth_method {
        None => AuthMethod::ClientSecretBasic,
        Some(text) => text.parse().map_err(invalid)?,
    };
    let redirect_uris = meta.redirect_uris.as_deref().unwrap_or_default();
    if redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(bad_redirect(format!("at most {MAX_REDIRECT_URIS} redirect URIs")));
    }
    let redirect_uris = redirect_uris
        .iter()
        .map(|raw| RedirectUri::parse(raw).map_err(bad_redirect))
        .collect::<Result<Vec<_>, _>>()?;
    let mut grant_types = match &meta.grant_types {
        None => vec![GrantType::AuthorizationCode],
        Some(names) => names
            .iter()
            .map(|name| name.parse::<GrantType>().map_err(invalid))
            .collect::<Result<Vec<_>, _>>()?,
    };
    grant_types.sort();
    grant_types.dedup();
    if let Some(grant) = grant_types.iter().find(|g| !policy.grants.contains(g)) {
        return Err(invalid(format!(
            "the {} grant is not open to self-registered clients",
            grant.as_str()
        )));
    }
    if let Some(types) = &meta.response_types {
        if let Some(other) = types.iter().find(|t| t.as_str() != "code") {
            return Err(invalid(format!("response type `{other}` is not supported (code only)")));
        }
        if types.iter().any(|t| t == "code") && !grant_types.contains(&GrantType::AuthorizationCode) {
            return Err(invalid("the code response type needs the authorization_code grant"));
        }
    }
    let scopes = match meta.scope.as_deref() {
        None => policy.scopes.clone(),
        Some(text) => {
            let asked = ScopeSet::parse(text).map_err(|e| invalid(format!("scope: {e}")))?;
            if !asked.is_subset_of(policy.scopes) {
                return Err(invalid(format!(
                    "scope: self-registered clients may have only `{}`",
                    policy.scopes
                )));
            }
            asked
        }
    };
    let url = |field: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|text| Url::parse(text).map_err(|e| invalid(format!("{field}: not an absolute URL: {e}"))))
            .transpose()
    };
    let name = match meta.client_name.as_deref().map(str::trim) {
        None | Some("") => UNNAMED.to_owned(),
        Some(name) => name.to_owned(),
    };
    let reg = ClientRegistration {
        client_type: if auth_method == AuthMethod::None {
            ClientType::Public
        } else {
            ClientType::Confidential
        },
        redirect_uris,
        grant_types,
        scopes: Some(scopes),
        audiences: Vec::new(),
        first_party: false,
        auth_method,
        origin: ClientOrigin::Registered,
        jwks: meta.jwks.clone(),
        jwks_uri: url("jwks_uri", &meta.jwks_uri)?,
        logo_uri: url("logo_uri", &meta.logo_uri)?,
        client_uri: url("client_uri", &meta.client_uri)?,
        ..ClientRegistration::new(name)
    };
    reg.validate().map_err(|e| {
        let description = format!("{}: {}", e.field, e.message);
        if e.field == "redirect_uris" {
            bad_redirect(description)
        } else {
            invalid(description)
        }
    })?;
    Ok(reg)
}

/// The client information response (RFC 7591 §3.2.1, RFC 7592 §3): the registered metadata,
/// the id, and where the client manages its registration. The caller adds the secrets it has.
pub fn client_information(client: &Client, registration_client_uri: &str) -> Map<String, Value> {
    let mut info = Map::new();
    info.insert("client_id".into(), json!(client.id.as_str()));
    info.insert("client_id_issued_at".into(), json!(client.created_at));
    info.insert("client_name".into(), json!(client.name));
    info.insert(
        "redirect_uris".into(),
        json!(client.redirect_uris.iter().map(RedirectUri::as_str).collect::<Vec<_>>()),
    );
    info.insert(
        "grant_types".into(),
        json!(client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>()),
    );
    let response_types: &[&str] = if client.allows_grant(GrantType::AuthorizationCode) {
        &["code"]
    } else {
        &[]
    };
    info.insert("response_types".into(), json!(response_types));
    info.insert("token_endpoint_auth_method".into(), json!(client.auth_method.as_str()));
    if let Some(scopes) = &client.scopes {
        info.insert("scope".into(), json!(scopes.to_string()));
    }
    for (field, value) in [
        ("client_uri", &client.client_uri),
        ("logo_uri", &client.logo_uri),
        ("jwks_uri", &client.jwks_uri),
    ] {
        if let Some(url) = value {
            info.insert(field.into(), json!(url.as_str()));
        }
    }
    if let Some(jwks) = &client.jwks {
        info.insert("jwks".into(), jwks.clone());
    }
    info.insert("registration_client_uri".into(), json!(registration_client_uri));
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy_scopes() -> ScopeSet {
        ScopeSet::parse("openid profile email offline_access").unwrap()
    }

    const GRANTS: [GrantType; 2] = [GrantType::AuthorizationCode, GrantType::RefreshToken];

    fn register(body: Value) -> Result<ClientRegistration, MetadataError> {
        let scopes = policy_scopes();
        let meta = ClientMetadata::from_json(body.to_string().as_bytes())?;
        registration(
            &meta,
            Policy {
                grants: &GRANTS,
                scopes: &scopes,
            },
        )
    }

    #[test]
    fn defaults_are_a_confidential_code_client_with_the_policy_scopes() {
        let reg = register(json!({ "redirect_uris": ["https://app.example/cb"], "extra": 1 })).unwrap();
        assert_eq!(reg.auth_method, AuthMethod::ClientSecretBasic);
        assert_eq!(reg.client_type, ClientType::Confidential);
        assert_eq!(reg.grant_types, vec![GrantType::AuthorizationCode]);
        assert_eq!(reg.scopes, Some(policy_scopes()));
        assert_eq!(reg.origin, ClientOrigin::Registered);
        assert!(!reg.first_party);
        assert_eq!(reg.name, UNNAMED);
    }

    #[test]
    fn each_bad_metadata_has_its_rfc_7591_error() {
        use MetadataErrorCode::{InvalidClientMetadata as Meta, InvalidRedirectUri as Redirect};
        let cases = [
            (json!({ "redirect_uris": ["http://app.example/cb"] }), Redirect),
            (json!({ "redirect_uris": ["https://app.example/cb#x"] }), Redirect),
            (json!({ "redirect_uris": [] }), Redirect),
            (json!({}), Redirect),
            (
                json!({ "redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"] }),
                Meta,
            ),
            (
                json!({ "redirect_uris": ["https://a.example/cb"], "grant_types": ["password"] }),
                Meta,
            ),
            (
                json!({ "redirect_uris": ["https://a.example/cb"], "scope": "openid admin" }),
                Meta,
            ),
            (
                json!({ "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt" }),
                Meta,
            ),
            (
                json!({ "redirect_uris": ["https://a.example/cb"], "response_types": ["token"] }),
                Meta,
            ),
            (json!({ "redirect_uris": "https://a.example/cb" }), Meta),
            (json!([1, 2]), Meta),
        ];
        for (body, code) in cases {
            let text = body.to_string();
            assert_eq!(register(body).unwrap_err().code, code, "{text}");
        }
    }

    #[test]
    fn a_public_client_and_a_private_key_jwt_client_register() {
        let public = register(json!({
            "redirect_uris": ["http://127.0.0.1:9000/cb"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid offline_access",
            "client_name": "CLI",
        }))
        .unwrap();
        assert_eq!(public.client_type, ClientType::Public);
        assert_eq!(public.name, "CLI");
        let signed = register(json!({
            "redirect_uris": ["https://app.example/cb"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "https://app.example/jwks.json",
        }))
        .unwrap();
        assert_eq!(signed.auth_method, AuthMethod::PrivateKeyJwt);
    }
}
