//! Token revocation (RFC 7009). A token that does not exist, is already dead or belongs to
//! another client gets the same 200 and changes nothing.

use super::error::{err, OAuthError};
use super::{revocation, Context, Failure};
use crate::crypto::tokens::SecretHash;
use crate::domain::client::Client;
use crate::domain::event::{kind, Outcome, SecurityEvent};

pub struct RevokeRequest {
    pub token: Option<String>,
    pub token_type_hint: Option<String>,
}

pub async fn revoke(ctx: &Context<'_>, caller: &Client, request: RevokeRequest) -> Result<(), Failure> {
    let token = request
        .token
        .ok_or_else(|| Failure::Protocol(err(OAuthError::InvalidRequest, "token is required")))?;
    match request.token_type_hint.as_deref() {
        None | Some("access_token") | Some("refresh_token") => {}
        Some(_) => {
            return Err(Failure::Protocol(err(
                OAuthError::UnsupportedTokenType,
                "token_type_hint must be access_token or refresh_token",
            )))
        }
    }
    if token.split('.').count() == 3 {
        if let Ok(claims) = ctx.access_tokens.validate(ctx, &token) {
            if claims.client_id == caller.id {
                revocation::revoke_access_token(ctx, &claims.jti, claims.exp).await?;
                ctx.record(
                    SecurityEvent::new(ctx.now, kind::TOKEN_REVOKED, Outcome::Success)
                        .client(&caller.id)
                        .user(&claims.sub)
                        .detail("access token"),
                );
            }
        }
        return Ok(());
    }
    let Some(record) = ctx.store.find_refresh_token(SecretHash::of(&token).as_str()).await? else {
        return Ok(());
    };
    let Some(family) = ctx.store.find_family(&record.family_id).await? else {
        return Ok(());
    };
    if family.client_id == caller.id && family.revoked_at.is_none() {
        revocation::revoke_family(ctx, &family.id, "revoked_by_client").await?;
        ctx.record(
            SecurityEvent::new(ctx.now, kind::TOKEN_REVOKED, Outcome::Success)
                .client(&caller.id)
                .user(&family.user_id)
                .session(&family.sid)
                .detail("refresh token family"),
        );
    }
    Ok(())
}
