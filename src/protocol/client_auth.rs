//! Client authentication at the token endpoint (RFC 6749 §2.3): `client_secret_basic`,
//! `client_secret_post`, or `none` for public clients. Secrets are machine-made 256-bit values
//! stored as SHA-256, compared in constant time. The caller finds the client (the services
//! keep every client in memory), so this rule reads nothing. A client of `private_key_jwt`
//! proves itself with a signed assertion instead (`client_assertion`), checked by the services
//! (its keys may have to be fetched); here it never passes with a secret.

use std::fmt;

use super::error::{err, OAuthError, ProtocolError};
use crate::crypto::tokens::SecretHash;
use crate::domain::client::{Client, ClientType};

/// What the request presented. `Debug` never shows the secret.
pub enum Credentials {
    /// HTTP Basic, id and secret already form-urldecoded (RFC 6749 §2.3.1).
    Basic {
        client_id: String,
        secret: String,
    },
    /// `client_id` and `client_secret` in the body.
    Post {
        client_id: String,
        secret: String,
    },
    /// A public client naming itself with `client_id`.
    IdOnly {
        client_id: String,
    },
    /// A JWT client assertion (RFC 7523 §2.2, `private_key_jwt`). `client_id` is the form's, or
    /// else the one the assertion claims (unverified, only to find the client's keys);
    /// `endpoint` is the path of the endpoint called: its URL under the issuer is an audience
    /// the assertion may name beside the issuer (None: the issuer only).
    Assertion {
        client_id: Option<String>,
        assertion: String,
        endpoint: Option<String>,
    },
    Missing,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic { client_id, .. } => write!(f, "Basic({client_id}, <redacted>)"),
            Self::Post { client_id, .. } => write!(f, "Post({client_id}, <redacted>)"),
            Self::IdOnly { client_id } => write!(f, "IdOnly({client_id})"),
            Self::Assertion { client_id, .. } => write!(f, "Assertion({client_id:?}, <redacted>)"),
            Self::Missing => f.write_str("Missing"),
        }
    }
}

impl Credentials {
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Self::Basic { client_id, .. } | Self::Post { client_id, .. } | Self::IdOnly { client_id } => {
                Some(client_id)
            }
            Self::Assertion { client_id, .. } => client_id.as_deref(),
            Self::Missing => None,
        }
    }

    /// The same credentials, an assertion among them told the path of the endpoint called.
    #[must_use]
    pub fn called_at(self, path: &str) -> Self {
        match self {
            Self::Assertion {
                client_id, assertion, ..
            } => Self::Assertion {
                client_id,
                assertion,
                endpoint: Some(path.to_owned()),
            },
            other => other,
        }
    }
}

fn invalid_client() -> ProtocolError {
    err(OAuthError::InvalidClient, "client authentication failed")
}

/// The client the credentials prove, or `invalid_client`. `registered` is the client named by
/// the credentials' id as the caller found it (None: no such client). The failure says nothing
/// about which part was wrong.
pub fn authenticate(registered: Option<&Client>, credentials: &Credentials) -> Result<Client, ProtocolError> {
    let proven = match (registered, credentials) {
        (Some(c), Credentials::Basic { secret, .. } | Credentials::Post { secret, .. }) => {
            c.client_type == ClientType::Confidential
                && c.auth_method.uses_secret()
                && c.secret_hash
                    .as_ref()
                    .is_some_and(|h| SecretHash::from_stored(h.clone()).matches(secret))
        }
        (Some(c), Credentials::IdOnly { .. }) => c.client_type == ClientType::Public,
        (None, Credentials::Basic { secret, .. } | Credentials::Post { secret, .. }) => {
            // Same work as a known client, so timing does not reveal which ids exist.
            let _ = SecretHash::of(secret).matches(secret);
            false
        }
        // An assertion is the services' to check (`service::tokens::authenticate_client`).
        _ => false,
    };
    match registered {
        Some(c) if proven => Ok(c.clone()),
        _ => Err(invalid_client()),
    }
}
