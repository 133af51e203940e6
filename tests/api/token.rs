//! The token endpoint with the authorization_code grant, and userinfo.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keyhaven::domain::client::ClientType;
use serde_json::Value;

use crate::flow::{pkce, ClientSpec, REDIRECT};
use crate::helpers::{spawn_app, Backend};

/// The claims of a JWT, unverified (the tests that verify do so against the JWKS).
pub fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("JSON")
}

pub fn id_token_claims(tokens: &Value) -> Value {
    jwt_claims(
        tokens["id_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no id_token in {tokens}")),
    )
}

async fn assert_token_error(response: reqwest::Response, status: u16, error: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    if status == 401 {
        assert!(response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"));
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].as_str().is_some_and(|d| d.is_ascii()));
}

#[tokio::test]
async fn a_code_exchange_returns_rfc9068_access_token_id_token_and_refresh_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    let alice = app.create_user("alice").await;
    let (code, p) = app.code_for(&client, "alice", &[]).await;
    let response = app.exchange(&client, &code, &p.verifier).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("khr_"));

    let at = tokens["access_token"].as_str().unwrap();
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(at.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["typ"], "at+jwt");
    assert!(header["kid"].is_string());
    let claims = jwt_claims(at);
    for name in [
        "iss",
        "sub",
        "aud",
        "client_id",
        "scope",
        "iat",
        "exp",
        "nbf",
        "jti",
        "sid",
        "auth_time",
    ] {
        assert!(claims.get(name).is_some(), "access token lacks {name}");
    }
    assert_eq!(claims["iss"], app.address);
    assert_eq!(claims["sub"], alice.id.as_str());
    assert_eq!(claims["client_id"], client.id);
    let aud: Vec<String> = serde_json::from_value(claims["aud"].clone()).unwrap();
    assert!(
        aud.contains(&crate::flow::API.to_owned()),
        "the client's default audience"
    );

    let id = id_token_claims(&tokens);
    assert_eq!(id["aud"], client.id);
    assert_eq!(id["azp"], client.id);
    assert_eq!(id["nonce"], "n0nce");
    assert_eq!(id["sid"], claims["sid"]);
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    assert_eq!(id["at_hash"], keyhaven::protocol::token::id_token::at_hash(at));
    assert!(
        id.get("email").is_none(),
        "scope claims go to userinfo in the code flow"
    );
}

#[tokio::test]
async fn code_replay_is_refused_and_revokes_the_first_redemptions_family() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let (code, p) = app.code_for(&client, "alice", &[]).await;
    let tokens: Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
    let family = jwt_claims(tokens["access_token"].as_str().unwrap())["fid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(app
        .state
        .store
        .find_family(&family)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());

    assert_token_error(app.exchange(&client, &code, &p.verifier).await, 400, "invalid_grant").await;
    let revoked = app.state.store.find_family(&family).await.unwrap().unwrap();
    assert!(
        revoked.revoked_at.is_some(),
        "the family of the first redemption is revoked"
    );
    assert_eq!(revoked.revoked_reason.as_deref(), Some("code_replay"));
    let userinfo = app
        .http
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401, "its access token no longer works at userinfo");
}

#[tokio::test]
async fn a_code_is_bound_to_its_client_verifier_redirect_uri_and_lifetime() {
    let app = spawn_app(Backend::Sqlite).await;
    let a = app.register_client(ClientSpec::default()).await;
    let b = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;

    let (code, p) = app.code_for(&a, "alice", &[]).await;
    assert_token_error(app.exchange(&b, &code, &p.verifier).await, 400, "invalid_grant").await;

    let wrong_verifier = pkce().verifier;
    let plain = |p: &crate::flow::Pkce| p.challenge.clone();
    let cases: Vec<Box<dyn Fn(&crate::flow::Pkce) -> Vec<(&'static str, String)>>> = vec![
        Box::new(|_| vec![]),
        Box::new(move |_| vec![("code_verifier", wrong_verifier.clone())]),
        Box::new(move |p| vec![("code_verifier", plain(p))]),
        Box::new(|_| vec![("code_verifier", "short".to_owned())]),
    ];
    for case in cases {
        let (code, p) = app.code_for(&a, "alice", &[]).await;
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", REDIRECT.to_owned()),
        ];
        form.extend(case(&p));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_token_error(app.token(&a, &form).await, 400, "invalid_grant").await;
    }

    let (code, p) = app.code_for(&a, "alice", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", "https://rp.example/other"),
        ("code_verifier", &p.verifier),
    ];
    assert_token_error(app.token(&a, &form).await, 400, "invalid_grant").await;
    let (code, p) = app.code_for(&a, "alice", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("code_verifier", &p.verifier),
    ];
    assert_token_error(app.token(&a, &form).await, 400, "invalid_grant").await;

    let (code, p) = app.code_for(&a, "alice", &[]).await;
    app.clock.advance(61);
    assert_token_error(app.exchange(&a, &code, &p.verifier).await, 400, "invalid_grant").await;
    assert_token_error(app.exchange(&a, "khc_made-up", &p.verifier).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn client_authentication_failures_are_401_invalid_client() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    let public = app
        .register_client(ClientSpec {
            client_type: ClientType::Public,
            ..Default::default()
        })
        .await;
    let url = format!("{}/token", app.address);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "x"),
        ("code_verifier", "y"),
    ];
    let attempts = vec![
        app.http.post(&url).form(&form).send().await.unwrap(),
        app.http
            .post(&url)
            .basic_auth(&client.id, Some("khs_wrong"))
            .form(&form)
            .send()
            .await
            .unwrap(),
        app.http
            .post(&url)
            .basic_auth("nobody", Some("khs_wrong"))
            .form(&form)
            .send()
            .await
            .unwrap(),
        app.http
            .post(&url)
            .form(&[
                form[0],
                form[1],
                ("client_id", client.id.as_str()),
                ("client_secret", "wrong"),
            ])
            .send()
            .await
            .unwrap(),
        app.http
            .post(&url)
            .form(&[form[0], form[1], ("client_id", client.id.as_str())])
            .send()
            .await
            .unwrap(),
        app.http
            .post(&url)
            .basic_auth(&public.id, Some("anything"))
            .form(&form)
            .send()
            .await
            .unwrap(),
        app.http
            .post(&url)
            .header("authorization", "Basic !!!")
            .form(&form)
            .send()
            .await
            .unwrap(),
    ];
    for response in attempts {
        assert_token_error(response, 401, "invalid_client").await;
    }
    // client_secret_post works as well as basic; a bad grant type is then the error.
    let secret = client.secret.clone().unwrap();
    let post = app
        .http
        .post(&url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", &client.id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_token_error(post, 400, "unsupported_grant_type").await;
    let missing = app.token(&client, &[("code", "x")]).await;
    assert_token_error(missing, 400, "invalid_request").await;
    let twice = app
        .http
        .post(&url)
        .basic_auth(&client.id, Some(&secret))
        .body("grant_type=authorization_code&grant_type=authorization_code")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_token_error(twice, 400, "invalid_request").await;
}

#[tokio::test]
async fn basic_credentials_are_form_urldecoded() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let (code, p) = app.code_for(&client, "alice", &[]).await;
    // The secret alphabet has '-' and '_' only; encode one character needlessly, as a client
    // following RFC 6749 §2.3.1 to the letter may.
    let secret = client.secret.clone().unwrap().replacen('_', "%5F", 1);
    let response = app
        .http
        .post(format!("{}/token", app.address))
        .basic_auth(&client.id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &p.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn userinfo_returns_the_granted_claims_and_refuses_bad_tokens() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    let alice = app.create_user("alice").await;
    let (code, p) = app
        .code_for(
            &client,
            "alice",
            &[
                ("claims", Some(r#"{"userinfo":{"locale":{"essential":true}}}"#)),
                ("scope", Some("openid email")),
            ],
        )
        .await;
    let tokens: Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
    let at = tokens["access_token"].as_str().unwrap().to_owned();

    let get = app
        .http
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    assert_eq!(get.headers()["cache-control"], "no-store");
    let claims: Value = get.json().await.unwrap();
    assert_eq!(claims["sub"], alice.id.as_str());
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["locale"], "en", "an essential claim from the claims request");
    assert!(claims.get("name").is_none(), "profile was not granted");
    let post = app
        .http
        .post(format!("{}/userinfo", app.address))
        .form(&[("access_token", &at)])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);

    // A token for another audience (an API token without openid), a forged one, an expired one.
    let (code, p) = app.code_for(&client, "alice", &[("scope", Some("profile"))]).await;
    let api_only: Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
    let mut forged = at.clone();
    forged.replace_range(forged.len() - 3.., "AAA");
    for bad in [
        api_only["access_token"].as_str().unwrap().to_owned(),
        forged,
        "garbage".to_owned(),
    ] {
        let response = app
            .http
            .get(format!("{}/userinfo", app.address))
            .bearer_auth(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\""));
    }
    app.clock.advance(901);
    let expired = app
        .http
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 401);
    let none = app.http.get(format!("{}/userinfo", app.address)).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn codes_and_refresh_tokens_are_stored_as_hashes() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let (code, p) = app.code_for(&client, "alice", &[]).await;
    let tokens: Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let url = &app.settings.iter().find(|(k, _)| *k == "database_url").unwrap().1;
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    let codes: Vec<(String,)> = sqlx::query_as("SELECT code_hash FROM authorization_codes")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let refreshes: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM refresh_tokens")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let sessions: Vec<(String,)> = sqlx::query_as("SELECT id_hash FROM browser_sessions")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!((codes.len(), refreshes.len(), sessions.len()), (1, 1, 1));
    assert_ne!(codes[0].0, code);
    assert_eq!(codes[0].0, keyhaven::crypto::tokens::SecretHash::of(&code).as_str());
    assert_eq!(
        refreshes[0].0,
        keyhaven::crypto::tokens::SecretHash::of(refresh).as_str()
    );
    let dump: Vec<(String,)> = sqlx::query_as("SELECT code_challenge || coalesce(nonce, '') FROM authorization_codes")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(!dump[0].0.contains(&code) && !dump[0].0.contains(refresh));
}

#[tokio::test]
async fn a_client_that_registered_es256_gets_es256_id_tokens() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app
        .register_client(ClientSpec {
            id_token_alg: keyhaven::domain::SigningAlg::Es256,
            ..Default::default()
        })
        .await;
    app.create_user("alice").await;
    let (code, p) = app.code_for(&client, "alice", &[]).await;
    let tokens: Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(id_token.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    let verified = app
        .state
        .keys
        .verify_jwt(id_token)
        .expect("verifies with the published ES256 key");
    assert_eq!(verified.claims["aud"], client.id);
    let at = tokens["access_token"].as_str().unwrap();
    let at_header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(at.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(at_header["alg"], "RS256", "access tokens stay RS256");
}
