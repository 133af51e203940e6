//! Signing keys: tokens verify against the published JWKS; rotation publishes before signing;
//! retired keys keep verifying; private keys are sealed at rest.

use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, ES256, RS256};
use josekit::jwt;
use keyhaven::crypto::keys::SigningAlg;
use keyhaven::domain::Clock;
use serde_json::{json, Map, Value};

use crate::helpers::{spawn_app, spawn_app_with, stdout_json, Backend, TestApp};

fn claims(app: &TestApp) -> Map<String, Value> {
    let now = app.clock.now();
    json!({ "iss": app.address, "sub": "test", "aud": "api", "iat": now, "exp": now + 300 })
        .as_object()
        .cloned()
        .expect("object")
}

/// Verifies `token` with the key of its `kid` from the JWKS the server publishes now.
async fn verify_against_published_jwks(app: &TestApp, token: &str) -> Result<Map<String, Value>, String> {
    let header = jwt::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.claim("kid").and_then(Value::as_str).ok_or("no kid")?.to_owned();
    let alg = header.claim("alg").and_then(Value::as_str).ok_or("no alg")?.to_owned();
    let jwks = app.get_json("/jwks").await;
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == json!(kid))
        .ok_or_else(|| format!("kid {kid} is not published"))?;
    let jwk = Jwk::from_bytes(key.to_string().as_bytes()).map_err(|e| e.to_string())?;
    // The published key decides the algorithm; the header must agree with it.
    if key["alg"] != json!(alg) {
        return Err(format!("header alg {alg} on a {} key", key["alg"]));
    }
    let (payload, _) = match alg.as_str() {
        "RS256" => jwt::decode_with_verifier(token, &RS256.verifier_from_jwk(&jwk).map_err(|e| e.to_string())?),
        "ES256" => jwt::decode_with_verifier(token, &ES256.verifier_from_jwk(&jwk).map_err(|e| e.to_string())?),
        "EdDSA" => jwt::decode_with_verifier(token, &EdDSA.verifier_from_jwk(&jwk).map_err(|e| e.to_string())?),
        other => return Err(format!("unexpected alg {other}")),
    }
    .map_err(|e| e.to_string())?;
    Ok(payload.claims_set().clone())
}

fn kid_of(token: &str) -> String {
    jwt::decode_header(token)
        .expect("header")
        .claim("kid")
        .and_then(Value::as_str)
        .expect("kid")
        .to_owned()
}

fn published_kids(jwks: &Value, alg: &str) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["alg"] == json!(alg))
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

#[tokio::test]
async fn a_jwt_signed_by_the_active_key_verifies_against_the_jwks() {
    // EdDSA as the access-token default, so that every algorithm has keys.
    let app = spawn_app_with(Backend::Sqlite, &[("access_token_alg", "EdDSA")]).await;
    for alg in SigningAlg::ALL {
        let token = app.state.keys.sign_jwt(alg, "at+jwt", claims(&app)).expect("sign");
        let header = jwt::decode_header(&token).expect("header");
        assert_eq!(header.claim("typ"), Some(&json!("at+jwt")));
        assert_eq!(header.claim("alg"), Some(&json!(alg.as_str())));
        let verified = verify_against_published_jwks(&app, &token).await.expect("verifies");
        assert!(
            verified["iat"].is_i64() && verified["exp"].is_i64(),
            "iat/exp are whole seconds"
        );
    }
}

#[tokio::test]
async fn rotation_with_no_lead_signs_with_the_new_key_and_old_tokens_still_verify() {
    let app = spawn_app_with(Backend::Sqlite, &[("key_rotation_lead", "0")]).await;
    let old_token = app
        .state
        .keys
        .sign_jwt(SigningAlg::Rs256, "at+jwt", claims(&app))
        .expect("sign");
    let old_kid = kid_of(&old_token);

    let rotated = stdout_json(&app.cli(&["keys", "rotate", "--json"]).await);
    assert_eq!(
        rotated.as_array().expect("list").len(),
        4,
        "two algs, each active + retired: {rotated}"
    );

    // The running server learns of the CLI's rotation from the store, without a restart.
    let jwks = app.wait_for_jwks(|j| published_kids(j, "RS256").len() == 2).await;
    assert!(published_kids(&jwks, "RS256").contains(&old_kid));
    assert_eq!(published_kids(&jwks, "ES256").len(), 2);
    let mut new_token = String::new();
    for _ in 0..100 {
        new_token = app
            .state
            .keys
            .sign_jwt(SigningAlg::Rs256, "at+jwt", claims(&app))
            .expect("sign");
        if kid_of(&new_token) != old_kid {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_ne!(kid_of(&new_token), old_kid, "new tokens carry the new kid");
    verify_against_published_jwks(&app, &new_token)
        .await
        .expect("new token verifies");
    verify_against_published_jwks(&app, &old_token)
        .await
        .expect("old token still verifies");
}

#[tokio::test]
async fn with_a_lead_the_next_key_is_published_before_it_signs() {
    let app = spawn_app_with(Backend::Sqlite, &[("key_rotation_lead", "1h")]).await;
    let active = app.state.keys.active_kid(SigningAlg::Rs256).expect("active");
    stdout_json(&app.cli(&["keys", "rotate", "--json"]).await);
    let jwks = app.wait_for_jwks(|j| published_kids(j, "RS256").len() == 2).await;
    let next = published_kids(&jwks, "RS256")
        .into_iter()
        .find(|k| *k != active)
        .expect("next kid");

    let token = app
        .state
        .keys
        .sign_jwt(SigningAlg::Rs256, "at+jwt", claims(&app))
        .expect("sign");
    assert_eq!(
        kid_of(&token),
        active,
        "the next key does not sign before its lead has passed"
    );

    app.clock.advance(3601);
    app.maintain_keys().await;
    let token = app
        .state
        .keys
        .sign_jwt(SigningAlg::Rs256, "at+jwt", claims(&app))
        .expect("sign");
    assert_eq!(kid_of(&token), next, "after the lead the next key signs");
    let jwks = app.get_json("/jwks").await;
    assert!(
        published_kids(&jwks, "RS256").contains(&active),
        "the retired key is still published"
    );
}

#[tokio::test]
async fn the_schedule_rotates_by_itself_and_drops_retired_keys_after_their_tokens_expire() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("key_rotation_interval", "2d"),
            ("key_rotation_lead", "1d"),
            ("access_token_ttl", "10m"),
            ("id_token_ttl", "5m"),
        ],
    )
    .await;
    let first = app.state.keys.active_kid(SigningAlg::Rs256).expect("active");
    app.clock.advance(86400 + 1);
    app.maintain_keys().await;
    let jwks = app.get_json("/jwks").await;
    assert_eq!(
        published_kids(&jwks, "RS256").len(),
        2,
        "next key published a lead ahead"
    );
    assert_eq!(
        app.state.keys.active_kid(SigningAlg::Rs256).as_deref(),
        Some(first.as_str())
    );

    app.clock.advance(86400);
    app.maintain_keys().await;
    let second = app.state.keys.active_kid(SigningAlg::Rs256).expect("active");
    assert_ne!(second, first);
    assert!(published_kids(&app.get_json("/jwks").await, "RS256").contains(&first));

    // Retired for the longest token lifetime (10 min) plus a minute of skew, then deleted.
    app.clock.advance(10 * 60 + 61);
    app.maintain_keys().await;
    let kids = published_kids(&app.get_json("/jwks").await, "RS256");
    assert!(
        !kids.contains(&first),
        "retired key dropped once its tokens expired: {kids:?}"
    );
    assert!(kids.contains(&second));
}

#[tokio::test]
async fn private_keys_at_rest_are_sealed_under_the_kek() {
    let app = spawn_app(Backend::Sqlite).await;
    let url = &app.settings.iter().find(|(k, _)| *k == "database_url").expect("db").1;
    let kek = &app.settings.iter().find(|(k, _)| *k == "kek").expect("kek").1;
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(url)
        .await
        .expect("open db");
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT kid, public_jwk, private_sealed FROM signing_keys")
            .fetch_all(&mut conn)
            .await
            .expect("rows");
    assert_eq!(rows.len(), 2);
    for (kid, public_jwk, sealed) in rows {
        assert!(!sealed.contains("BEGIN"), "not PEM");
        assert!(serde_json::from_str::<Value>(&sealed).is_err(), "not a JWK");
        assert!(
            !public_jwk.contains("\"d\""),
            "the public column holds no private member"
        );
        // Not DER either: the sealed bytes do not open as a private key.
        use base64::Engine;
        let body = sealed.strip_prefix("kek1.").expect("sealed format");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .expect("b64");
        // (Checked by shape: a DER parser given random bytes may try to allocate what a random
        // length prefix says, and abort the process.)
        let der_sequence = bytes.len() > 4
            && bytes[0] == 0x30
            && bytes[1] == 0x82
            && usize::from(u16::from_be_bytes([bytes[2], bytes[3]])) + 4 == bytes.len();
        assert!(!der_sequence, "not a DER SEQUENCE");
        // With another KEK it does not open.
        let wrong = keyhaven::crypto::kek::Kek::from_base64(&crate::helpers::random_kek()).expect("kek");
        assert!(wrong.open(&kid, &sealed).is_err());
        // Positive control: the server's KEK opens it, to a private key that signs.
        let right = keyhaven::crypto::kek::Kek::from_base64(kek).expect("kek");
        let der = right.open(&kid, &sealed).expect("the server's KEK opens its key");
        assert!(RS256.signer_from_der(&*der).is_ok() || ES256.signer_from_der(&*der).is_ok());
        // Under another key id (the sealing context) it does not open either.
        assert!(right.open("another-kid", &sealed).is_err());
    }
}

#[tokio::test]
async fn the_server_refuses_to_start_with_another_kek() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut env: Vec<(String, String)> = app
        .settings
        .iter()
        .map(|(k, v)| (keyhaven::config::env_name(k), v.clone()))
        .collect();
    env.retain(|(k, _)| k != "KEYHAVEN_KEK" && k != "KEYHAVEN_LISTEN");
    env.push(("KEYHAVEN_KEK".into(), crate::helpers::random_kek()));
    env.push(("KEYHAVEN_LISTEN".into(), "127.0.0.1:0".into()));
    let out = crate::helpers::run_binary(app.dir.path().to_path_buf(), &env, &["serve"], "");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`kek`"), "{stderr}");
}
