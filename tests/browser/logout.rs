//! RP-initiated logout (OIDC RP-Initiated Logout 1.0) in a browser: the app sends the person to
//! `/logout` with an ID token and its registered `post_logout_redirect_uri`. A hint naming the
//! browser's session signs out at once; a hint of an earlier session asks first. Either way
//! the browser lands back at the app, signed out.

use serde_json::Value;

use crate::harness::{
    authorize_url_for, create_user, exchange_code, pkce, query_of, register_client, sign_in, spawn_app, token_request,
    Browser, RegisteredClient, Viewport,
};
use crate::helpers::TestApp;

/// Signs in through the app (signing in on the page if the browser is not), allows it, and
/// returns the app's tokens.
async fn sign_in_through_the_app(app: &TestApp, client: &RegisteredClient, browser: &Browser) -> Value {
    let pkce = pkce();
    let scope = "openid profile offline_access";
    browser
        .goto(&authorize_url_for(app, client, &pkce, "st4te", "n0nce", scope))
        .await;
    if browser.path().await == "/login" {
        sign_in(browser, "alice").await;
    }
    if browser.path().await == "/consent" {
        browser.click_css("form[action='/consent'] button[value=allow]").await;
    }
    let code = query_of(browser).await.remove("code").expect("a code");
    let tokens = exchange_code(app, client, &code, &pkce).await;
    assert_eq!(tokens["status"], 200, "{tokens}");
    tokens
}

fn logout_url(app: &TestApp, client: &RegisteredClient, id_token: &Value, state: &str) -> String {
    let mut logout = url::Url::parse(&format!("{}/logout", app.address)).expect("url");
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", id_token.as_str().expect("an ID token"))
        .append_pair("post_logout_redirect_uri", &client.post_logout_redirect_uri)
        .append_pair("state", state);
    logout.into()
}

/// Where the browser is, when it is at the app after signing out (a port nothing listens on:
/// the address bar says where it was sent).
async fn assert_back_at_the_app(browser: &Browser, client: &RegisteredClient, state: &str) {
    let landed = browser.current_url().await;
    assert!(
        landed
            .as_str()
            .starts_with(&format!("{}?", client.post_logout_redirect_uri)),
        "the browser is back at the app: {landed}"
    );
    assert_eq!(query_of(browser).await.get("state").map(String::as_str), Some(state));
}

async fn refresh_error(app: &TestApp, client: &RegisteredClient, tokens: &Value) -> Value {
    let refresh_token = tokens["refresh_token"].as_str().expect("a refresh token");
    let answer = token_request(
        app,
        client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)],
    )
    .await;
    answer["error"].clone()
}

async fn rp_initiated_logout(viewport: Viewport) {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let client = register_client(&app, "Photo app").await;
    let browser = Browser::new(viewport).await;

    // The hint names this browser's session: signed out at once, back at the app.
    let first = sign_in_through_the_app(&app, &client, &browser).await;
    browser.goto(&format!("{}/account", app.address)).await;
    assert_eq!(
        browser.path().await,
        "/account",
        "the control: signed in, the account shows"
    );
    browser
        .goto_ending_at_the_app(&logout_url(&app, &client, &first["id_token"], "f1rst"))
        .await;
    assert_back_at_the_app(&browser, &client, "f1rst").await;
    browser.goto(&format!("{}/account", app.address)).await;
    assert_eq!(
        browser.path().await,
        "/login",
        "signed out, the account asks to sign in"
    );
    assert_eq!(refresh_error(&app, &client, &first).await, "invalid_grant");

    // Signed in again: the first session's hint does not name this one, so the page asks.
    let second = sign_in_through_the_app(&app, &client, &browser).await;
    browser
        .goto(&logout_url(&app, &client, &first["id_token"], "s3cond"))
        .await;
    assert_eq!(browser.path().await, "/logout");
    assert_eq!(browser.heading().await, "Sign out?");
    assert!(
        browser.body_text().await.contains("Photo app"),
        "the page names the app"
    );
    browser.check_page("1-confirm").await;
    assert_eq!(
        refresh_error(&app, &client, &second).await,
        Value::Null,
        "not signed out yet"
    );

    browser
        .click_css("form[action='/logout']:has(input[name=id_token_hint]) [type=submit]")
        .await;
    assert_back_at_the_app(&browser, &client, "s3cond").await;
    browser.goto(&format!("{}/account", app.address)).await;
    assert_eq!(
        browser.path().await,
        "/login",
        "signed out, the account asks to sign in"
    );
    browser.check_page("2-signed-out").await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn rp_initiated_logout_confirms_then_lands_at_the_app_on_a_desktop() {
    rp_initiated_logout(Viewport::Desktop).await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn rp_initiated_logout_confirms_then_lands_at_the_app_on_a_phone() {
    rp_initiated_logout(Viewport::Mobile).await;
}
