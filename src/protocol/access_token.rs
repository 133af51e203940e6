//! JWT access tokens (RFC 9068): what they carry, how they are signed and how one is checked.

use serde_json::{json, Map, Value};

use super::Context;
use crate::crypto::keys::{KeyError, SigningAlg};
use crate::crypto::tokens::random_base64url;
use crate::domain::{Audience, ClientId, FamilyId, SessionId, UnixTime};

pub const TYP: &str = "at+jwt";

/// Who and what an access token is for.
#[derive(Debug, Clone)]
pub struct AccessGrant<'a> {
    pub sub: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub audience: Vec<Audience>,
    /// Browser session and grant family of a person's token; None for client credentials.
    pub sid: Option<&'a str>,
    pub family_id: Option<&'a str>,
    pub auth_time: Option<UnixTime>,
}

fn audience_value(audience: &[Audience]) -> Value {
    match audience {
        [one] => json!(one),
        many => json!(many),
    }
}

/// Signs an access token; returns it with its lifetime in seconds.
pub fn issue(ctx: &Context<'_>, grant: &AccessGrant<'_>) -> Result<(String, i64), KeyError> {
    let ttl = ctx.settings.access_token_ttl;
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(ctx.settings.issuer));
    claims.insert("sub".into(), json!(grant.sub));
    claims.insert("aud".into(), audience_value(&grant.audience));
    claims.insert("client_id".into(), json!(grant.client_id));
    claims.insert("scope".into(), json!(grant.scope));
    claims.insert("iat".into(), json!(ctx.now));
    claims.insert("nbf".into(), json!(ctx.now));
    claims.insert("exp".into(), json!(ctx.now + ttl));
    claims.insert("jti".into(), json!(random_base64url(16)));
    if let Some(sid) = grant.sid {
        claims.insert("sid".into(), json!(sid));
    }
    if let Some(fid) = grant.family_id {
        claims.insert("fid".into(), json!(fid));
    }
    if let Some(auth_time) = grant.auth_time {
        claims.insert("auth_time".into(), json!(auth_time));
    }
    let token = ctx.keys.sign_jwt(SigningAlg::Rs256, TYP, claims)?;
    Ok((token, ttl))
}

/// The claims of an access token that passed every check.
#[derive(Debug, Clone)]
pub struct AccessClaims {
    pub sub: String,
    pub client_id: ClientId,
    pub scope: String,
    pub audience: Vec<Audience>,
    pub sid: Option<SessionId>,
    pub family_id: Option<FamilyId>,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub auth_time: Option<i64>,
}

impl AccessClaims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

/// Checks signature (a published key of the header's alg), `typ`, `iss`, `exp`, `nbf` and the
/// presence of every claim the profile requires. Audience and revocation are the caller's.
pub fn validate(ctx: &Context<'_>, token: &str) -> Result<AccessClaims, &'static str> {
    let verified = ctx.keys.verify_jwt(token).map_err(|_| "bad signature or unknown key")?;
    if verified.typ.as_deref() != Some(TYP) && verified.typ.as_deref() != Some("application/at+jwt") {
        return Err("not an access token");
    }
    let c = &verified.claims;
    let text = |name: &str| c.get(name).and_then(Value::as_str).map(str::to_owned);
    let number = |name: &str| c.get(name).and_then(Value::as_i64);
    if text("iss").as_deref() != Some(ctx.settings.issuer.as_str()) {
        return Err("another issuer");
    }
    let exp = number("exp").ok_or("no exp")?;
    let nbf = number("nbf").ok_or("no nbf")?;
    let iat = number("iat").ok_or("no iat")?;
    if exp <= ctx.now {
        return Err("expired");
    }
    if nbf > ctx.now {
        return Err("not yet valid");
    }
    let audience = match c.get("aud") {
        Some(Value::String(one)) => vec![Audience::from(one.as_str())],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(Audience::from).collect(),
        _ => return Err("no aud"),
    };
    Ok(AccessClaims {
        sub: text("sub").ok_or("no sub")?,
        client_id: ClientId::new(text("client_id").ok_or("no client_id")?),
        scope: text("scope").unwrap_or_default(),
        audience,
        sid: text("sid").map(SessionId::new),
        family_id: text("fid").map(FamilyId::new),
        jti: text("jti").ok_or("no jti")?,
        iat,
        nbf,
        exp,
        auth_time: number("auth_time"),
    })
}
