//! Hosted pages without dead ends: every form answers 303 to a page that says how it went
//! (Post/Redirect/Get), broken addresses get pages in words, every end state has a next step,
//! and a signed-out browser returns to the page it asked for (only a local one).

use crate::account::post_form;
use crate::flow::{hidden, location, pkce, query, ClientSpec, PASSWORD};
use crate::helpers::{spawn_app, Backend, TestApp};
use crate::security::{new_browser, NEW_PASSWORD};

async fn html_of(app: &TestApp, path: &str) -> String {
    let page = app.get_url(path).await;
    assert_eq!(page.status(), 200, "GET {path}");
    page.text().await.unwrap()
}

fn unescape(html: &str) -> String {
    html.replace("&#x2F;", "/").replace("&amp;", "&")
}

/// A 303 to `to`; the page there says `notice` once, and not on a reload.
async fn assert_303_with_notice(app: &TestApp, response: reqwest::Response, to: &str, notice: &str) {
    assert_eq!(response.status(), 303, "a form that succeeds answers 303 (to {to})");
    assert_eq!(location(&response), to);
    let shown = html_of(app, to).await;
    assert!(shown.contains(notice), "{to} says {notice:?}: {shown}");
    let reloaded = html_of(app, to).await;
    assert!(!reloaded.contains(notice), "{to} says {notice:?} once");
}

async fn signed_in_app() -> TestApp {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    // (That sign-in answers 303 is `a_signed_out_browser_returns_to_the_page_it_asked_for`'s.)
    let signed_in = app.submit_login("/login", "alice", PASSWORD).await;
    assert!(signed_in.status().is_success() || signed_in.status().is_redirection());
    app
}

#[tokio::test]
async fn account_forms_answer_303_to_their_page_with_a_notice_once() {
    let app = signed_in_app().await;
    let client = app.register_client(ClientSpec::default()).await;

    // A refused form shows its page again with the problem (no redirect), as before.
    let refused = post_form(&app, "/account", "/account/email", &[("email", "not an address")]).await;
    assert_eq!(refused.status(), 400);

    let saved = post_form(&app, "/account", "/account/profile", &[("name", "Alice A.")]).await;
    assert_303_with_notice(&app, saved, "/account", "Saved.").await;
    assert!(html_of(&app, "/account").await.contains("Alice A."));

    let email = post_form(&app, "/account", "/account/email", &[("email", "new@example.com")]).await;
    assert_303_with_notice(&app, email, "/account", "We sent a confirmation link").await;

    let password = post_form(
        &app,
        "/account/password",
        "/account/password",
        &[
            ("current", PASSWORD),
            ("password", NEW_PASSWORD),
            ("confirm", NEW_PASSWORD),
        ],
    )
    .await;
    assert_303_with_notice(&app, password, "/account/password", "Password changed.").await;

    // Another device, signed out from this one.
    let other = new_browser(&app);
    assert_eq!(other.submit_login("/login", "alice", NEW_PASSWORD).await.status(), 303);
    let devices = html_of(&app, "/account/devices").await;
    let sid = devices
        .split("class=\"device\"")
        .find(|d| !d.contains("This device") && d.contains("data-sid"))
        .and_then(|d| hidden(d, "sid"))
        .expect("the other device");
    let revoked = post_form(&app, "/account/devices", "/account/devices/revoke", &[("sid", &sid)]).await;
    assert_303_with_notice(&app, revoked, "/account/devices", "Signed out.").await;
    let others = post_form(&app, "/account/devices", "/account/devices/revoke-others", &[]).await;
    assert_303_with_notice(&app, others, "/account/devices", "Every other device was signed out.").await;

    let removed = post_form(
        &app,
        "/account/apps",
        "/account/apps/remove",
        &[("client_id", &client.id)],
    )
    .await;
    assert_303_with_notice(&app, removed, "/account/apps", "Access removed.").await;
}

#[tokio::test]
async fn a_get_on_a_form_path_goes_to_its_page() {
    let app = signed_in_app().await;
    for (path, page) in [
        ("/account/profile", "/account"),
        ("/account/email", "/account"),
        ("/account/devices/revoke", "/account/devices"),
        ("/account/devices/revoke-others", "/account/devices"),
        ("/account/apps/remove", "/account/apps"),
        ("/account/security/totp/start", "/account/security"),
        ("/account/security/totp/confirm", "/account/security"),
        ("/account/security/totp/disable", "/account/security"),
        ("/account/security/recovery-codes", "/account/security"),
        ("/account/security/recovery-codes/done", "/account/security"),
    ] {
        // The page itself answers.
        assert_eq!(app.get_url(page).await.status(), 200, "{page}");
        let get = app.get_url(path).await;
        assert_eq!(get.status(), 303, "GET {path}: its page, not 405");
        assert_eq!(location(&get), page, "GET {path}");
    }
}

fn recovery_codes(html: &str) -> Vec<String> {
    html.split("<code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn totp_set_up_is_post_redirect_get_and_the_codes_show_until_done() {
    let app = signed_in_app().await;
    let started = post_form(&app, "/account/security", "/account/security/totp/start", &[]).await;
    assert_eq!(started.status(), 303);
    assert_eq!(location(&started), "/account/security");
    let set_up = html_of(&app, "/account/security").await;
    assert!(set_up.contains("<svg"), "the set-up shows after the redirect");
    let base32 = set_up
        .split("id=\"totp-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .replace(' ', "");
    let secret = totp_rs::Secret::Encoded(base32.clone()).to_bytes().unwrap();

    let wrong = post_form(
        &app,
        "/account/security",
        "/account/security/totp/confirm",
        &[("code", "000000")],
    )
    .await;
    assert_eq!(wrong.status(), 400, "a wrong code shows the set-up again");
    let code = keyhaven::crypto::totp::code_at(&secret, keyhaven::domain::Clock::now(&*app.clock));
    let confirmed = post_form(
        &app,
        "/account/security",
        "/account/security/totp/confirm",
        &[("code", &code)],
    )
    .await;
    assert_eq!(confirmed.status(), 303);
    assert_eq!(location(&confirmed), "/account/security");

    let shown = html_of(&app, "/account/security").await;
    let codes = recovery_codes(&shown);
    assert_eq!(codes.len(), 10, "the codes show after the redirect: {shown}");
    assert!(!shown.contains(&base32), "the secret is not shown again");
    assert!(shown.contains("/account/security/recovery-codes/done"), "a Done button");
    assert!(shown.contains("data-copy=\"recovery-codes\""), "a Copy button");
    assert!(
        unescape(&shown).contains("href=\"data:text/plain;charset=utf-8,") && shown.contains("download="),
        "a Download link"
    );
    assert!(unescape(&shown).contains("<script src=\"/static/keyhaven.js\""));
    let script = app.get_url("/static/keyhaven.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let csp = app.get_url("/account/security").await.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(
        recovery_codes(&html_of(&app, "/account/security").await),
        codes,
        "until Done"
    );

    let done = post_form(&app, "/account/security", "/account/security/recovery-codes/done", &[]).await;
    assert_eq!(done.status(), 303);
    let after = html_of(&app, "/account/security").await;
    assert!(recovery_codes(&after).is_empty(), "not shown again after Done");
    assert!(after.contains("Two-step verification is on."));
    // With TOTP on: the state first, new codes next, "Turn off" last.
    let (state, regenerate, turn_off) = (
        after.find("is <strong>on</strong>").unwrap(),
        after.find("Make new recovery codes").unwrap(),
        after.find("Turn off two-step verification").unwrap(),
    );
    assert!(state < regenerate && regenerate < turn_off, "{after}");

    let fresh = post_form(&app, "/account/security", "/account/security/recovery-codes", &[]).await;
    assert_eq!(fresh.status(), 303);
    let new_codes = recovery_codes(&html_of(&app, "/account/security").await);
    assert_eq!(new_codes.len(), 10);
    assert_ne!(new_codes, codes);

    app.clock.advance(30);
    let code = keyhaven::crypto::totp::code_at(&secret, keyhaven::domain::Clock::now(&*app.clock));
    let wrong = post_form(
        &app,
        "/account/security",
        "/account/security/totp/disable",
        &[("password", "wrong password"), ("code", &code)],
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let off = post_form(
        &app,
        "/account/security",
        "/account/security/totp/disable",
        &[("password", PASSWORD), ("code", &code)],
    )
    .await;
    assert_303_with_notice(&app, off, "/account/security", "Two-step verification is off.").await;
    assert!(recovery_codes(&html_of(&app, "/account/security").await).is_empty());
}

fn link_in(mail: &str, marker: &str) -> String {
    let start = mail.find("http://").expect("a link in the mail");
    let link = mail[start..].split_whitespace().next().unwrap().to_owned();
    assert!(link.contains(marker), "{link}");
    link
}

#[tokio::test]
async fn reset_is_post_redirect_get_and_ends_at_sign_in() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let form = html_of(&app, "/reset").await;
    assert!(form.contains("Back to sign in"), "the reset page leads back");
    let sent = app.request_reset("alice@example.com").await;
    assert_303_with_notice(&app, sent, "/reset", "we sent a link").await;
    assert!(html_of(&app, "/reset").await.contains("Back to sign in"));

    let link = link_in(&app.wait_for_mails(1).await[0], "/reset/");
    let done = app.set_new_password(&link, NEW_PASSWORD).await;
    assert_303_with_notice(&app, done, "/login", "Password changed").await;
    assert_eq!(app.submit_login("/login", "alice", NEW_PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn a_reset_started_from_an_app_returns_to_its_sign_in() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app
        .register_client(ClientSpec {
            first_party: true,
            ..Default::default()
        })
        .await;
    app.create_user("alice").await;
    let p = pkce();
    let login = location(&app.get_url(&app.authorize_url(&client.id, &p.challenge, &[])).await);
    let request = query(&format!("{}{login}", app.address))["request"].clone();
    let login_page = unescape(&html_of(&app, &login).await);
    let reset_page = format!("/reset?request={request}");
    assert!(login_page.contains(&format!("href=\"{reset_page}\"")), "{login_page}");

    let reset = unescape(&html_of(&app, &reset_page).await);
    assert!(
        reset.contains(&format!("href=\"{login}\"")),
        "back to this sign-in: {reset}"
    );
    let csrf = hidden(&reset, "csrf_token").unwrap();
    let sent = app
        .http
        .post(format!("{}/reset", app.address))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "alice@example.com"),
            ("request", request.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    assert_eq!(location(&sent), reset_page);

    let link = link_in(&app.wait_for_mails(1).await[0], "/reset/");
    let done = app.set_new_password(&link, NEW_PASSWORD).await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), login, "back to the application's sign-in");
    let signed_in = app.submit_login(&login, "alice", NEW_PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), format!("/authorize/resume?request={request}"));
    let callback = location(&app.get_url(&location(&signed_in)).await);
    assert!(callback.starts_with(crate::flow::REDIRECT) && query(&callback).contains_key("code"));

    // Another browser's reset does not lead into this browser's request.
    let other = new_browser(&app);
    let csrf = hidden(&html_of(&other, &reset_page).await, "csrf_token").unwrap();
    let sent = other
        .http
        .post(format!("{}/reset", app.address))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "alice@example.com"),
            ("request", request.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&sent), "/reset");
}

#[tokio::test]
async fn signing_out_answers_303_to_sign_in_which_says_so() {
    let app = signed_in_app().await;
    let account = html_of(&app, "/account").await;
    assert!(
        account.contains("Sign out of Keyhaven"),
        "a sign-out button in the header"
    );
    let csrf = hidden(&account, "csrf_token").unwrap();
    let out = app
        .http
        .post(format!("{}/logout", app.address))
        .form(&[("csrf_token", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_303_with_notice(&app, out, "/login", "You are signed out.").await;
    assert_eq!(app.get_url("/account").await.status(), 303, "signed out");
    // A GET of /logout with no session says so, with a way to sign in again.
    let again = html_of(&app, "/logout").await;
    assert!(again.contains("Sign in again"), "{again}");
}

#[tokio::test]
async fn a_signed_out_browser_returns_to_the_page_it_asked_for() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let asked = app.get_url("/account/devices").await;
    assert_eq!(asked.status(), 303);
    let login = location(&asked);
    assert_eq!(login, "/login?return_to=%2Faccount%2Fdevices");
    let signed_in = app.submit_login(&login, "alice", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/account/devices");

    // Without return_to: the account.
    let plain = new_browser(&app);
    assert_eq!(
        location(&plain.submit_login("/login", "alice", PASSWORD).await),
        "/account"
    );

    // Only local paths: another origin is refused, and the account is where sign-in leads.
    for evil in [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "https:%2F%2Fevil.example",
    ] {
        let browser = new_browser(&app);
        let url = format!("/login?{}", serde_urlencoded::to_string([("return_to", evil)]).unwrap());
        let page = browser.get_url(&url).await;
        assert_eq!(page.status(), 200);
        assert!(hidden(&page.text().await.unwrap(), "return_to").is_none(), "{evil}");
        let signed_in = browser.submit_login(&url, "alice", PASSWORD).await;
        assert_eq!(location(&signed_in), "/account", "{evil}");
        // Even posted straight in the form.
        let browser = new_browser(&app);
        let csrf = hidden(&html_of(&browser, "/login").await, "csrf_token").unwrap();
        let posted = browser
            .http
            .post(format!("{}/login", app.address))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("login", "alice"),
                ("password", PASSWORD),
                ("return_to", evil),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&posted), "/account", "{evil}");
    }
}

#[tokio::test]
async fn return_to_survives_the_second_factor() {
    let app = signed_in_app().await;
    let (secret, _) = crate::security::enroll_totp(&app).await;
    let browser = new_browser(&app);
    let login = location(&browser.get_url("/account/apps").await);
    let after_password = browser.submit_login(&login, "alice", PASSWORD).await;
    assert_eq!(after_password.status(), 303);
    let otp = location(&after_password);
    assert_eq!(otp, "/login/otp?return_to=%2Faccount%2Fapps");
    let page = html_of(&browser, &otp).await;
    let csrf = hidden(&page, "csrf_token").unwrap();
    let return_to = unescape(&hidden(&page, "return_to").unwrap());
    app.clock.advance(30);
    let code = keyhaven::crypto::totp::code_at(&secret, keyhaven::domain::Clock::now(&*app.clock));
    let signed_in = browser
        .http
        .post(format!("{}/login/otp", app.address))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("code", code.as_str()),
            ("return_to", return_to.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "the second factor answers 303");
    assert_eq!(location(&signed_in), "/account/apps");
}

#[tokio::test]
async fn too_many_codes_leads_back_to_sign_in() {
    let app = signed_in_app().await;
    crate::security::enroll_totp(&app).await;
    let browser = new_browser(&app);
    assert_eq!(
        location(&browser.submit_login("/login", "alice", PASSWORD).await),
        "/login/otp"
    );
    for _ in 0..5 {
        crate::security::submit_code(&browser, "000000").await;
    }
    let dropped = browser.get_url("/login/otp").await;
    assert_eq!(dropped.status(), 401);
    let page = unescape(&dropped.text().await.unwrap());
    assert!(page.contains("href=\"/login\">Sign in again</a>"), "{page}");
}

#[tokio::test]
async fn back_to_a_finished_request_leads_a_signed_in_person_to_the_account() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let p = pkce();
    let login = location(&app.get_url(&app.authorize_url(&client.id, &p.challenge, &[])).await);
    let resume = location(&app.submit_login(&login, "alice", PASSWORD).await);
    let consent = location(&app.get_url(&resume).await);
    let consented = location(&app.submit_consent(&consent, "allow").await);
    let callback = location(&app.get_url(&consented).await);
    assert!(query(&callback).contains_key("code"), "{consented} -> {callback}");

    // "Back" from the application: each page of the finished request.
    for page in [&login, &consent, &resume, &consented] {
        let back = app.get_url(page).await;
        assert_eq!(back.status(), 303, "{page}");
        assert_eq!(location(&back), "/account", "{page}");
    }
    let account = html_of(&app, "/account").await;
    assert!(account.contains("You are signed in."), "{account}");

    // A signed-out browser at a finished request: it has expired (the positive control).
    let stranger = new_browser(&app);
    let expired = stranger.get_url(&login).await;
    assert_eq!(expired.status(), 400);
    assert!(expired
        .text()
        .await
        .unwrap()
        .contains("This sign-in request has expired"));
}

#[tokio::test]
async fn broken_addresses_get_pages_in_words() {
    let app = spawn_app(Backend::Sqlite).await;
    let html = |path: &str| {
        app.http
            .get(format!("{}{path}", app.address))
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
    };
    // The consent page without its request.
    let consent = html("/consent").send().await.unwrap();
    assert_eq!(consent.status(), 400);
    assert!(consent.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(consent.headers()["cache-control"], "no-store");
    let body = consent.text().await.unwrap();
    assert!(!body.contains("deserialize"), "{body}");
    assert!(body.contains("The link you followed is missing something"), "{body}");
    assert!(body.contains("keyhaven.css"), "styled");
    // The same for the resume page.
    let resume = html("/authorize/resume").send().await.unwrap();
    assert_eq!(resume.status(), 400);
    assert!(!resume.text().await.unwrap().contains("deserialize"));

    // No such page: a page for a browser, JSON for an API client.
    let missing = html("/no/such/page").send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["content-security-policy"], keyhaven::web::PAGE_CSP);
    assert!(missing.text().await.unwrap().contains("Page not found"));
    let api = app.get_url("/no/such/page").await;
    assert_eq!(api.status(), 404);
    assert_eq!(
        api.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"error": "not_found"})
    );

    // A method a page does not take: a page too.
    let put = app.http.put(format!("{}/login", app.address)).send().await.unwrap();
    assert_eq!(put.status(), 405);
    assert!(put.text().await.unwrap().contains("This page cannot do that"));

    // The icon, named on every page.
    let icon = app.get_url("/favicon.ico").await;
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.unwrap().starts_with("<svg"));
    assert_eq!(app.get_url("/static/favicon.svg").await.status(), 200);
    let login = unescape(&html_of(&app, "/login").await);
    assert!(
        login.contains("<link rel=\"icon\" href=\"/static/favicon.svg\""),
        "{login}"
    );
}

#[tokio::test]
async fn an_email_change_ends_with_a_way_to_the_account() {
    let app = signed_in_app().await;
    post_form(&app, "/account", "/account/email", &[("email", "new@example.com")]).await;
    let link = link_in(&app.wait_for_mails(1).await[0], "/account/email/confirm/");
    let changed = app.get_url(&link).await;
    assert_eq!(changed.status(), 200);
    let page = unescape(&changed.text().await.unwrap());
    assert!(
        page.contains("Email address changed") && page.contains("href=\"/account\""),
        "{page}"
    );
}

#[tokio::test]
async fn every_signed_in_page_has_the_tabs_and_a_sign_out_button() {
    let app = signed_in_app().await;
    for page in [
        "/account",
        "/account/password",
        "/account/security",
        "/account/devices",
        "/account/apps",
        "/account/activity",
    ] {
        let html = unescape(&html_of(&app, page).await);
        assert!(html.contains("id=\"sign-out\""), "{page}: sign-out in the header");
        assert!(html.contains("Sign out of Keyhaven"), "{page}");
        assert!(html.contains("<nav class=\"tabs\""), "{page}: the account tabs");
        assert!(
            html.contains(&format!("href=\"{page}\" aria-current=\"page\"")),
            "{page}: {html}"
        );
    }
    // A page for a signed-out browser has none.
    let login = html_of(&new_browser(&app), "/login").await;
    assert!(!login.contains("id=\"sign-out\""));
}

#[tokio::test]
async fn the_activity_table_stacks_on_narrow_screens() {
    let app = signed_in_app().await;
    app.state.events.flush().await;
    let html = html_of(&app, "/account/activity").await;
    assert!(html.contains("<table class=\"activity\">"), "{html}");
    assert!(html.contains("<td data-label=\"When\">"), "each cell names its column");
    let css = app.get_url("/static/keyhaven.css").await.text().await.unwrap();
    let narrow = css
        .split("@media (max-width: 40rem)")
        .nth(1)
        .expect("a rule for narrow screens");
    assert!(narrow.contains("table.activity td { display: block") || narrow.contains("display: block"));
    assert!(narrow.contains("attr(data-label)"));
    assert!(
        css.contains("table.activity { table-layout: fixed; }"),
        "inside its card on desktop"
    );
}

#[tokio::test]
async fn back_to_the_code_page_of_a_finished_sign_in_goes_on_to_the_account() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    app.create_user("alice").await;
    app.submit_login("/login", "alice", crate::flow::PASSWORD).await;
    // Signed in: the code page sends the person on.
    let back = app.get_url("/login/otp").await;
    assert_eq!(back.status(), 303);
    assert_eq!(crate::flow::location(&back), "/account");
    let back = app.get_url("/login/otp?return_to=%2Faccount%2Fdevices").await;
    assert_eq!(crate::flow::location(&back), "/account/devices");
    // The control: a browser that is not signed in is told to sign in again.
    let stranger = crate::security::new_browser(&app);
    assert_eq!(stranger.get_url("/login/otp").await.status(), 401);
}
