//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9700 §2.1.1, §4.5).
//! A code is spent by one atomic store operation; a second redemption revokes everything the
//! first one issued.

use serde_json::Value;

use super::id_token::{self, IdTokenClaims};
use super::TokenResponse;
use crate::crypto::tokens::{prefix, random_base64url, OpaqueSecret, SecretHash};
use crate::domain::client::{Client, GrantType};
use crate::domain::event::{kind, Outcome, SecurityEvent};
use crate::domain::pkce::{CodeChallenge, CodeVerifier};
use crate::protocol::access_token::{self, AccessGrant};
use crate::protocol::error::{err, OAuthError};
use crate::protocol::{redirect_uri, revocation, userinfo, Context, Failure};
use crate::storage::{CodeRedemption, RefreshTokenRecord};

/// The grant's parameters. `Debug` is not derived: the code is a secret.
pub struct CodeExchange {
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

fn invalid_grant(description: &str) -> Failure {
    Failure::Protocol(err(OAuthError::InvalidGrant, description))
}

pub async fn exchange(ctx: &Context<'_>, client: &Client, request: CodeExchange) -> Result<TokenResponse, Failure> {
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(Failure::Protocol(err(
            OAuthError::UnauthorizedClient,
            "client may not use this grant",
        )));
    }
    let code = request
        .code
        .ok_or_else(|| Failure::Protocol(err(OAuthError::InvalidRequest, "code is required")))?;
    let family_id = format!("fam_{}", random_base64url(16));
    let redemption = ctx
        .store
        .redeem_authorization_code(
            SecretHash::of(&code).as_str(),
            &family_id,
            ctx.now,
            ctx.now + ctx.settings.refresh_absolute_ttl,
        )
        .await?;
    let granted = match redemption {
        CodeRedemption::Redeemed(granted) => granted,
        CodeRedemption::NotFound => return Err(invalid_grant("the code is invalid")),
        CodeRedemption::Replayed { family_id } => {
            if let Some(family) = family_id {
                revocation::revoke_family(ctx, &family, "code_replay").await?;
                ctx.record(
                    SecurityEvent::new(ctx.now, kind::CODE_REPLAY, Outcome::Failure)
                        .client(&client.id)
                        .detail(format!("family {family} revoked")),
                );
                tracing::warn!(client_id = %client.id, family = %family, "authorization code replayed; its grant family is revoked");
            }
            return Err(invalid_grant("the code was already used"));
        }
    };

    // The code is spent from here on; any failure also kills the family made for it (nothing
    // was issued from it yet).
    let family = family_id.as_str();
    let refuse = |description: &'static str| async move {
        ctx.store.revoke_family(family, ctx.now, "failed_redemption").await?;
        Err::<TokenResponse, Failure>(invalid_grant(description))
    };
    if granted.expires_at <= ctx.now {
        return refuse("the code has expired").await;
    }
    if granted.client_id != client.id {
        return refuse("the code was issued to another client").await;
    }
    if let Err(why) =
        redirect_uri::token_request_matches(granted.redirect_uri.as_deref(), request.redirect_uri.as_deref())
    {
        return refuse(why).await;
    }
    let verifier = match request.code_verifier.as_deref().map(CodeVerifier::parse) {
        Some(Ok(v)) => v,
        Some(Err(_)) => return refuse("code_verifier is malformed").await,
        None => return refuse("code_verifier is required").await,
    };
    if !CodeChallenge::from_stored(granted.code_challenge.clone()).is_satisfied_by(&verifier) {
        return refuse("code_verifier does not match the code_challenge").await;
    }
    let user = match ctx.store.find_user_by_id(&granted.user_id).await? {
        Some(user) if !user.disabled => user,
        _ => return refuse("the account is not active").await,
    };

    let openid = granted.scope.split(' ').any(|s| s == "openid");
    let mut audience: Vec<String> = serde_json::from_str(&granted.audience).unwrap_or_default();
    if openid {
        audience.push(ctx.userinfo_audience());
    }
    let (access_token, expires_in) = access_token::issue(
        ctx,
        &AccessGrant {
            sub: &user.id,
            client_id: &client.id,
            scope: &granted.scope,
            audience,
            sid: Some(&granted.sid),
            family_id: Some(&family_id),
            auth_time: Some(granted.auth_time),
        },
    )?;

    let id_token = if openid {
        let requested: Option<Value> = granted.claims.as_deref().and_then(|c| serde_json::from_str(c).ok());
        let extra = userinfo::requested_claims(&user, requested.as_ref().and_then(|r| r.get("id_token")));
        Some(id_token::issue(
            ctx,
            IdTokenClaims {
                client,
                sub: &user.id,
                auth_time: granted.auth_time,
                nonce: granted.nonce.as_deref(),
                sid: &granted.sid,
                amr: &granted.amr,
                access_token: &access_token,
                extra,
            },
        )?)
    } else {
        None
    };

    let refresh_token =
        if granted.scope.split(' ').any(|s| s == "offline_access") && client.allows_grant(GrantType::RefreshToken) {
            let token = OpaqueSecret::generate(prefix::REFRESH_TOKEN);
            let absolute_end = ctx.now + ctx.settings.refresh_absolute_ttl;
            ctx.store
                .insert_refresh_token(&RefreshTokenRecord {
                    token_hash: token.hash().as_str().to_owned(),
                    family_id: family_id.clone(),
                    created_at: ctx.now,
                    expires_at: (ctx.now + ctx.settings.refresh_idle_ttl).min(absolute_end),
                    rotated_at: None,
                    successor_hash: None,
                })
                .await?;
            Some(token.expose().to_owned())
        } else {
            None
        };

    ctx.record(
        SecurityEvent::new(ctx.now, kind::TOKEN_ISSUED, Outcome::Success)
            .user(&user.id)
            .client(&client.id)
            .session(&granted.sid)
            .detail("authorization_code"),
    );
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        scope: granted.scope,
        refresh_token,
        id_token,
    })
}
