//! Dynamic client registration (RFC 7591) and its management (RFC 7592): the policies (off,
//! open, token), the metadata rules with their exact errors, the registration access token, the
//! rate limit, and the resource servers open to self-registered clients.

use keyhaven::domain::event::EventFilter;
use keyhaven::domain::Clock;
use serde_json::{json, Value};

use crate::admin::admin_app_with;
use crate::flow::{query, TestClient, REDIRECT};
use crate::helpers::{spawn_app_with, stdout_json, Backend, TestApp};
use crate::token::jwt_claims;

const MCP: &str = "https://mcp.example/mcp";
const CLOSED_API: &str = "https://closed.example/api";
/// Tests register many clients from one address; the rate-limit test sets its own.
const GENEROUS: (&str, &str) = ("rate_limit_registration", "10000/1s");
const OPEN: &[(&str, &str)] = &[("client_registration", "open"), GENEROUS];

/// A metadata document a code-flow client would send.
fn metadata() -> Value {
    json!({
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "client_name": "Agent",
        "client_uri": "https://agent.example",
        "contacts": ["dev@agent.example"],
        "software_id": "agent",
        "unknown_member": true,
    })
}

async fn register(app: &TestApp, token: Option<&str>, body: &Value) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = app.http.post(format!("{}/register", app.address)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null), headers)
}

async fn manage(
    app: &TestApp,
    method: reqwest::Method,
    client_id: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = app
        .http
        .request(method, format!("{}/register/{client_id}", app.address))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn test_client(registered: &Value) -> TestClient {
    TestClient {
        id: registered["client_id"].as_str().unwrap().to_owned(),
        secret: registered["client_secret"].as_str().map(str::to_owned),
    }
}

async fn events_of_kind(app: &TestApp, kind: &str) -> usize {
    app.state.events.flush().await;
    app.state
        .store
        .list_events(&EventFilter {
            kind: Some(kind.into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

fn assert_invalid_token(status: u16, body: &Value, what: &str) {
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token")),
        "{what}: {body}"
    );
}

#[tokio::test]
async fn open_registration_makes_a_client_that_completes_a_code_flow_with_pkce() {
    let app = spawn_app_with(Backend::Sqlite, OPEN).await;
    let discovery = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(discovery["registration_endpoint"], format!("{}/register", app.address));

    let (status, made, headers) = register(&app, None, &metadata()).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(headers["cache-control"], "no-store");
    let id = made["client_id"].as_str().unwrap();
    assert!(made["client_secret"].as_str().unwrap().starts_with("khs_"));
    assert_eq!(made["client_secret_expires_at"], 0);
    assert_eq!(made["client_id_issued_at"], app.clock.now());
    assert!(made["registration_access_token"].as_str().unwrap().starts_with("khm_"));
    assert_eq!(
        made["registration_client_uri"],
        format!("{}/register/{id}", app.address)
    );
    assert_eq!(made["redirect_uris"], json!([REDIRECT]));
    assert_eq!(made["grant_types"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(made["response_types"], json!(["code"]));
    assert_eq!(made["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(made["client_name"], "Agent");
    assert_eq!(made["scope"], "email offline_access openid profile");
    assert!(made.get("unknown_member").is_none());

    // Stored as a client nobody vetted.
    let stored = app.state.store.find_client(id).await.unwrap().unwrap();
    assert_eq!(stored.origin, keyhaven::domain::client::ClientOrigin::Registered);
    assert!(!stored.first_party && !stored.is_verified());

    app.create_user("alice").await;
    let client = test_client(&made);
    let (code, pkce) = app.code_for(&client, "alice", &[]).await;
    let response = app.exchange(&client, &code, &pkce.verifier).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert!(
        tokens["access_token"].is_string() && tokens["id_token"].is_string(),
        "{tokens}"
    );
    assert_eq!(events_of_kind(&app, "client_registered").await, 1);

    // A public client registers too, without a secret.
    let public = json!({
        "redirect_uris": ["http://127.0.0.1:8123/cb"],
        "token_endpoint_auth_method": "none",
    });
    let (status, made, _) = register(&app, None, &public).await;
    assert_eq!(status, 201, "{made}");
    assert!(made.get("client_secret").is_none() && made.get("client_secret_expires_at").is_none());
    assert_eq!(made["grant_types"], json!(["authorization_code"]));
}

#[tokio::test]
async fn registration_off_is_an_unknown_path() {
    // Positive control: on, the same request registers.
    let on = spawn_app_with(Backend::Sqlite, OPEN).await;
    assert_eq!(register(&on, None, &metadata()).await.0, 201);

    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    let (status, body, _) = register(&app, None, &metadata()).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, _) = manage(&app, reqwest::Method::GET, "khc-x", "khm_x", None).await;
    assert_eq!(status, 404);
    let discovery = app.get_json("/.well-known/openid-configuration").await;
    assert!(discovery.get("registration_endpoint").is_none(), "{discovery}");
}

#[tokio::test]
async fn the_token_policy_needs_an_initial_access_token_with_a_use_left() {
    let admin = admin_app_with(&[("client_registration", "token"), GENEROUS]).await;
    let app = &admin.app;

    // Missing, and wrong: refused before anything is made.
    let (status, body, headers) = register(app, None, &metadata()).await;
    assert_invalid_token(status, &body, "missing");
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let (status, body, _) = register(app, Some("khi_not-a-token"), &metadata()).await;
    assert_invalid_token(status, &body, "wrong");

    // One use: the first registration has it, the second is refused.
    let (status, made) = admin
        .post(
            "/registration-tokens",
            json!({ "uses": 1, "expires_in": 3600, "note": "partner" }),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let once = made["token"].as_str().unwrap().to_owned();
    assert!(once.starts_with("khi_"));
    assert_eq!(made["uses"], 1);
    let (status, body, _) = register(app, Some(&once), &metadata()).await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _) = register(app, Some(&once), &metadata()).await;
    assert_invalid_token(status, &body, "used up");

    // Bad metadata does not take a use.
    let (_, made) = admin.post("/registration-tokens", json!({ "expires_in": 60 })).await;
    let short = made["token"].as_str().unwrap().to_owned();
    let (status, body, _) = register(app, Some(&short), &json!({ "redirect_uris": ["http://rp.example/cb"] })).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_redirect_uri")));
    // Expired: a minute later the token that was good is not.
    app.clock.advance(61);
    let (status, body, _) = register(app, Some(&short), &metadata()).await;
    assert_invalid_token(status, &body, "expired");
    let (status, body) = admin.post("/registration-tokens", json!({ "uses": 0 })).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("uses")), "{body}");

    // The command line makes them alike.
    let out = app
        .cli(&[
            "--json",
            "client",
            "registration-token",
            "--uses",
            "2",
            "--expires-in",
            "1d",
        ])
        .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made = stdout_json(&out);
    let twice = made["token"].as_str().unwrap();
    assert_eq!(made["uses"], 2);
    for _ in 0..2 {
        assert_eq!(register(app, Some(twice), &metadata()).await.0, 201);
    }
    let (status, body, _) = register(app, Some(twice), &metadata()).await;
    assert_invalid_token(status, &body, "cli token used up");
    assert!(events_of_kind(app, "registration_token_refused").await >= 5);
    assert_eq!(events_of_kind(app, "registration_token_created").await, 3);
}

#[tokio::test]
async fn bad_metadata_is_refused_with_its_rfc_7591_error() {
    let app = spawn_app_with(Backend::Sqlite, OPEN).await;
    // Positive control.
    assert_eq!(register(&app, None, &metadata()).await.0, 201);
    let with = |changes: Value| {
        let mut body = metadata();
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, error) in [
        (
            with(json!({ "redirect_uris": ["http://rp.example/cb"] })),
            "invalid_redirect_uri",
        ),
        (
            with(json!({ "redirect_uris": ["https://rp.example/cb#frag"] })),
            "invalid_redirect_uri",
        ),
        (with(json!({ "redirect_uris": [] })), "invalid_redirect_uri"),
        (
            with(json!({ "grant_types": ["client_credentials"] })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "grant_types": ["authorization_code", "client_credentials"] })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "scope": "openid keyhaven:admin" })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "token_endpoint_auth_method": "private_key_jwt" })),
            "invalid_client_metadata",
        ),
        (with(json!({ "response_types": ["token"] })), "invalid_client_metadata"),
        (with(json!({ "redirect_uris": REDIRECT })), "invalid_client_metadata"),
        (
            with(json!({ "client_name": "x".repeat(201) })),
            "invalid_client_metadata",
        ),
        (
            with(json!({ "token_endpoint_auth_method": "none", "jwks_uri": "https://a.example/jwks" })),
            "invalid_client_metadata",
        ),
    ] {
        let (status, refused, _) = register(&app, None, &body).await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (400, Some(error)),
            "{body} -> {refused}"
        );
        assert!(refused["error_description"].is_string());
    }
    // Only JSON is taken.
    let response = app
        .http
        .post(format!("{}/register", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("redirect_uris=https://rp.example/cb")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    // A registration cannot make a first-party client: the member is not read.
    let (status, made, _) = register(&app, None, &with(json!({ "first_party": true }))).await;
    assert_eq!(status, 201);
    let stored = app
        .state
        .store
        .find_client(made["client_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.first_party);
    // Big bodies are refused.
    let big = with(json!({ "client_name": "x".repeat(20_000) }));
    let (status, _, _) = register(&app, None, &big).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn a_client_reads_updates_and_deletes_its_registration_with_its_token() {
    let app = spawn_app_with(Backend::Sqlite, OPEN).await;
    let (_, made, _) = register(&app, None, &metadata()).await;
    let (_, other, _) = register(&app, None, &metadata()).await;
    let id = made["client_id"].as_str().unwrap().to_owned();
    let token = made["registration_access_token"].as_str().unwrap().to_owned();
    let others = other["registration_access_token"].as_str().unwrap().to_owned();

    // Read: with its token (positive), not with a wrong one or another client's.
    let (status, read) = manage(&app, reqwest::Method::GET, &id, &token, None).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["client_id"], id.as_str());
    assert_eq!(read["client_name"], "Agent");
    assert_eq!(read["registration_access_token"], token.as_str());
    assert!(read.get("client_secret").is_none());
    for (wrong, what) in [(others.as_str(), "another client's"), ("khm_wrong", "wrong")] {
        let (status, body) = manage(&app, reqwest::Method::GET, &id, wrong, None).await;
        assert_invalid_token(status, &body, what);
        assert!(body.get("client_id").is_none());
    }
    let (status, body) = manage(&app, reqwest::Method::GET, "khc-nobody", &token, None).await;
    assert_invalid_token(status, &body, "unknown client");

    // Update: replaces the metadata, keeps the secret; the body names the client.
    let mut changed = metadata();
    changed["client_id"] = json!(id);
    changed["client_name"] = json!("Agent 2");
    changed["redirect_uris"] = json!([REDIRECT, "https://rp.example/other"]);
    let (status, body) = manage(&app, reqwest::Method::PUT, &id, &others, Some(&changed)).await;
    assert_invalid_token(status, &body, "update with another client's token");
    let (status, updated) = manage(&app, reqwest::Method::PUT, &id, &token, Some(&changed)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["client_name"], "Agent 2");
    assert_eq!(updated["redirect_uris"].as_array().unwrap().len(), 2);
    let mut mismatched = changed.clone();
    mismatched["client_id"] = other["client_id"].clone();
    let (status, body) = manage(&app, reqwest::Method::PUT, &id, &token, Some(&mismatched)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")));
    let mut bad = changed.clone();
    bad["redirect_uris"] = json!(["http://rp.example/cb"]);
    let (status, body) = manage(&app, reqwest::Method::PUT, &id, &token, Some(&bad)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_redirect_uri")));
    let mut to_public = changed.clone();
    to_public["token_endpoint_auth_method"] = json!("none");
    let (status, body) = manage(&app, reqwest::Method::PUT, &id, &token, Some(&to_public)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")));

    // The secret still works after the update: tokens, then delete, then they stop working.
    app.create_user("alice").await;
    let client = test_client(&made);
    let (code, pkce) = app.code_for(&client, "alice", &[]).await;
    let tokens: Value = app.exchange(&client, &code, &pkce.verifier).await.json().await.unwrap();
    let refresh = tokens["refresh_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"))
        .to_owned();

    let (status, _) = manage(&app, reqwest::Method::DELETE, &id, &others, None).await;
    assert_eq!(status, 401);
    assert!(app.state.store.find_client(&id).await.unwrap().is_some());
    let (status, _) = manage(&app, reqwest::Method::DELETE, &id, &token, None).await;
    assert_eq!(status, 204);
    assert!(app.state.store.find_client(&id).await.unwrap().is_none());
    let (status, body) = manage(&app, reqwest::Method::GET, &id, &token, None).await;
    assert_invalid_token(status, &body, "after delete");
    let response = app
        .token(&client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(response.status(), 401, "a deleted client's refresh token stops working");
    // The other client is untouched.
    assert_eq!(
        manage(
            &app,
            reqwest::Method::GET,
            other["client_id"].as_str().unwrap(),
            &others,
            None
        )
        .await
        .0,
        200
    );
    for kind in ["client_registration_updated", "client_registration_deleted"] {
        assert_eq!(events_of_kind(&app, kind).await, 1, "{kind}");
    }
    assert!(events_of_kind(&app, "registration_token_refused").await >= 5);
}

#[tokio::test]
async fn registration_is_rate_limited_per_address() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("client_registration", "open"), ("rate_limit_registration", "2/1h")],
    )
    .await;
    for _ in 0..2 {
        assert_eq!(register(&app, None, &metadata()).await.0, 201);
    }
    let (status, body, headers) = register(&app, None, &metadata()).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_requests")));
    assert!(headers.contains_key("retry-after"));
}

#[tokio::test]
async fn a_registered_client_gets_only_resources_open_to_self_registered_clients() {
    let admin = admin_app_with(OPEN).await;
    let app = &admin.app;
    let (status, closed) = admin
        .post("/resources", json!({ "uri": CLOSED_API, "name": "Closed" }))
        .await;
    assert_eq!((status, &closed["open_to_self_registered"]), (201, &json!(false)));
    let (status, open) = admin
        .post(
            "/resources",
            json!({ "uri": MCP, "name": "MCP server", "open_to_self_registered": true }),
        )
        .await;
    assert_eq!(
        (status, &open["open_to_self_registered"]),
        (201, &json!(true)),
        "{open}"
    );
    app.maintain_keys().await;

    let (_, made, _) = register(app, None, &metadata()).await;
    let client = test_client(&made);
    app.create_user("alice").await;

    // Not open: refused at the authorization endpoint.
    let pkce = crate::flow::pkce();
    let url = app.authorize_url(&client.id, &pkce.challenge, &[("resource", Some(CLOSED_API))]);
    let done = app.authorize_as(&url, "alice").await;
    assert_eq!(
        query(&done).get("error").map(String::as_str),
        Some("invalid_target"),
        "{done}"
    );

    // Open: the token is for it, and for it alone.
    let (code, pkce) = app
        .code_for(
            &client,
            "alice",
            &[("resource", Some(MCP)), ("scope", Some("profile")), ("nonce", None)],
        )
        .await;
    let tokens: Value = app.exchange(&client, &code, &pkce.verifier).await.json().await.unwrap();
    let at = tokens["access_token"].as_str().unwrap_or_else(|| panic!("{tokens}"));
    let aud = jwt_claims(at)["aud"].clone();
    assert!(aud == json!(MCP) || aud == json!([MCP]), "{aud}");

    // Without a resource, no default: an OpenID token is for userinfo alone.
    let (code, pkce) = app.code_for(&client, "alice", &[]).await;
    let tokens: Value = app.exchange(&client, &code, &pkce.verifier).await.json().await.unwrap();
    let aud = jwt_claims(tokens["access_token"].as_str().unwrap())["aud"].clone();
    let userinfo = format!("{}/userinfo", app.address);
    assert!(aud == json!(userinfo) || aud == json!([userinfo]), "{aud}");

    // Closed again: refused again.
    let (status, changed) = admin
        .call(
            reqwest::Method::PATCH,
            "/resources/https%3A%2F%2Fmcp.example%2Fmcp",
            Some(json!({ "open_to_self_registered": false })),
        )
        .await;
    assert_eq!((status, &changed["open_to_self_registered"]), (200, &json!(false)));
    app.maintain_keys().await;
    let pkce = crate::flow::pkce();
    let url = app.authorize_url(&client.id, &pkce.challenge, &[("resource", Some(MCP))]);
    let done = app.authorize_as(&url, "alice").await;
    assert_eq!(
        query(&done).get("error").map(String::as_str),
        Some("invalid_target"),
        "closed again: {done}"
    );
}

#[tokio::test]
async fn the_resource_command_sets_and_shows_open_to_self_registered() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    let made = stdout_json(
        &app.cli(&[
            "--json",
            "resource",
            "create",
            "--uri",
            MCP,
            "--name",
            "MCP",
            "--open-to-self-registered",
            "true",
        ])
        .await,
    );
    assert_eq!(made["open_to_self_registered"], true);
    let changed = stdout_json(
        &app.cli(&[
            "--json",
            "resource",
            "update",
            MCP,
            "--open-to-self-registered",
            "false",
        ])
        .await,
    );
    assert_eq!(changed["open_to_self_registered"], false);
    let shown = stdout_json(&app.cli(&["--json", "resource", "show", MCP]).await);
    assert_eq!(shown["open_to_self_registered"], false);
    let bad = app
        .cli(&["resource", "update", MCP, "--open-to-self-registered", "maybe"])
        .await;
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set KEYHAVEN_TEST_POSTGRES_URL"]
async fn registration_and_its_management_on_postgres() {
    let app = spawn_app_with(Backend::Postgres, &[("client_registration", "token"), GENEROUS]).await;
    let out = app
        .cli(&["--json", "client", "registration-token", "--uses", "1"])
        .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let initial = stdout_json(&out)["token"].as_str().unwrap().to_owned();
    let (status, made, _) = register(&app, Some(&initial), &metadata()).await;
    assert_eq!(status, 201, "{made}");
    let (status, body, _) = register(&app, Some(&initial), &metadata()).await;
    assert_invalid_token(status, &body, "used up");
    let id = made["client_id"].as_str().unwrap();
    let token = made["registration_access_token"].as_str().unwrap();
    assert_eq!(manage(&app, reqwest::Method::GET, id, token, None).await.0, 200);
    assert_eq!(manage(&app, reqwest::Method::GET, id, "khm_wrong", None).await.0, 401);
    let mut changed = metadata();
    changed["client_id"] = json!(id);
    changed["client_name"] = json!("Renamed");
    let (status, updated) = manage(&app, reqwest::Method::PUT, id, token, Some(&changed)).await;
    assert_eq!((status, updated["client_name"].as_str()), (200, Some("Renamed")));
    assert_eq!(manage(&app, reqwest::Method::DELETE, id, token, None).await.0, 204);
    assert_eq!(manage(&app, reqwest::Method::GET, id, token, None).await.0, 401);
}

/// Anyone may register with the open policy: the rate limit bounds each sender, and
/// `self_registered_clients_max` bounds them all.
#[tokio::test]
async fn open_registration_stops_at_self_registered_clients_max() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("client_registration", "open"),
            GENEROUS,
            ("self_registered_clients_max", "2"),
        ],
    )
    .await;
    let mut made = Vec::new();
    for _ in 0..2 {
        let (status, body, _) = register(&app, None, &metadata()).await;
        assert_eq!(status, 201, "{body}");
        made.push(body);
    }
    let (status, body, _) = register(&app, None, &metadata()).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("access_denied")), "{body}");
    assert_eq!(
        app.state.store.list_clients().await.unwrap().len(),
        2,
        "nothing written"
    );
    // Positive control: once a client deletes its registration there is room again.
    let first = &made[0];
    let (status, _) = manage(
        &app,
        reqwest::Method::DELETE,
        first["client_id"].as_str().unwrap(),
        first["registration_access_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, body, _) = register(&app, None, &metadata()).await;
    assert_eq!(status, 201, "{body}");
}
