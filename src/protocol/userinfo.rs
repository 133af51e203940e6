//! The UserInfo endpoint (OIDC Core §5.3): the claims of the granted scopes (§5.4) and those the
//! `claims` request parameter asked for (§5.5).

use serde_json::{json, Map, Value};

use super::access_token::AccessClaims;
use super::Context;
use crate::domain::user::{is_standard_claim, scope_claims, User};

/// The endpoint's path. Its URL (the issuer and this path) is the audience an access token
/// must carry to be accepted here, so the rule owns it; the router mounts it from here.
pub const PATH: &str = "/userinfo";

/// One standard claim of a person, if they have it.
fn claim(user: &User, name: &str) -> Option<Value> {
    match name {
        "email" => Some(json!(user.email)),
        "email_verified" => Some(json!(user.email_verified)),
        "updated_at" => Some(json!(user.updated_at)),
        "preferred_username" => Some(json!(user.claims.get(name).unwrap_or(&user.username))),
        "address" => user.claims.get("address").map(|a| json!({ "formatted": a })),
        "phone_number_verified" => user.claims.get("phone_number").map(|_| json!(false)),
        other => user.claims.get(other).map(|v| json!(v)),
    }
}

/// The claims a `claims` request member (`userinfo` or `id_token`) names, where the person has
/// them. `sub` and the protocol claims are never taken from here.
pub fn requested_claims(user: &User, member: Option<&Value>) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(Value::Object(requested)) = member {
        for name in requested.keys() {
            if let (true, Some(value)) = (is_standard_claim(name), claim(user, name)) {
                out.insert(name.clone(), value);
            }
        }
    }
    out
}

/// Why userinfo refuses a token: RFC 6750 `invalid_token` in every case.
#[derive(Debug)]
pub enum Refusal {
    InvalidToken(&'static str),
    Internal(anyhow::Error),
}

/// Checks the token (signature, claims, audience, revocation) and returns the person's claims.
pub async fn userinfo(ctx: &Context<'_>, token: &str) -> Result<Map<String, Value>, Refusal> {
    let claims: AccessClaims = ctx.access_tokens.validate(ctx, token).map_err(Refusal::InvalidToken)?;
    if !claims.audience.contains(&ctx.userinfo_audience()) || !claims.has_scope("openid") {
        return Err(Refusal::InvalidToken("not a token for userinfo"));
    }
    if ctx.revocations.is_revoked(&claims) {
        return Err(Refusal::InvalidToken("revoked"));
    }
    let internal = |e: crate::storage::StoreError| Refusal::Internal(anyhow::Error::new(e));
    // The claims request of the grant, if any (only tokens of a person's grant have one).
    let family = match &claims.family_id {
        Some(id) => ctx.store.find_family(id).await.map_err(internal)?,
        None => None,
    };
    let user = match ctx.store.find_user_by_id(&claims.sub).await.map_err(internal)? {
        Some(user) if !user.disabled => user,
        _ => return Err(Refusal::InvalidToken("no such active user")),
    };
    let mut out = Map::new();
    for scope in claims.scope.split(' ') {
        for name in scope_claims(scope) {
            if let Some(value) = claim(&user, name) {
                out.insert((*name).to_owned(), value);
            }
        }
    }
    let requested: Option<Value> = family
        .and_then(|f| f.claims)
        .and_then(|c| serde_json::from_str(&c).ok());
    out.extend(requested_claims(
        &user,
        requested.as_ref().and_then(|r| r.get("userinfo")),
    ));
    out.insert("sub".into(), json!(user.id));
    Ok(out)
}
