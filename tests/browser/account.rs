//! The account's forms in a browser: profile, email, password; signing out another device;
//! removing an app's access. After each form that succeeds the page is reloaded and left with
//! Back: the same page again, the page before, never a refusal, and the change made once.

use crate::harness::{
    account_status, authorize_url_for, create_user, exchange_code, mails_saying, pkce, query_of, register_client,
    sign_in, sign_in_elsewhere, spawn_app, token_request, Browser, Viewport, PASSWORD,
};

const NEW_PASSWORD: &str = "violet kettle marmalade 42";
const CONFIRM_EMAIL_MAIL: &str = "To make this the email address";
const PASSWORD_CHANGED_MAIL: &str = "Your Keyhaven password was changed";

async fn profile_email_and_password(viewport: Viewport) {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let browser = Browser::new(viewport).await;

    browser.goto(&format!("{}/login", app.address)).await;
    sign_in(&browser, "alice").await;
    assert_eq!(browser.path().await, "/account");
    assert_eq!(browser.heading().await, "Profile");
    browser.check_page("1-profile").await;

    browser.fill("name", "Alice Liddell").await;
    browser.submit("/account/profile").await;
    assert_eq!(browser.path().await, "/account");
    assert!(browser.notice().await.is_some(), "the page says it saved");
    assert_eq!(browser.value("name").await, "Alice Liddell");
    browser.check_page("2-name-saved").await;
    browser.reload_and_go_back("3-name-saved", "/account", "Profile").await;
    let user = app.state.store.find_user_by_login("alice").await.unwrap().unwrap();
    assert_eq!(user.claims.get("name").map(String::as_str), Some("Alice Liddell"));

    browser.goto("/account").await;
    browser.fill("email", "alice.new@example.com").await;
    browser.submit("/account/email").await;
    assert_eq!(browser.path().await, "/account");
    assert!(browser.notice().await.is_some(), "the page says a link is on its way");
    browser.check_page("4-email-sent").await;
    browser.reload_and_go_back("5-email-sent", "/account", "Profile").await;

    browser.goto("/account/password").await;
    assert_eq!(browser.heading().await, "Change your password");
    browser.check_page("6-password").await;
    browser.fill("current", PASSWORD).await;
    browser.fill("password", NEW_PASSWORD).await;
    browser.fill("confirm", NEW_PASSWORD).await;
    browser.submit("/account/password").await;
    assert_eq!(browser.path().await, "/account/password");
    assert!(browser.notice().await.is_some(), "the page says it changed");
    browser.check_page("7-password-changed").await;
    browser
        .reload_and_go_back("8-password-changed", "/account/password", "Change your password")
        .await;

    // The activity page lists all of it, and fits a phone.
    browser.goto("/account/activity").await;
    assert_eq!(browser.heading().await, "Recent activity");
    assert!(browser.count("tr.event").await >= 3, "sign-in, name, password at least");
    browser.check_page("9-activity").await;

    // Each form's change happened once: one confirmation mail, one password change (a second
    // post of the old password would have been refused, and mailed nothing).
    assert_eq!(mails_saying(&app, CONFIRM_EMAIL_MAIL, 1).await.len(), 1);
    assert_eq!(mails_saying(&app, PASSWORD_CHANGED_MAIL, 1).await.len(), 1);
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn profile_email_and_password_forms_survive_reload_and_back_on_a_desktop() {
    profile_email_and_password(Viewport::Desktop).await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn profile_email_and_password_forms_survive_reload_and_back_on_a_phone() {
    profile_email_and_password(Viewport::Mobile).await;
}

async fn devices_and_apps(viewport: Viewport) {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let client = register_client(&app, "Photo app").await;
    let pkce = pkce();
    let browser = Browser::new(viewport).await;

    // Signed in through an app, which gets tokens.
    let scope = "openid profile offline_access";
    browser
        .goto(&authorize_url_for(&app, &client, &pkce, "st4te", "n0nce", scope))
        .await;
    sign_in(&browser, "alice").await;
    assert_eq!(browser.path().await, "/consent");
    browser.check_page("1-consent").await;
    browser.click_css("form[action='/consent'] button[value=allow]").await;
    let code = query_of(&browser).await.remove("code").expect("a code");
    let tokens = exchange_code(&app, &client, &code, &pkce).await;
    assert_eq!(tokens["status"], 200, "{tokens}");

    // Another device.
    let other = sign_in_elsewhere(&app, "alice").await;
    assert_eq!(account_status(&app, &other).await, 200, "the other device is signed in");

    browser.goto(&format!("{}/account/devices", app.address)).await;
    assert_eq!(browser.heading().await, "Where you are signed in");
    assert_eq!(
        browser.count("li[data-sid]").await,
        2,
        "this browser and the other device"
    );
    browser.check_page("2-devices").await;
    browser
        .submit_in(
            "li[data-sid]:has(form[action='/account/devices/revoke'])",
            "/account/devices/revoke",
        )
        .await;
    assert_eq!(browser.path().await, "/account/devices");
    assert!(browser.notice().await.is_some(), "the page says it signed out");
    assert_eq!(browser.count("li[data-sid]").await, 1, "only this browser is left");
    browser.check_page("3-device-signed-out").await;
    assert_eq!(
        account_status(&app, &other).await,
        303,
        "the other device is signed out"
    );
    browser
        .reload_and_go_back("4-device-signed-out", "/account/devices", "Where you are signed in")
        .await;
    assert_eq!(browser.count("li[data-sid]").await, 1);

    // The app's refresh token works until its access is removed.
    let refresh = |token: String| {
        let (app, client) = (&app, &client);
        async move {
            token_request(
                app,
                client,
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
            )
            .await
        }
    };
    let refreshed = refresh(tokens["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(refreshed["status"], 200, "{refreshed}");

    browser.goto("/account/apps").await;
    assert_eq!(browser.heading().await, "Apps with access");
    let this_app = format!("li[data-client='{}']", client.id);
    assert_eq!(browser.count(&this_app).await, 1, "the app is listed");
    browser.check_page("5-apps").await;
    browser.submit_in(&this_app, "/account/apps/remove").await;
    assert_eq!(browser.path().await, "/account/apps");
    assert!(browser.notice().await.is_some(), "the page says access was removed");
    assert_eq!(browser.count(&this_app).await, 0, "the app is gone");
    browser.check_page("6-app-removed").await;
    browser
        .reload_and_go_back("7-app-removed", "/account/apps", "Apps with access")
        .await;
    assert_eq!(browser.count(&this_app).await, 0);

    let refused = refresh(refreshed["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(refused["status"], 400, "{refused}");
    assert_eq!(refused["error"], "invalid_grant");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn signing_out_another_device_and_removing_an_app_on_a_desktop() {
    devices_and_apps(Viewport::Desktop).await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn signing_out_another_device_and_removing_an_app_on_a_phone() {
    devices_and_apps(Viewport::Mobile).await;
}
