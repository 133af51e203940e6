//! `grant_type=client_credentials` (RFC 6749 §4.4) for confidential clients: an access token for
//! a service, audience-restricted by `resource` (RFC 8707, the rule in `protocol::resource`),
//! with at most the registered scopes (none for a client registered without). No refresh token,
//! no ID token.

use crate::domain::client::{Client, ClientType, GrantType};
use crate::domain::scope::ScopeSet;
use crate::domain::Audience;
use crate::protocol::error::{err, OAuthError, ProtocolError};
use crate::protocol::resource::{self, NoAudience};

pub struct ClientCredentialsRequest {
    pub scope: Option<String>,
    pub resources: Vec<String>,
}

/// What the service gets: its token's scope and audiences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceGrant {
    pub scope: String,
    pub audience: Vec<Audience>,
}

pub fn grant(client: &Client, request: &ClientCredentialsRequest) -> Result<ServiceGrant, ProtocolError> {
    if client.client_type != ClientType::Confidential || !client.allows_grant(GrantType::ClientCredentials) {
        return Err(err(
            OAuthError::UnauthorizedClient,
            "client may not use the client_credentials grant",
        ));
    }
    let resources: Vec<&str> = request.resources.iter().map(String::as_str).collect();
    let audience = resource::resolve(client, &resources, NoAudience::Refused)?;
    let scope = match request.scope.as_deref() {
        None => client.scopes.as_ref().map(ToString::to_string).unwrap_or_default(),
        Some(asked) => {
            let asked = ScopeSet::parse(asked).map_err(|e| err(OAuthError::InvalidScope, e.to_string()))?;
            // No person consents here, so only the registered scopes bound what a service may
            // claim: a client registered without scopes gets none.
            let allowed = client
                .scopes
                .as_ref()
                .ok_or_else(|| err(OAuthError::InvalidScope, "this client has no scopes to ask for"))?;
            if !asked.is_subset_of(allowed) {
                return Err(err(
                    OAuthError::InvalidScope,
                    "a requested scope is not allowed for this client",
                ));
            }
            asked.to_string()
        }
    };
    Ok(ServiceGrant { scope, audience })
}
