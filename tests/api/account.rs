//! The account area: devices, apps, password change, profile, activity.

use serde_json::{json, Value};

use crate::flow::{hidden, location, pkce, query, ClientSpec, TestClient, API, PASSWORD};
use crate::helpers::{spawn_app, Backend, TestApp};

const FIREFOX_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

fn browser_with_agent(app: &TestApp, agent: &str) -> TestApp {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .user_agent(agent)
        .build()
        .unwrap();
    TestApp {
        http,
        ..app.shallow_clone()
    }
}

fn text(v: &Value, name: &str) -> String {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {v}"))
        .to_owned()
}

/// Posts `fields` with the CSRF token of the form on `page`.
pub async fn post_form(app: &TestApp, page: &str, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let html = app.get_url(page).await.text().await.unwrap();
    let csrf = hidden(&html, "csrf_token").expect("csrf token");
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    app.http
        .post(format!("{}{action}", app.address))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn sid_of(tokens: &Value) -> String {
    crate::token::jwt_claims(&text(tokens, "id_token"))["sid"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn two_devices() -> (TestApp, TestClient, TestClient, TestApp, Value, TestApp, Value) {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    let rs = app.resource_server(API).await;
    app.create_user("alice").await;
    let laptop = browser_with_agent(&app, FIREFOX_LINUX);
    let laptop_tokens = laptop.tokens_for(&client, "alice").await;
    let desktop = browser_with_agent(&app, CHROME_WINDOWS);
    let desktop_tokens = desktop.tokens_for(&client, "alice").await;
    (app, client, rs, laptop, laptop_tokens, desktop, desktop_tokens)
}

async fn assert_signed_out(browser: &TestApp, client: &TestClient) {
    let p = pkce();
    let r = browser
        .get_url(&browser.authorize_url(&client.id, &p.challenge, &[("prompt", Some("none"))]))
        .await;
    assert_eq!(
        query(&location(&r))["error"],
        "login_required",
        "the browser's cookie is useless now"
    );
}

#[tokio::test]
async fn devices_lists_every_session_and_signs_out_another_one() {
    let (app, client, rs, laptop, laptop_tokens, desktop, desktop_tokens) = two_devices().await;
    let page = laptop.get_url("/account/devices").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Firefox on Linux") && html.contains("Chrome on Windows"),
        "device labels: {html}"
    );
    let current = html
        .split("class=\"device\"")
        .find(|d| d.contains("This device"))
        .unwrap();
    assert!(current.contains("Firefox on Linux"), "the current device is marked");
    assert!(html.contains(&sid_of(&desktop_tokens)));

    let signed_out = post_form(
        &laptop,
        "/account/devices",
        "/account/devices/revoke",
        &[("sid", &sid_of(&desktop_tokens))],
    )
    .await;
    assert_eq!(signed_out.status(), 303, "Post/Redirect/Get");
    assert_eq!(
        app.introspect(&client, &text(&desktop_tokens, "refresh_token")).await,
        json!({"active": false})
    );
    assert_eq!(
        app.introspect(&rs, &text(&desktop_tokens, "access_token")).await,
        json!({"active": false})
    );
    assert_signed_out(&desktop, &client).await;
    // The laptop lives on.
    assert_eq!(
        app.introspect(&rs, &text(&laptop_tokens, "access_token")).await["active"],
        true
    );
    assert_eq!(laptop.get_url("/account/devices").await.status(), 200);

    // A sid that is not one of the person's sessions changes nothing.
    let other = post_form(
        &laptop,
        "/account/devices",
        "/account/devices/revoke",
        &[("sid", "not-a-session")],
    )
    .await;
    assert_eq!(other.status(), 303);
    assert_eq!(
        app.introspect(&rs, &text(&laptop_tokens, "access_token")).await["active"],
        true
    );
}

#[tokio::test]
async fn sign_out_everywhere_else_keeps_only_this_device() {
    let (app, client, rs, laptop, laptop_tokens, desktop, desktop_tokens) = two_devices().await;
    let third = browser_with_agent(&app, "curl/8.0");
    let third_tokens = third.tokens_for(&client, "alice").await;
    let done = post_form(&laptop, "/account/devices", "/account/devices/revoke-others", &[]).await;
    assert_eq!(done.status(), 303);
    for tokens in [&desktop_tokens, &third_tokens] {
        assert_eq!(
            app.introspect(&client, &text(tokens, "refresh_token")).await,
            json!({"active": false})
        );
    }
    assert_signed_out(&desktop, &client).await;
    assert_signed_out(&third, &client).await;
    assert_eq!(
        app.introspect(&rs, &text(&desktop_tokens, "access_token")).await,
        json!({"active": false})
    );
    assert_eq!(
        app.introspect(&client, &text(&laptop_tokens, "refresh_token")).await["active"],
        true
    );
    let html = laptop.get_url("/account/devices").await.text().await.unwrap();
    assert_eq!(html.matches("class=\"device\"").count(), 1);
}

#[tokio::test]
async fn a_password_change_signs_out_the_other_sessions() {
    let (app, client, rs, laptop, laptop_tokens, desktop, desktop_tokens) = two_devices().await;
    let new = "violet kettle marmalade 42";
    let weak = post_form(
        &laptop,
        "/account/password",
        "/account/password",
        &[("current", PASSWORD), ("password", "short"), ("confirm", "short")],
    )
    .await;
    assert_eq!(weak.status(), 400);
    let wrong = post_form(
        &laptop,
        "/account/password",
        "/account/password",
        &[("current", "not it at all"), ("password", new), ("confirm", new)],
    )
    .await;
    assert_eq!(wrong.status(), 400);
    let changed = post_form(
        &laptop,
        "/account/password",
        "/account/password",
        &[("current", PASSWORD), ("password", new), ("confirm", new)],
    )
    .await;
    assert_eq!(changed.status(), 303);
    assert_eq!(
        app.introspect(&client, &text(&desktop_tokens, "refresh_token")).await,
        json!({"active": false})
    );
    assert_signed_out(&desktop, &client).await;
    assert_eq!(
        app.introspect(&rs, &text(&desktop_tokens, "access_token")).await,
        json!({"active": false})
    );
    assert_eq!(
        app.introspect(&client, &text(&laptop_tokens, "refresh_token")).await["active"],
        true,
        "this session stays"
    );
    assert_eq!(app.submit_login("/login", "alice", new).await.status(), 303);
}

#[tokio::test]
async fn removing_an_apps_access_revokes_it_and_asks_consent_again() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    let rs = app.resource_server(API).await;
    app.create_user("alice").await;
    let tokens = app.tokens_for(&client, "alice").await;
    let html = app.get_url("/account/apps").await.text().await.unwrap();
    assert!(html.contains("Relying Party") && html.contains(&client.id));
    let removed = post_form(
        &app,
        "/account/apps",
        "/account/apps/remove",
        &[("client_id", &client.id)],
    )
    .await;
    assert_eq!(removed.status(), 303);
    assert_eq!(
        app.introspect(&client, &text(&tokens, "refresh_token")).await,
        json!({"active": false})
    );
    assert_eq!(
        app.introspect(&rs, &text(&tokens, "access_token")).await,
        json!({"active": false})
    );
    let p = pkce();
    let again = app
        .get_url(&app.authorize_url(&client.id, &p.challenge, &[("prompt", Some("none"))]))
        .await;
    assert_eq!(
        query(&location(&again))["error"],
        "consent_required",
        "the next authorization asks again"
    );
    assert!(!app
        .get_url("/account/apps")
        .await
        .text()
        .await
        .unwrap()
        .contains(&client.id));
}

#[tokio::test]
async fn profile_email_change_and_activity() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    assert_eq!(
        app.get_url("/account").await.status(),
        303,
        "the account area needs a session"
    );
    app.submit_login("/login", "alice", PASSWORD).await;
    let page = app.get_url("/account").await.text().await.unwrap();
    assert!(page.contains("alice@example.com"));
    assert_eq!(
        post_form(&app, "/account", "/account/profile", &[("name", "Alice Liddell")])
            .await
            .status(),
        303
    );
    assert_eq!(
        app.state
            .store
            .find_user_by_login("alice")
            .await
            .unwrap()
            .unwrap()
            .claims["name"],
        "Alice Liddell"
    );

    assert_eq!(
        post_form(
            &app,
            "/account",
            "/account/email",
            &[("email", "alice@wonderland.example")]
        )
        .await
        .status(),
        303
    );
    let mails = app.wait_for_mails(1).await;
    assert!(mails[0].contains("alice@wonderland.example"));
    let start = mails[0].find("http://").unwrap();
    let link = mails[0][start..].split_whitespace().next().unwrap().to_owned();
    assert_eq!(
        app.state
            .store
            .find_user_by_login("alice")
            .await
            .unwrap()
            .unwrap()
            .email,
        "alice@example.com",
        "not before the link"
    );
    assert_eq!(app.get_url(&link).await.status(), 200);
    assert_eq!(
        app.state
            .store
            .find_user_by_login("alice")
            .await
            .unwrap()
            .unwrap()
            .email,
        "alice@wonderland.example"
    );
    assert_eq!(app.get_url(&link).await.status(), 400, "the link works once");

    app.state.events.flush().await;
    let activity = app.get_url("/account/activity").await.text().await.unwrap();
    assert!(
        activity.contains("<td data-label=\"What\">Signed in</td>"),
        "{activity}"
    );
    let forged = app
        .http
        .post(format!("{}/account/profile", app.address))
        .form(&[("name", "Mallory")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "CSRF on the account forms too");
}

#[tokio::test]
async fn lapsed_sessions_are_signed_out_with_their_refresh_families() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let tokens = app.tokens_for(&client, "alice").await;
    let ended = keyhaven::protocol::revocation::end_lapsed_sessions(&app.state.protocol(), 100)
        .await
        .unwrap();
    assert_eq!(ended, 0, "a fresh session has not lapsed");
    app.clock.advance(12 * 3600 + 1);
    let ended = keyhaven::protocol::revocation::end_lapsed_sessions(&app.state.protocol(), 100)
        .await
        .unwrap();
    assert_eq!(ended, 1, "idle for longer than session_idle_ttl");
    assert_eq!(
        app.introspect(&client, &text(&tokens, "refresh_token")).await,
        json!({"active": false})
    );
    assert_signed_out(&app, &client).await;
}
