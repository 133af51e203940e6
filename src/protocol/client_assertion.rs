//! `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, RFC 7521 §4.2, OIDC Core §9):
//! the client signs a short-lived JWT about itself with a key of its registered JWK Set. The
//! rules here read nothing: the caller finds the client, its keys (inline, or fetched from its
//! `jwks_uri`) and spends the `jti`.
//!
//! Only asymmetric algorithms are taken, chosen from the header's `alg` by an allow-list, never
//! by the key: `none` and every HMAC algorithm are refused before any key is looked at, so a
//! public key can never serve as an HMAC secret.
//!
//! Every refusal is a short reason for the log; the client only ever sees `invalid_client`.

use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, JwsVerifier, ES256, RS256};
use josekit::jwt;
use serde_json::{Map, Value};

use crate::domain::SigningAlg;
use crate::domain::UnixTime;

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest assertion read (a signed JWT about a client is a few hundred bytes).
pub const MAX_ASSERTION_BYTES: usize = 8 * 1024;

/// The algorithms an assertion may be signed with (what discovery lists).
pub const ALGS: [SigningAlg; 3] = SigningAlg::ALL;

/// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY: i64 = 60;

/// How far ahead `exp` may be, in seconds: an assertion is for one request, not a credential
/// to keep (and its `jti` is remembered until it expires).
pub const MAX_LIFETIME: i64 = 600;

/// The longest `jti` kept.
const MAX_JTI_CHARS: usize = 256;

/// Why an assertion was refused, for the log.
pub type Refusal = &'static str;

/// The protected header's parts that choose the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionHeader {
    pub alg: SigningAlg,
    pub kid: Option<String>,
}

/// The header of `assertion`, with an `alg` of [`ALGS`] (exact names).
pub fn read_header(assertion: &str) -> Result<AssertionHeader, Refusal> {
    if assertion.len() > MAX_ASSERTION_BYTES {
        return Err("the assertion is too long");
    }
    let header = segment_json(assertion, 0).ok_or("the assertion is not a JWT")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or("the assertion's header has no alg")?;
    let alg = ALGS
        .into_iter()
        .find(|a| a.as_str() == alg)
        .ok_or("the assertion's alg is not RS256, ES256 or EdDSA")?;
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err("the assertion's kid is not a string"),
    };
    Ok(AssertionHeader { alg, kid })
}

/// The client an assertion claims to be from (`sub`, else `iss`), unverified: only to find
/// whose keys verify it.
pub fn claimed_client(assertion: &str) -> Option<String> {
    if assertion.len() > MAX_ASSERTION_BYTES {
        return None;
    }
    let claims = segment_json(assertion, 1)?;
    ["sub", "iss"]
        .iter()
        .find_map(|name| claims.get(*name).and_then(Value::as_str))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// The JSON object of a compact JWS's `index`-th part (0: header, 1: payload), unverified.
fn segment_json(assertion: &str, index: usize) -> Option<Map<String, Value>> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut parts = assertion.split('.');
    let part = parts.nth(index)?;
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The key of `jwks` (a JWK Set) that the header names: the key with its `kid`; or, when the
/// set holds a single key without `kid` (or the header has no `kid`), that key. `Ok(None)`
/// when the set has no such key (the caller may fetch the set again). A key that is found
/// but does not fit — another `alg`, a `use` other than `sig`, a type that is not the
/// algorithm's — is a refusal.
pub fn select_key(jwks: &Value, header: &AssertionHeader) -> Result<Option<Jwk>, Refusal> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the client's jwks is not a JWK Set")?;
    let kid_of = |key: &Value| key.get("kid").and_then(Value::as_str).map(str::to_owned);
    let found = match (&header.kid, keys.as_slice()) {
        (Some(kid), _) if keys.iter().any(|k| kid_of(k).as_ref() == Some(kid)) => {
            keys.iter().find(|k| kid_of(k).as_ref() == Some(kid))
        }
        (_, [only]) if kid_of(only).is_none() => Some(only),
        (None, [only]) => Some(only),
        _ => None,
    };
    let Some(key) = found else { return Ok(None) };
    let Value::Object(members) = key else {
        return Err("the client's key is not a JSON object");
    };
    if let Some(key_use) = members.get("use") {
        if key_use.as_str() != Some("sig") {
            return Err("the client's key is not for signatures (use)");
        }
    }
    if let Some(key_alg) = members.get("alg") {
        if key_alg.as_str() != Some(header.alg.as_str()) {
            return Err("the client's key is for another alg than the assertion's");
        }
    }
    let kty = members.get("kty").and_then(Value::as_str);
    let crv = members.get("crv").and_then(Value::as_str);
    let fits = match header.alg {
        SigningAlg::Rs256 => kty == Some("RSA"),
        SigningAlg::Es256 => kty == Some("EC") && crv == Some("P-256"),
        SigningAlg::EdDsa => kty == Some("OKP") && crv == Some("Ed25519"),
    };
    if !fits {
        return Err("the client's key is not of the assertion's alg's type");
    }
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|m| members.contains_key(*m))
    {
        return Err("the client's key set holds private key material");
    }
    Jwk::from_map(members.clone())
        .map(Some)
        .map_err(|_| "the client's key is not a valid JWK")
}

/// The claims of `assertion` if its signature verifies with `key` under the header's `alg`
/// (the verifier is chosen by the allow-listed `alg`, and checks the header names it).
pub fn verify_signature(assertion: &str, header: &AssertionHeader, key: &Jwk) -> Result<Map<String, Value>, Refusal> {
    let bad_key = |_| "the client's key cannot verify its alg";
    let verifier: Box<dyn JwsVerifier> = match header.alg {
        SigningAlg::Rs256 => Box::new(RS256.verifier_from_jwk(key).map_err(bad_key)?),
        SigningAlg::Es256 => Box::new(ES256.verifier_from_jwk(key).map_err(bad_key)?),
        SigningAlg::EdDsa => Box::new(EdDSA.verifier_from_jwk(key).map_err(bad_key)?),
    };
    let (payload, _) =
        jwt::decode_with_verifier(assertion, &*verifier).map_err(|_| "the assertion's signature does not verify")?;
    Ok(payload.claims_set().clone())
}

/// An accepted assertion's `jti`, to be spent until `keep_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub jti: String,
    pub keep_until: UnixTime,
}

/// RFC 7523 §3 on verified claims: `iss` and `sub` are the client; `aud` (a string or an
/// array) holds one of `audiences` (the issuer, the URL of the endpoint called); `exp` is
/// required, not past and at most [`MAX_LIFETIME`] ahead (each with [`LEEWAY`] for the
/// client's clock); `nbf` and `iat`, when present, are not in the future; `jti` is required.
pub fn check_claims(
    claims: &Map<String, Value>,
    client_id: &str,
    audiences: &[String],
    now: UnixTime,
) -> Result<Accepted, Refusal> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(client_id) {
        return Err("the assertion's iss is not the client");
    }
    if text("sub") != Some(client_id) {
        return Err("the assertion's sub is not the client");
    }
    let for_us = |aud: &Value| aud.as_str().is_some_and(|aud| audiences.iter().any(|a| a == aud));
    let aud_ok = match claims.get("aud") {
        Some(Value::Array(auds)) => auds.iter().any(for_us),
        Some(aud) => for_us(aud),
        None => false,
    };
    if !aud_ok {
        return Err("the assertion's aud is not this server");
    }
    let time = |name: &str| -> Result<Option<i64>, Refusal> {
        match claims.get(name) {
            None => Ok(None),
            Some(value) => numeric_date(value).map(Some).ok_or("a time claim is not a number"),
        }
    };
    let exp = time("exp")?.ok_or("the assertion has no exp")?;
    if exp.saturating_add(LEEWAY) <= now {
        return Err("the assertion has expired");
    }
    if exp > now.saturating_add(MAX_LIFETIME + LEEWAY) {
        return Err("the assertion's exp is too far ahead");
    }
    if time("nbf")?.is_some_and(|nbf| nbf > now.saturating_add(LEEWAY)) {
        return Err("the assertion is not valid yet (nbf)");
    }
    if time("iat")?.is_some_and(|iat| iat > now.saturating_add(LEEWAY)) {
        return Err("the assertion was issued in the future (iat)");
    }
    let jti = text("jti")
        .filter(|jti| !jti.is_empty())
        .ok_or("the assertion has no jti")?;
    if jti.chars().count() > MAX_JTI_CHARS {
        return Err("the assertion's jti is too long");
    }
    Ok(Accepted {
        jti: jti.to_owned(),
        keep_until: exp.saturating_add(LEEWAY),
    })
}

/// A JWT NumericDate (RFC 7519 §2): seconds, possibly with a fraction (dropped).
fn numeric_date(value: &Value) -> Option<i64> {
    if let Some(seconds) = value.as_i64() {
        return Some(seconds);
    }
    let seconds = value.as_f64()?.floor();
    // Within i64 for any date a client could mean; the check keeps the cast exact.
    (seconds.is_finite() && seconds.abs() < 1e15).then(|| {
        #[allow(clippy::cast_possible_truncation)]
        let whole = seconds as i64;
        whole
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jwk::alg::ec::EcCurve;
    use josekit::jws::{JwsHeader, HS256};
    use josekit::jwt::JwtPayload;
    use serde_json::json;

    const NOW: UnixTime = 1_700_000_000;
    const ISSUER: &str = "https://id.example";
    const TOKEN_URL: &str = "https://id.example/token";

    fn audiences() -> Vec<String> {
        vec![ISSUER.to_owned(), TOKEN_URL.to_owned()]
    }

    fn claims(overrides: Value) -> Map<String, Value> {
        let mut base = json!({
            "iss": "c1", "sub": "c1", "aud": TOKEN_URL,
            "exp": NOW + 120, "iat": NOW, "jti": "j1",
        });
        for (k, v) in overrides.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base.as_object().unwrap().clone()
    }

    fn check(overrides: Value) -> Result<Accepted, Refusal> {
        check_claims(&claims(overrides), "c1", &audiences(), NOW)
    }

    #[test]
    fn valid_claims_are_accepted_and_the_jti_kept_past_exp_by_the_leeway() {
        assert_eq!(
            check(json!({})),
            Ok(Accepted {
                jti: "j1".into(),
                keep_until: NOW + 120 + LEEWAY
            })
        );
    }

    #[test]
    fn iss_and_sub_must_both_be_the_client() {
        assert!(check(json!({"iss": "c2"})).is_err());
        assert!(check(json!({"sub": "c2"})).is_err());
        assert!(check(json!({"iss": null})).is_err());
        assert!(check(json!({"sub": null})).is_err());
        assert!(check(json!({"iss": "c1", "sub": "c1"})).is_ok());
    }

    #[test]
    fn aud_must_name_the_issuer_or_the_endpoint_as_a_string_or_in_an_array() {
        assert!(check(json!({"aud": ISSUER})).is_ok());
        assert!(check(json!({"aud": TOKEN_URL})).is_ok());
        assert!(check(json!({"aud": ["https://other.example", ISSUER]})).is_ok());
        assert!(check(json!({"aud": "https://other.example"})).is_err());
        assert!(check(json!({"aud": ["https://other.example"]})).is_err());
        assert!(check(json!({"aud": "https://id.example/introspect"})).is_err());
        assert!(check(json!({"aud": "https://id.example/"})).is_err());
        assert!(check(json!({"aud": []})).is_err());
        assert!(check(json!({"aud": null})).is_err());
    }

    #[test]
    fn exp_is_required_not_past_beyond_the_leeway_and_not_too_far_ahead() {
        assert!(check(json!({"exp": null})).is_err());
        assert!(check(json!({"exp": "soon"})).is_err());
        assert!(check(json!({"exp": NOW - LEEWAY + 1})).is_ok());
        assert!(check(json!({"exp": NOW - LEEWAY})).is_err());
        assert!(check(json!({"exp": NOW + MAX_LIFETIME + LEEWAY})).is_ok());
        assert!(check(json!({"exp": NOW + MAX_LIFETIME + LEEWAY + 1})).is_err());
        assert!(check(json!({"exp": (NOW + 100) as f64 + 0.5})).is_ok());
    }

    #[test]
    fn nbf_and_iat_in_the_future_are_refused_beyond_the_leeway() {
        assert!(check(json!({"nbf": NOW + LEEWAY})).is_ok());
        assert!(check(json!({"nbf": NOW + LEEWAY + 1})).is_err());
        assert!(check(json!({"iat": NOW + LEEWAY})).is_ok());
        assert!(check(json!({"iat": NOW + LEEWAY + 1})).is_err());
        assert!(check(json!({"iat": null, "nbf": null})).is_ok());
        assert!(check(json!({"nbf": "now"})).is_err());
    }

    #[test]
    fn jti_is_required_and_bounded() {
        assert!(check(json!({"jti": null})).is_err());
        assert!(check(json!({"jti": ""})).is_err());
        assert!(check(json!({"jti": 5})).is_err());
        assert!(check(json!({"jti": "x".repeat(MAX_JTI_CHARS)})).is_ok());
        assert!(check(json!({"jti": "x".repeat(MAX_JTI_CHARS + 1)})).is_err());
    }

    fn unsigned(header: Value, payload: Value) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        )
    }

    #[test]
    fn only_rs256_es256_and_eddsa_headers_are_read() {
        for alg in ["RS256", "ES256", "EdDSA"] {
            let header = read_header(&unsigned(json!({"alg": alg, "kid": "k"}), json!({}))).unwrap();
            assert_eq!(header.alg.as_str(), alg);
            assert_eq!(header.kid.as_deref(), Some("k"));
        }
        for alg in [
            "none", "HS256", "HS384", "HS512", "PS256", "RS512", "ES384", "rs256", "",
        ] {
            assert!(read_header(&unsigned(json!({"alg": alg}), json!({}))).is_err(), "{alg}");
        }
        assert!(read_header(&unsigned(json!({}), json!({}))).is_err());
        assert!(read_header(&unsigned(json!({"alg": "RS256", "kid": 1}), json!({}))).is_err());
        assert!(read_header("not a jwt").is_err());
        let long = unsigned(
            json!({"alg": "RS256", "pad": "x".repeat(MAX_ASSERTION_BYTES)}),
            json!({}),
        );
        assert!(read_header(&long).is_err());
    }

    #[test]
    fn the_claimed_client_is_sub_then_iss() {
        let h = json!({"alg": "RS256"});
        assert_eq!(
            claimed_client(&unsigned(h.clone(), json!({"sub": "a", "iss": "b"}))).as_deref(),
            Some("a")
        );
        assert_eq!(
            claimed_client(&unsigned(h.clone(), json!({"iss": "b"}))).as_deref(),
            Some("b")
        );
        assert_eq!(claimed_client(&unsigned(h, json!({"aud": "x"}))), None);
        assert_eq!(claimed_client("garbage"), None);
    }

    fn ec_key(kid: Option<&str>) -> (josekit::jwk::alg::ec::EcKeyPair, Value) {
        let pair = josekit::jwk::alg::ec::EcKeyPair::generate(EcCurve::P256).unwrap();
        let mut public = pair.to_jwk_public_key();
        if let Some(kid) = kid {
            public.set_key_id(kid);
        }
        let public = serde_json::to_value(public.as_ref()).unwrap();
        (pair, public)
    }

    fn es256(kid: Option<&str>) -> AssertionHeader {
        AssertionHeader {
            alg: SigningAlg::Es256,
            kid: kid.map(str::to_owned),
        }
    }

    #[test]
    fn the_key_is_chosen_by_kid_or_as_the_only_key_without_one() {
        let (_, a) = ec_key(Some("a"));
        let (_, b) = ec_key(Some("b"));
        let (_, bare) = ec_key(None);
        let set = json!({"keys": [a.clone(), b.clone()]});
        let kid = |jwk: Option<Jwk>| jwk.and_then(|k| k.key_id().map(str::to_owned));
        assert_eq!(kid(select_key(&set, &es256(Some("b"))).unwrap()).as_deref(), Some("b"));
        assert!(select_key(&set, &es256(Some("c"))).unwrap().is_none(), "unknown kid");
        assert!(select_key(&set, &es256(None)).unwrap().is_none(), "ambiguous");
        let one = json!({"keys": [bare]});
        assert!(select_key(&one, &es256(None)).unwrap().is_some());
        assert!(
            select_key(&one, &es256(Some("x"))).unwrap().is_some(),
            "a set of one without kid"
        );
        let one_named = json!({"keys": [a]});
        assert!(select_key(&one_named, &es256(None)).unwrap().is_some());
        assert!(select_key(&one_named, &es256(Some("x"))).unwrap().is_none());
        assert!(select_key(&json!({"nokeys": []}), &es256(None)).is_err());
    }

    #[test]
    fn a_key_for_another_use_alg_or_type_is_refused() {
        let (_, key) = ec_key(Some("k"));
        let with = |member: &str, value: Value| {
            let mut key = key.clone();
            key[member] = value;
            json!({"keys": [key]})
        };
        assert!(select_key(&with("use", json!("sig")), &es256(Some("k")))
            .unwrap()
            .is_some());
        assert!(select_key(&with("use", json!("enc")), &es256(Some("k"))).is_err());
        assert!(select_key(&with("alg", json!("ES256")), &es256(Some("k")))
            .unwrap()
            .is_some());
        assert!(select_key(&with("alg", json!("RS256")), &es256(Some("k"))).is_err());
        let rs256 = AssertionHeader {
            alg: SigningAlg::Rs256,
            kid: Some("k".into()),
        };
        assert!(
            select_key(&json!({"keys": [key.clone()]}), &rs256).is_err(),
            "EC key, RS256 header"
        );
        let oct = json!({"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]});
        assert!(select_key(&oct, &es256(Some("k"))).is_err());
    }

    #[test]
    fn a_signature_verifies_only_with_the_clients_key_and_an_hmac_over_it_never() {
        let (pair, public) = ec_key(Some("k"));
        let mut header = JwsHeader::new();
        header.set_key_id("k");
        let mut payload = JwtPayload::new();
        payload.set_claim("jti", Some(json!("j1"))).unwrap();
        let signer = ES256.signer_from_jwk(&pair.to_jwk_private_key()).unwrap();
        let token = jwt::encode_with_signer(&payload, &header, &signer).unwrap();
        let jwk = select_key(&json!({"keys": [public.clone()]}), &es256(Some("k")))
            .unwrap()
            .unwrap();
        let parsed = read_header(&token).unwrap();
        assert_eq!(verify_signature(&token, &parsed, &jwk).unwrap()["jti"], "j1");
        // Another key of the same type does not verify it.
        let (_, other) = ec_key(Some("k"));
        let other = select_key(&json!({"keys": [other]}), &es256(Some("k")))
            .unwrap()
            .unwrap();
        assert!(verify_signature(&token, &parsed, &other).is_err());
        // HS256 with the public key's bytes as the secret is refused at the header.
        let hmac = HS256.signer_from_bytes(public.to_string().as_bytes()).unwrap();
        let forged = jwt::encode_with_signer(&payload, &header, &hmac).unwrap();
        assert!(read_header(&forged).is_err());
        // And a header claiming ES256 over an HMAC signature does not verify.
        let mut lying = forged.split('.').map(str::to_owned).collect::<Vec<_>>();
        lying[0] = token.split('.').next().unwrap().to_owned();
        assert!(verify_signature(&lying.join("."), &parsed, &jwk).is_err());
    }
}
