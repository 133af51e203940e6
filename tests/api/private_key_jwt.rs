//! `private_key_jwt` client authentication (RFC 7523, OIDC Core §9): a client proves itself with
//! a JWT signed by a key of its JWK Set, served here by a small HTTP server on loopback (the
//! server runs with `dev_allow_loopback_fetch`) or registered inline. Every refusal is the same
//! 401 `invalid_client` as a wrong secret, and each sits beside a positive control.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::header;
use axum::routing::get;
use axum::Router;
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::alg::ed::{EdCurve, EdKeyPair};
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, JwsHeader, ES256, HS256, RS256};
use josekit::jwt::{self, JwtPayload};
use keyhaven::domain::client::{AuthMethod, ClientRegistration, GrantType, Permission};
use keyhaven::domain::event::EventFilter;
use keyhaven::domain::scope::ScopeSet;
use keyhaven::domain::Clock;
use serde_json::{json, Value};

use crate::flow::{ClientSpec, API};
use crate::helpers::{spawn_app_with, stdout_json, Backend, TestApp};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client's key pair: the private JWK it signs with, the public JWK it publishes, its `alg`.
#[derive(Clone)]
struct TestKey {
    private: Jwk,
    public: Value,
    alg: &'static str,
}

impl TestKey {
    fn es256(kid: Option<&str>) -> Self {
        let pair = EcKeyPair::generate(EcCurve::P256).unwrap();
        Self::of(pair.to_jwk_private_key(), pair.to_jwk_public_key(), "ES256", kid)
    }

    fn rs256(kid: Option<&str>) -> Self {
        let pair = RsaKeyPair::generate(2048).unwrap();
        Self::of(pair.to_jwk_private_key(), pair.to_jwk_public_key(), "RS256", kid)
    }

    fn eddsa(kid: Option<&str>) -> Self {
        let pair = EdKeyPair::generate(EdCurve::Ed25519).unwrap();
        Self::of(pair.to_jwk_private_key(), pair.to_jwk_public_key(), "EdDSA", kid)
    }

    fn of(mut private: Jwk, mut public: Jwk, alg: &'static str, kid: Option<&str>) -> Self {
        if let Some(kid) = kid {
            private.set_key_id(kid);
            public.set_key_id(kid);
        }
        Self {
            private,
            public: serde_json::to_value(public.as_ref()).unwrap(),
            alg,
        }
    }

    /// `claims` signed with this key; the header carries its `kid`, if it has one.
    fn sign(&self, claims: &Value) -> String {
        let mut header = JwsHeader::new();
        if let Some(kid) = self.private.key_id() {
            header.set_key_id(kid);
        }
        let payload = JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
        match self.alg {
            "ES256" => jwt::encode_with_signer(&payload, &header, &ES256.signer_from_jwk(&self.private).unwrap()),
            "RS256" => jwt::encode_with_signer(&payload, &header, &RS256.signer_from_jwk(&self.private).unwrap()),
            "EdDSA" => jwt::encode_with_signer(&payload, &header, &EdDSA.signer_from_jwk(&self.private).unwrap()),
            other => panic!("no signer for {other}"),
        }
        .unwrap()
    }
}

fn jwk_set(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.public.clone()).collect::<Vec<_>>() })
}

/// A JWKS server on loopback: the set it serves can be replaced; it counts its fetches.
struct JwksServer {
    url: String,
    served: Arc<Mutex<Value>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(keys: Value) -> Self {
        let served = Arc::new(Mutex::new(keys));
        let hits = Arc::new(AtomicUsize::new(0));
        let (set, counted) = (served.clone(), hits.clone());
        let app = Router::new().route(
            "/jwks.json",
            get(move || {
                let (set, counted) = (set.clone(), counted.clone());
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let body = set.lock().unwrap().to_string();
                    ([(header::CONTENT_TYPE, "application/jwk-set+json")], body)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{address}/jwks.json"),
            served,
            hits,
        }
    }

    fn serve(&self, keys: Value) {
        *self.served.lock().unwrap() = keys;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn app() -> TestApp {
    spawn_app_with(Backend::Sqlite, &[("dev_allow_loopback_fetch", "true")]).await
}

/// Where a client's keys are.
enum Keys<'a> {
    Uri(&'a str),
    Inline(Value),
}

/// A private_key_jwt client of the client_credentials grant that may introspect.
async fn register(app: &TestApp, keys: Keys<'_>) -> String {
    let (jwks, jwks_uri) = match keys {
        Keys::Uri(uri) => (None, Some(url::Url::parse(uri).unwrap())),
        Keys::Inline(set) => (Some(set), None),
    };
    let registration = ClientRegistration {
        grant_types: vec![GrantType::ClientCredentials],
        scopes: Some(ScopeSet::parse("read").unwrap()),
        audiences: vec![API.into()],
        permissions: vec![Permission::Introspect],
        auth_method: AuthMethod::PrivateKeyJwt,
        jwks,
        jwks_uri,
        ..ClientRegistration::new("Signed client")
    };
    registration.validate().expect("valid client");
    let id = format!("client-{}", uuid::Uuid::new_v4().simple());
    let client = registration.into_client(id.clone().into(), None, app.clock.now());
    app.state.store.insert_client(&client).await.expect("insert client");
    id
}

/// The claims of a good assertion of `client_id` for the token endpoint, as of now.
fn claims(app: &TestApp, client_id: &str) -> Value {
    let now = app.clock.now();
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": format!("{}/token", app.address),
        "exp": now + 120,
        "iat": now,
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

/// `claims` with the members of `changes` replaced (a null removes one).
fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

/// A client_credentials request authenticated by `assertion` (and, when given, more form).
async fn token_with(app: &TestApp, assertion: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    form.extend_from_slice(extra);
    app.http
        .post(format!("{}/token", app.address))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn token(app: &TestApp, assertion: &str) -> reqwest::Response {
    token_with(app, assertion, &[]).await
}

/// Status and JSON body.
async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let www_authenticate = response.headers().get(header::WWW_AUTHENTICATE).is_some();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status == 401 {
        assert!(www_authenticate, "a 401 carries WWW-Authenticate");
    }
    (status, body)
}

/// Asserts the answer is a token.
async fn accepted(response: reqwest::Response) {
    let (status, body) = answer(response).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string(), "{body}");
}

/// Asserts the answer is the one refusal every client authentication failure gets.
async fn refused(response: reqwest::Response) {
    let (status, body) = answer(response).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({ "error": "invalid_client", "error_description": "client authentication failed" })
        )
    );
}

struct Setup {
    app: TestApp,
    key: TestKey,
    server: JwksServer,
    client: String,
}

/// A server, a JWKS server with one ES256 key, and a client registered with its URL.
async fn setup() -> Setup {
    let app = app().await;
    let key = TestKey::es256(Some("k1"));
    let server = JwksServer::start(jwk_set(&[&key])).await;
    let client = register(&app, Keys::Uri(&server.url)).await;
    Setup {
        app,
        key,
        server,
        client,
    }
}

#[tokio::test]
async fn a_valid_assertion_authenticates_at_token_and_introspection() {
    let Setup { app, key, client, .. } = setup().await;
    let response = token(&app, &key.sign(&claims(&app, &client))).await;
    let (status, tokens) = answer(response).await;
    assert_eq!(status, 200, "{tokens}");
    let access_token = tokens["access_token"].as_str().unwrap();

    // At the introspection endpoint, the assertion may name the issuer or that endpoint.
    for aud in [app.address.clone(), format!("{}/introspect", app.address)] {
        let assertion = key.sign(&with(claims(&app, &client), json!({ "aud": aud })));
        let response = app
            .http
            .post(format!("{}/introspect", app.address))
            .form(&[
                ("token", access_token),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ])
            .send()
            .await
            .unwrap();
        let (status, body) = answer(response).await;
        assert_eq!((status, &body["active"]), (200, &json!(true)), "{aud}: {body}");
    }
    // And at revocation.
    let assertion = key.sign(&with(claims(&app, &client), json!({ "aud": app.address })));
    let response = app
        .http
        .post(format!("{}/revoke", app.address))
        .form(&[
            ("token", access_token),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn every_supported_alg_and_a_client_id_in_the_form_that_matches() {
    let app = app().await;
    for key in [TestKey::rs256(Some("r")), TestKey::eddsa(None), TestKey::es256(None)] {
        let client = register(&app, Keys::Inline(jwk_set(&[&key]))).await;
        accepted(token(&app, &key.sign(&claims(&app, &client))).await).await;
        accepted(token_with(&app, &key.sign(&claims(&app, &client)), &[("client_id", &client)]).await).await;
        // A client_id in the form that is not the assertion's is refused.
        let other = register(&app, Keys::Inline(jwk_set(&[&key]))).await;
        refused(token_with(&app, &key.sign(&claims(&app, &client)), &[("client_id", &other)]).await).await;
    }
}

#[tokio::test]
async fn the_assertion_aud_must_be_the_issuer_or_the_endpoint_called() {
    let Setup { app, key, client, .. } = setup().await;
    let base = || claims(&app, &client);
    for aud in [
        json!(app.address),
        json!(format!("{}/token", app.address)),
        json!(["https://other.example", app.address]),
    ] {
        accepted(token(&app, &key.sign(&with(base(), json!({ "aud": aud })))).await).await;
    }
    for aud in [
        json!("https://other.example"),
        json!(format!("{}/introspect", app.address)),
        json!([format!("{}/", app.address)]),
        Value::Null,
    ] {
        refused(token(&app, &key.sign(&with(base(), json!({ "aud": aud })))).await).await;
    }
}

#[tokio::test]
async fn an_expired_assertion_is_refused() {
    let Setup { app, key, client, .. } = setup().await;
    let now = app.clock.now();
    accepted(token(&app, &key.sign(&with(claims(&app, &client), json!({ "exp": now + 5 })))).await).await;
    refused(
        token(
            &app,
            &key.sign(&with(claims(&app, &client), json!({ "exp": now - 120 }))),
        )
        .await,
    )
    .await;
    refused(token(&app, &key.sign(&with(claims(&app, &client), json!({ "exp": null })))).await).await;
    // Past its exp by the clock, not only by the claim.
    let assertion = key.sign(&with(claims(&app, &client), json!({ "exp": now + 30 })));
    app.clock.advance(120);
    refused(token(&app, &assertion).await).await;
}

#[tokio::test]
async fn an_assertion_with_exp_too_far_ahead_is_refused() {
    let Setup { app, key, client, .. } = setup().await;
    let now = app.clock.now();
    accepted(
        token(
            &app,
            &key.sign(&with(claims(&app, &client), json!({ "exp": now + 540 }))),
        )
        .await,
    )
    .await;
    refused(
        token(
            &app,
            &key.sign(&with(claims(&app, &client), json!({ "exp": now + 3600 }))),
        )
        .await,
    )
    .await;
}

#[tokio::test]
async fn an_assertion_not_yet_valid_is_refused() {
    let Setup { app, key, client, .. } = setup().await;
    let now = app.clock.now();
    accepted(token(&app, &key.sign(&with(claims(&app, &client), json!({ "nbf": now })))).await).await;
    refused(
        token(
            &app,
            &key.sign(&with(claims(&app, &client), json!({ "nbf": now + 300 }))),
        )
        .await,
    )
    .await;
    refused(
        token(
            &app,
            &key.sign(&with(claims(&app, &client), json!({ "iat": now + 300 }))),
        )
        .await,
    )
    .await;
}

#[tokio::test]
async fn a_replayed_jti_is_refused() {
    let Setup { app, key, client, .. } = setup().await;
    let assertion = key.sign(&claims(&app, &client));
    accepted(token(&app, &assertion).await).await;
    refused(token(&app, &assertion).await).await;
    // The log says why, never with the assertion.
    let logs = crate::helpers::captured_logs();
    assert!(logs.contains("the assertion's jti was used before"));
    assert!(!logs.contains(&assertion), "the assertion was logged");
    // The same jti in a new assertion is the same replay.
    let again = key.sign(&claims(&app, &client));
    let jti = jwt_claim(&assertion, "jti");
    refused(token(&app, &key.sign(&with(claims(&app, &client), json!({ "jti": jti })))).await).await;
    accepted(token(&app, &again).await).await;
    // No jti at all is refused.
    refused(token(&app, &key.sign(&with(claims(&app, &client), json!({ "jti": null })))).await).await;
}

fn jwt_claim(jwt: &str, name: &str) -> Value {
    crate::token::jwt_claims(jwt)[name].clone()
}

#[tokio::test]
async fn a_rotated_key_is_found_by_one_refetch_and_an_unknown_kid_is_refused_after_it() {
    let Setup {
        app,
        key,
        server,
        client,
    } = setup().await;
    accepted(token(&app, &key.sign(&claims(&app, &client))).await).await;
    assert_eq!(server.hits(), 1);
    // A second assertion is checked against the cached set.
    accepted(token(&app, &key.sign(&claims(&app, &client))).await).await;
    assert_eq!(server.hits(), 1, "cached");

    // The client rotates: the new key is found by fetching the set again.
    let rotated = TestKey::es256(Some("k2"));
    server.serve(jwk_set(&[&rotated]));
    app.clock.advance(31);
    accepted(token(&app, &rotated.sign(&claims(&app, &client))).await).await;
    assert_eq!(server.hits(), 2, "one refetch");

    // A kid the set does not have: one refetch, then refused.
    app.clock.advance(31);
    let stranger = TestKey::es256(Some("k3"));
    refused(token(&app, &stranger.sign(&claims(&app, &client))).await).await;
    assert_eq!(server.hits(), 3, "refetched once for the unknown kid");
    // Refetches are rate-limited: another unknown kid at once fetches nothing.
    refused(token(&app, &stranger.sign(&claims(&app, &client))).await).await;
    assert_eq!(server.hits(), 3, "no second refetch within the interval");
    // The old key is gone from the set, so its assertions are refused too.
    refused(token(&app, &key.sign(&claims(&app, &client))).await).await;
    accepted(token(&app, &rotated.sign(&claims(&app, &client))).await).await;
}

#[tokio::test]
async fn alg_none_is_refused() {
    let Setup { app, key, client, .. } = setup().await;
    accepted(token(&app, &key.sign(&claims(&app, &client))).await).await;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    for header in [json!({ "alg": "none" }), json!({ "alg": "none", "kid": "k1" })] {
        let unsigned = format!("{}.{}.", encode(&header), encode(&claims(&app, &client)));
        refused(token(&app, &unsigned).await).await;
    }
    // An ES256 header over no signature at all.
    let bare = format!(
        "{}.{}.",
        encode(&json!({ "alg": "ES256", "kid": "k1" })),
        encode(&claims(&app, &client))
    );
    refused(token(&app, &bare).await).await;
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_as_the_secret_is_refused() {
    let app = app().await;
    let key = TestKey::rs256(Some("k1"));
    let server = JwksServer::start(jwk_set(&[&key])).await;
    let client = register(&app, Keys::Uri(&server.url)).await;
    accepted(token(&app, &key.sign(&claims(&app, &client))).await).await;
    let mut header = JwsHeader::new();
    header.set_key_id("k1");
    let payload = JwtPayload::from_map(claims(&app, &client).as_object().unwrap().clone()).unwrap();
    // The bytes a confused verifier might take as the HMAC key: the JWK as served, its
    // modulus, and the PEM of the public key.
    let pem = RsaKeyPair::from_jwk(&key.private).unwrap().to_pem_public_key();
    let secrets: Vec<Vec<u8>> = vec![
        key.public.to_string().into_bytes(),
        key.public["n"].as_str().unwrap().as_bytes().to_vec(),
        pem,
    ];
    for secret in secrets {
        let forged = jwt::encode_with_signer(&payload, &header, &HS256.signer_from_bytes(&secret).unwrap()).unwrap();
        refused(token(&app, &forged).await).await;
    }
}

#[tokio::test]
async fn a_private_key_jwt_client_cannot_use_a_secret() {
    let Setup { app, key, client, .. } = setup().await;
    accepted(token(&app, &key.sign(&claims(&app, &client))).await).await;
    for secret in ["", "khs_guess"] {
        let response = app
            .http
            .post(format!("{}/token", app.address))
            .basic_auth(&client, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        refused(response).await;
        let response = app
            .http
            .post(format!("{}/token", app.address))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &client),
                ("client_secret", secret),
            ])
            .send()
            .await
            .unwrap();
        refused(response).await;
    }
    // Nor its id alone, as a public client would.
    let response = app
        .http
        .post(format!("{}/token", app.address))
        .form(&[("grant_type", "client_credentials"), ("client_id", &client)])
        .send()
        .await
        .unwrap();
    refused(response).await;
}

#[tokio::test]
async fn an_assertion_for_a_secret_client_is_refused() {
    let app = app().await;
    let secret_client = app
        .register_client(ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            scopes: Some("read"),
            ..Default::default()
        })
        .await;
    // Positive control: its secret works.
    accepted(app.token(&secret_client, &[("grant_type", "client_credentials")]).await).await;
    let key = TestKey::es256(Some("k1"));
    refused(token(&app, &key.sign(&claims(&app, &secret_client.id))).await).await;
    refused(
        token_with(
            &app,
            &key.sign(&claims(&app, &secret_client.id)),
            &[("client_id", &secret_client.id)],
        )
        .await,
    )
    .await;
    // An unknown client, likewise.
    refused(token(&app, &key.sign(&claims(&app, "client-nobody"))).await).await;
    // The refusals are recorded as client authentication failures.
    app.state.events.flush().await;
    let failures = app
        .state
        .store
        .list_events(&EventFilter {
            kind: Some("client_auth_failed".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        failures
            .iter()
            .filter(|e| e.client_id.as_deref() == Some(secret_client.id.as_str()))
            .count()
            >= 2,
        "{failures:?}"
    );
}

#[tokio::test]
async fn inline_jwks_work_and_a_key_for_another_alg_or_use_is_refused() {
    let app = app().await;
    let key = TestKey::es256(Some("k1"));
    let client = register(&app, Keys::Inline(jwk_set(&[&key]))).await;
    accepted(token(&app, &key.sign(&claims(&app, &client))).await).await;
    // Another client's key (same kid) does not verify.
    let other = TestKey::es256(Some("k1"));
    refused(token(&app, &other.sign(&claims(&app, &client))).await).await;

    let mut wrong_use = key.public.clone();
    wrong_use["use"] = json!("enc");
    let client = register(&app, Keys::Inline(json!({ "keys": [wrong_use] }))).await;
    refused(token(&app, &key.sign(&claims(&app, &client))).await).await;

    let mut wrong_alg = key.public.clone();
    wrong_alg["alg"] = json!("RS256");
    let client = register(&app, Keys::Inline(json!({ "keys": [wrong_alg] }))).await;
    refused(token(&app, &key.sign(&claims(&app, &client))).await).await;

    let mut right = key.public.clone();
    right["alg"] = json!("ES256");
    right["use"] = json!("sig");
    let client = register(&app, Keys::Inline(json!({ "keys": [right] }))).await;
    accepted(token(&app, &key.sign(&claims(&app, &client))).await).await;
}

#[tokio::test]
async fn one_authentication_method_per_request() {
    let Setup { app, key, client, .. } = setup().await;
    let assertion = key.sign(&claims(&app, &client));
    let response = app
        .http
        .post(format!("{}/token", app.address))
        .basic_auth(&client, Some("khs_x"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer(response).await.1["error"], "invalid_request");
    let response = token_with(&app, &assertion, &[("client_secret", "khs_x")]).await;
    assert_eq!(answer(response).await.1["error"], "invalid_request");
    // An assertion without its type, or of another type.
    let response = app
        .http
        .post(format!("{}/token", app.address))
        .form(&[("grant_type", "client_credentials"), ("client_assertion", &assertion)])
        .send()
        .await
        .unwrap();
    let (status, body) = answer(response).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_request")), "{body}");
    let response = app
        .http
        .post(format!("{}/token", app.address))
        .form(&[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ),
            ("client_assertion", &assertion),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = answer(response).await;
    assert_eq!((status, &body["error"]), (401, &json!("invalid_client")), "{body}");
    // Positive control: the same assertion alone works.
    accepted(token(&app, &assertion).await).await;
    // Too long an assertion is refused without being read.
    let long = format!("{assertion}{}", "A".repeat(9 * 1024));
    refused(token(&app, &long).await).await;
}

#[tokio::test]
async fn an_operator_registers_a_private_key_jwt_client_from_the_command_line() {
    let app = app().await;
    let key = TestKey::es256(Some("k1"));
    let server = JwksServer::start(jwk_set(&[&key])).await;
    let created = stdout_json(
        &app.cli(&[
            "client",
            "create",
            "--name",
            "Batch job",
            "--grant-type",
            "client_credentials",
            "--scope",
            "read",
            "--audience",
            API,
            "--auth-method",
            "private_key_jwt",
            "--jwks-uri",
            &server.url,
            "--json",
        ])
        .await,
    );
    let client = created["client_id"].as_str().unwrap().to_owned();
    assert!(created.get("client_secret").is_none(), "no secret: {created}");
    assert_eq!(created["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(created["jwks_uri"], json!(server.url));
    assert_eq!(created["origin"], "operator");
    for member in ["jwks", "logo_uri", "client_uri"] {
        assert!(created[member].is_null(), "{member}: {created}");
    }
    accepted(token(&app, &key.sign(&claims(&app, &client))).await).await;

    // Switched to inline keys: the URL goes, the file's keys count.
    let other = TestKey::eddsa(Some("k2"));
    let file = app.dir.path().join("jwks.json");
    std::fs::write(&file, jwk_set(&[&other]).to_string()).unwrap();
    let updated = stdout_json(
        &app.cli(&[
            "client",
            "update",
            &client,
            "--jwks-file",
            file.to_str().unwrap(),
            "--json",
        ])
        .await,
    );
    assert!(updated["jwks_uri"].is_null(), "{updated}");
    assert_eq!(updated["jwks"]["keys"][0]["kid"], "k2");
    // Another process changed the client: the server learns of it within its refresh interval.
    let mut status = 0;
    for _ in 0..50 {
        status = token(&app, &other.sign(&claims(&app, &client))).await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the new keys count within 5 s");
    refused(token(&app, &key.sign(&claims(&app, &client))).await).await;

    let shown = stdout_json(&app.cli(&["client", "show", &client, "--json"]).await);
    assert_eq!(shown["token_endpoint_auth_method"], "private_key_jwt");
    let text = String::from_utf8_lossy(&app.cli(&["client", "show", &client]).await.stdout).into_owned();
    assert!(
        text.contains("private_key_jwt") && text.contains("origin: operator"),
        "{text}"
    );

    // A private key in the set is refused, naming the option's field.
    let mut private = key.public.clone();
    private["d"] = json!("AAAA");
    std::fs::write(&file, json!({ "keys": [private] }).to_string()).unwrap();
    let refused_update = app
        .cli(&["client", "update", &client, "--jwks-file", file.to_str().unwrap()])
        .await;
    assert!(!refused_update.status.success());
    assert!(String::from_utf8_lossy(&refused_update.stderr).contains("jwks"));
    // A secret client cannot be turned into one.
    let secret_client = stdout_json(
        &app.cli(&[
            "client",
            "create",
            "--name",
            "S",
            "--grant-type",
            "client_credentials",
            "--json",
        ])
        .await,
    );
    assert_eq!(secret_client["token_endpoint_auth_method"], "client_secret_basic");
    let switched = app
        .cli(&[
            "client",
            "update",
            secret_client["client_id"].as_str().unwrap(),
            "--auth-method",
            "private_key_jwt",
            "--jwks-uri",
            &server.url,
        ])
        .await;
    assert!(!switched.status.success());
}

#[tokio::test]
async fn the_admin_api_creates_reads_and_updates_a_private_key_jwt_client() {
    let admin = crate::admin::admin_app_with(&[("dev_allow_loopback_fetch", "true")]).await;
    let app = &admin.app;
    let key = TestKey::rs256(None);
    let server = JwksServer::start(jwk_set(&[&key])).await;
    let (status, created) = admin
        .post(
            "/clients",
            json!({
                "name": "Signed",
                "grant_types": ["client_credentials"],
                "scopes": ["read"],
                "audiences": [API],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": server.url,
            }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(created.get("client_secret").is_none());
    assert_eq!(created["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(created["origin"], "operator");
    let client = created["client_id"].as_str().unwrap().to_owned();
    accepted(token(app, &key.sign(&claims(app, &client))).await).await;

    let (status, read) = admin.get(&format!("/clients/{client}")).await;
    assert_eq!((status, &read["jwks_uri"]), (200, &json!(server.url)));
    for member in ["jwks", "logo_uri", "client_uri"] {
        assert!(read.get(member).is_some_and(Value::is_null), "{member}: {read}");
    }

    let inline = TestKey::es256(Some("k9"));
    let (status, updated) = admin
        .call(
            reqwest::Method::PATCH,
            &format!("/clients/{client}"),
            Some(json!({ "jwks": jwk_set(&[&inline]) })),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert!(updated["jwks_uri"].is_null());
    accepted(token(app, &inline.sign(&claims(app, &client))).await).await;

    // Refusals name the field: a symmetric key, private_key_jwt without keys, both at once.
    for (body, field) in [
        (
            json!({ "name": "X", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                    "jwks": { "keys": [{ "kty": "oct", "k": "c2VjcmV0" }] } }),
            "jwks",
        ),
        (
            json!({ "name": "X", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt" }),
            "jwks_uri",
        ),
        (
            json!({ "name": "X", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                    "jwks_uri": server.url, "jwks": jwk_set(&[&inline]) }),
            "jwks",
        ),
        (
            json!({ "name": "X", "token_endpoint_auth_method": "client_secret_jwt" }),
            "token_endpoint_auth_method",
        ),
        (json!({ "name": "X", "jwks_uri": "not a url" }), "jwks_uri"),
        (json!({ "name": "X", "origin": "registered" }), "origin"),
    ] {
        let (status, error) = admin.post("/clients", body.clone()).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (400, Some(field)),
            "{body} -> {error}"
        );
    }

    // The OpenAPI document declares the new members.
    let doc: Value = app
        .http
        .get(format!("{}/admin/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    for member in ["token_endpoint_auth_method", "jwks", "jwks_uri"] {
        for schema in ["NewClient", "ClientChanges"] {
            assert!(schemas[schema]["properties"][member].is_object(), "{schema}.{member}");
        }
    }
    for member in [
        "token_endpoint_auth_method",
        "jwks",
        "jwks_uri",
        "origin",
        "logo_uri",
        "client_uri",
    ] {
        assert!(
            schemas["ClientOut"]["properties"][member].is_object(),
            "ClientOut.{member}"
        );
    }
}

#[tokio::test]
async fn discovery_lists_private_key_jwt_with_asymmetric_algs() {
    let app = app().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let doc = app.get_json(path).await;
        for endpoint in ["token", "introspection", "revocation"] {
            let methods = doc[format!("{endpoint}_endpoint_auth_methods_supported")]
                .as_array()
                .unwrap();
            assert!(methods.contains(&json!("private_key_jwt")), "{path} {endpoint}");
            assert_eq!(
                doc[format!("{endpoint}_endpoint_auth_signing_alg_values_supported")],
                json!(["RS256", "ES256", "EdDSA"]),
                "{path} {endpoint}"
            );
        }
    }
}

#[tokio::test]
async fn the_housekeeping_pass_forgets_a_jti_once_its_assertion_has_expired() {
    use keyhaven::janitor::run_pass;
    use keyhaven::storage::Expired;
    let Setup { app, key, client, .. } = setup().await;
    accepted(token(&app, &key.sign(&claims(&app, &client))).await).await;
    let report = run_pass(&app.state, "instance-a").await.unwrap().expect("the lease");
    assert_eq!(report.deleted(Expired::ClientAssertions), 0, "still live");
    app.clock.advance(120 + 61);
    let report = run_pass(&app.state, "instance-a").await.unwrap().expect("the lease");
    assert_eq!(report.deleted(Expired::ClientAssertions), 1);
}

#[tokio::test]
async fn a_jti_is_spent_once_across_instances() {
    let first = app().await;
    let second = crate::helpers::spawn_second_instance(&first).await;
    let key = TestKey::es256(Some("k1"));
    let client = register(&first, Keys::Inline(jwk_set(&[&key]))).await;
    let assertion = key.sign(&claims(&first, &client));
    accepted(token(&first, &assertion).await).await;
    refused(token(&second, &assertion).await).await;
    // Positive control: a new assertion is taken by the second instance (same issuer, so the
    // same audience).
    accepted(token(&second, &key.sign(&claims(&first, &client))).await).await;
}
