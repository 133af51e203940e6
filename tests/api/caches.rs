//! The hot paths answer from memory: clients (for client authentication at /token,
//! /introspect and /revoke) and verified access tokens (for introspection). What these caches
//! hold must follow every change within the revocation log's bound: a client changed, given a
//! new secret or deleted at one instance, a token revoked at another.

use std::time::{Duration, Instant};

use keyhaven::domain::client::GrantType;
use serde_json::{json, Value};

use crate::flow::{ClientSpec, TestClient, API, REDIRECT};
use crate::helpers::{spawn_app, spawn_second_instance, Backend, TestApp};

/// The stated bound: the revocation log is read every second, so a change made at one
/// instance is seen by the others within two.
const BOUND: Duration = Duration::from_secs(2);
/// Scheduling slack on a busy machine running debug builds (the time seen is printed).
const SLACK: Duration = Duration::from_secs(1);

const CLIENT_CREDENTIALS: &[(&str, &str)] = &[("grant_type", "client_credentials")];

/// What a request that only a client's authentication decides is answered: a
/// client_credentials token, or the revocation of a token that is none (200 when the client
/// authenticated).
#[derive(Debug, Clone, Copy)]
enum Probe {
    ClientCredentials,
    Revoke,
}

/// The status and the `error` (empty when there is none).
async fn probe(app: &TestApp, client: &TestClient, probe: Probe) -> (u16, String) {
    let response = match probe {
        Probe::ClientCredentials => app.token(client, CLIENT_CREDENTIALS).await,
        Probe::Revoke => app.revoke(client, "not-a-token", None).await,
    };
    let status = response.status().as_u16();
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

/// Polls until `app` answers `probe` with `expected`; how long that took.
async fn answers_within(app: &TestApp, client: &TestClient, what: Probe, expected: (u16, &str)) -> Duration {
    let started = Instant::now();
    loop {
        let (status, error) = probe(app, client, what).await;
        if (status, error.as_str()) == expected {
            let took = started.elapsed();
            eprintln!("{what:?} answered {expected:?} after {took:?}");
            return took;
        }
        assert!(
            started.elapsed() < BOUND + SLACK,
            "{what:?} still answered ({status}, {error}) after {:?}, not {expected:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn admin(app: &TestApp, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app
        .http
        .request(method, format!("{}/admin/v1{path}", app.address))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A service client made through the admin API (the services' path: logged, reloaded).
async fn service_client(app: &TestApp, token: &str) -> TestClient {
    let (status, created) = admin(
        app,
        token,
        reqwest::Method::POST,
        "/clients",
        Some(json!({ "name": "Billing", "grant_types": ["client_credentials"], "scopes": ["invoices:read"], "audiences": [API] })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    TestClient {
        id: created["client_id"].as_str().unwrap().to_owned(),
        secret: Some(created["client_secret"].as_str().unwrap().to_owned()),
    }
}

async fn rotate_secret(app: &TestApp, token: &str, client: &TestClient) -> TestClient {
    let (status, rotated) = admin(
        app,
        token,
        reqwest::Method::POST,
        &format!("/clients/{}/secret", client.id),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    TestClient {
        id: client.id.clone(),
        secret: Some(rotated["client_secret"].as_str().unwrap().to_owned()),
    }
}

/// Takes the client_credentials grant away (the client keeps its secret).
async fn remove_grant(app: &TestApp, token: &str, client: &TestClient) {
    let (status, updated) = admin(
        app,
        token,
        reqwest::Method::PATCH,
        &format!("/clients/{}", client.id),
        Some(json!({ "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT] })),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
}

async fn delete(app: &TestApp, token: &str, client: &TestClient) {
    let path = format!("/clients/{}", client.id);
    assert_eq!(admin(app, token, reqwest::Method::DELETE, &path, None).await.0, 204);
}

const INVALID_CLIENT: (u16, &str) = (401, "invalid_client");
const UNAUTHORIZED_CLIENT: (u16, &str) = (400, "unauthorized_client");

#[tokio::test]
#[ignore = "needs PostgreSQL: set KEYHAVEN_TEST_POSTGRES_URL"]
async fn client_changes_reach_another_instance_within_two_seconds() {
    let a = spawn_app(Backend::Postgres).await;
    let b = spawn_second_instance(&a).await;
    let token = a.admin_token().await;
    let old = service_client(&a, &token).await;
    // Positive controls: both instances take the client (B now holds it in memory).
    assert_eq!(probe(&a, &old, Probe::ClientCredentials).await, (200, String::new()));
    assert_eq!(probe(&b, &old, Probe::ClientCredentials).await, (200, String::new()));

    // A new secret at A: the old one is refused there at once, and at B within the bound.
    let new = rotate_secret(&a, &token, &old).await;
    assert_eq!(
        probe(&a, &old, Probe::ClientCredentials).await,
        (401, "invalid_client".into())
    );
    answers_within(&b, &old, Probe::ClientCredentials, INVALID_CLIENT).await;
    assert_eq!(probe(&b, &new, Probe::ClientCredentials).await, (200, String::new()));

    // The grant taken away at A (the control just above: B issued with it).
    remove_grant(&a, &token, &new).await;
    assert_eq!(
        probe(&a, &new, Probe::ClientCredentials).await,
        (400, "unauthorized_client".into())
    );
    answers_within(&b, &new, Probe::ClientCredentials, UNAUTHORIZED_CLIENT).await;

    // Deleted at A: B refused it within the bound (control: B still authenticates it).
    assert_eq!(probe(&b, &new, Probe::Revoke).await, (200, String::new()));
    delete(&a, &token, &new).await;
    assert_eq!(probe(&a, &new, Probe::Revoke).await, (401, "invalid_client".into()));
    answers_within(&b, &new, Probe::Revoke, INVALID_CLIENT).await;
}

#[tokio::test]
async fn client_changes_apply_at_once_on_the_instance_that_made_them() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.admin_token().await;
    let old = service_client(&app, &token).await;
    assert_eq!(probe(&app, &old, Probe::ClientCredentials).await, (200, String::new()));

    let new = rotate_secret(&app, &token, &old).await;
    assert_eq!(
        probe(&app, &old, Probe::ClientCredentials).await,
        (401, "invalid_client".into())
    );
    assert_eq!(probe(&app, &new, Probe::ClientCredentials).await, (200, String::new()));

    remove_grant(&app, &token, &new).await;
    assert_eq!(
        probe(&app, &new, Probe::ClientCredentials).await,
        (400, "unauthorized_client".into())
    );

    assert_eq!(probe(&app, &new, Probe::Revoke).await, (200, String::new()));
    delete(&app, &token, &new).await;
    assert_eq!(probe(&app, &new, Probe::Revoke).await, (401, "invalid_client".into()));
}

#[tokio::test]
async fn client_changes_by_the_command_line_reach_the_server_within_two_seconds() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.admin_token().await;
    let old = service_client(&app, &token).await;
    // Positive control: the server holds the client and takes its secret.
    assert_eq!(probe(&app, &old, Probe::ClientCredentials).await, (200, String::new()));

    // Another process (the command line) gives it a new secret.
    let rotated = app.cli(&["client", "rotate-secret", &old.id, "--json"]).await;
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let rotated: Value = serde_json::from_slice(&rotated.stdout).unwrap();
    let new = TestClient {
        id: old.id.clone(),
        secret: Some(rotated["client_secret"].as_str().unwrap().to_owned()),
    };
    answers_within(&app, &old, Probe::ClientCredentials, INVALID_CLIENT).await;
    assert_eq!(probe(&app, &new, Probe::ClientCredentials).await, (200, String::new()));
}

#[tokio::test]
async fn client_authentication_reads_the_store_only_for_ids_not_in_memory() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.admin_token().await;
    let cache = &app.state.client_cache;

    // Made through the services: held from the start, no read when used.
    let made = service_client(&app, &token).await;
    let before = cache.lookup_reads();
    for _ in 0..5 {
        assert_eq!(probe(&app, &made, Probe::ClientCredentials).await, (200, String::new()));
    }
    assert_eq!(cache.lookup_reads(), before);

    // Written straight into the store (as the test helpers do): read once, then held.
    let written = app
        .register_client(ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            ..Default::default()
        })
        .await;
    for _ in 0..5 {
        assert_eq!(
            probe(&app, &written, Probe::ClientCredentials).await,
            (200, String::new())
        );
    }
    assert_eq!(cache.lookup_reads(), before + 1);

    // An unknown id: refused, read once, then remembered absent.
    let unknown = TestClient {
        id: "khc-nobody".into(),
        secret: Some("khs_wrong".into()),
    };
    for _ in 0..5 {
        assert_eq!(
            probe(&app, &unknown, Probe::ClientCredentials).await,
            (401, "invalid_client".into())
        );
    }
    assert_eq!(cache.lookup_reads(), before + 2);
}

#[tokio::test]
async fn repeated_introspection_verifies_the_signature_once() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    let rs = app.resource_server(API).await;
    app.create_user("alice").await;
    let tokens = app.tokens_for(&client, "alice").await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let verifications = || app.state.access_tokens.verifications();

    let before = verifications();
    for _ in 0..5 {
        let answer = app.introspect(&rs, access_token).await;
        assert_eq!(answer["active"], true, "{answer}");
    }
    assert_eq!(
        verifications(),
        before + 1,
        "one signature check for five introspections"
    );

    // A forged token (the same claims, another signature) is verified every time, never kept.
    let (head, _) = access_token.rsplit_once('.').unwrap();
    let forged = format!("{head}.AAAA");
    for _ in 0..3 {
        assert_eq!(app.introspect(&rs, &forged).await, json!({ "active": false }));
    }
    assert_eq!(verifications(), before + 4);

    // The cached token is revoked: inactive at once, without a new signature check.
    assert_eq!(app.revoke(&client, access_token, None).await.status(), 200);
    assert_eq!(app.introspect(&rs, access_token).await, json!({ "active": false }));
    assert_eq!(verifications(), before + 4);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set KEYHAVEN_TEST_POSTGRES_URL"]
async fn revoked_token_is_inactive_at_introspection_even_when_cached() {
    let a = spawn_app(Backend::Postgres).await;
    let b = spawn_second_instance(&a).await;
    let client = a.register_client(ClientSpec::default()).await;
    let rs = a.resource_server(API).await;
    a.create_user("alice").await;
    let tokens = a.tokens_for(&client, "alice").await;
    let access_token = tokens["access_token"].as_str().unwrap();

    // Positive control, twice at each instance: the second answer comes from memory.
    for app in [&a, &b] {
        let before = app.state.access_tokens.verifications();
        for _ in 0..2 {
            assert_eq!(app.introspect(&rs, access_token).await["active"], true);
        }
        assert_eq!(app.state.access_tokens.verifications(), before + 1);
    }
    let b_verified = b.state.access_tokens.verifications();

    assert_eq!(a.revoke(&client, access_token, None).await.status(), 200);
    assert_eq!(
        a.introspect(&rs, access_token).await,
        json!({ "active": false }),
        "at once where it was revoked"
    );
    let started = Instant::now();
    while b.introspect(&rs, access_token).await != json!({ "active": false }) {
        assert!(
            started.elapsed() < BOUND + SLACK,
            "the revocation was not seen at B within {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("revocation through A seen at B after {:?}", started.elapsed());
    assert_eq!(
        b.state.access_tokens.verifications(),
        b_verified,
        "B answered from its cached claims and its revocation set"
    );
}
