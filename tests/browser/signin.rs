//! Signing in as a person does it in a browser: a wrong password, a password reset by the link
//! in the mail, two-step verification (set up, then a code, then a recovery code). Every page
//! state is screenshot and audited (axe-core; on a phone also no sideways scroll), and after
//! each form that succeeds the page is reloaded and left with Back.

use keyhaven::domain::Clock;

use crate::harness::{
    create_user, link_in, mails_saying, sign_in, sign_in_with, spawn_app, Browser, Viewport, PASSWORD,
};

const NEW_PASSWORD: &str = "violet kettle marmalade 42";

async fn wrong_password_keeps_the_username(viewport: Viewport) {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let browser = Browser::new(viewport).await;

    browser.goto(&format!("{}/login", app.address)).await;
    browser.check_page("1-login").await;
    sign_in_with(&browser, "alice", &format!("{PASSWORD}!")).await;

    assert_eq!(browser.path().await, "/login", "a wrong password stays on the page");
    assert_eq!(browser.count("#login-error").await, 1, "the page says what went wrong");
    assert_eq!(
        browser.value("login").await,
        "alice",
        "the name typed stays in its field"
    );
    assert_eq!(browser.value("password").await, "", "the password does not");
    browser.check_page("2-wrong-password").await;

    // The control: the right password, typed alone into the same form, signs in.
    browser.fill("password", PASSWORD).await;
    browser.submit("/login").await;
    assert_eq!(browser.path().await, "/account");
    assert_eq!(browser.heading().await, "Profile");
    browser.check_page("3-signed-in").await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn wrong_password_keeps_the_username_on_a_desktop() {
    wrong_password_keeps_the_username(Viewport::Desktop).await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn wrong_password_keeps_the_username_on_a_phone() {
    wrong_password_keeps_the_username(Viewport::Mobile).await;
}

const RESET_MAIL: &str = "Someone asked to reset the password";
const PASSWORD_CHANGED_MAIL: &str = "Your Keyhaven password was changed";

async fn password_reset_by_mail_link(viewport: Viewport) {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let browser = Browser::new(viewport).await;

    browser.goto(&format!("{}/login", app.address)).await;
    browser.click_css("a[href^='/reset']").await;
    assert_eq!(browser.path().await, "/reset");
    assert_eq!(browser.heading().await, "Reset your password");
    browser.check_page("1-reset-request").await;

    browser.fill("email", "alice@example.com").await;
    browser.submit("/reset").await;
    assert_eq!(browser.path().await, "/reset");
    assert!(browser.notice().await.is_some(), "the page says a link is on its way");
    browser.check_page("2-reset-sent").await;
    let mails = mails_saying(&app, RESET_MAIL, 1).await;
    assert_eq!(mails.len(), 1, "one reset mail");
    browser
        .reload_and_go_back("3-reset-sent", "/reset", "Reset your password")
        .await;

    let link = link_in(&mails[0], &format!("{}/reset/", app.address));
    browser.goto(&link).await;
    assert_eq!(browser.heading().await, "Choose a new password");
    browser.check_page("4-new-password").await;
    browser.fill("password", NEW_PASSWORD).await;
    browser.fill("confirm", NEW_PASSWORD).await;
    let form = url::Url::parse(&link).expect("the link").path().to_owned();
    browser.submit(&form).await;

    assert_eq!(
        browser.path().await,
        "/login",
        "a new password leads to the sign-in page"
    );
    assert!(browser.notice().await.is_some(), "which says the password changed");
    browser.check_page("5-reset-done").await;
    // Back to the link: it worked once, and says so (the new password is not set again).
    browser
        .reload_and_go_back("6-reset-done", &form, "This link is no longer valid")
        .await;

    // The old password no longer signs in; the new one does.
    browser.goto("/login").await;
    sign_in(&browser, "alice").await;
    assert_eq!(browser.path().await, "/login", "the old password is refused");
    assert_eq!(browser.count("#login-error").await, 1);
    browser.fill("password", NEW_PASSWORD).await;
    browser.submit("/login").await;
    assert_eq!(browser.path().await, "/account", "the new password signs in");
    browser.check_page("7-signed-in").await;

    assert_eq!(
        mails_saying(&app, PASSWORD_CHANGED_MAIL, 1).await.len(),
        1,
        "changed once"
    );
    assert_eq!(mails_saying(&app, RESET_MAIL, 1).await.len(), 1, "asked once");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn password_reset_by_mail_link_then_sign_in_on_a_desktop() {
    password_reset_by_mail_link(Viewport::Desktop).await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn password_reset_by_mail_link_then_sign_in_on_a_phone() {
    password_reset_by_mail_link(Viewport::Mobile).await;
}

const TOTP_ON_MAIL: &str = "Two-step sign-in is on";
const RECOVERY_MAIL: &str = "A recovery code was used";

async fn two_step_verification(viewport: Viewport) {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let browser = Browser::new(viewport).await;
    let totp_on = async || {
        let user = app.state.store.find_user_by_login("alice").await.unwrap().unwrap();
        user.has_totp()
    };

    browser.goto(&format!("{}/login", app.address)).await;
    sign_in(&browser, "alice").await;
    // Signing in from a page fetched by GET: reload, and Back to the sign-in page.
    browser.reload_and_go_back("1-signed-in", "/login", "Sign in").await;

    browser.goto("/account/security").await;
    assert_eq!(browser.heading().await, "Two-step verification");
    browser.check_page("2-security-off").await;
    browser.submit("/account/security/totp/start").await;
    assert_eq!(browser.path().await, "/account/security");
    let key = browser.text_of("#totp-secret").await.expect("the key is shown");
    browser.check_page("3-enrolment").await;
    let secret = totp_rs::Secret::Encoded(key.replace(' ', ""))
        .to_bytes()
        .expect("a base32 key");

    // A wrong code is refused, and the set-up stays.
    browser.fill("code", "000000").await;
    browser.submit("/account/security/totp/confirm").await;
    assert_eq!(browser.count("#security-error").await, 1, "a wrong code is refused");
    assert_eq!(browser.text_of("#totp-secret").await, Some(key.clone()));
    browser.check_page("4-wrong-code").await;
    assert!(!totp_on().await);

    // The control: the right code turns it on, and the recovery codes show.
    browser.goto("/account/security").await;
    browser
        .fill("code", &keyhaven::crypto::totp::code_at(&secret, app.clock.now()))
        .await;
    browser.submit("/account/security/totp/confirm").await;
    assert_eq!(browser.path().await, "/account/security");
    let codes: Vec<String> = recovery_codes(&browser).await;
    assert_eq!(codes.len(), 10, "ten recovery codes");
    assert!(totp_on().await);
    browser.check_page("5-recovery-codes").await;
    // Reloading shows the same codes (until Done), and posts nothing again.
    browser
        .reload_and_go_back("6-recovery-codes", "/account/security", "Two-step verification")
        .await;
    assert_eq!(recovery_codes(&browser).await, codes, "the same codes after Back");
    browser.submit("/account/security/recovery-codes/done").await;
    assert!(browser.notice().await.is_some(), "the page says it is on");
    assert_eq!(browser.count("#recovery-codes").await, 0, "the codes are gone");
    browser.check_page("7-on").await;

    // Signing in again takes a code after the password (the next one: a code works once).
    browser.click_css("#sign-out").await;
    assert_eq!(browser.path().await, "/login");
    sign_in(&browser, "alice").await;
    assert_eq!(browser.path().await, "/login/otp");
    browser.check_page("8-code").await;
    app.clock.advance(30);
    browser
        .fill("code", &keyhaven::crypto::totp::code_at(&secret, app.clock.now()))
        .await;
    browser.submit("/login/otp").await;
    assert_eq!(browser.path().await, "/account", "the code signs in");
    browser.check_page("9-signed-in-with-a-code").await;
    // Back to the code page of a sign-in that is finished: the signed-in person goes on to the
    // account, not to "sign in again".
    browser
        .reload_and_go_back("10-signed-in-with-a-code", "/account", "Profile")
        .await;

    // A recovery code in place of a code; a wrong one first.
    browser.goto("/account").await;
    browser.click_css("#sign-out").await;
    sign_in(&browser, "alice").await;
    assert_eq!(browser.path().await, "/login/otp");
    browser.fill("code", "AAAAA-AAAAA-AAAAA-AAAAA").await;
    browser.submit("/login/otp").await;
    assert_eq!(browser.count("#otp-error").await, 1, "a wrong recovery code is refused");
    browser.check_page("11-wrong-recovery-code").await;
    browser.fill("code", &codes[0]).await;
    browser.submit("/login/otp").await;
    assert_eq!(browser.path().await, "/account", "a recovery code signs in");
    browser.check_page("12-signed-in-with-a-recovery-code").await;

    assert_eq!(mails_saying(&app, RECOVERY_MAIL, 1).await.len(), 1);
    assert_eq!(mails_saying(&app, TOTP_ON_MAIL, 1).await.len(), 1, "turned on once");
}

async fn recovery_codes(browser: &Browser) -> Vec<String> {
    let listed = browser.text_of("#recovery-codes").await.expect("the recovery codes");
    listed.split_whitespace().map(str::to_owned).collect()
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn totp_enrolment_then_sign_in_with_a_code_and_a_recovery_code_on_a_desktop() {
    two_step_verification(Viewport::Desktop).await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn totp_enrolment_then_sign_in_with_a_code_and_a_recovery_code_on_a_phone() {
    two_step_verification(Viewport::Mobile).await;
}
