//! A passkey as the second factor after a password, on the pages (`/login/otp` and its two
//! posts), with a software authenticator: offered before the code, the person's own passkeys
//! only, a refused passkey counted like a wrong code, and the ID token's `amr` saying both.

use base64::Engine as _;
use keyhaven::domain::user::User;
use keyhaven::domain::Clock as _;
use keyhaven::service::passkeys;
use keyhaven::service::Peer;
use keyhaven::storage::PasskeyRecord;
use url::Url;
use webauthn_authenticator_rs::prelude::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{AllowCredentials, RequestChallengeResponse};

use crate::flow::{hidden, location, query, ClientSpec, TestClient, PASSWORD, REDIRECT};
use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::passkeys::post_form;
use crate::security::{enroll_totp, new_browser, password_step, submit_code};
use crate::token::jwt_claims;

async fn app() -> TestApp {
    spawn_app_with(
        Backend::Sqlite,
        &[("issuer", "http://localhost:{port}"), ("passkeys", "true")],
    )
    .await
}

fn origin(app: &TestApp) -> Url {
    Url::parse(&app.state.services.settings.issuer).unwrap()
}

async fn first_party(app: &TestApp) -> TestClient {
    app.register_client(ClientSpec {
        first_party: true,
        ..Default::default()
    })
    .await
}

/// Adds a passkey held by `key` to `user` (through the service, as the security page does).
async fn add_passkey(app: &TestApp, user: &User, key: &mut SoftPasskey) -> PasskeyRecord {
    let services = &app.state.services;
    let peer = Peer {
        ip: "192.0.2.7".into(),
        user_agent: None,
    };
    let ceremony = passkeys::start_registration(services, user, app.clock.now(), "setup")
        .await
        .unwrap();
    let made = key.do_registration(origin(app), ceremony.options).unwrap();
    passkeys::finish_registration(services, user, "setup", &ceremony.handle, "Key", &made, &peer)
        .await
        .unwrap()
}

/// The code page's form token.
async fn otp_csrf(browser: &TestApp) -> String {
    let page = browser.get_url("/login/otp").await.text().await.unwrap();
    hidden(&page, "csrf_token").unwrap()
}

/// Starts the passkey step: (handle, options).
async fn start(browser: &TestApp, csrf: &str) -> (String, RequestChallengeResponse) {
    let started = post_form(browser, "/login/otp/passkey/start", &[("csrf_token", csrf)]).await;
    assert_eq!(started.status(), 200);
    let started: serde_json::Value = started.json().await.unwrap();
    let options = serde_json::from_value(started["options"].clone()).unwrap();
    (started["handle"].as_str().unwrap().to_owned(), options)
}

async fn finish(browser: &TestApp, csrf: &str, handle: &str, answer: &impl serde::Serialize) -> reqwest::Response {
    let credential = serde_json::to_string(answer).unwrap();
    post_form(
        browser,
        "/login/otp/passkey/finish",
        &[("csrf_token", csrf), ("handle", handle), ("credential", &credential)],
    )
    .await
}

/// Alice and Bob, each with a passkey: (Alice's key, Bob's key, Bob's passkey).
async fn alice_and_bob(app: &TestApp) -> (SoftPasskey, SoftPasskey, PasskeyRecord) {
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let mut alices = SoftPasskey::new(true);
    add_passkey(app, &alice, &mut alices).await;
    let mut bobs = SoftPasskey::new(true);
    let bobs_record = add_passkey(app, &bob, &mut bobs).await;
    (alices, bobs, bobs_record)
}

/// Follows `resume` to the client and exchanges the code: the ID token's claims.
async fn id_token_claims(app: &TestApp, client: &TestClient, resume: &str, verifier: &str) -> serde_json::Value {
    let done = location(&app.get_url(resume).await);
    assert!(done.starts_with(REDIRECT), "{done}");
    let tokens: serde_json::Value = app
        .exchange(client, &query(&done)["code"], verifier)
        .await
        .json()
        .await
        .unwrap();
    jwt_claims(tokens["id_token"].as_str().unwrap())
}

/// Passes the second-factor step of `browser` with the passkey held by `key`; returns where
/// the server sends the browser next.
pub async fn pass_with_passkey(browser: &TestApp, key: &mut SoftPasskey) -> String {
    let csrf = otp_csrf(browser).await;
    let (handle, options) = start(browser, &csrf).await;
    let answer = key.do_authentication(origin(browser), options).unwrap();
    let finished = finish(browser, &csrf, &handle, &answer).await;
    assert_eq!(finished.status(), 200);
    let finished: serde_json::Value = finished.json().await.unwrap();
    finished["location"].as_str().unwrap().to_owned()
}

/// The answer of `key` with its credential `record`, whatever the ceremony allowed.
fn answer_with(
    app: &TestApp,
    key: &mut SoftPasskey,
    record: &PasskeyRecord,
    mut options: RequestChallengeResponse,
) -> webauthn_rs_proto::PublicKeyCredential {
    options.public_key.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&record.credential_id)
            .unwrap(),
        transports: None,
    }];
    key.do_authentication(origin(app), options).unwrap()
}

fn credential_ids(options: &RequestChallengeResponse) -> Vec<String> {
    options
        .public_key
        .allow_credentials
        .iter()
        .map(|c| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&c.id))
        .collect()
}

#[tokio::test]
async fn a_password_then_the_persons_passkey_signs_in_and_the_id_token_says_both() {
    let app = app().await;
    let client = first_party(&app).await;
    let alice = app.create_user("alice").await;
    app.create_user("carol").await;
    let mut key = SoftPasskey::new(true);
    let added = add_passkey(&app, &alice, &mut key).await;

    // Positive control: a person with neither passkey nor TOTP is signed in by the password.
    let carol = new_browser(&app);
    let p = crate::flow::pkce();
    let login = location(&carol.get_url(&carol.authorize_url(&client.id, &p.challenge, &[])).await);
    let signed_in = carol.submit_login(&login, "carol", PASSWORD).await;
    assert!(location(&signed_in).starts_with("/authorize/resume"), "{signed_in:?}");

    // Alice's password alone is not enough: the second-factor page, passkey only.
    let (step, p) = password_step(&app, &client).await;
    assert_eq!(step.status(), 303);
    assert!(location(&step).starts_with("/login/otp"), "{step:?}");
    assert_eq!(location(&app.get_url("/account").await), "/login?return_to=%2Faccount");
    let page = app.get_url("/login/otp").await.text().await.unwrap();
    assert!(
        page.contains("Use your passkey") && page.contains("/static/passkeys.js"),
        "{page}"
    );
    assert!(!page.contains("name=\"code\""), "no TOTP, no code field: {page}");
    let csrf = hidden(&page, "csrf_token").unwrap();

    let forged = post_form(&app, "/login/otp/passkey/start", &[("csrf_token", "forged")]).await;
    assert_eq!(forged.status(), 403, "behind the form token");
    let (handle, options) = start(&app, &csrf).await;
    assert_eq!(
        credential_ids(&options),
        std::slice::from_ref(&added.credential_id),
        "only her own passkeys"
    );
    let answer = key.do_authentication(origin(&app), options).unwrap();
    let finished = finish(&app, &csrf, &handle, &answer).await;
    assert_eq!(finished.status(), 200);
    let finished: serde_json::Value = finished.json().await.unwrap();
    let resume = finished["location"].as_str().unwrap();
    assert!(resume.starts_with("/authorize/resume?request="), "{resume}");
    let claims = id_token_claims(&app, &client, resume, &p.verifier).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "hwk", "user", "mfa"]));
}

#[tokio::test]
async fn a_passkey_of_another_person_is_refused_as_second_factor_and_counts_like_a_wrong_code() {
    let app = app().await;
    let client = first_party(&app).await;
    let (mut alices, mut bobs, bobs_record) = alice_and_bob(&app).await;

    let (step, p) = password_step(&app, &client).await;
    assert!(location(&step).starts_with("/login/otp"));
    let csrf = otp_csrf(&app).await;
    // Bob's passkey answers Alice's step (his credential, the step's challenge): refused.
    for _ in 0..4 {
        let (handle, options) = start(&app, &csrf).await;
        let answer = answer_with(&app, &mut bobs, &bobs_record, options);
        let refused = finish(&app, &csrf, &handle, &answer).await;
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.text().await.unwrap(), r#"{"error":"refused"}"#);
    }
    // Positive control: her own passkey, on a fresh ceremony of the same step, signs in.
    let resume = pass_with_passkey(&app, &mut alices).await;
    let claims = id_token_claims(&app, &client, &resume, &p.verifier).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "hwk", "user", "mfa"]));
}

#[tokio::test]
async fn five_refused_passkeys_drop_the_step() {
    let app = app().await;
    let client = first_party(&app).await;
    let (_, mut bobs, bobs_record) = alice_and_bob(&app).await;
    let (step, _) = password_step(&app, &client).await;
    assert!(location(&step).starts_with("/login/otp"));
    let csrf = otp_csrf(&app).await;
    // Bob's passkey is refused each time; the fifth ends the step.
    for attempt in 1..=5 {
        let (handle, options) = start(&app, &csrf).await;
        let answer = answer_with(&app, &mut bobs, &bobs_record, options);
        let refused = finish(&app, &csrf, &handle, &answer).await;
        let body = refused.text().await.unwrap();
        if attempt < 5 {
            assert_eq!(body, r#"{"error":"refused"}"#, "attempt {attempt}");
        } else {
            assert_eq!(body, r#"{"error":"start_again","location":"/login/otp"}"#);
        }
    }
    // The step is gone: no new ceremony, and the code page says to sign in again.
    let again = post_form(&app, "/login/otp/passkey/start", &[("csrf_token", &csrf)]).await;
    assert_eq!(again.status(), 400);
    assert_eq!(app.get_url("/login/otp").await.status(), 401);
}

#[tokio::test]
async fn with_totp_too_the_passkey_comes_first_and_a_code_still_works() {
    let app = app().await;
    let client = first_party(&app).await;
    let alice = app.create_user("alice").await;
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 303);
    let (secret, _) = enroll_totp(&app).await;
    let alice = app.state.store.find_user_by_id(&alice.id).await.unwrap().unwrap();
    let mut key = SoftPasskey::new(true);
    add_passkey(&app, &alice, &mut key).await;

    let browser = new_browser(&app);
    app.clock.advance(30);
    let (step, p) = password_step(&browser, &client).await;
    assert!(location(&step).starts_with("/login/otp"));
    let page = browser.get_url("/login/otp").await.text().await.unwrap();
    let passkey_at = page.find("Use your passkey").expect("the passkey is offered");
    let code_at = page.find("name=\"code\"").expect("and the code field");
    assert!(passkey_at < code_at, "the passkey first");
    // The code path works as before.
    let code = keyhaven::crypto::totp::code_at(&secret, app.clock.now());
    let signed_in = submit_code(&browser, &code).await;
    assert_eq!(signed_in.status(), 303);
    let claims = id_token_claims(&browser, &client, &location(&signed_in), &p.verifier).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp"]));
}

#[tokio::test]
async fn with_passkeys_off_a_stored_passkey_asks_for_nothing() {
    // An operator who turns passkeys off does not lock out those who have one: their password
    // (and TOTP, where on) signs them in.
    let app = app().await;
    let client = first_party(&app).await;
    let alice = app.create_user("alice").await;
    let mut key = SoftPasskey::new(true);
    add_passkey(&app, &alice, &mut key).await;
    let (step, _) = password_step(&app, &client).await;
    assert!(
        location(&step).starts_with("/login/otp"),
        "control: on, the passkey is asked"
    );

    // A second server on the same database, passkeys turned off.
    let off = crate::helpers::spawn_second_instance_with(&app, &[("passkeys", "false")]).await;
    let (step, _) = password_step(&off, &client).await;
    assert!(location(&step).starts_with("/authorize/resume"), "{step:?}");
}
