//! On a phone the pages fit the screen's width: nothing makes the page scroll sideways.

use crate::harness::{create_user, sign_in, spawn_app, Browser, Viewport};

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn login_and_account_pages_do_not_scroll_sideways_on_a_phone() {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let browser = Browser::new(Viewport::Mobile).await;

    browser.goto(&format!("{}/login", app.address)).await;
    browser.screenshot("login").await;
    browser.no_horizontal_scroll().await;
    sign_in(&browser, "alice").await;

    for (step, path) in [
        ("account-profile", "/account"),
        ("account-password", "/account/password"),
        ("account-security", "/account/security"),
        ("account-devices", "/account/devices"),
        ("account-apps", "/account/apps"),
        ("account-activity", "/account/activity"),
    ] {
        browser.goto(path).await;
        assert_eq!(browser.path().await, path, "signed in, the account page shows");
        browser.screenshot(step).await;
        browser.no_horizontal_scroll().await;
    }

    // The control: on a page that fits, the same check sees an element wider than the phone.
    browser.goto("/account").await;
    assert_eq!(browser.horizontal_overflow().await, None);
    browser
        .script(
            "const wide = document.createElement('div');
             wide.id = 'too-wide';
             wide.style.minWidth = '1000px';
             wide.style.height = '1em';
             document.querySelector('main').append(wide);",
            vec![],
        )
        .await;
    let overflow = browser.horizontal_overflow().await.expect("a 1000px element overflows");
    assert!(overflow.contains("div#too-wide"), "{overflow}");
}
