//! Token introspection (RFC 7662). Access tokens are checked against the signature, their
//! claims and the in-memory revocation set: no database query, and the signature of a token
//! seen before is not checked again (`access_token_cache`), while revocation and the caller's
//! visibility are checked on every call. Refresh tokens are opaque and looked up in the store.
//! Anything not active is exactly `{"active": false}`.

use std::collections::HashMap;
use std::sync::RwLock;

use serde_json::{json, Map, Value};

use super::error::{err, OAuthError};
use super::{Context, Failure};
use crate::crypto::tokens::SecretHash;
use crate::domain::client::{Client, ClientType, Permission};
use crate::domain::UnixTime;

pub struct IntrospectRequest {
    pub token: Option<String>,
    pub token_type_hint: Option<String>,
}

fn inactive() -> Value {
    json!({ "active": false })
}

/// Usernames by user id, so introspecting an access token needs no query once the person is
/// known. Entries live five minutes; a renamed person shows the old name at most that long.
#[derive(Default)]
pub struct UsernameCache {
    names: RwLock<HashMap<String, (String, UnixTime)>>,
}

const USERNAME_TTL: i64 = 300;
const USERNAME_CAPACITY: usize = 100_000;

impl UsernameCache {
    async fn username(&self, ctx: &Context<'_>, user_id: &str) -> Result<Option<String>, Failure> {
        if let Some((name, at)) = self.names.read().unwrap_or_else(|p| p.into_inner()).get(user_id) {
            if ctx.now - at < USERNAME_TTL {
                return Ok(Some(name.clone()));
            }
        }
        let Some(user) = ctx.store.find_user_by_id(user_id).await? else {
            return Ok(None);
        };
        let mut names = self.names.write().unwrap_or_else(|p| p.into_inner());
        if names.len() >= USERNAME_CAPACITY {
            names.clear();
        }
        names.insert(user_id.to_owned(), (user.username.clone(), ctx.now));
        Ok(Some(user.username))
    }
}

/// The introspection answer for `caller`. Callers need the `introspect` permission and must
/// have authenticated (RFC 7662 §2.1): a public client, which names itself with its
/// `client_id` alone, is refused whatever its permissions say.
pub async fn introspect(
    ctx: &Context<'_>,
    usernames: &UsernameCache,
    caller: &Client,
    request: IntrospectRequest,
) -> Result<Value, Failure> {
    if caller.client_type != ClientType::Confidential {
        return Err(Failure::Protocol(err(
            OAuthError::InvalidClient,
            "introspection needs client authentication",
        )));
    }
    if !caller.has_permission(Permission::Introspect) {
        return Err(Failure::Protocol(err(
            OAuthError::UnauthorizedClient,
            "this client may not introspect tokens",
        )));
    }
    let token = request
        .token
        .ok_or_else(|| Failure::Protocol(err(OAuthError::InvalidRequest, "token is required")))?;
    // The hint only orders the search (RFC 7662 §2.1); the token's shape decides it here.
    let _ = request.token_type_hint;
    if token.split('.').count() == 3 {
        introspect_access_token(ctx, usernames, caller, &token).await
    } else {
        introspect_refresh_token(ctx, caller, &token).await
    }
}

async fn introspect_access_token(
    ctx: &Context<'_>,
    usernames: &UsernameCache,
    caller: &Client,
    token: &str,
) -> Result<Value, Failure> {
    let Ok(claims) = ctx.access_tokens.validate(ctx, token) else {
        return Ok(inactive());
    };
    if ctx.revocations.is_revoked(&claims) {
        return Ok(inactive());
    }
    if caller.introspection_restricted() && !claims.audience.iter().any(|a| caller.audiences.contains(a)) {
        return Ok(inactive());
    }
    let mut out = Map::new();
    out.insert("active".into(), json!(true));
    out.insert("iss".into(), json!(ctx.settings.issuer));
    out.insert("sub".into(), json!(claims.sub));
    out.insert("aud".into(), json!(claims.audience));
    out.insert("client_id".into(), json!(claims.client_id));
    out.insert("scope".into(), json!(claims.scope));
    out.insert("exp".into(), json!(claims.exp));
    out.insert("iat".into(), json!(claims.iat));
    out.insert("nbf".into(), json!(claims.nbf));
    out.insert("jti".into(), json!(claims.jti));
    out.insert("token_type".into(), json!("Bearer"));
    if let Some(sid) = &claims.sid {
        out.insert("sid".into(), json!(sid));
        // A person's token (client-credentials tokens carry no sid).
        if let Some(username) = usernames.username(ctx, &claims.sub).await? {
            out.insert("username".into(), json!(username));
        }
    }
    Ok(Value::Object(out))
}

async fn introspect_refresh_token(ctx: &Context<'_>, caller: &Client, token: &str) -> Result<Value, Failure> {
    let Some(record) = ctx.store.find_refresh_token(SecretHash::of(token).as_str()).await? else {
        return Ok(inactive());
    };
    let Some(family) = ctx.store.find_family(&record.family_id).await? else {
        return Ok(inactive());
    };
    let live = record.rotated_at.is_none()
        && record.expires_at > ctx.now
        && family.revoked_at.is_none()
        && family.expires_at > ctx.now
        && family.client_id == caller.id;
    if !live {
        return Ok(inactive());
    }
    let Some(user) = ctx
        .store
        .find_user_by_id(&family.user_id)
        .await?
        .filter(|u| !u.disabled)
    else {
        return Ok(inactive());
    };
    let audience: Vec<String> = serde_json::from_str(&family.audience).unwrap_or_default();
    Ok(json!({
        "active": true,
        "iss": ctx.settings.issuer,
        "sub": user.id,
        "aud": audience,
        "client_id": family.client_id,
        "scope": family.scope,
        "exp": record.expires_at,
        "iat": record.created_at,
        "token_type": "refresh_token",
        "sid": family.sid,
        "username": user.username,
    }))
}
