//! The faces (hosted pages, admin API, command line) call one flow each: regression tests for
//! the copies that had drifted apart, each named after the rule it holds.

use std::time::Duration;

use serde_json::Value;

use crate::flow::{ClientSpec, TestClient, API, PASSWORD};
use crate::helpers::{spawn_app, stdout_json, Backend, TestApp};

const NEW_PASSWORD: &str = "violet kettle marmalade 42";

/// Waits (bounded) until introspection of `token` says `active` is `expected`.
async fn wait_for_active(app: &TestApp, rs: &TestClient, token: &str, expected: bool) -> Duration {
    let started = std::time::Instant::now();
    for _ in 0..60 {
        if app.introspect(rs, token).await["active"] == Value::Bool(expected) {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("introspection did not say active={expected} within 6 s");
}

/// A person with a browser session, an access token and a refresh token.
async fn signed_in_with_tokens(app: &TestApp) -> (TestClient, TestClient, Value) {
    let client = app.register_client(ClientSpec::default()).await;
    let rs = app.resource_server(API).await;
    app.create_user("alice").await;
    let tokens = app.tokens_for(&client, "alice").await;
    (client, rs, tokens)
}

fn text<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name].as_str().unwrap_or_else(|| panic!("no {name} in {v}"))
}

#[tokio::test]
async fn disabling_a_user_ends_sessions_and_refresh_families() {
    let app = spawn_app(Backend::Sqlite).await;
    let (client, rs, tokens) = signed_in_with_tokens(&app).await;
    // Positive controls: the session, the access token and the refresh token all work.
    assert_eq!(app.get_url("/account").await.status(), 200);
    wait_for_active(&app, &rs, text(&tokens, "access_token"), true).await;
    let refreshed: Value = app
        .refresh(&client, text(&tokens, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    let refresh_token = text(&refreshed, "refresh_token").to_owned();

    let out = stdout_json(&app.cli(&["--json", "user", "disable", "alice"]).await);
    assert_eq!(out["disabled"], true);

    // The access token goes inactive at introspection (the revocation log, read every second).
    let took = wait_for_active(&app, &rs, text(&refreshed, "access_token"), false).await;
    assert!(took < Duration::from_secs(3), "took {took:?}");
    let refused = app.refresh(&client, &refresh_token, None).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let account = app.get_url("/account").await;
    assert_eq!(account.status(), 303, "signed out: sent to sign in");
}

#[tokio::test]
async fn cli_set_password_applies_policy_and_signs_out() {
    let app = spawn_app(Backend::Sqlite).await;
    let (client, rs, tokens) = signed_in_with_tokens(&app).await;
    let refresh_token = text(&tokens, "refresh_token");

    // The pages' password policy: a common password and one equal to the username are refused,
    // exit status 2, and change nothing.
    for weak in ["password1234", "alicealicealice", "short"] {
        let out = app
            .cli_with_stdin(
                &["user", "set-password", "alice", "--password-stdin"],
                &format!("{weak}\n"),
            )
            .await;
        assert_eq!(out.status.code(), Some(2), "{weak} refused");
        assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
    }
    assert_eq!(app.get_url("/account").await.status(), 200, "still signed in");
    wait_for_active(&app, &rs, text(&tokens, "access_token"), true).await;

    // A good one is set and ends every session, refresh family and access token.
    let out = app
        .cli_with_stdin(
            &["--json", "user", "set-password", "alice", "--password-stdin"],
            &format!("{NEW_PASSWORD}\n"),
        )
        .await;
    assert_eq!(stdout_json(&out)["password_set"], true);
    wait_for_active(&app, &rs, text(&tokens, "access_token"), false).await;
    let refused = app.refresh(&client, refresh_token, None).await;
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(app.get_url("/account").await.status(), 303);
    // The new password signs in; the old one does not.
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 401);
    assert_eq!(app.submit_login("/login", "alice", NEW_PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn admin_api_and_cli_disable_alike() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, rs, tokens) = signed_in_with_tokens(&app).await;
    let admin = app.admin_token().await;
    let bob = app.create_user("bob").await;
    let client = app.register_client(ClientSpec::default()).await;
    let bob_tokens = crate::security::new_browser(&app).tokens_for(&client, "bob").await;
    wait_for_active(&app, &rs, text(&bob_tokens, "access_token"), true).await;
    let r = app
        .http
        .post(format!("{}/admin/v1/users/{}/disable", app.address, bob.id))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_for_active(&app, &rs, text(&bob_tokens, "access_token"), false).await;
    // The same events from either face.
    stdout_json(&app.cli(&["--json", "user", "disable", "alice"]).await);
    wait_for_active(&app, &rs, text(&tokens, "access_token"), false).await;
    app.state.events.flush().await;
    let disabled = stdout_json(&app.cli(&["--json", "events", "--kind", "account_disabled"]).await);
    let kinds: Vec<&str> = disabled
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["account_disabled", "account_disabled"]);
}
