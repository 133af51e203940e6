//! OAuth clients: as an operator registers them, as they register themselves or describe
//! themselves in a metadata document.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::Url;

use super::alg::SigningAlg;
pub use super::client_trust::{check_public_jwks, AuthMethod, ClientOrigin, MAX_CLIENT_KEYS};
use super::redirect_uri::is_loopback;
pub use super::redirect_uri::RedirectUri;
use super::scope::ScopeSet;
use super::{Audience, ClientId, UnixTime};

/// RFC 6749 §2.1 client types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    Confidential,
    Public,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }
}

impl FromStr for ClientType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "confidential" => Ok(Self::Confidential),
            "public" => Ok(Self::Public),
            other => Err(format!("unknown client type `{other}` (confidential | public)")),
        }
    }
}

/// The grants Keyhaven implements. No implicit, no password grant (RFC 9700 §2.1.2, §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    /// RFC 8628: a device without a browser; the person approves on another one.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code", alias = "device_code")]
    DeviceCode,
}

impl GrantType {
    pub const ALL: [GrantType; 4] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::DeviceCode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::DeviceCode => DEVICE_CODE_GRANT,
        }
    }
}

/// The device grant's `grant_type` (RFC 8628 §3.4); `device_code` is its short name for
/// operators.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

impl FromStr for GrantType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "device_code" {
            return Ok(Self::DeviceCode);
        }
        Self::ALL.into_iter().find(|g| g.as_str() == s).ok_or_else(|| {
            format!("unknown grant type `{s}` (authorization_code | refresh_token | client_credentials | device_code)")
        })
    }
}

/// What a client may do beyond OAuth grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Call the introspection endpoint (resource servers).
    Introspect,
}

impl FromStr for Permission {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "introspect" => Ok(Self::Introspect),
            other => Err(format!("unknown permission `{other}` (introspect)")),
        }
    }
}

/// A registered client, as the store returns it. The secret is only ever held as a hash, and
/// the hash never prints.
#[derive(Clone)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub client_type: ClientType,
    /// SHA-256 of the client secret (confidential clients only).
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Option<ScopeSet>,
    pub audiences: Vec<Audience>,
    pub first_party: bool,
    /// Algorithm of this client's ID tokens (RS256 unless it registered another).
    pub id_token_alg: SigningAlg,
    /// Where RP-initiated logout may send people back to (exact match).
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub permissions: Vec<Permission>,
    /// Lifts the default limit of a third-party resource server's introspection to tokens of
    /// its own audiences.
    pub introspect_any_audience: bool,
    pub auth_method: AuthMethod,
    pub origin: ClientOrigin,
    /// The client's public keys for `private_key_jwt`, given inline (a JWK Set)...
    pub jwks: Option<serde_json::Value>,
    /// ... or by URL, fetched by Keyhaven.
    pub jwks_uri: Option<Url>,
    /// A logo the client claims (shown only from https, and only when a setting allows it).
    pub logo_uri: Option<Url>,
    /// The client's home page, as it claims.
    pub client_uri: Option<Url>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("client_type", &self.client_type)
            .field("secret_hash", &self.secret_hash.as_ref().map(|_| super::REDACTED))
            .field("redirect_uris", &self.redirect_uris)
            .field("grant_types", &self.grant_types)
            .field("scopes", &self.scopes)
            .field("audiences", &self.audiences)
            .field("first_party", &self.first_party)
            .field("id_token_alg", &self.id_token_alg)
            .field("post_logout_redirect_uris", &self.post_logout_redirect_uris)
            .field("permissions", &self.permissions)
            .field("introspect_any_audience", &self.introspect_any_audience)
            .field("auth_method", &self.auth_method)
            .field("origin", &self.origin)
            .field("jwks", &self.jwks.as_ref().map(|_| "<jwks>"))
            .field("jwks_uri", &self.jwks_uri)
            .field("logo_uri", &self.logo_uri)
            .field("client_uri", &self.client_uri)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

impl Client {
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn has_permission(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// Whether this client's introspection is limited to tokens for its own audiences: on by
    /// default for third-party resource servers.
    pub fn introspection_restricted(&self) -> bool {
        !(self.first_party || self.introspect_any_audience)
    }

    /// Whether an operator made this client (and so vouches for its name).
    pub fn is_verified(&self) -> bool {
        self.origin == ClientOrigin::Operator
    }
}

#[cfg(test)]
impl Client {
    /// A client for unit tests: a public client of the code grant and nothing more; a test
    /// sets what it is about with struct update syntax.
    pub(crate) fn example(id: &str) -> Self {
        Self {
            id: id.into(),
            name: id.into(),
            client_type: ClientType::Public,
            secret_hash: None,
            redirect_uris: vec![],
            grant_types: vec![GrantType::AuthorizationCode],
            scopes: None,
            audiences: vec![],
            first_party: false,
            id_token_alg: SigningAlg::Rs256,
            post_logout_redirect_uris: vec![],
            permissions: vec![],
            introspect_any_audience: false,
            auth_method: AuthMethod::None,
            origin: ClientOrigin::Operator,
            jwks: None,
            jwks_uri: None,
            logo_uri: None,
            client_uri: None,
            created_at: 0,
            updated_at: 0,
        }
    }
}

/// A registration that breaks a rule: the field at fault and why, in words an operator reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RegistrationError {
    pub field: &'static str,
    pub message: String,
}

impl RegistrationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// What an operator asks for when registering a client; checked by [`ClientRegistration::validate`].
#[derive(Debug, Clone)]
pub struct ClientRegistration {
    pub name: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Option<ScopeSet>,
    pub audiences: Vec<Audience>,
    pub first_party: bool,
    pub id_token_alg: SigningAlg,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub permissions: Vec<Permission>,
    pub introspect_any_audience: bool,
    pub auth_method: AuthMethod,
    pub origin: ClientOrigin,
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<Url>,
    pub logo_uri: Option<Url>,
    pub client_uri: Option<Url>,
}

impl ClientRegistration {
    /// What a new client starts from: confidential, the code and refresh grants, any scope, no
    /// audience, RS256 ID tokens.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            client_type: ClientType::Confidential,
            redirect_uris: vec![],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: None,
            audiences: vec![],
            first_party: false,
            id_token_alg: SigningAlg::Rs256,
            post_logout_redirect_uris: vec![],
            permissions: vec![],
            introspect_any_audience: false,
            auth_method: AuthMethod::ClientSecretBasic,
            origin: ClientOrigin::Operator,
            jwks: None,
            jwks_uri: None,
            logo_uri: None,
            client_uri: None,
        }
    }

    /// A stored client's registration, to change.
    pub fn of(c: &Client) -> Self {
        Self {
            name: c.name.clone(),
            client_type: c.client_type,
            redirect_uris: c.redirect_uris.clone(),
            grant_types: c.grant_types.clone(),
            scopes: c.scopes.clone(),
            audiences: c.audiences.clone(),
            first_party: c.first_party,
            id_token_alg: c.id_token_alg,
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            permissions: c.permissions.clone(),
            introspect_any_audience: c.introspect_any_audience,
            auth_method: c.auth_method,
            origin: c.origin,
            jwks: c.jwks.clone(),
            jwks_uri: c.jwks_uri.clone(),
            logo_uri: c.logo_uri.clone(),
            client_uri: c.client_uri.clone(),
        }
    }

    pub fn into_client(self, id: ClientId, secret_hash: Option<String>, now: UnixTime) -> Client {
        Client {
            id,
            name: self.name,
            client_type: self.client_type,
            secret_hash,
            redirect_uris: self.redirect_uris,
            grant_types: self.grant_types,
            scopes: self.scopes,
            audiences: self.audiences,
            first_party: self.first_party,
            id_token_alg: self.id_token_alg,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            permissions: self.permissions,
            introspect_any_audience: self.introspect_any_audience,
            auth_method: self.auth_method,
            origin: self.origin,
            jwks: self.jwks,
            jwks_uri: self.jwks_uri,
            logo_uri: self.logo_uri,
            client_uri: self.client_uri,
            created_at: now,
            updated_at: now,
        }
    }

    /// The rules that cross fields: names and grants that make sense together.
    pub fn validate(&self) -> Result<(), RegistrationError> {
        let refuse = |field, message: &str| Err(RegistrationError::new(field, message));
        if self.name.trim().is_empty() || self.name.len() > 200 {
            return refuse("name", "name must be 1 to 200 characters");
        }
        if self.grant_types.is_empty() {
            return refuse("grant_types", "at least one grant type is required");
        }
        if self.grant_types.contains(&GrantType::AuthorizationCode) && self.redirect_uris.is_empty() {
            return refuse(
                "redirect_uris",
                "the authorization_code grant needs at least one redirect URI",
            );
        }
        if self.client_type == ClientType::Public && self.grant_types.contains(&GrantType::ClientCredentials) {
            return refuse("grant_types", "a public client cannot use the client_credentials grant");
        }
        if self.client_type == ClientType::Public && self.permissions.contains(&Permission::Introspect) {
            return refuse(
                "permissions",
                "a public client cannot have the introspect permission: introspection needs client authentication",
            );
        }
        if !self.id_token_alg.signs_id_tokens() {
            return refuse("id_token_alg", "ID tokens are signed with RS256 or ES256");
        }
        match (self.client_type, self.auth_method) {
            (ClientType::Public, AuthMethod::None) => {}
            (ClientType::Public, _) => {
                return refuse(
                    "token_endpoint_auth_method",
                    "a public client authenticates with `none`",
                )
            }
            (ClientType::Confidential, AuthMethod::None) => {
                return refuse(
                    "token_endpoint_auth_method",
                    "a confidential client needs client_secret_basic, client_secret_post or private_key_jwt",
                )
            }
            (ClientType::Confidential, _) => {}
        }
        match (self.auth_method, &self.jwks, &self.jwks_uri) {
            (AuthMethod::PrivateKeyJwt, Some(_), Some(_)) => return refuse("jwks", "give jwks or jwks_uri, not both"),
            (AuthMethod::PrivateKeyJwt, None, None) => {
                return refuse("jwks_uri", "private_key_jwt needs the client's keys: jwks or jwks_uri")
            }
            (AuthMethod::PrivateKeyJwt, _, _) => {}
            (_, None, None) => {}
            (_, _, _) => return refuse("jwks", "jwks and jwks_uri are for private_key_jwt clients only"),
        }
        if let Some(jwks) = &self.jwks {
            check_public_jwks(jwks).map_err(|message| RegistrationError::new("jwks", message))?;
        }
        if let Some(uri) = &self.jwks_uri {
            if uri.scheme() != "https" && !(uri.scheme() == "http" && is_loopback(uri)) {
                return refuse("jwks_uri", "jwks_uri must be an https URL");
            }
        }
        for (field, uri) in [("logo_uri", &self.logo_uri), ("client_uri", &self.client_uri)] {
            if uri.as_ref().is_some_and(|u| !matches!(u.scheme(), "https" | "http")) {
                return refuse(field, "must be an https URL");
            }
        }
        if self.origin != ClientOrigin::Operator && self.first_party {
            return refuse("first_party", "only an operator's client can be first-party");
        }
        if let Some(bad) = self.audiences.iter().find(|a| a.trim().is_empty() || a.contains(' ')) {
            return Err(RegistrationError::new(
                "audiences",
                format!("audience `{bad}` must be a non-empty string without spaces"),
            ));
        }
        Ok(())
    }

    /// What is allowed but probably not meant; the CLI and the admin API show these to the
    /// operator who registers (or changes) the client.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.scopes.is_none() && self.grant_types.contains(&GrantType::ClientCredentials) {
            warnings.push(
                "the client has no scopes: its client_credentials tokens carry none, and asking for any \
                 is refused (invalid_scope); register the scopes it needs"
                    .to_owned(),
            );
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_clients_cannot_use_client_credentials() {
        let reg = ClientRegistration {
            name: "cli".into(),
            client_type: ClientType::Public,
            redirect_uris: vec![],
            grant_types: vec![GrantType::ClientCredentials],
            scopes: None,
            audiences: vec![],
            first_party: false,
            id_token_alg: SigningAlg::Rs256,
            post_logout_redirect_uris: vec![],
            permissions: vec![],
            introspect_any_audience: false,
            auth_method: AuthMethod::None,
            ..ClientRegistration::new("cli")
        };
        assert_eq!(reg.validate().unwrap_err().field, "grant_types");
    }

    #[test]
    fn the_auth_method_matches_the_client_type_and_keys() {
        let public = ClientRegistration {
            client_type: ClientType::Public,
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::AuthorizationCode],
            redirect_uris: vec![RedirectUri::parse("http://127.0.0.1/cb").unwrap()],
            ..ClientRegistration::new("app")
        };
        assert_eq!(public.validate(), Ok(()));
        let with_secret = ClientRegistration {
            auth_method: AuthMethod::ClientSecretPost,
            ..public.clone()
        };
        assert_eq!(with_secret.validate().unwrap_err().field, "token_endpoint_auth_method");
        let keyless = ClientRegistration {
            client_type: ClientType::Confidential,
            auth_method: AuthMethod::PrivateKeyJwt,
            ..public.clone()
        };
        assert_eq!(keyless.validate().unwrap_err().field, "jwks_uri");
        let by_uri = ClientRegistration {
            jwks_uri: Some(Url::parse("https://app.example/jwks.json").unwrap()),
            ..keyless.clone()
        };
        assert_eq!(by_uri.validate(), Ok(()));
        let both = ClientRegistration {
            jwks: Some(serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}]})),
            ..by_uri.clone()
        };
        assert_eq!(both.validate().unwrap_err().field, "jwks");
        let inline = ClientRegistration {
            jwks_uri: None,
            ..both.clone()
        };
        assert_eq!(inline.validate(), Ok(()));
        let private = ClientRegistration {
            jwks: Some(serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c"}]})),
            ..inline.clone()
        };
        assert_eq!(private.validate().unwrap_err().field, "jwks");
        let symmetric = ClientRegistration {
            jwks: Some(serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})),
            ..inline.clone()
        };
        assert_eq!(symmetric.validate().unwrap_err().field, "jwks");
        let secret_with_keys = ClientRegistration {
            auth_method: AuthMethod::ClientSecretBasic,
            ..inline
        };
        assert_eq!(secret_with_keys.validate().unwrap_err().field, "jwks");
    }

    #[test]
    fn only_an_operators_client_is_first_party_or_verified() {
        let mut reg = service(Some("read"));
        reg.first_party = true;
        assert_eq!(reg.validate(), Ok(()));
        reg.origin = ClientOrigin::Registered;
        assert_eq!(reg.validate().unwrap_err().field, "first_party");
        reg.first_party = false;
        assert_eq!(reg.validate(), Ok(()));
        let client = reg.into_client("c".into(), None, 0);
        assert!(!client.is_verified());
        assert!(Client::example("op").is_verified());
    }

    #[test]
    fn public_clients_cannot_introspect() {
        let mut reg = service(Some("read"));
        reg.permissions = vec![Permission::Introspect];
        assert_eq!(reg.validate(), Ok(()));
        reg.client_type = ClientType::Public;
        reg.auth_method = AuthMethod::None;
        reg.grant_types = vec![GrantType::AuthorizationCode];
        reg.redirect_uris = vec![RedirectUri::parse("http://127.0.0.1/cb").unwrap()];
        assert_eq!(reg.validate().unwrap_err().field, "permissions");
        reg.permissions = vec![];
        assert_eq!(reg.validate(), Ok(()));
    }

    fn service(scopes: Option<&str>) -> ClientRegistration {
        ClientRegistration {
            name: "billing".into(),
            client_type: ClientType::Confidential,
            redirect_uris: vec![],
            grant_types: vec![GrantType::ClientCredentials],
            scopes: scopes.map(|s| ScopeSet::parse(s).unwrap()),
            audiences: vec!["https://api.example".into()],
            first_party: false,
            id_token_alg: SigningAlg::Rs256,
            post_logout_redirect_uris: vec![],
            permissions: vec![],
            introspect_any_audience: false,
            ..ClientRegistration::new("billing")
        }
    }

    #[test]
    fn a_service_without_scopes_is_valid_but_warned_about() {
        assert!(service(Some("invoices:read")).warnings().is_empty());
        let unscoped = service(None);
        assert_eq!(unscoped.validate(), Ok(()));
        assert_eq!(unscoped.warnings().len(), 1);
        // A client of the code flow without scopes may ask for the server's OpenID scopes,
        // each shown to the person at consent: nothing to warn about.
        let code_flow = ClientRegistration {
            grant_types: vec![GrantType::AuthorizationCode],
            redirect_uris: vec![RedirectUri::parse("https://app.example/cb").unwrap()],
            ..service(None)
        };
        assert!(code_flow.warnings().is_empty());
    }
}
