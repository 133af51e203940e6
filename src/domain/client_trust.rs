//! How a client proves itself, and who vouches for it.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a client proves itself at the token, introspection and revocation endpoints
/// (`token_endpoint_auth_method`, RFC 7591 §2). A client with a secret may send it either way
/// (`client_secret_basic` or `client_secret_post`), whichever of the two it registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A public client: no credential, PKCE only.
    None,
    /// A JWT signed with a key of the client's `jwks` or `jwks_uri` (RFC 7523, OIDC Core §9).
    PrivateKeyJwt,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 4] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::None,
        AuthMethod::PrivateKeyJwt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Whether the client holds a shared secret.
    pub fn uses_secret(self) -> bool {
        matches!(self, Self::ClientSecretBasic | Self::ClientSecretPost)
    }
}

impl FromStr for AuthMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| {
            format!("unknown auth method `{s}` (client_secret_basic | client_secret_post | none | private_key_jwt)")
        })
    }
}

/// Who vouches for a client: an operator made it, or it introduced itself (dynamic
/// registration, or a client id that is the URL of its metadata document). Only an operator's
/// client is verified; the others are shown as unverified on consent and never skip it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientOrigin {
    Operator,
    /// RFC 7591 dynamic client registration.
    Registered,
    /// draft-ietf-oauth-client-id-metadata-document: the client id is the document's URL.
    MetadataDocument,
}

impl ClientOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Registered => "registered",
            Self::MetadataDocument => "metadata_document",
        }
    }
}

impl FromStr for ClientOrigin {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Operator, Self::Registered, Self::MetadataDocument]
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("unknown client origin `{s}` (operator | registered | metadata_document)"))
    }
}

/// The most keys a client's JWK Set may hold.
pub const MAX_CLIENT_KEYS: usize = 20;

/// Checks a client's `jwks`: a JWK Set object of at most [`MAX_CLIENT_KEYS`] public keys
/// (no private or symmetric key material).
pub fn check_public_jwks(jwks: &serde_json::Value) -> Result<(), String> {
    let keys = jwks
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or("jwks must be a JWK Set: an object with a `keys` array")?;
    if keys.is_empty() || keys.len() > MAX_CLIENT_KEYS {
        return Err(format!("jwks must hold 1 to {MAX_CLIENT_KEYS} keys"));
    }
    for key in keys {
        let kty = key.get("kty").and_then(serde_json::Value::as_str);
        match kty {
            Some("RSA" | "EC" | "OKP") => {}
            Some("oct") => return Err("jwks must not hold a symmetric (oct) key".into()),
            _ => return Err("every key in jwks needs a kty of RSA, EC or OKP".into()),
        }
        if ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .any(|m| key.get(m).is_some())
        {
            return Err("jwks must hold public keys only (a key has private members)".into());
        }
    }
    Ok(())
}
