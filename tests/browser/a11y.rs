//! axe-core's audit of every hosted page a person sees on the way through a sign-in and in
//! their account, on a desktop and on a phone.

use crate::harness::{
    authorize_url, create_user, pkce, register_client, sign_in, spawn_app, Browser, Viewport, PASSWORD,
};

/// The account's pages, by the name of their tab.
const ACCOUNT_PAGES: &[(&str, &str)] = &[
    ("account-profile", "/account"),
    ("account-password", "/account/password"),
    ("account-security", "/account/security"),
    ("account-devices", "/account/devices"),
    ("account-apps", "/account/apps"),
    ("account-activity", "/account/activity"),
];

/// Walks the pages in `viewport`, screenshots each, and fails listing every violation of every
/// page (not only the first page's).
async fn audit_hosted_pages(viewport: Viewport) {
    let app = spawn_app().await;
    create_user(&app, "alice").await;
    let client = register_client(&app, "Photo app").await;
    let browser = Browser::new(viewport).await;
    let mut findings: Vec<String> = Vec::new();
    let mut audited = 0;
    let mut audit = async |step: &str| {
        browser.screenshot(step).await;
        let violations = browser.axe_violations().await;
        for violation in &violations {
            findings.push(format!("{step} ({}): {violation}", browser.path().await));
        }
        audited += 1;
    };

    browser
        .goto(&authorize_url(&app, &client, &pkce(), "st4te", "n0nce"))
        .await;
    assert_eq!(browser.path().await, "/login");
    audit("login").await;

    browser.fill("Username or email", "alice").await;
    browser.fill("Password", &format!("{PASSWORD}!")).await;
    browser.click("Sign in").await;
    assert_eq!(browser.path().await, "/login", "a wrong password stays on the page");
    audit("login-error").await;

    sign_in(&browser, "alice").await;
    assert_eq!(browser.path().await, "/consent");
    audit("consent").await;
    browser.click("Allow").await;

    for (step, path) in ACCOUNT_PAGES {
        browser.goto(&format!("{}{path}", app.address)).await;
        assert_eq!(browser.path().await, *path, "signed in, the account page shows");
        audit(step).await;
    }
    assert_eq!(audited, 3 + ACCOUNT_PAGES.len());

    // The control: the same audit on the same page sees an image without a text alternative.
    browser
        .script(
            "document.querySelector('main').append(document.createElement('img'));",
            vec![],
        )
        .await;
    let seen: Vec<String> = browser.axe_violations().await.into_iter().map(|v| v.id).collect();
    assert!(seen.contains(&"image-alt".to_owned()), "axe saw {seen:?}");

    assert!(
        findings.is_empty(),
        "{} axe-core violation(s) on the hosted pages ({}):\n  {}",
        findings.len(),
        viewport.name(),
        findings.join("\n  ")
    );
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn hosted_pages_have_no_axe_violations_on_a_desktop() {
    audit_hosted_pages(Viewport::Desktop).await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (installed by .ci/run)"]
async fn hosted_pages_have_no_axe_violations_on_a_phone() {
    audit_hosted_pages(Viewport::Mobile).await;
}
