//! `grant_type=client_credentials` (RFC 6749 §4.4) for confidential clients: an access token for
//! a service, audience-restricted by `resource` (RFC 8707, the rule in `protocol::resource`),
//! with at most the registered scopes (none for a client registered without). No refresh token,
//! no ID token.

use super::TokenResponse;
use crate::domain::client::{Client, ClientType, GrantType};
use crate::domain::event::{kind, Outcome, SecurityEvent};
use crate::domain::scope::ScopeSet;
use crate::protocol::access_token::{self, AccessGrant};
use crate::protocol::error::{err, OAuthError};
use crate::protocol::resource::{self, NoAudience};
use crate::protocol::{Context, Failure};

pub struct ClientCredentialsRequest {
    pub scope: Option<String>,
    pub resources: Vec<String>,
}

fn refuse(error: OAuthError, description: &str) -> Failure {
    Failure::Protocol(err(error, description))
}

pub async fn grant(
    ctx: &Context<'_>,
    client: &Client,
    request: ClientCredentialsRequest,
) -> Result<TokenResponse, Failure> {
    if client.client_type != ClientType::Confidential || !client.allows_grant(GrantType::ClientCredentials) {
        return Err(refuse(
            OAuthError::UnauthorizedClient,
            "client may not use the client_credentials grant",
        ));
    }
    let resources: Vec<&str> = request.resources.iter().map(String::as_str).collect();
    let audience = resource::resolve(client, &resources, NoAudience::Refused).map_err(Failure::Protocol)?;
    let scope = match request.scope.as_deref() {
        None => client.scopes.as_ref().map(ToString::to_string).unwrap_or_default(),
        Some(asked) => {
            let asked = ScopeSet::parse(asked).map_err(|e| refuse(OAuthError::InvalidScope, &e.to_string()))?;
            // No person consents here, so only the registered scopes bound what a service may
            // claim: a client registered without scopes gets none.
            let allowed = client
                .scopes
                .as_ref()
                .ok_or_else(|| refuse(OAuthError::InvalidScope, "this client has no scopes to ask for"))?;
            if !asked.is_subset_of(allowed) {
                return Err(refuse(
                    OAuthError::InvalidScope,
                    "a requested scope is not allowed for this client",
                ));
            }
            asked.to_string()
        }
    };
    let (access_token, expires_in) = access_token::issue(
        ctx,
        &AccessGrant {
            sub: &client.id,
            client_id: &client.id,
            scope: &scope,
            audience,
            sid: None,
            family_id: None,
            auth_time: None,
        },
    )?;
    ctx.record(
        SecurityEvent::new(ctx.now, kind::TOKEN_ISSUED, Outcome::Success)
            .client(&client.id)
            .detail("client_credentials"),
    );
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        scope,
        refresh_token: None,
        id_token: None,
    })
}
