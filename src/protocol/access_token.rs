//! JWT access tokens (RFC 9068): what they carry, which algorithm signs them (per audience) and
//! how one is checked.

use serde_json::{json, Map, Value};

use super::error::{err, OAuthError, ProtocolError};
use super::resource::ADMIN_AUDIENCE;
use super::{Context, Failure};
use crate::crypto::keys::{KeySet, SigningAlg};
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

/// The algorithm that signs an access token for `audience`. A resource server takes the one the
/// registry names for it, or the `access_token_alg` default when it is not registered.
/// Keyhaven's own audiences (userinfo, the admin API) take the default when they are alone, and
/// have no say beside a resource server: Keyhaven checks them itself and accepts every algorithm
/// it publishes. Resource servers that take different algorithms cannot share a token: refused
/// with `invalid_target`, rather than signing a token with an algorithm one of them was not
/// registered for.
pub fn signing_alg(ctx: &Context<'_>, keys: &KeySet, audience: &[Audience]) -> Result<SigningAlg, ProtocolError> {
    let userinfo = ctx.userinfo_audience();
    choose_alg(
        audience,
        |aud| *aud == userinfo || aud == ADMIN_AUDIENCE,
        |aud| keys.registered_alg(aud),
        ctx.settings.access_token_alg,
    )
}

/// [`signing_alg`]'s rule, given which audiences are Keyhaven's own, the registry and the
/// default.
fn choose_alg(
    audience: &[Audience],
    own: impl Fn(&Audience) -> bool,
    registered: impl Fn(&str) -> Option<SigningAlg>,
    default: SigningAlg,
) -> Result<SigningAlg, ProtocolError> {
    let mut chosen: Option<(&Audience, SigningAlg)> = None;
    for aud in audience.iter().filter(|aud| !own(aud)) {
        let alg = registered(aud).unwrap_or(default);
        match chosen {
            None => chosen = Some((aud, alg)),
            Some((first, taken)) if taken != alg => {
                return Err(err(
                    OAuthError::InvalidTarget,
                    format!(
                        "the resources take different access-token algorithms; ask for each in a token of its \
                         own ({first}: {taken}, {aud}: {alg})"
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(chosen.map_or(default, |(_, alg)| alg))
}

/// Signs an access token with its audience's algorithm ([`signing_alg`]); returns it with its
/// lifetime in seconds.
pub fn issue(ctx: &Context<'_>, grant: &AccessGrant<'_>) -> Result<(String, i64), Failure> {
    let keys = ctx.keys.current();
    let alg = signing_alg(ctx, &keys, &grant.audience)?;
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
    let token = keys.sign_jwt(alg, TYP, claims)?;
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

/// Checks signature (the published key its `kid` names, of any algorithm we sign with; the key
/// decides the algorithm, the header must agree), `typ`, `iss`, `exp`, `nbf` and the presence of
/// every claim the profile requires. Audience and revocation are the caller's.
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

#[cfg(test)]
mod tests {
    use super::*;

    const USERINFO: &str = "https://id.example/userinfo";

    fn choose(audience: &[&str], default: SigningAlg) -> Result<SigningAlg, ProtocolError> {
        let audience: Vec<Audience> = audience.iter().map(|a| Audience::from(*a)).collect();
        choose_alg(
            &audience,
            |aud| aud == USERINFO || aud == ADMIN_AUDIENCE,
            |aud| match aud {
                "https://es.example" | "https://es2.example" => Some(SigningAlg::Es256),
                "https://ed.example" => Some(SigningAlg::EdDsa),
                "https://rs.example" => Some(SigningAlg::Rs256),
                _ => None,
            },
            default,
        )
    }

    #[test]
    fn a_registered_audience_takes_its_algorithm_and_any_other_the_default() {
        use SigningAlg::*;
        for (audience, default, expected) in [
            (&["https://es.example"][..], Rs256, Es256),
            (&["https://ed.example"], Rs256, EdDsa),
            (&["https://rs.example"], EdDsa, Rs256),
            (&["https://unregistered.example"], Rs256, Rs256),
            (&["https://unregistered.example"], EdDsa, EdDsa),
            (&["https://es.example", "https://es2.example"], Rs256, Es256),
            // Keyhaven's own audiences: the default alone, no say beside a resource server.
            (&[USERINFO], Es256, Es256),
            (&[ADMIN_AUDIENCE], Rs256, Rs256),
            (&["https://ed.example", USERINFO], Rs256, EdDsa),
            (&[USERINFO, "https://es.example"], Rs256, Es256),
            (&[], Rs256, Rs256),
        ] {
            assert_eq!(choose(audience, default), Ok(expected), "{audience:?}");
        }
    }

    #[test]
    fn resource_servers_of_different_algorithms_cannot_share_a_token() {
        for audience in [
            &["https://es.example", "https://ed.example"][..],
            &["https://es.example", "https://unregistered.example"],
            &["https://unregistered.example", USERINFO, "https://ed.example"],
        ] {
            let refused = choose(audience, SigningAlg::Rs256).unwrap_err();
            assert_eq!(refused.error, OAuthError::InvalidTarget, "{audience:?}");
            assert!(
                refused.description.contains("different access-token algorithms"),
                "{}",
                refused.description
            );
        }
        // The same unregistered audience agrees with an ES256 one when the default is ES256.
        assert_eq!(
            choose(
                &["https://es.example", "https://unregistered.example"],
                SigningAlg::Es256
            ),
            Ok(SigningAlg::Es256)
        );
    }
}
