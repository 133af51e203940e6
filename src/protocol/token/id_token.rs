//! ID tokens (OIDC Core §2, §3.1.3.6).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::crypto::keys::KeyError;
use crate::domain::client::Client;
use crate::domain::UnixTime;
use crate::protocol::Context;

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
    ctx.keys.sign_jwt(c.client.id_token_alg, "JWT", claims)
}
