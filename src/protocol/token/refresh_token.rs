//! `grant_type=refresh_token` (RFC 6749 §6, RFC 9700 §4.14): every use rotates the token; a
//! token used after its rotation revokes its whole family (theft detection), unless it is a
//! quick retry of the immediately previous token within `refresh_reuse_grace`.

use serde_json::Value;

use super::id_token::{self, IdTokenClaims};
use super::TokenResponse;
use crate::crypto::tokens::{prefix, OpaqueSecret, SecretHash};
use crate::domain::client::{Client, GrantType};
use crate::domain::event::{kind, Outcome, SecurityEvent};
use crate::domain::scope::ScopeSet;
use crate::protocol::access_token::{self, AccessGrant};
use crate::protocol::error::{err, OAuthError};
use crate::protocol::{revocation, userinfo, Context, Failure};
use crate::storage::{FamilyRecord, RefreshTokenRecord};

/// Not `Debug`: the token is a secret.
pub struct RefreshRequest {
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

fn invalid_grant(description: &str) -> Failure {
    Failure::Protocol(err(OAuthError::InvalidGrant, description))
}

/// A token presented after it was rotated: theft, unless it is a quick retry of the token
/// just replaced (its successor still unused) within the grace time.
async fn reused(ctx: &Context<'_>, token: &RefreshTokenRecord, family: &FamilyRecord) -> Result<Failure, Failure> {
    let grace = ctx.settings.refresh_reuse_grace;
    if grace > 0 && token.rotated_at.is_some_and(|at| ctx.now - at <= grace) {
        let successor_live = match &token.successor_hash {
            Some(next) => ctx
                .store
                .find_refresh_token(next)
                .await?
                .is_some_and(|t| t.rotated_at.is_none()),
            None => false,
        };
        if successor_live {
            return Ok(invalid_grant("the refresh token was already used"));
        }
    }
    revocation::revoke_family(ctx, &family.id, "refresh_token_reuse").await?;
    ctx.metrics.refresh_reuse();
    ctx.record(
        SecurityEvent::new(ctx.now, kind::REFRESH_TOKEN_REUSE, Outcome::Failure)
            .user(&family.user_id)
            .client(&family.client_id)
            .session(&family.sid)
            .detail(format!("family {} revoked", family.id)),
    );
    tracing::warn!(client_id = %family.client_id, family = %family.id, "refresh token reuse; family revoked");
    Ok(invalid_grant("the refresh token was already used"))
}

pub async fn refresh(ctx: &Context<'_>, client: &Client, request: RefreshRequest) -> Result<TokenResponse, Failure> {
    if !client.allows_grant(GrantType::RefreshToken) {
        return Err(Failure::Protocol(err(
            OAuthError::UnauthorizedClient,
            "client may not use this grant",
        )));
    }
    let presented = request
        .refresh_token
        .ok_or_else(|| Failure::Protocol(err(OAuthError::InvalidRequest, "refresh_token is required")))?;
    let hash = SecretHash::of(&presented);
    let Some(token) = ctx.store.find_refresh_token(hash.as_str()).await? else {
        return Err(invalid_grant("the refresh token is invalid"));
    };
    let Some(family) = ctx.store.find_family(&token.family_id).await? else {
        return Err(invalid_grant("the refresh token is invalid"));
    };
    // Another client's token: a client bug, not a theft; the family lives on.
    if family.client_id != client.id {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    if family.revoked_at.is_some() {
        return Err(invalid_grant("the refresh token was revoked"));
    }
    if token.rotated_at.is_some() {
        return Err(reused(ctx, &token, &family).await?);
    }
    if token.expires_at <= ctx.now || family.expires_at <= ctx.now {
        return Err(invalid_grant("the refresh token has expired"));
    }
    let granted = ScopeSet::parse(&family.scope).map_err(|_| invalid_grant("the grant's scope is unreadable"))?;
    let scope = match request.scope.as_deref() {
        None => granted.clone(),
        Some(asked) => {
            let asked =
                ScopeSet::parse(asked).map_err(|e| Failure::Protocol(err(OAuthError::InvalidScope, e.to_string())))?;
            if !asked.is_subset_of(&granted) {
                return Err(Failure::Protocol(err(
                    OAuthError::InvalidScope,
                    "a refresh may narrow the scope, never widen it",
                )));
            }
            asked
        }
    };
    let user = match ctx.store.find_user_by_id(&family.user_id).await? {
        Some(user) if !user.disabled => user,
        _ => return Err(invalid_grant("the account is not active")),
    };

    // The compare-and-swap: of concurrent requests with this token, one rotates it.
    let next = OpaqueSecret::generate(prefix::REFRESH_TOKEN);
    let record = RefreshTokenRecord {
        token_hash: next.hash().as_str().to_owned(),
        family_id: family.id.clone(),
        created_at: ctx.now,
        // The idle lifetime slides with each rotation; the family's absolute end does not.
        expires_at: (ctx.now + ctx.settings.refresh_idle_ttl).min(family.expires_at),
        rotated_at: None,
        successor_hash: None,
    };
    if !ctx.store.rotate_refresh_token(hash.as_str(), &record, ctx.now).await? {
        let token = ctx.store.find_refresh_token(hash.as_str()).await?.unwrap_or(token);
        return Err(reused(ctx, &token, &family).await?);
    }

    let scope_text = scope.to_string();
    let openid = scope.contains("openid");
    let mut audience: Vec<String> = serde_json::from_str(&family.audience).unwrap_or_default();
    if openid {
        audience.push(ctx.userinfo_audience());
    }
    let (access_token, expires_in) = access_token::issue(
        ctx,
        &AccessGrant {
            sub: &user.id,
            client_id: &client.id,
            scope: &scope_text,
            audience,
            sid: Some(&family.sid),
            family_id: Some(&family.id),
            auth_time: Some(family.auth_time),
        },
    )?;
    let id_token = if openid {
        let requested: Option<Value> = family.claims.as_deref().and_then(|c| serde_json::from_str(c).ok());
        Some(id_token::issue(
            ctx,
            IdTokenClaims {
                client,
                sub: &user.id,
                auth_time: family.auth_time,
                nonce: None,
                sid: &family.sid,
                amr: &family.amr,
                access_token: &access_token,
                extra: userinfo::requested_claims(&user, requested.as_ref().and_then(|r| r.get("id_token"))),
            },
        )?)
    } else {
        None
    };
    ctx.record(
        SecurityEvent::new(ctx.now, kind::TOKEN_REFRESHED, Outcome::Success)
            .user(&user.id)
            .client(&client.id)
            .session(&family.sid),
    );
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        scope: scope_text,
        refresh_token: Some(next.expose().to_owned()),
        id_token,
    })
}
