//! Sign-in and sign-out as the services write them: what the security events record.

use keyhaven::domain::event::EventFilter;
use serde_json::json;

use crate::flow::{hidden, location, ClientSpec, PASSWORD};
use crate::helpers::{spawn_app_with, Backend, TestApp};

const AT_SIGN_IN: &str = "203.0.113.10";
const AT_SIGN_OUT: &str = "198.51.100.20";

/// Sends `request` as if from `ip` (through a proxy that the server trusts).
async fn from(ip: &str, request: reqwest::RequestBuilder) -> reqwest::Response {
    request.header("x-forwarded-for", ip).send().await.unwrap()
}

async fn events_of_kind(app: &TestApp, kind: &str) -> Vec<keyhaven::domain::event::SecurityEvent> {
    app.state.events.flush().await;
    app.state
        .store
        .list_events(&EventFilter {
            kind: Some(kind.into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn logout_event_names_the_address_the_logout_came_from() {
    let app = spawn_app_with(Backend::Sqlite, &[("trust_forwarded_for", "true")]).await;
    let alice = app.create_user("alice").await;
    let url = |path: &str| format!("{}{path}", app.address);

    let page = from(AT_SIGN_IN, app.http.get(url("/login")))
        .await
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf_token").unwrap();
    let form = [
        ("csrf_token", csrf.as_str()),
        ("login", "alice"),
        ("password", PASSWORD),
    ];
    let signed_in = from(AT_SIGN_IN, app.http.post(url("/login")).form(&form)).await;
    assert_eq!(signed_in.status(), 303);

    let page = from(AT_SIGN_OUT, app.http.get(url("/logout")))
        .await
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf_token").expect("a confirmation page");
    let form = [("confirm", "yes"), ("csrf_token", csrf.as_str())];
    let signed_out = from(AT_SIGN_OUT, app.http.post(url("/logout")).form(&form)).await;
    assert_eq!(signed_out.status(), 303);
    assert_eq!(location(&signed_out), "/login");
    assert!(app.get_url("/login").await.text().await.unwrap().contains("signed out"));

    // Positive control: the sign-in was recorded from where it came, so the proxy's header is
    // trusted.
    let logins = events_of_kind(&app, "login").await;
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].ip.as_deref(), Some(AT_SIGN_IN));
    let logouts = events_of_kind(&app, "logout").await;
    assert_eq!(logouts.len(), 1);
    assert_eq!(logouts[0].user_id.as_deref(), Some(alice.id.as_str()));
    assert_eq!(
        logouts[0].ip.as_deref(),
        Some(AT_SIGN_OUT),
        "the sign-out's own address, not the one the session was signed in from"
    );
}

#[tokio::test]
async fn an_idle_session_ends_with_its_refresh_families_when_its_browser_returns() {
    const IDLE: i64 = 12 * 3600;
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let tokens = app.tokens_for(&client, "alice").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    // Positive control: used just within the idle lifetime, the session lives on, and each
    // use slides the window.
    for _ in 0..2 {
        app.clock.advance(IDLE - 60);
        assert_eq!(app.get_url("/account").await.status(), 200, "still signed in");
    }
    assert_eq!(app.introspect(&client, &refresh).await["active"], true);

    // Unused for the whole idle lifetime: the browser is sent to sign in, and what the session
    // started ends with it.
    app.clock.advance(IDLE);
    let page = app.get_url("/account").await;
    assert_eq!(page.status(), 303);
    assert_eq!(location(&page), "/login?return_to=%2Faccount");
    assert_eq!(app.introspect(&client, &refresh).await, json!({"active": false}));
}

#[tokio::test]
async fn an_account_form_checks_its_csrf_token_before_the_session() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    // A browser with a cookie but no session (the reset page anchors its form to the browser's
    // cookie; the sign-in page sets none): its own token gets it sent to sign in...
    let page = app.get_url("/reset").await.text().await.unwrap();
    let csrf = hidden(&page, "csrf_token").unwrap();
    let post = |form: Vec<(&'static str, String)>| {
        app.http
            .post(format!("{}/account/profile", app.address))
            .form(&form)
            .send()
    };
    let with_token = post(vec![("csrf_token", csrf.clone()), ("name", "Alice".into())])
        .await
        .unwrap();
    assert_eq!(with_token.status(), 303);
    assert_eq!(location(&with_token), "/login?return_to=%2Faccount%2Fprofile");
    // ...and a forged post is refused as such, whether or not the browser is signed in.
    let forged = post(vec![("csrf_token", "forged".into()), ("name", "Mallory".into())])
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.headers().get("location").is_none());
    assert!(forged.text().await.unwrap().contains("This form has expired"));
}
