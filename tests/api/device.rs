//! The device authorization grant (RFC 8628): `/device_authorization`, the person at `/device`,
//! the device polling `/token`. Every refusal beside the same request succeeding.

use keyhaven::domain::client::{ClientType, GrantType};
use reqwest::StatusCode;
use serde_json::Value;

use crate::account::post_form;
use crate::flow::{location, ClientSpec, TestClient, API, PASSWORD};
use crate::helpers::{spawn_app_with, stdout_json, Backend, TestApp};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn device_app(extra: &[(&'static str, &str)]) -> TestApp {
    device_app_on(Backend::Sqlite, extra).await
}

async fn device_app_on(backend: Backend, extra: &[(&'static str, &str)]) -> TestApp {
    let mut settings = vec![("device_poll_interval", "1s")];
    settings.extend_from_slice(extra);
    let app = spawn_app_with(backend, &settings).await;
    app.create_user("alice").await;
    app
}

/// A public client of the device grant (and refresh), as a TV app would be registered.
async fn device_client(app: &TestApp) -> TestClient {
    app.register_client(ClientSpec {
        client_type: ClientType::Public,
        redirect_uris: vec![],
        grants: vec![GrantType::DeviceCode, GrantType::RefreshToken],
        audiences: vec![API],
        ..ClientSpec::default()
    })
    .await
}

/// `POST /device_authorization` as `client` (Basic for a confidential one, `client_id` else).
async fn start_with(app: &TestApp, client: &TestClient, scope: &str) -> (StatusCode, Value) {
    let (status, _, body) = start_answer(app, client, scope).await;
    (status, body)
}

async fn start_answer(
    app: &TestApp,
    client: &TestClient,
    scope: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = app.http.post(format!("{}/device_authorization", app.address));
    let mut form = vec![("scope", scope)];
    match &client.secret {
        Some(secret) => request = request.basic_auth(&client.id, Some(secret)),
        None => form.push(("client_id", &client.id)),
    }
    let response = request.form(&form).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

async fn start(app: &TestApp, client: &TestClient) -> Value {
    let (status, body) = start_with(app, client, "openid offline_access").await;
    assert_eq!(status, 200, "{body}");
    body
}

fn text(v: &Value, name: &str) -> String {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {v}"))
        .to_owned()
}

/// One poll of `/token`: (status, body).
async fn poll(app: &TestApp, client: &TestClient, device_code: &str) -> (StatusCode, Value) {
    let response = app
        .token(client, &[("grant_type", DEVICE_GRANT), ("device_code", device_code)])
        .await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn poll_error(app: &TestApp, client: &TestClient, device_code: &str) -> String {
    let (status, body) = poll(app, client, device_code).await;
    assert_eq!(status, 400, "{body}");
    text(&body, "error")
}

/// A browser of its own, signed in as alice through the way `/device` sends a signed-out one.
async fn signed_in_browser(app: &TestApp) -> TestApp {
    let browser = TestApp {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap(),
        ..app.shallow_clone()
    };
    let asked = browser.get_url("/device").await;
    assert_eq!(asked.status(), 303);
    let back = browser.submit_login(&location(&asked), "alice", PASSWORD).await;
    assert_eq!(location(&back), "/device");
    browser
}

async fn enter_code(browser: &TestApp, code: &str) -> (StatusCode, String) {
    let response = post_form(browser, "/device", "/device", &[("user_code", code)]).await;
    let status = response.status();
    (status, response.text().await.unwrap())
}

async fn decide(browser: &TestApp, code: &str, decision: &str) -> reqwest::Response {
    post_form(
        browser,
        "/device",
        "/device/decide",
        &[("user_code", code), ("decision", decision)],
    )
    .await
}

/// A device authorization alice approved: (app, client, device code).
async fn approved() -> (TestApp, TestClient, String) {
    approved_on(Backend::Sqlite).await
}

async fn approved_on(backend: Backend) -> (TestApp, TestClient, String) {
    let app = device_app_on(backend, &[]).await;
    let client = device_client(&app).await;
    let started = start(&app, &client).await;
    let browser = signed_in_browser(&app).await;
    let code = text(&started, "user_code");
    let (status, _) = enter_code(&browser, &code).await;
    assert_eq!(status, 200);
    let done = decide(&browser, &code, "approve").await;
    assert_eq!(location(&done), "/device/done?result=approved");
    (app, client, text(&started, "device_code"))
}

#[tokio::test]
async fn an_approved_device_gets_tokens_that_verify_and_refresh() {
    let app = device_app(&[]).await;
    let client = device_client(&app).await;
    let (status, headers, started) = start_answer(&app, &client, "openid offline_access").await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(headers["cache-control"], "no-store");
    let user_code = text(&started, "user_code");
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert!(user_code
        .chars()
        .filter(|c| *c != '-')
        .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)));
    assert!(text(&started, "device_code").len() >= 43, "256 bits");
    assert_eq!(started["verification_uri"], format!("{}/device", app.address));
    assert_eq!(
        started["verification_uri_complete"],
        format!("{}/device?user_code={user_code}", app.address)
    );
    assert_eq!(started["expires_in"], 600);
    assert_eq!(started["interval"], 1);
    let device_code = text(&started, "device_code");

    // Before the person answers: pending.
    assert_eq!(poll_error(&app, &client, &device_code).await, "authorization_pending");

    // The person opens the complete URI: the code is filled in.
    let browser = signed_in_browser(&app).await;
    let page = browser
        .get_url(&text(&started, "verification_uri_complete"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("value=\"{user_code}\"")), "{page}");
    // Typed in lower case without the dash: the same code. The page names the client as its claim.
    let (status, page) = enter_code(&browser, &user_code.replace('-', "").to_lowercase()).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("says it is Relying Party"), "{page}");
    assert!(page.contains("Confirm who you are"), "the scopes in words: {page}");
    let done = decide(&browser, &user_code, "approve").await;
    assert_eq!(done.status(), 303);
    let done_page = browser.get_url(&location(&done)).await.text().await.unwrap();
    assert!(done_page.contains("return to your device"), "{done_page}");

    app.clock.advance(2);
    let (status, tokens) = poll(&app, &client, &device_code).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["id_token"].is_string(), "openid was asked: {tokens}");
    let userinfo = app
        .http
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(text(&tokens, "access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200, "the access token verifies");
    let refreshed = app
        .token(
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &text(&tokens, "refresh_token")),
            ],
        )
        .await;
    assert_eq!(refreshed.status(), 200, "{}", refreshed.text().await.unwrap());
}

#[tokio::test]
async fn polling_sooner_than_the_interval_is_slow_down_and_grows_it() {
    let app = device_app(&[]).await;
    let client = device_client(&app).await;
    let device_code = text(&start(&app, &client).await, "device_code");
    assert_eq!(poll_error(&app, &client, &device_code).await, "authorization_pending");
    // The same second again: too fast, and the interval is now 1 + 5 s.
    assert_eq!(poll_error(&app, &client, &device_code).await, "slow_down");
    app.clock.advance(6);
    assert_eq!(
        poll_error(&app, &client, &device_code).await,
        "authorization_pending",
        "a poll after the grown interval is fine"
    );
    app.clock.advance(2);
    assert_eq!(
        poll_error(&app, &client, &device_code).await,
        "slow_down",
        "2 s is no longer enough"
    );
}

#[tokio::test]
async fn a_denied_device_gets_access_denied() {
    let app = device_app(&[]).await;
    let client = device_client(&app).await;
    let started = start(&app, &client).await;
    let device_code = text(&started, "device_code");
    let code = text(&started, "user_code");
    assert_eq!(poll_error(&app, &client, &device_code).await, "authorization_pending");
    let browser = signed_in_browser(&app).await;
    assert_eq!(enter_code(&browser, &code).await.0, 200);
    let done = decide(&browser, &code, "deny").await;
    assert_eq!(location(&done), "/device/done?result=denied");
    let page = browser.get_url(&location(&done)).await.text().await.unwrap();
    assert!(page.contains("return to your device"), "{page}");
    app.clock.advance(2);
    assert_eq!(poll_error(&app, &client, &device_code).await, "access_denied");
    // Decided: the code is no longer one to type.
    assert_eq!(enter_code(&browser, &code).await.0, 400);
}

#[tokio::test]
async fn an_expired_device_code_is_expired_token() {
    let app = device_app(&[("device_code_ttl", "30s")]).await;
    let client = device_client(&app).await;
    let started = start(&app, &client).await;
    assert_eq!(started["expires_in"], 30);
    let device_code = text(&started, "device_code");
    app.clock.advance(29);
    assert_eq!(poll_error(&app, &client, &device_code).await, "authorization_pending");
    app.clock.advance(1);
    assert_eq!(poll_error(&app, &client, &device_code).await, "expired_token");
    // Its user code is no longer accepted either.
    let browser = signed_in_browser(&app).await;
    let (status, page) = enter_code(&browser, &text(&started, "user_code")).await;
    assert_eq!(status, 400);
    assert!(page.contains("That code is not right"), "{page}");
}

#[tokio::test]
async fn wrong_user_codes_are_limited_per_session_and_address() {
    // Lives past the 15-minute window.
    let app = device_app(&[("device_code_ttl", "1h")]).await;
    let client = device_client(&app).await;
    let code = text(&start(&app, &client).await, "user_code");
    let browser = signed_in_browser(&app).await;
    for wrong in ["BBBB-BBBB", "not a code", "CCCC-CCCC", "DDDD-DDDD"] {
        let (status, page) = enter_code(&browser, wrong).await;
        assert_eq!(status, 400, "{wrong}");
        assert!(page.contains("That code is not right"), "{page}");
    }
    // Four wrong: the right code still works.
    let (status, page) = enter_code(&browser, &code).await;
    assert_eq!(status, 200, "{code}: {page}");
    // The fifth wrong one reaches the limit: now even the right code is refused, in words.
    assert_eq!(enter_code(&browser, "FFFF-FFFF").await.0, 400);
    let (status, page) = enter_code(&browser, &code).await;
    assert_eq!(status, 429);
    assert!(page.contains("Too many wrong codes"), "{page}");
    assert!(page.contains("Try again in"), "{page}");
    // Approving through the decision form is under the same limit.
    assert_eq!(decide(&browser, &code, "approve").await.status(), 429);
    // Another session from the same address is limited too (the address counts).
    let other = signed_in_browser(&app).await;
    assert_eq!(enter_code(&other, &code).await.0, 429);
    // After the window the right code works again.
    app.clock.advance(15 * 60);
    assert_eq!(enter_code(&browser, &code).await.0, 200);
}

#[tokio::test]
async fn a_client_without_the_device_grant_is_unauthorized_client() {
    let app = device_app(&[]).await;
    let device = device_client(&app).await;
    let (status, body) = start_with(&app, &device, "openid").await;
    assert_eq!(status, 200, "{body}");
    let web = app.register_client(ClientSpec::default()).await;
    let (status, body) = start_with(&app, &web, "openid").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unauthorized_client");
    // Nor may it redeem someone else's device code at the token endpoint.
    let (status, body) = poll(&app, &web, &text(&start(&app, &device).await, "device_code")).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unauthorized_client");
}

#[tokio::test]
async fn a_device_code_is_single_use() {
    let (app, client, device_code) = approved().await;
    app.clock.advance(2);
    let (status, body) = poll(&app, &client, &device_code).await;
    assert_eq!(status, 200, "{body}");
    app.clock.advance(2);
    let (status, body) = poll(&app, &client, &device_code).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set KEYHAVEN_TEST_POSTGRES_URL"]
async fn a_device_code_is_single_use_on_postgres() {
    let (app, client, device_code) = approved_on(Backend::Postgres).await;
    app.clock.advance(2);
    let (status, body) = poll(&app, &client, &device_code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(poll(&app, &client, &device_code).await.1["error"], "invalid_grant");
}

#[tokio::test]
async fn the_device_page_sends_a_signed_out_person_to_sign_in_and_back() {
    let app = device_app(&[]).await;
    let asked = app.get_url("/device?user_code=BCDF-GHJK").await;
    assert_eq!(asked.status(), 303);
    let login = location(&asked);
    assert_eq!(login, "/login?return_to=%2Fdevice%3Fuser_code%3DBCDF-GHJK");
    let back = app.submit_login(&login, "alice", PASSWORD).await;
    assert_eq!(location(&back), "/device?user_code=BCDF-GHJK");
    let page = app.get_url("/device?user_code=BCDF-GHJK").await;
    assert_eq!(page.status(), 200);
    for header in ["content-security-policy", "x-frame-options"] {
        assert!(page.headers().contains_key(header), "{header}");
    }
    assert_eq!(page.headers()["cache-control"], "no-store");
    // A form post without its CSRF token is refused.
    let forged = app
        .http
        .post(format!("{}/device", app.address))
        .form(&[("user_code", "BCDF-GHJK")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
}

#[tokio::test]
async fn discovery_advertises_the_device_endpoint_and_grant() {
    let app = device_app(&[]).await;
    let doc = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{}/device_authorization", app.address)
    );
    let grants = doc["grant_types_supported"].as_array().unwrap();
    assert!(grants.iter().any(|g| g == DEVICE_GRANT), "{grants:?}");
}

#[tokio::test]
async fn the_readme_device_client_is_made_by_the_cli_with_the_short_grant_name() {
    let app = device_app(&[]).await;
    let created = stdout_json(
        &app.cli(&[
            "client",
            "create",
            "--name",
            "Living-room TV",
            "--type",
            "public",
            "--grant-type",
            "device_code",
            "--grant-type",
            "refresh_token",
            "--scope",
            "openid",
            "--scope",
            "profile",
            "--scope",
            "offline_access",
            "--json",
        ])
        .await,
    );
    assert_eq!(
        created["grant_types"],
        serde_json::json!(["refresh_token", DEVICE_GRANT]),
        "stored and shown by the wire name"
    );
    let tv = TestClient {
        id: text(&created, "client_id"),
        secret: None,
    };
    let (status, body) = start_with(&app, &tv, "openid profile offline_access").await;
    assert_eq!(status, 200, "{body}");
    // A scope beyond the registered ones is refused, as at /authorize.
    let (status, body) = start_with(&app, &tv, "openid email").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_scope");
}

#[tokio::test]
async fn the_admin_api_takes_the_grant_by_its_short_or_wire_name() {
    let admin = crate::admin::admin_app_with(&[]).await;
    for name in ["device_code", DEVICE_GRANT] {
        let (status, created) = admin
            .post(
                "/clients",
                serde_json::json!({ "name": "TV", "client_type": "public", "grant_types": [name], "scopes": ["openid"] }),
            )
            .await;
        assert_eq!(status, 201, "{name}: {created}");
        assert_eq!(created["grant_types"], serde_json::json!([DEVICE_GRANT]), "{name}");
    }
    let (status, refused) = admin
        .post(
            "/clients",
            serde_json::json!({ "name": "TV", "client_type": "public", "grant_types": ["device"] }),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
}

/// The kinds of the recorded events, oldest first.
async fn event_kinds(app: &TestApp) -> Vec<(String, String)> {
    app.state.events.flush().await;
    let mut events = app
        .state
        .store
        .list_events(&keyhaven::domain::event::EventFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    events.reverse();
    events
        .into_iter()
        .filter(|e| e.kind.starts_with("device_"))
        .map(|e| (e.kind, e.outcome))
        .collect()
}

#[tokio::test]
async fn every_step_of_the_device_flow_is_a_security_event() {
    let (app, client, device_code) = approved().await;
    app.clock.advance(2);
    assert_eq!(poll(&app, &client, &device_code).await.0, 200);
    let denied = start(&app, &client).await;
    let browser = signed_in_browser(&app).await;
    assert_eq!(enter_code(&browser, "BBBB-BBBB").await.0, 400);
    let code = text(&denied, "user_code");
    assert_eq!(enter_code(&browser, &code).await.0, 200);
    assert_eq!(decide(&browser, &code, "deny").await.status(), 303);
    let pair = |k: &str, o: &str| (k.to_owned(), o.to_owned());
    assert_eq!(
        event_kinds(&app).await,
        [
            pair("device_authorization_started", "success"),
            pair("device_approved", "success"),
            pair("device_code_redeemed", "success"),
            pair("device_authorization_started", "success"),
            pair("device_user_code_wrong", "failure"),
            pair("device_denied", "success"),
        ]
    );
    // The start names the address it came from, as every other step does.
    let started = app
        .state
        .store
        .list_events(&keyhaven::domain::event::EventFilter {
            kind: Some("device_authorization_started".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        started.iter().all(|e| e.ip.as_deref() == Some("127.0.0.1")),
        "{started:?}"
    );
}

#[tokio::test]
async fn the_device_authorization_endpoint_holds_bodies_to_the_api_limit() {
    let app = device_app(&[]).await;
    let client = device_client(&app).await;
    let long = app
        .http
        .post(format!("{}/device_authorization", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id={}&scope=openid&note={}",
            client.id,
            "a".repeat(60 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(long.status(), 200, "a long but legal body");
    let too_long = app
        .http
        .post(format!("{}/device_authorization", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id={}&scope=openid&note={}",
            client.id,
            "a".repeat(70 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), 413);
    // A repeated parameter (other than resource) is refused, as at the token endpoint.
    let twice = app
        .http
        .post(format!("{}/device_authorization", app.address))
        .form(&[
            ("client_id", client.id.as_str()),
            ("scope", "openid"),
            ("scope", "profile"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), 400);
    assert_eq!(twice.json::<Value>().await.unwrap()["error"], "invalid_request");
}
