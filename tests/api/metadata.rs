//! Discovery, JWKS, health and readiness.

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app, Backend};

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
            json!(["authorization_code", "refresh_token", "client_credentials"])
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
                "token_endpoint" | "introspection_endpoint" | "revocation_endpoint" => &[405],
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
