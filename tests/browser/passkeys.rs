//! Passkeys in a real browser: Chromium's virtual authenticator (CDP `WebAuthn.*`) in place of
//! a device's screen lock. A person adds a passkey on the security page, signs in with it in an
//! authorization code flow without typing a name, gives it as the second factor after the
//! password, removes passkeys (a recent sign-in; the
//! last one also takes the password), and sees all of it on the activity page. Without
//! JavaScript the sign-in page offers no passkey and the password still works; a passkey whose
//! user verification fails does not sign in.
//!
//! Passkeys need a relying party with a domain name: these servers' issuer is `localhost`, and
//! the browser uses `http://localhost:PORT` (a secure context), never `127.0.0.1`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{
    authorize_url, create_user, exchange_code, pkce, query_of, register_client, sign_in, Browser, RegisteredClient,
    Viewport, PASSWORD,
};
use crate::helpers::{spawn_app_with, Backend, TestApp};

const LAPTOP: &str = "Alice's laptop";
const PHONE: &str = "Alice's phone";
const FAILED: &str = "The passkey did not sign you in";
const SIGN_IN_AGAIN: &str = "sign in again";
const WRONG_PASSWORD: &str = "Wrong password: the passkey was not removed.";

/// A server with passkeys on, whose issuer is `http://localhost:PORT`.
async fn spawn_app() -> TestApp {
    spawn_app_with(
        Backend::Sqlite,
        &[("issuer", "http://localhost:{port}"), ("passkeys", "true")],
    )
    .await
}

/// The server's address as the browser must use it: `localhost`, the relying party.
fn site(app: &TestApp) -> String {
    app.address.replace("127.0.0.1", "localhost")
}

/// `/authorize` for `client` at `localhost`.
fn authorize_at_localhost(app: &TestApp, client: &RegisteredClient, pkce: &crate::harness::Pkce) -> String {
    authorize_url(app, client, pkce, "st4te", "n0nce").replacen(&app.address, &site(app), 1)
}

/// Signs in with the password at `localhost`, landing on the account.
async fn sign_in_with_password(app: &TestApp, browser: &Browser) {
    browser.goto(&format!("{}/login", site(app))).await;
    sign_in(browser, "alice").await;
    assert_eq!(browser.path().await, "/account", "the password signs in");
}

/// Adds a passkey named `name` on the security page (signed in within 5 minutes).
async fn add_passkey(browser: &Browser, name: &str) {
    browser.goto("/account/security").await;
    assert!(
        browser.is_shown("#passkey-add-button").await,
        "the page offers to add one"
    );
    browser.fill_css("#passkey-name", name).await;
    browser.click_css("#passkey-add-button").await;
    assert_eq!(browser.path().await, "/account/security");
    assert_eq!(browser.count("#passkey-add-error:not([hidden])").await, 0);
}

/// The names in the security page's list of passkeys.
async fn listed_passkeys(browser: &Browser) -> Vec<String> {
    let names = browser
        .script(
            "return [...document.querySelectorAll('table.passkeys tbody tr')]
               .map(row => row.cells[0].textContent.trim());",
            vec![],
        )
        .await;
    serde_json::from_value(names).expect("names")
}

/// Removes the passkey `name` on the security page, typing `password` when it is asked for.
async fn remove_passkey(browser: &Browser, name: &str, password: Option<&str>) {
    let row = listed_passkeys(browser)
        .await
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("{name:?} is not listed"));
    let scope = format!("table.passkeys tbody tr:nth-child({})", row + 1);
    if let Some(password) = password {
        // The step is open already after a wrong password; else open it.
        let step = format!("{scope} details:has(form[action='/account/security/passkeys/remove'])");
        if browser.count(&format!("{step}[open]")).await == 0 {
            browser.press(&format!("{step} > summary")).await;
        }
        browser.fill_css("#remove-password", password).await;
    }
    browser.submit_in(&scope, "/account/security/passkeys/remove").await;
}

/// Puts the device away: its authenticator is taken from the browser, and its passkeys
/// (their private keys with them) are returned, to come back with [`bring_device_back`]. While
/// the browser has no authenticator, the sign-in page's passkey autofill (conditional
/// mediation) waits; with one, Chromium's virtual authenticator answers it as soon as it is
/// asked (and with no passkey in it, refuses it at once).
async fn put_device_away(browser: &Browser, authenticator: &str) -> Vec<Value> {
    let held = browser.authenticator_credentials(authenticator).await;
    assert!(!held.is_empty(), "the device has a passkey");
    browser.remove_virtual_authenticator(authenticator).await;
    held
}

/// The device back, with the passkeys `held`; returns its authenticator's new id.
async fn bring_device_back(browser: &Browser, held: &[Value]) -> String {
    let authenticator = browser.add_virtual_authenticator().await;
    browser.put_credentials(&authenticator, held).await;
    authenticator
}

/// Signs out with the device put away (see [`put_device_away`]): the sign-in page that
/// follows would otherwise sign in again at once by its autofill.
async fn sign_out_device_away(browser: &Browser, authenticator: &str) -> Vec<Value> {
    let held = put_device_away(browser, authenticator).await;
    browser.click_css("#sign-out").await;
    assert_eq!(browser.path().await, "/login");
    held
}

/// Opens `url` (the sign-in page, or what leads to it) with the device away, so the page's
/// autofill request waits; brings the device back (`held`), presses "Sign in with a passkey"
/// (no name typed), which ends the autofill's request and starts its own, and waits for the
/// page it leads to. Returns the authenticator's id.
async fn sign_in_with_passkey(browser: &Browser, held: &[Value], url: &str) -> String {
    browser.goto(url).await;
    assert_eq!(browser.path().await, "/login");
    assert_eq!(browser.value("login").await, "", "no name typed");
    assert!(browser.is_shown("#passkey-sign-in").await, "the page offers a passkey");
    let authenticator = bring_device_back(browser, held).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        browser.path().await,
        "/login",
        "the autofill's request, begun without the device, does not sign in by itself"
    );
    browser.press("#passkey-sign-in").await;
    browser.wait_to_leave("/login").await;
    authenticator
}

/// On the second-factor page after a password, with the device away: brings it back
/// (`held`), presses "Use your passkey" and waits for the page it leads to. Returns the
/// authenticator's id.
async fn pass_second_factor(browser: &Browser, held: &[Value]) -> String {
    assert!(
        browser.is_shown("#passkey-second-button").await,
        "the page offers the passkey"
    );
    let authenticator = bring_device_back(browser, held).await;
    browser.press("#passkey-second-button").await;
    browser.wait_to_leave("/login/otp").await;
    authenticator
}

/// The claims of the ID token in `tokens`.
fn id_token_claims(tokens: &Value) -> Value {
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let payload = id_token.split('.').nth(1).expect("a JWS has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

fn amr(claims: &Value) -> Vec<String> {
    serde_json::from_value(claims["amr"].clone()).unwrap_or_else(|_| panic!("an amr: {claims}"))
}

/// Follows the authorization code flow from the consent page (if asked) to the client, and
/// exchanges the code; returns the ID token's claims.
async fn allow_and_exchange(
    app: &TestApp,
    browser: &Browser,
    client: &RegisteredClient,
    pkce: &crate::harness::Pkce,
) -> Value {
    if browser.path().await == "/consent" {
        browser.click("Allow").await;
    }
    let landed = browser.current_url().await;
    assert!(
        landed.as_str().starts_with(&format!("{}?", client.redirect_uri)),
        "the browser is at the client: {landed}"
    );
    let params = query_of(browser).await;
    assert_eq!(params.get("state").map(String::as_str), Some("st4te"));
    let tokens = exchange_code(app, client, params.get("code").expect("a code"), pkce).await;
    assert_eq!(tokens["status"], 200, "{tokens}");
    id_token_claims(&tokens)
}

async fn add_then_sign_in_with_the_passkey(viewport: Viewport) {
    let app = spawn_app().await;
    let user_id = create_user(&app, "alice").await;
    let client = register_client(&app, "Photo app").await;
    let browser = Browser::new(viewport).await;
    let authenticator = browser.add_virtual_authenticator().await;

    sign_in_with_password(&app, &browser).await;
    browser.goto("/account/security").await;
    browser.check_page("1-security-no-passkeys").await;
    assert!(listed_passkeys(&browser).await.is_empty());
    add_passkey(&browser, LAPTOP).await;
    assert_eq!(listed_passkeys(&browser).await, [LAPTOP], "the list shows its name");
    browser.check_page("2-passkey-added").await;
    let held = browser.authenticator_credentials(&authenticator).await;
    assert_eq!(held.len(), 1, "the authenticator holds one credential: {held:?}");
    assert_eq!(held[0]["isResidentCredential"], true, "a discoverable one");

    let held = sign_out_device_away(&browser, &authenticator).await;

    // The password now needs the passkey as second factor (the page's autofill waiting
    // meanwhile): offered first on the second-factor page, and the amr says both.
    let pkce_password = pkce();
    browser
        .goto(&authorize_at_localhost(&app, &client, &pkce_password))
        .await;
    sign_in(&browser, "alice").await;
    assert_eq!(browser.path().await, "/login/otp", "the password alone is not enough");
    browser.check_page("3-second-factor").await;
    let authenticator = pass_second_factor(&browser, &held).await;
    let claims = allow_and_exchange(&app, &browser, &client, &pkce_password).await;
    assert_eq!(amr(&claims), ["pwd", "hwk", "user", "mfa"], "{claims}");
    browser.goto(&format!("{}/account", site(&app))).await;
    let held = sign_out_device_away(&browser, &authenticator).await;

    // The passkey, no name typed.
    let pkce = pkce();
    sign_in_with_passkey(&browser, &held, &authorize_at_localhost(&app, &client, &pkce)).await;
    let claims = allow_and_exchange(&app, &browser, &client, &pkce).await;
    assert_eq!(claims["sub"], Value::from(user_id));
    assert_eq!(claims["nonce"], "n0nce");
    let amr = amr(&claims);
    assert!(amr.contains(&"user".to_owned()), "{amr:?}");
    assert!(amr.contains(&"mfa".to_owned()), "{amr:?}");
    assert!(
        amr.contains(&"hwk".to_owned()) || amr.contains(&"swk".to_owned()),
        "{amr:?}"
    );
    assert!(!amr.contains(&"pwd".to_owned()), "no password: {amr:?}");

    // The list says it was used.
    browser.goto(&format!("{}/account/security", site(&app))).await;
    assert_eq!(listed_passkeys(&browser).await, [LAPTOP]);
    assert!(
        !browser
            .text_of("table.passkeys tbody")
            .await
            .unwrap_or_default()
            .contains("Never"),
        "last used is set"
    );
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn passkey_added_on_the_security_page_signs_in_without_a_name_on_a_desktop() {
    add_then_sign_in_with_the_passkey(Viewport::Desktop).await;
}

async fn removing_passkeys_needs_a_recent_sign_in_and_the_last_one_the_password(viewport: Viewport) {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let browser = Browser::new(viewport).await;

    // Two passkeys, each on its own device: the laptop's authenticator is put away before the
    // phone's is added (one authenticator holds one passkey of a person).
    let laptop = browser.add_virtual_authenticator().await;
    sign_in_with_password(&app, &browser).await;
    add_passkey(&browser, LAPTOP).await;
    browser.remove_virtual_authenticator(&laptop).await;
    let phone = browser.add_virtual_authenticator().await;
    add_passkey(&browser, PHONE).await;
    assert_eq!(browser.authenticator_credentials(&phone).await.len(), 1);
    let mut listed = listed_passkeys(&browser).await;
    listed.sort();
    assert_eq!(listed, [LAPTOP, PHONE]);
    browser.check_page("1-two-passkeys").await;

    // Six minutes after the sign-in: refused, and the page says to sign in again.
    app.clock.advance(6 * 60);
    browser.goto("/account/security").await;
    remove_passkey(&browser, LAPTOP, None).await;
    let error = browser.text_of("#security-error").await.expect("the page says why");
    assert!(error.contains(SIGN_IN_AGAIN), "{error}");
    assert_eq!(listed_passkeys(&browser).await.len(), 2, "both still listed");
    browser.check_page("2-sign-in-again").await;

    // Signing in again (the page's link, with the password and the passkey as second factor;
    // the device away meanwhile, or the page's autofill would sign in with its passkey) makes
    // it work: one of two goes without the password.
    let held = put_device_away(&browser, &phone).await;
    browser.click_css("a[href='/login?return_to=/account/security']").await;
    assert_eq!(browser.path().await, "/login");
    sign_in(&browser, "alice").await;
    assert_eq!(browser.path().await, "/login/otp");
    pass_second_factor(&browser, &held).await;
    assert_eq!(browser.path().await, "/account/security", "back where the link was");
    remove_passkey(&browser, LAPTOP, None).await;
    assert_eq!(browser.path().await, "/account/security");
    assert_eq!(browser.count("#security-error").await, 0);
    assert_eq!(listed_passkeys(&browser).await, [PHONE], "the laptop's is gone");

    // The last one asks for the password: a wrong one is refused, the right one removes it.
    browser.check_page("3-last-passkey").await;
    remove_passkey(&browser, PHONE, Some(&format!("{PASSWORD}!"))).await;
    assert_eq!(
        browser.text_of("#security-error").await.as_deref(),
        Some(WRONG_PASSWORD)
    );
    assert_eq!(listed_passkeys(&browser).await, [PHONE], "still there");
    assert_eq!(
        browser
            .count("details[open] #remove-password[aria-invalid='true']")
            .await,
        1,
        "the step stays open to try again"
    );
    browser.check_page("4-wrong-password").await;
    remove_passkey(&browser, PHONE, Some(PASSWORD)).await;
    assert_eq!(browser.count("#security-error").await, 0);
    assert!(listed_passkeys(&browser).await.is_empty(), "none left");
    browser.check_page("5-none-left").await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn removing_passkeys_needs_a_recent_sign_in_and_the_last_one_the_password_on_a_desktop() {
    removing_passkeys_needs_a_recent_sign_in_and_the_last_one_the_password(Viewport::Desktop).await;
}

/// The activity page's sentences.
async fn activity(app: &TestApp, browser: &Browser) -> String {
    app.state.events.flush().await;
    browser.goto("/account/activity").await;
    assert_eq!(browser.heading().await, "Recent activity");
    browser.text_of("table").await.unwrap_or_default()
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn the_activity_page_shows_a_passkey_added_used_and_removed() {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let browser = Browser::new(Viewport::Desktop).await;
    let authenticator = browser.add_virtual_authenticator().await;

    sign_in_with_password(&app, &browser).await;
    let before = activity(&app, &browser).await;
    assert!(!before.contains("A passkey was added"), "{before}");
    add_passkey(&browser, LAPTOP).await;
    let held = sign_out_device_away(&browser, &authenticator).await;
    sign_in_with_passkey(&browser, &held, "/login").await;
    assert_eq!(browser.path().await, "/account", "the passkey signs in");

    let used = activity(&app, &browser).await;
    assert!(used.contains("A passkey was added"), "{used}");
    assert!(used.contains("A passkey was used to sign in"), "{used}");
    assert!(!used.contains("A passkey was removed"), "not yet: {used}");

    browser.goto("/account/security").await;
    remove_passkey(&browser, LAPTOP, Some(PASSWORD)).await;
    assert!(listed_passkeys(&browser).await.is_empty());
    let removed = activity(&app, &browser).await;
    assert!(removed.contains("A passkey was removed"), "{removed}");
    browser.check_page("1-activity").await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn without_javascript_no_passkey_is_offered_and_the_password_signs_in() {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let client = register_client(&app, "Photo app").await;
    let browser = Browser::new(Viewport::Desktop).await;

    // The control: with JavaScript the page offers a passkey.
    browser.goto(&format!("{}/login", site(&app))).await;
    assert!(browser.is_shown("#passkey-sign-in").await, "offered with JavaScript");

    browser.disable_javascript().await;
    let pkce = pkce();
    browser.goto(&authorize_at_localhost(&app, &client, &pkce)).await;
    assert_eq!(browser.path().await, "/login");
    assert!(
        !browser.is_shown("#passkey-sign-in").await,
        "no passkey without JavaScript"
    );
    assert!(!browser.is_shown("#passkey").await);
    // (No axe here: its audit is an asynchronous script, which needs the page's JavaScript.)
    browser.screenshot("1-login-without-javascript").await;
    sign_in(&browser, "alice").await;
    let claims = allow_and_exchange(&app, &browser, &client, &pkce).await;
    assert_eq!(amr(&claims), ["pwd"], "{claims}");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn a_passkey_whose_user_verification_fails_does_not_sign_in() {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let browser = Browser::new(Viewport::Desktop).await;
    let authenticator = browser.add_virtual_authenticator().await;
    sign_in_with_password(&app, &browser).await;
    add_passkey(&browser, LAPTOP).await;
    let held = sign_out_device_away(&browser, &authenticator).await;

    // The screen lock fails: the page's autofill (which the virtual authenticator answers at
    // once) signs nobody in and says nothing (nobody asked); the button's ceremony says it
    // failed, and nobody is signed in.
    let authenticator = bring_device_back(&browser, &held).await;
    browser.set_user_verified(&authenticator, false).await;
    browser.goto("/login").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(browser.path().await, "/login", "the autofill did not sign in");
    assert!(!browser.is_shown("#passkey-error").await, "and said nothing");
    browser.press("#passkey-sign-in").await;
    let said = browser.shown_text("#passkey-error").await;
    assert!(said.contains(FAILED), "{said}");
    assert_eq!(browser.path().await, "/login");
    browser.check_page("1-verification-failed").await;
    browser.goto("/account").await;
    assert_eq!(browser.path().await, "/login", "not signed in");

    // The control: the same with the screen lock working signs in.
    // (The device comes back with its screen lock working.)
    let held = put_device_away(&browser, &authenticator).await;
    sign_in_with_passkey(&browser, &held, "/login").await;
    assert_eq!(browser.path().await, "/account");
    assert!(!browser.is_shown("#passkey-error").await);
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn passkey_autofill_signs_in_as_the_page_opens() {
    let app = spawn_app().await;
    let user_id = create_user(&app, "alice").await;
    let client = register_client(&app, "Photo app").await;
    let browser = Browser::new(Viewport::Desktop).await;
    let authenticator = browser.add_virtual_authenticator().await;
    sign_in_with_password(&app, &browser).await;
    add_passkey(&browser, LAPTOP).await;
    let held = sign_out_device_away(&browser, &authenticator).await;

    // The name field offers passkeys to the browser's autofill.
    let autocomplete = browser
        .script(
            "return document.getElementById('login').getAttribute('autocomplete');",
            vec![],
        )
        .await;
    assert_eq!(autocomplete, "username webauthn");

    // Without the device the autofill has nothing to offer: the page waits.
    let pkce = pkce();
    let authorize = authorize_at_localhost(&app, &client, &pkce);
    browser.goto(&authorize).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(browser.path().await, "/login");
    assert!(!browser.is_shown("#passkey-error").await, "nothing went wrong");

    // With it, the autofill's request is answered (Chromium's virtual authenticator picks the
    // passkey at once, as a person picking it would) and the flow goes on, nothing typed or
    // pressed.
    bring_device_back(&browser, &held).await;
    browser.goto(&authorize).await;
    browser.wait_to_leave("/login").await;
    let claims = allow_and_exchange(&app, &browser, &client, &pkce).await;
    assert_eq!(claims["sub"], Value::from(user_id));
    let amr = amr(&claims);
    assert!(
        amr.contains(&"user".to_owned()) && !amr.contains(&"pwd".to_owned()),
        "{amr:?}"
    );
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn passkey_added_on_the_security_page_signs_in_without_a_name_on_a_phone() {
    add_then_sign_in_with_the_passkey(Viewport::Mobile).await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn removing_passkeys_needs_a_recent_sign_in_and_the_last_one_the_password_on_a_phone() {
    removing_passkeys_needs_a_recent_sign_in_and_the_last_one_the_password(Viewport::Mobile).await;
}
