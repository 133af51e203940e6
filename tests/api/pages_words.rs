//! Hosted pages that speak to people (issue 12): no developer words, forms that keep what was
//! typed, locks that say when to try again, a cookie only when it is needed, and the polish
//! (titles, focus, names of buttons, confirmation steps).

use keyhaven::domain::event::kind;
use keyhaven::domain::Clock;

use crate::flow::{hidden, location, pkce, ClientSpec, TestClient, PASSWORD, REDIRECT};
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};
use crate::security::{new_browser, password_step};

const CHROME_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

/// The text a person sees: no tags, no scripts or styles, the usual entities decoded.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        text.push(' ');
        let tag = &rest[start..];
        let skip_to = ["<script", "<style"]
            .iter()
            .find(|t| tag.starts_with(**t))
            .map(|t| format!("</{}>", &t[1..]));
        rest = match skip_to {
            Some(close) => tag.find(&close).map_or("", |end| &tag[end + close.len()..]),
            None => tag.find('>').map_or("", |end| &tag[end + 1..]),
        };
    }
    text.push_str(rest);
    let text = text
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Words of developers, not of people: protocol parameters, raw scopes, raw event kinds.
fn developer_words() -> Vec<String> {
    let mut words: Vec<String> = [
        "redirect_uri",
        "post_logout_redirect_uri",
        "id_token_hint",
        "client_id",
        "openid",
        "offline_access",
        "scope",
    ]
    .map(str::to_owned)
    .to_vec();
    words.extend(kind::ALL.iter().map(|k| k.as_str().to_owned()));
    words
}

/// What a page's visible text says in developers' terms: their words, and ISO 8601 times.
fn developer_speak(text: &str) -> Vec<String> {
    let words = developer_words();
    let mut found: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|token| words.iter().any(|w| w == token))
        .map(str::to_owned)
        .collect();
    let bytes = text.as_bytes();
    for (i, window) in bytes.windows(11).enumerate() {
        let digits = |range: std::ops::Range<usize>| window[range].iter().all(u8::is_ascii_digit);
        if digits(0..4) && window[4] == b'-' && digits(5..7) && window[7] == b'-' && digits(8..10) && window[10] == b'T'
        {
            found.push(String::from_utf8_lossy(&bytes[i..(i + 20).min(bytes.len())]).into_owned());
        }
    }
    found
}

#[test]
fn the_developer_word_check_finds_developer_words() {
    // The positive control of the check the page walk relies on.
    let page = "<p>The redirect_uri is bad</p><td>token_revoked</td><td>otp</td><p>2026-12-05T14:03:00Z</p>";
    assert_eq!(
        developer_speak(&visible_text(page)),
        ["redirect_uri", "token_revoked", "otp", "2026-12-05T14:03:00Z"]
    );
    let hidden_field =
        "<input type=\"hidden\" name=\"client_id\" value=\"x\"><script>var scope;</script><p>Sign in</p>";
    assert!(developer_speak(&visible_text(hidden_field)).is_empty());
}

/// Every page state a test can reach, by name, with its visible text.
struct Walk(Vec<(String, String)>);

impl Walk {
    async fn page(&mut self, name: &str, response: reqwest::Response) -> String {
        let html = response.text().await.unwrap();
        assert!(html.contains("<html"), "{name} is a page: {html}");
        self.0.push((name.to_owned(), visible_text(&html)));
        html
    }

    async fn get(&mut self, app: &TestApp, name: &str, url: &str) -> String {
        let response = app.get_url(url).await;
        self.page(name, response).await
    }
}

async fn post(app: &TestApp, action: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.http
        .post(format!("{}{action}", app.address))
        .form(form)
        .send()
        .await
        .unwrap()
}

fn totp_key(html: &str) -> Vec<u8> {
    let key = html
        .split("id=\"totp-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .replace(' ', "");
    totp_rs::Secret::Encoded(key).to_bytes().unwrap()
}

#[tokio::test]
async fn no_page_shows_developer_words() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app
        .register_client(ClientSpec {
            post_logout_redirect_uris: vec!["https://rp.example/bye"],
            ..Default::default()
        })
        .await;
    app.create_user("alice").await;
    let mut walk = Walk(Vec::new());

    // Sign-in, consent (with a scope we have no words for), the code.
    walk.get(&app, "login", "/login").await;
    walk.page("wrong password", app.submit_login("/login", "alice", "wrong").await)
        .await;
    let p = pkce();
    let scope = ("scope", Some("openid profile email address phone offline_access"));
    let login = location(
        &app.get_url(&app.authorize_url(&client.id, &p.challenge, &[scope]))
            .await,
    );
    walk.get(&app, "login for an app", &login).await;
    let resume = location(&app.submit_login(&login, "alice", PASSWORD).await);
    let consent = location(&app.get_url(&resume).await);
    let consent_html = walk.get(&app, "consent", &consent).await;
    let resumed = location(&app.submit_consent(&consent, "allow").await);
    let done = location(&app.get_url(&resumed).await);
    assert!(done.starts_with(REDIRECT), "{done}");

    // The account area, with events to show.
    app.state.events.flush().await;
    for (name, path) in [
        ("profile", "/account"),
        ("password", "/account/password"),
        ("devices", "/account/devices"),
        ("apps", "/account/apps"),
        ("activity", "/account/activity"),
        ("security, off", "/account/security"),
    ] {
        walk.get(&app, name, path).await;
    }
    let csrf = hidden(&app.get_url("/account").await.text().await.unwrap(), "csrf_token").unwrap();
    let refused = post(
        &app,
        "/account/email",
        &[("csrf_token", &csrf), ("email", "not an address")],
    )
    .await;
    walk.page("email refused", refused).await;
    let wrong_current = post(
        &app,
        "/account/password",
        &[
            ("csrf_token", &csrf),
            ("current", "wrong"),
            ("password", "x"),
            ("confirm", "y"),
        ],
    )
    .await;
    walk.page("password refused", wrong_current).await;
    let started = post(&app, "/account/security/totp/start", &[("csrf_token", &csrf)]).await;
    assert_eq!(started.status(), 303, "Post/Redirect/Get");
    let enrolment = walk.get(&app, "totp enrolment", "/account/security").await;
    let key = totp_key(&enrolment);
    let wrong = post(
        &app,
        "/account/security/totp/confirm",
        &[("csrf_token", &csrf), ("code", "000000")],
    )
    .await;
    walk.page("totp wrong code", wrong).await;
    let code = keyhaven::crypto::totp::code_at(&key, app.clock.now());
    let confirmed = post(
        &app,
        "/account/security/totp/confirm",
        &[("csrf_token", &csrf), ("code", &code)],
    )
    .await;
    assert_eq!(confirmed.status(), 303, "Post/Redirect/Get");
    walk.get(&app, "recovery codes", "/account/security").await;
    walk.get(&app, "security, on", "/account/security").await;
    app.state.events.flush().await;
    let activity = walk.get(&app, "activity after totp", "/account/activity").await;

    // The second factor in another browser, and a lock.
    app.clock.advance(30);
    let other = new_browser(&app);
    let (step, _) = password_step(&other, &client).await;
    assert_eq!(location(&step), "/login/otp");
    walk.get(&other, "one-time code", "/login/otp").await;
    walk.page(
        "wrong one-time code",
        crate::security::submit_code(&other, "000000").await,
    )
    .await;
    for _ in 0..5 {
        app.submit_login("/login", "mallory", "guess").await;
    }
    walk.page("locked", app.submit_login("/login", "mallory", "guess").await)
        .await;

    // Sign-out: the question, and the requests that are refused.
    let ask = format!("/logout?client_id={}", client.id);
    walk.get(&app, "sign out?", &ask).await;
    for (name, url) in [
        (
            "logout, return without app",
            "/logout?post_logout_redirect_uri=https://rp.example/bye".to_owned(),
        ),
        (
            "logout, unregistered return",
            format!(
                "/logout?client_id={}&post_logout_redirect_uri=https://evil.example/",
                client.id
            ),
        ),
        ("logout, bad hint", "/logout?id_token_hint=not.a.token".to_owned()),
        (
            "authorize, unregistered return",
            app.authorize_url(
                &client.id,
                &p.challenge,
                &[("redirect_uri", Some("https://evil.example/cb"))],
            ),
        ),
        ("authorize, no app", "/authorize?response_type=code".to_owned()),
        ("authorize, unknown app", "/authorize?client_id=nobody".to_owned()),
        (
            "authorize, two returns",
            format!(
                "{}&redirect_uri=https://rp.example/other",
                app.authorize_url(&client.id, &p.challenge, &[])
            ),
        ),
    ] {
        let response = app.get_url(&url).await;
        assert_eq!(response.status(), 400, "{name}");
        walk.page(name, response).await;
    }

    // Password reset.
    let anonymous = new_browser(&app);
    walk.get(&anonymous, "reset", "/reset").await;
    let sent = anonymous.request_reset("alice@example.com").await;
    assert_eq!(sent.status(), 303, "Post/Redirect/Get");
    walk.get(&anonymous, "reset sent", &location(&sent)).await;
    let mail = app.wait_for_mails(1).await.remove(0);
    let start = mail.find("http://").unwrap();
    let link = mail[start..].split_whitespace().next().unwrap().to_owned();
    walk.get(&anonymous, "new password", &link).await;
    walk.get(&anonymous, "reset link invalid", "/reset/khp_nothing").await;

    let offenders: Vec<String> = walk
        .0
        .iter()
        .filter_map(|(name, text)| {
            let found = developer_speak(text);
            (!found.is_empty()).then(|| format!("{name}: {found:?}"))
        })
        .collect();
    assert!(walk.0.len() >= 30, "{} states", walk.0.len());
    assert!(
        offenders.is_empty(),
        "developer words shown to people:\n{}",
        offenders.join("\n")
    );
    // And the words for people are there in their place.
    assert!(
        consent_html.contains("Confirm who you are") && consent_html.contains("See your postal address"),
        "{consent_html}"
    );
    assert!(
        activity.contains("Two-step verification turned on") && activity.contains(" UTC"),
        "{activity}"
    );
}

#[tokio::test]
async fn a_wrong_password_keeps_the_username_and_focuses_the_password() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let blank = app.get_url("/login").await.text().await.unwrap();
    assert!(
        blank.contains("value=\"\" autofocus"),
        "an empty form focuses the name: {blank}"
    );

    let wrong = app.submit_login("/login", "alice", "not the password").await;
    assert_eq!(wrong.status(), 401);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("Wrong username or password."));
    let name_field = html.split("id=\"login\"").nth(1).unwrap().split('>').next().unwrap();
    assert!(name_field.contains("value=\"alice\""), "{name_field}");
    assert!(!name_field.contains("autofocus"), "{name_field}");
    let password_field = html.split("id=\"password\"").nth(1).unwrap().split('>').next().unwrap();
    assert!(password_field.contains("autofocus"), "{password_field}");
    assert!(!password_field.contains("value="), "the password is never sent back");
}

fn cookie_named<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with(&format!("{name}=")))
}

#[tokio::test]
async fn a_lock_says_when_to_try_again_alike_for_right_and_wrong_passwords() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    // Positive control: before the lock, a wrong password is just wrong.
    let wrong = app.submit_login("/login", "alice", "wrong").await;
    assert_eq!(wrong.status(), 401);
    for _ in 0..4 {
        assert_eq!(app.submit_login("/login", "alice", "wrong").await.status(), 401);
    }
    let mut pages = Vec::new();
    for password in [PASSWORD, "still wrong"] {
        let locked = app.submit_login("/login", "alice", password).await;
        assert_eq!(locked.status(), 429, "{password}");
        let html = locked.text().await.unwrap();
        let text = visible_text(&html);
        assert!(
            text.contains("Try again in about 1 minute.")
                && text.contains("Resetting your password unlocks your account at once."),
            "{text}"
        );
        pages.push(crate::security::normalised(&html));
    }
    assert_eq!(pages[0], pages[1], "a right and a wrong password get the same page");

    // The lock doubles: the second one says two minutes.
    app.clock.advance(61);
    for _ in 0..5 {
        app.submit_login("/login", "alice", "wrong").await;
    }
    let again = app.submit_login("/login", "alice", PASSWORD).await;
    assert!(visible_text(&again.text().await.unwrap()).contains("Try again in about 2 minutes."));
}

#[tokio::test]
async fn a_rate_limited_page_says_when_to_try_again() {
    let app = spawn_app_with(Backend::Sqlite, &[("rate_limit_pages", "2/1m")]).await;
    assert_eq!(app.get_url("/reset").await.status(), 200);
    assert_eq!(app.get_url("/reset").await.status(), 200);
    let limited = app.get_url("/reset").await;
    assert_eq!(limited.status(), 429);
    assert!(visible_text(&limited.text().await.unwrap()).contains("Try again in about a minute."));
}

#[tokio::test]
async fn the_login_page_sets_no_session_cookie_and_keep_me_signed_in_decides_its_lifetime() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let ttl = app.state.settings.session_absolute_ttl;

    let page = app.get_url("/login").await;
    assert_eq!(page.status(), 200);
    assert!(
        cookie_named(&page, "__Host-keyhaven").is_none(),
        "no session cookie before sign-in"
    );
    let form_cookie = cookie_named(&page, "__Host-keyhaven-form")
        .expect("the form's anchor")
        .to_owned();
    assert!(
        !form_cookie.contains("Max-Age") && !form_cookie.contains("Expires") && form_cookie.contains("HttpOnly"),
        "{form_cookie}"
    );
    assert!(page.text().await.unwrap().contains("Keep me signed in"));

    // Unchecked: a cookie for the browser session, and the session works.
    let signed_in = app.submit_login("/login", "alice", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    let cookie = cookie_named(&signed_in, "__Host-keyhaven")
        .expect("a session cookie")
        .to_owned();
    for attribute in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(!cookie.contains("Max-Age") && !cookie.contains("Expires"), "{cookie}");
    assert_eq!(app.get_url("/account").await.status(), 200);
    // The server's own expiry is unchanged: the absolute end signs the browser out.
    app.clock.advance(ttl + 1);
    assert_eq!(app.get_url("/account").await.status(), 303);

    // Checked: persistent, as before.
    let browser = new_browser(&app);
    let html = browser.get_url("/login").await.text().await.unwrap();
    let form = [
        ("csrf_token", hidden(&html, "csrf_token").unwrap()),
        ("login", "alice".to_owned()),
        ("password", PASSWORD.to_owned()),
        ("remember", "yes".to_owned()),
    ];
    let kept = browser
        .http
        .post(format!("{}/login", browser.address))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), 303);
    let cookie = cookie_named(&kept, "__Host-keyhaven").unwrap();
    assert!(cookie.contains(&format!("Max-Age={ttl}")), "{cookie}");
}

#[tokio::test]
async fn the_sign_in_form_token_is_bound_to_its_browser() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let html = app.get_url("/login").await.text().await.unwrap();
    let token = hidden(&html, "csrf_token").unwrap();
    let form = [
        ("csrf_token", token.as_str()),
        ("login", "alice"),
        ("password", PASSWORD),
    ];
    // Another browser (no form cookie, or its own) cannot use it.
    let other = new_browser(&app);
    other.get_url("/login").await;
    let forged = post(&other, "/login", &form).await;
    assert_eq!(forged.status(), 403);
    // Its own browser can.
    assert_eq!(post(&app, "/login", &form).await.status(), 303);
}

async fn consent_page(app: &TestApp, client: &TestClient, scope: &str) -> String {
    let p = pkce();
    let url = app.authorize_url(&client.id, &p.challenge, &[("scope", Some(scope))]);
    let login = location(&app.get_url(&url).await);
    let resume = location(&app.submit_login(&login, "alice", PASSWORD).await);
    let consent = location(&app.get_url(&resume).await);
    assert!(consent.starts_with("/consent"), "{consent}");
    app.get_url(&consent).await.text().await.unwrap()
}

#[tokio::test]
async fn consent_reads_in_order_focuses_no_grant_and_names_where_the_person_returns() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    // Unknown scopes are refused before consent; their words ("Access to “x”") are a unit test
    // of `domain::scope::description`.
    let html = consent_page(&app, &client, "offline_access address email openid phone profile").await;
    let text = visible_text(&html);
    let order = [
        "Confirm who you are",
        "See your name and profile details",
        "See your email address",
        "See your postal address",
        "See your phone number",
        "Stay connected when you are away",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|s| text.find(s).unwrap_or_else(|| panic!("{s} missing: {text}")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}: {text}");
    let allow = html.split("value=\"allow\"").nth(1).unwrap().split('>').next().unwrap();
    assert!(!allow.contains("autofocus"), "{allow}");
    assert!(html.contains("value=\"deny\""), "the other choice is there");
    assert!(text.contains("After you choose, you go back to rp.example."), "{text}");
    assert!(html.contains("Not you? <a href=\"/logout\">Sign out</a>"), "{html}");
}

#[tokio::test]
async fn the_code_page_offers_sign_out_and_the_logout_question_names_the_app() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 303);

    // The logout question without an app, then naming one; Cancel goes to the account.
    let plain = app.get_url("/logout").await.text().await.unwrap();
    assert!(plain.contains("Sign out?") && !plain.contains("asks you to sign out"));
    let named = app.get_url(&format!("/logout?client_id={}", client.id)).await;
    assert_eq!(named.status(), 200);
    let named = named.text().await.unwrap();
    assert!(
        visible_text(&named).contains("Relying Party asks you to sign out."),
        "{named}"
    );
    assert!(
        named.contains("<a class=\"button secondary\" href=\"/account\">Cancel</a>"),
        "{named}"
    );

    // The one-time code page.
    crate::security::enroll_totp(&app).await;
    app.clock.advance(30);
    let other = new_browser(&app);
    let (step, _) = password_step(&other, &client).await;
    assert_eq!(location(&step), "/login/otp");
    let otp = other.get_url("/login/otp").await.text().await.unwrap();
    assert!(otp.contains("Not you? <a href=\"/logout\">Sign out</a>"), "{otp}");
    let signed_out = other.get_url("/logout").await;
    assert_eq!(signed_out.status(), 200);
    assert_eq!(other.get_url("/login/otp").await.status(), 401, "the code step is gone");
}

#[tokio::test]
async fn account_tabs_have_titles_and_form_errors_take_the_focus() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 303);
    let mut titles = Vec::new();
    for (path, title) in [
        ("/account", "Profile – Keyhaven"),
        ("/account/password", "Password – Keyhaven"),
        ("/account/security", "Security – Keyhaven"),
        ("/account/devices", "Devices – Keyhaven"),
        ("/account/apps", "Apps – Keyhaven"),
        ("/account/activity", "Activity – Keyhaven"),
    ] {
        let html = app.get_url(path).await.text().await.unwrap();
        assert!(html.contains(&format!("<title>{title}</title>")), "{path}: {html}");
        titles.push(title);
    }

    let page = app.get_url("/account/password").await.text().await.unwrap();
    assert!(
        page.contains("<input type=\"text\" autocomplete=\"username\" value=\"alice\" hidden readonly>"),
        "{page}"
    );
    assert!(!page.contains("aria-invalid"), "no error, no mark");
    let csrf = hidden(&page, "csrf_token").unwrap();
    let form = [
        ("csrf_token", csrf.as_str()),
        ("current", "wrong"),
        ("password", "violet kettle marmalade 42"),
        ("confirm", "violet kettle marmalade 42"),
    ];
    let refused = post(&app, "/account/password", &form).await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(html.contains("id=\"account-problems\""), "{html}");
    let current = html.split("id=\"current\"").nth(1).unwrap().split('>').next().unwrap();
    assert!(
        current.contains("autofocus aria-invalid=\"true\" aria-describedby=\"account-problems\""),
        "{current}"
    );

    let email = post(&app, "/account/email", &[("csrf_token", &csrf), ("email", "nope")]).await;
    assert_eq!(email.status(), 400);
    let html = email.text().await.unwrap();
    let field = html.split("id=\"email\"").nth(1).unwrap().split('>').next().unwrap();
    assert!(field.contains("aria-invalid=\"true\""), "{field}");
}

#[tokio::test]
async fn the_reset_form_names_the_account() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    app.request_reset("alice@example.com").await;
    let mail = app.wait_for_mails(1).await.remove(0);
    let start = mail.find("http://").unwrap();
    let link = mail[start..].split_whitespace().next().unwrap().to_owned();
    let html = app.get_url(&link).await.text().await.unwrap();
    assert!(
        html.contains("<input type=\"text\" autocomplete=\"username\" value=\"alice\" hidden readonly>"),
        "{html}"
    );
}

#[tokio::test]
async fn totp_setup_shows_the_key_in_groups_and_a_link_for_this_device() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 303);
    let csrf = hidden(
        &app.get_url("/account/security").await.text().await.unwrap(),
        "csrf_token",
    )
    .unwrap();
    let started = post(&app, "/account/security/totp/start", &[("csrf_token", &csrf)]).await;
    assert_eq!(started.status(), 303, "Post/Redirect/Get");
    let html = app.get_url("/account/security").await.text().await.unwrap();
    assert!(html.contains("<div class=\"qr\" role=\"img\""), "{html}");
    let key = html
        .split("id=\"totp-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    let groups: Vec<&str> = key.split(' ').collect();
    assert!(
        groups.len() > 1 && groups.iter().all(|g| !g.is_empty() && g.len() <= 4),
        "{key}"
    );
    assert!(groups[..groups.len() - 1].iter().all(|g| g.len() == 4), "{key}");
    assert!(
        html.contains("href=\"otpauth:&#x2F;&#x2F;totp&#x2F;") || html.contains("href=\"otpauth://totp/"),
        "{html}"
    );
    assert_eq!(totp_key(&html).len(), 20, "the grouped key still decodes");
}

/// Whether `text` holds a date written for machines: `dddd-dd-ddTdd`.
fn has_machine_date(text: &str) -> bool {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd";
    text.as_bytes().windows(SHAPE.len()).any(|window| {
        window.iter().zip(SHAPE).all(|(byte, shape)| match shape {
            b'd' => byte.is_ascii_digit(),
            other => byte == other,
        })
    })
}

#[test]
fn the_machine_date_check_finds_machine_dates() {
    assert!(has_machine_date("Signed in 2026-12-06T08:23:36Z"));
    assert!(!has_machine_date("Signed in 6 December 2026, 08:23 UTC"));
    assert!(!has_machine_date("token aT0b-x"));
}

#[tokio::test]
async fn destructive_buttons_ask_again_and_say_which_device() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let chrome = TestApp {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .user_agent(CHROME_LINUX)
            .build()
            .unwrap(),
        ..app.shallow_clone()
    };
    chrome.code_for(&client, "alice", &[]).await;
    app.code_for(&client, "alice", &[]).await;
    let devices = app.get_url("/account/devices").await.text().await.unwrap();
    assert!(
        devices.contains("<summary aria-label=\"Sign out Chrome on Linux\">Sign out</summary>"),
        "{devices}"
    );
    assert!(
        devices.contains("<summary>Sign out everywhere else</summary>"),
        "{devices}"
    );
    // An RFC 3339 date ("2026-12-06T08:…") is for machines; a random form token may well
    // contain "T0", so look for the date's shape in what the person reads.
    let shown = visible_text(&devices);
    assert!(
        !has_machine_date(&shown) && shown.contains(" UTC"),
        "readable dates: {shown}"
    );
    let apps = app.get_url("/account/apps").await.text().await.unwrap();
    assert!(
        apps.contains("<summary aria-label=\"Remove access of Relying Party\">Remove access</summary>"),
        "{apps}"
    );
    assert!(
        visible_text(&apps).contains("Stay connected when you are away"),
        "{apps}"
    );
    // Every confirmation is a second button inside the step; no script is needed.
    assert!(!devices.contains("onclick") && !apps.contains("onclick"));
}

#[tokio::test]
async fn the_show_password_script_is_ours_and_the_policy_allows_only_ours() {
    let app = spawn_app(Backend::Sqlite).await;
    let page = app.get_url("/login").await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<script src=\"/static/show-password.js\" defer></script>"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "no inline script");
    let script = app.get_url("/static/show-password.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.text().await.unwrap().contains("input[type=password]"));
}

#[tokio::test]
async fn mail_comes_from_the_issuers_host() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    app.request_reset("alice@example.com").await;
    app.wait_for_mails(1).await;
    let raw = std::fs::read_dir(app.outbox())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|m| m.contains("From:"))
        .unwrap();
    let from = raw.lines().find(|l| l.starts_with("From:")).unwrap();
    // The test server's issuer is http://127.0.0.1:PORT.
    assert_eq!(from, "From: Keyhaven <no-reply@127.0.0.1>", "{raw}");
}

#[tokio::test]
async fn keep_me_signed_in_is_carried_through_the_second_factor() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app
        .register_client(ClientSpec {
            first_party: true,
            ..Default::default()
        })
        .await;
    app.create_user("alice").await;
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 303);
    let (key, _) = crate::security::enroll_totp(&app).await;
    app.clock.advance(30);
    let ttl = app.state.settings.session_absolute_ttl;

    for remember in [false, true] {
        let browser = new_browser(&app);
        let url = browser.authorize_url(&client.id, &pkce().challenge, &[]);
        let login = location(&browser.get_url(&url).await);
        let html = browser.get_url(&login).await.text().await.unwrap();
        let mut form = vec![
            ("csrf_token", hidden(&html, "csrf_token").unwrap()),
            ("request", hidden(&html, "request").unwrap()),
            ("login", "alice".to_owned()),
            ("password", PASSWORD.to_owned()),
        ];
        if remember {
            form.push(("remember", "yes".to_owned()));
        }
        let step = browser
            .http
            .post(format!("{}/login", browser.address))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(step.status(), 303);
        let otp_url = location(&step);
        let page = browser.get_url(&otp_url).await.text().await.unwrap();
        assert_eq!(hidden(&page, "remember").is_some(), remember, "{page}");
        let mut form = vec![
            ("csrf_token", hidden(&page, "csrf_token").unwrap()),
            ("code", keyhaven::crypto::totp::code_at(&key, app.clock.now())),
        ];
        if let Some(value) = hidden(&page, "remember") {
            form.push(("remember", value));
        }
        let signed_in = browser
            .http
            .post(format!("{}/login/otp", browser.address))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 303, "remember: {remember}");
        let cookie = cookie_named(&signed_in, "__Host-keyhaven").unwrap();
        assert_eq!(cookie.contains(&format!("Max-Age={ttl}")), remember, "{cookie}");
        // Each code works once: the next browser signs in with the next step's code.
        app.clock.advance(30);
    }
}
