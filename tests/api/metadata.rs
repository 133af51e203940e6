//! Discovery, JWKS, health and readiness.

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app, spawn_second_instance, Backend, TestApp};

/// RFC 7638 thumbprint, computed here independently of the server's code.
pub fn thumbprint(jwk: &Value) -> String {
    let members: &[&str] = match jwk["kty"].as_str() {
        Some("RSA") => &["e", "kty", "n"],
        Some("EC") => &["crv", "kty", "x", "y"],
        other => panic!("unexpected kty {other:?}"),
    };
    let parts: Vec<String> = members
        .iter()
        .map(|m| format!("\"{m}\":\"{}\"", jwk[m].as_str().expect("string member")))
        .collect();
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{{{}}}", parts.join(",")).as_bytes()))
}

#[tokio::test]
async fn discovery_names_the_issuer_and_every_advertised_endpoint_answers() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let doc = app.get_json(path).await;
        assert_eq!(doc["issuer"], json!(app.address), "{path}");
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(doc["response_types_supported"], json!(["code"]));
        assert_eq!(
            doc["grant_types_supported"],
            json!([
                "authorization_code",
                "refresh_token",
                "client_credentials",
                "urn:ietf:params:oauth:grant-type:device_code"
            ])
        );
        assert_eq!(doc["request_parameter_supported"], json!(false));
        assert_eq!(doc["request_uri_parameter_supported"], json!(false));
        assert_eq!(doc["authorization_response_iss_parameter_supported"], json!(true));
        assert!(doc["scopes_supported"]
            .as_array()
            .expect("scopes")
            .contains(&json!("openid")));
        let algs = doc["id_token_signing_alg_values_supported"].as_array().expect("algs");
        assert!(algs.contains(&json!("RS256")) && algs.contains(&json!("ES256")));
        let endpoints: Vec<(&String, &Value)> = doc
            .as_object()
            .expect("object")
            .iter()
            .filter(|(k, _)| k.ends_with("_endpoint") || k.ends_with("_uri"))
            .collect();
        assert!(!endpoints.is_empty());
        for (name, url) in endpoints {
            let url = url.as_str().expect("endpoint URL");
            assert!(url.starts_with(&app.address), "{name} = {url} is not under the issuer");
            // Each endpoint exists: a bare GET gets its own answer (a 400 page for
            // /authorize, 401 for /userinfo, 405 for /token), never 404 or a server error.
            let status = app.http.get(url).send().await.expect("request").status();
            let expected: &[u16] = match name.as_str() {
                "authorization_endpoint" => &[400],
                "userinfo_endpoint" => &[401],
                "token_endpoint"
                | "introspection_endpoint"
                | "revocation_endpoint"
                | "device_authorization_endpoint" => &[405],
                "end_session_endpoint" => &[200],
                _ => &[200],
            };
            assert!(expected.contains(&status.as_u16()), "{name} ({url}) answered {status}");
        }
    }
}

#[tokio::test]
async fn jwks_publishes_public_rs256_and_es256_keys_with_thumbprint_kids() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app.get("/jwks").await;
    assert_eq!(response.status(), 200);
    let cache = response.headers()["cache-control"].to_str().expect("ascii").to_owned();
    let max_age: i64 = cache
        .split("max-age=")
        .nth(1)
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse().ok())
        .expect("max-age");
    assert!(
        max_age > 0 && max_age < 24 * 3600,
        "max-age {max_age} must be shorter than the 24 h lead"
    );
    let jwks: Value = response.json().await.expect("JSON");
    let keys = jwks["keys"].as_array().expect("keys");
    let mut kids = HashSet::new();
    let mut algs = HashSet::new();
    for key in keys {
        let key: &Map<String, Value> = key.as_object().expect("object");
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(!key.contains_key(private), "JWKS leaks private member {private}");
        }
        assert_eq!(key["use"], "sig");
        let kid = key["kid"].as_str().expect("kid");
        assert_eq!(
            kid,
            thumbprint(&Value::Object(key.clone())),
            "kid is the RFC 7638 thumbprint"
        );
        assert!(kids.insert(kid.to_owned()), "duplicate kid");
        algs.insert(key["alg"].as_str().expect("alg").to_owned());
        match key["kty"].as_str() {
            Some("RSA") => {
                let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().expect("n")).expect("b64");
                assert!(n.len() * 8 >= 2048, "RSA keys are 2048 bits or more");
            }
            Some("EC") => assert_eq!(key["crv"], "P-256"),
            other => panic!("unexpected kty {other:?}"),
        }
    }
    assert_eq!(algs, HashSet::from(["RS256".to_owned(), "ES256".to_owned()]));
}

/// One answer of a cached document: status, `ETag`, `Cache-Control`, `Content-Type`, body.
struct Tagged {
    status: u16,
    etag: String,
    cache_control: String,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// GET `path`, with `If-None-Match: if_none_match` when given.
async fn tagged(app: &TestApp, path: &str, if_none_match: Option<&str>) -> Tagged {
    let mut request = app.http.get(format!("{}{path}", app.address));
    if let Some(tag) = if_none_match {
        request = request.header("if-none-match", tag);
    }
    let response = request.send().await.expect("request");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("ascii").to_owned())
    };
    let (etag, cache_control, content_type) = (header("etag"), header("cache-control"), header("content-type"));
    Tagged {
        status: response.status().as_u16(),
        etag: etag.unwrap_or_else(|| panic!("GET {path}: no ETag")),
        cache_control: cache_control.unwrap_or_else(|| panic!("GET {path}: no Cache-Control")),
        content_type,
        body: response.bytes().await.expect("body").to_vec(),
    }
}

/// The strong entity tag of `body`, as the server makes it: SHA-256, base64url, quoted.
fn strong_tag_of(body: &[u8]) -> String {
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(Sha256::digest(body)))
}

/// The same document, asked for with its own tag, is a 304 without a body and with the same
/// `ETag` and `Cache-Control` (also as a weak tag, or in a list); with another tag it is the
/// whole document again.
async fn assert_conditional_gets(app: &TestApp, path: &str, first: &Tagged) {
    for if_none_match in [
        first.etag.clone(),
        format!("W/{}", first.etag),
        format!("\"elsewhere\", {}", first.etag),
        "*".to_owned(),
    ] {
        let again = tagged(app, path, Some(&if_none_match)).await;
        assert_eq!(again.status, 304, "GET {path} with If-None-Match: {if_none_match}");
        assert!(again.body.is_empty(), "a 304 has no body");
        assert_eq!(again.etag, first.etag);
        assert_eq!(again.cache_control, first.cache_control);
    }
    // Positive control: another tag gets the whole document, unchanged.
    let other = tagged(app, path, Some("\"some-other-version\"")).await;
    assert_eq!(other.status, 200);
    assert_eq!(other.body, first.body);
    assert_eq!(other.etag, first.etag);
}

#[tokio::test]
async fn jwks_if_none_match_gives_304_and_rotation_changes_the_etag() {
    let app = spawn_app(Backend::Sqlite).await;
    let first = tagged(&app, "/jwks", None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.content_type.as_deref(), Some("application/jwk-set+json"));
    assert!(
        first.cache_control.starts_with("public, max-age="),
        "{}",
        first.cache_control
    );
    assert_eq!(
        first.etag,
        strong_tag_of(&first.body),
        "a strong tag: the hash of the bytes"
    );
    assert_conditional_gets(&app, "/jwks", &first).await;

    // The key schedule reloading the same keys changes nothing.
    app.maintain_keys().await;
    let reloaded = tagged(&app, "/jwks", Some(&first.etag)).await;
    assert_eq!((reloaded.status, &reloaded.etag), (304, &first.etag));

    // A rotation publishes next keys: the old tag gets the new set, with a new tag.
    app.state.keys.rotate().await.expect("rotate");
    let rotated = tagged(&app, "/jwks", Some(&first.etag)).await;
    assert_eq!(rotated.status, 200);
    assert_ne!(rotated.etag, first.etag);
    assert_eq!(rotated.etag, strong_tag_of(&rotated.body));
    let keys = |body: &[u8]| {
        serde_json::from_slice::<Value>(body).expect("JSON")["keys"]
            .as_array()
            .expect("keys")
            .len()
    };
    assert_eq!(
        (keys(&first.body), keys(&rotated.body)),
        (2, 4),
        "an active and a next key per alg"
    );
    assert_conditional_gets(&app, "/jwks", &rotated).await;
}

#[tokio::test]
async fn jwks_etag_is_the_same_on_every_instance() {
    // A load balancer may send the conditional request to any instance.
    let app = spawn_app(Backend::Sqlite).await;
    let second = spawn_second_instance(&app).await;
    let first = tagged(&app, "/jwks", None).await;
    let there = tagged(&second, "/jwks", Some(&first.etag)).await;
    assert_eq!((there.status, &there.etag), (304, &first.etag));
    // Positive control: the second instance does serve the set, the same bytes.
    let whole = tagged(&second, "/jwks", None).await;
    assert_eq!((whole.status, &whole.body), (200, &first.body));
}

#[tokio::test]
async fn discovery_documents_answer_if_none_match_with_304() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let first = tagged(&app, path, None).await;
        assert_eq!(first.status, 200, "{path}");
        assert_eq!(first.content_type.as_deref(), Some("application/json"));
        assert_eq!(first.cache_control, "public, max-age=300");
        assert_eq!(first.etag, strong_tag_of(&first.body));
        let doc: Value = serde_json::from_slice(&first.body).expect("JSON");
        assert_eq!(doc["issuer"], json!(app.address));
        assert_conditional_gets(&app, path, &first).await;
    }
}

#[tokio::test]
async fn healthz_answers_and_readyz_fails_when_the_store_is_closed() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(app.get_json("/healthz").await["status"], "ok");
    assert_eq!(app.get_json("/readyz").await["status"], "ready");
    app.state.store.close().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set KEYHAVEN_TEST_POSTGRES_URL"]
async fn readyz_is_503_when_postgres_is_gone() {
    let app = spawn_app(Backend::Postgres).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.pg.as_ref().expect("pg").drop_now().await;
    assert_eq!(app.get("/readyz").await.status(), 503);
}

#[tokio::test]
async fn unknown_paths_are_404_and_responses_carry_a_request_id() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app.get("/nope").await;
    assert_eq!(response.status(), 404);
    assert!(response.headers().contains_key("x-request-id"));
}
