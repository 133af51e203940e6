//! The authorization code flow as a person goes through it: the client sends the browser to
//! `/authorize`, they sign in and allow, and the browser arrives at the client with a code.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use crate::harness::{authorize_url, create_user, pkce, register_client, sign_in, spawn_app, Browser, Viewport};

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn signing_in_and_allowing_in_a_browser_brings_a_code_the_client_can_exchange() {
    let app = spawn_app().await;
    let user_id = create_user(&app, "alice").await;
    let client = register_client(&app, "Photo app").await;
    let pkce = pkce();
    let browser = Browser::new(Viewport::Desktop).await;

    browser
        .goto(&authorize_url(&app, &client, &pkce, "st4te", "n0nce"))
        .await;
    assert_eq!(browser.path().await, "/login");
    browser.screenshot("1-login").await;
    sign_in(&browser, "alice").await;

    assert_eq!(browser.path().await, "/consent");
    assert_eq!(browser.heading().await, "Allow Photo app to access your account?");
    browser.screenshot("2-consent").await;
    browser.click("Allow").await;

    let landed = browser.current_url().await;
    assert!(
        landed.as_str().starts_with(&format!("{}?", client.redirect_uri)),
        "the browser is at the client: {landed}"
    );
    let params: std::collections::HashMap<String, String> = landed.query_pairs().into_owned().collect();
    assert_eq!(params.get("state").map(String::as_str), Some("st4te"));
    let code = params.get("code").expect("a code in the redirect");

    // The client's back channel: the code and the verifier for tokens.
    let response = app
        .http
        .post(format!("{}/token", app.address))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &pkce.verifier),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.expect("JSON");
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let payload = id_token.split('.').nth(1).expect("a JWS has a payload");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON");
    assert_eq!(claims["sub"], Value::from(user_id));
    assert_eq!(claims["aud"], Value::from(client.id.clone()));
    assert_eq!(claims["iss"], Value::from(app.address.clone()));
    assert_eq!(claims["nonce"], "n0nce");

    // Negative beside it: the same code a second time is refused.
    let again = app
        .http
        .post(format!("{}/token", app.address))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &pkce.verifier),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(again.status(), 400);
    let error: Value = again.json().await.expect("JSON");
    assert_eq!(error["error"], "invalid_grant");
}
