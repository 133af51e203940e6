//! ID tokens (OIDC Core §2, §3.1.3.6): issued here, and checked here when one comes back as an
//! `id_token_hint` (at `/authorize` and at `/logout`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::crypto::keys::{KeyError, KeyManager};
use crate::domain::client::Client;
use crate::domain::UnixTime;
use crate::protocol::Context;

/// The `typ` our ID tokens carry.
const TYP: &str = "JWT";

pub struct IdTokenClaims<'a> {
    pub client: &'a Client,
    pub sub: &'a str,
    pub auth_time: UnixTime,
    pub nonce: Option<&'a str>,
    pub sid: &'a str,
    pub amr: &'a [String],
    /// The access token issued beside it, for `at_hash`.
    pub access_token: &'a str,
    /// Claims the `claims` request asked to have in the ID token.
    pub extra: Map<String, Value>,
}

/// `at_hash`: the left half of the SHA-256 of the access token, base64url (RS256 and ES256
/// both hash with SHA-256).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default())
}

pub fn issue(ctx: &Context<'_>, c: IdTokenClaims<'_>) -> Result<String, KeyError> {
    let mut claims = c.extra;
    claims.insert("iss".into(), json!(ctx.settings.issuer));
    claims.insert("sub".into(), json!(c.sub));
    claims.insert("aud".into(), json!(c.client.id));
    claims.insert("azp".into(), json!(c.client.id));
    claims.insert("iat".into(), json!(ctx.now));
    claims.insert("exp".into(), json!(ctx.now + ctx.settings.id_token_ttl));
    claims.insert("auth_time".into(), json!(c.auth_time));
    claims.insert("sid".into(), json!(c.sid));
    claims.insert("amr".into(), json!(c.amr));
    claims.insert("at_hash".into(), json!(at_hash(c.access_token)));
    if let Some(nonce) = c.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    ctx.keys.sign_jwt(c.client.id_token_alg, TYP, claims)
}

/// Checks an `id_token_hint` (OIDC Core §3.1.2.1, RP-Initiated Logout §2) and returns its
/// claims: our signature (retired keys too), our issuer, an ID token rather than an access
/// token (RFC 9068 §2.1 `typ: at+jwt`: a resource server holding a person's access token must not be
/// able to sign them out or name them), a `sub`, and, when the request names a client, that
/// client in `aud`. Expiry is not checked: a hint names a person, it grants nothing.
pub fn verify_hint(
    keys: &KeyManager,
    issuer: &str,
    hint: &str,
    client_id: Option<&str>,
) -> Result<Map<String, Value>, &'static str> {
    let verified = keys.verify_jwt(hint).map_err(|_| "signature does not verify")?;
    // Ours say `JWT`; access tokens say `at+jwt`. Anything else is not an ID token of ours.
    if !verified.typ.as_deref().is_none_or(|typ| typ.eq_ignore_ascii_case(TYP)) {
        return Err("not an ID token");
    }
    let claims = verified.claims;
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err("issued by another issuer");
    }
    if let Some(client_id) = client_id {
        let for_client = match claims.get("aud") {
            Some(Value::String(aud)) => aud == client_id,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(client_id)),
            _ => false,
        };
        if !for_client {
            return Err("not issued to this client");
        }
    }
    if claims.get("sub").and_then(Value::as_str).is_none() {
        return Err("has no sub");
    }
    Ok(claims)
}
