//! Account security: reset by mail, password policy, TOTP, lockout, rate limits, the event
//! log, and no secret in any log line or event.

use std::time::Duration;

use keyhaven::domain::event::EventFilter;
use keyhaven::domain::Clock;
use serde_json::{json, Value};

use crate::flow::{hidden, location, pkce, query, ClientSpec, TestClient, API, PASSWORD};
use crate::helpers::{captured_logs, spawn_app, spawn_app_with, Backend, TestApp};
use crate::token::jwt_claims;

pub const NEW_PASSWORD: &str = "violet kettle marmalade 42";

impl TestApp {
    pub async fn request_reset(&self, email: &str) -> reqwest::Response {
        let page = self.get_url("/reset").await.text().await.unwrap();
        let csrf = hidden(&page, "csrf_token").unwrap();
        self.http
            .post(format!("{}/reset", self.address))
            .form(&[("csrf_token", csrf.as_str()), ("email", email)])
            .send()
            .await
            .unwrap()
    }

    pub async fn set_new_password(&self, link: &str, password: &str) -> reqwest::Response {
        let page = self.get_url(link).await;
        if page.status() != 200 {
            return page;
        }
        let csrf = hidden(&page.text().await.unwrap(), "csrf_token").unwrap();
        self.http
            .post(link)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("password", password),
                ("confirm", password),
            ])
            .send()
            .await
            .unwrap()
    }
}

fn reset_link(mail: &str) -> String {
    let start = mail.find("http://").expect("a link in the mail");
    mail[start..].split_whitespace().next().unwrap().to_owned()
}

fn text(v: &Value, name: &str) -> String {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {v}"))
        .to_owned()
}

pub fn normalised(html: &str) -> String {
    match hidden(html, "csrf_token") {
        Some(token) => html.replace(&token, "TOKEN"),
        None => html.to_owned(),
    }
}

#[tokio::test]
async fn reset_answers_alike_for_existing_and_missing_accounts_and_each_link_works_once() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    let rs = app.resource_server(API).await;
    app.create_user("alice").await;
    let before = app.tokens_for(&client, "alice").await;

    let mut pages = vec![];
    for email in ["alice@example.com", "nobody@example.com"] {
        let sent = app.request_reset(email).await;
        assert_eq!((sent.status().as_u16(), location(&sent)), (303, "/reset".to_owned()));
        pages.push(normalised(&app.get_url("/reset").await.text().await.unwrap()));
    }
    let (a, b) = (pages[0].clone(), pages[1].clone());
    assert_eq!(a, b, "the same answer for an existing and a missing account");
    assert!(a.contains("If an account exists for that address, we sent a link"));

    let mails = app.wait_for_mails(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.mails().len(), 1, "no mail for the missing account");
    let link = reset_link(&mails[0]);
    assert!(link.contains("/reset/khp_"), "{link}");

    let weak = app.set_new_password(&link, "password2024!").await;
    assert_eq!(weak.status(), 400);
    assert!(weak.text().await.unwrap().contains("too common"), "the reason is shown");
    let done = app.set_new_password(&link, NEW_PASSWORD).await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/login");
    assert!(app
        .get_url("/login")
        .await
        .text()
        .await
        .unwrap()
        .contains("Password changed"));

    let again = app.get_url(&link).await;
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("This link is no longer valid"));

    // Everything from before is signed out: the refresh token, the access token, the browser.
    assert_eq!(
        app.introspect(&client, &text(&before, "refresh_token")).await,
        json!({"active": false})
    );
    assert_eq!(
        app.introspect(&rs, &text(&before, "access_token")).await,
        json!({"active": false})
    );
    let p = pkce();
    let silent = app
        .get_url(&app.authorize_url(&client.id, &p.challenge, &[("prompt", Some("none"))]))
        .await;
    assert_eq!(query(&location(&silent))["error"], "login_required");
    // The new password works; the old does not.
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 401);
    assert_eq!(app.submit_login("/login", "alice", NEW_PASSWORD).await.status(), 303);
    let changed = app.wait_for_mails(2).await;
    assert!(changed[1].contains("was just changed"), "a 'password changed' mail");
}

#[tokio::test]
async fn expired_and_superseded_links_fail_with_the_same_page() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    app.request_reset("alice@example.com").await;
    let first = reset_link(&app.wait_for_mails(1).await[0]);
    app.request_reset("alice@example.com").await;
    let second = reset_link(&app.wait_for_mails(2).await[1]);
    assert_ne!(first, second);
    let superseded = app.get_url(&first).await;
    assert_eq!(superseded.status(), 400);
    let superseded = superseded.text().await.unwrap();
    let unknown = app
        .get_url(&format!("{}/reset/khp_made-up", app.address))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(superseded, unknown, "one generic page");
    app.clock.advance(16 * 60);
    let expired = app.get_url(&second).await;
    assert_eq!(expired.status(), 400);
    assert_eq!(expired.text().await.unwrap(), unknown);
}

/// Enrolls TOTP for the signed-in browser of `app`; returns (secret, recovery codes).
pub async fn enroll_totp(app: &TestApp) -> (Vec<u8>, Vec<String>) {
    let page = app.get_url("/account/security").await.text().await.unwrap();
    let csrf = hidden(&page, "csrf_token").unwrap();
    let started = app
        .http
        .post(format!("{}/account/security/totp/start", app.address))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    let html = app.get_url(&location(&started)).await.text().await.unwrap();
    assert!(html.contains("<svg"), "a QR code");
    let base32 = html
        .split("id=\"totp-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .replace(' ', "");
    let secret = totp_rs::Secret::Encoded(base32).to_bytes().unwrap();
    let wrong = app
        .http
        .post(format!("{}/account/security/totp/confirm", app.address))
        .form(&[("csrf_token", csrf.as_str()), ("code", "000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let code = keyhaven::crypto::totp::code_at(&secret, app.clock.now());
    let confirmed = app
        .http
        .post(format!("{}/account/security/totp/confirm", app.address))
        .form(&[("csrf_token", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 303);
    let html = app.get_url(&location(&confirmed)).await.text().await.unwrap();
    let codes: Vec<String> = html
        .split("<code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes shown once");
    (secret, codes)
}

/// A fresh browser on the same server.
pub fn new_browser(app: &TestApp) -> TestApp {
    TestApp {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap(),
        ..app.shallow_clone()
    }
}

pub async fn submit_code(app: &TestApp, code: &str) -> reqwest::Response {
    let page = app.get_url("/login/otp").await;
    let html = page.text().await.unwrap();
    let csrf = hidden(&html, "csrf_token").unwrap_or_default();
    app.http
        .post(format!("{}/login/otp", app.address))
        .form(&[("csrf_token", csrf.as_str()), ("code", code)])
        .send()
        .await
        .unwrap()
}

/// Starts the code flow in `browser` and signs in with the password; returns the response.
pub async fn password_step(browser: &TestApp, client: &TestClient) -> (reqwest::Response, crate::flow::Pkce) {
    let p = pkce();
    let login = location(
        &browser
            .get_url(&browser.authorize_url(&client.id, &p.challenge, &[]))
            .await,
    );
    (browser.submit_login(&login, "alice", PASSWORD).await, p)
}

#[tokio::test]
async fn totp_enrolment_and_sign_in_with_codes_replay_and_recovery() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app
        .register_client(ClientSpec {
            first_party: true,
            ..Default::default()
        })
        .await;
    app.create_user("alice").await;
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 303);
    let (secret, recovery) = enroll_totp(&app).await;
    let stored = app.state.store.find_user_by_login("alice").await.unwrap().unwrap();
    let sealed = stored.totp_secret.clone().unwrap();
    assert!(
        !sealed.contains(&totp_rs::Secret::Raw(secret.clone()).to_encoded().to_string()),
        "the secret is sealed at rest"
    );

    // A new browser: the password alone is not enough.
    app.clock.advance(30);
    let browser = new_browser(&app);
    let (after_password, p) = password_step(&browser, &client).await;
    assert_eq!(after_password.status(), 303);
    assert_eq!(location(&after_password), "/login/otp");
    let wrong = submit_code(&browser, "123456").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("Wrong code"));
    let code = keyhaven::crypto::totp::code_at(&secret, app.clock.now());
    let accepted = submit_code(&browser, &code).await;
    assert_eq!(accepted.status(), 303, "the right code signs in");
    let resume = location(&accepted);
    let done = location(&browser.get_url(&resume).await);
    let params = query(&done);
    let tokens: Value = browser
        .exchange(&client, &params["code"], &p.verifier)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jwt_claims(&text(&tokens, "id_token"))["amr"], json!(["pwd", "otp"]));

    // The same code again, in another browser within its window: refused.
    let replay = new_browser(&app);
    let (after_password, _) = password_step(&replay, &client).await;
    assert_eq!(location(&after_password), "/login/otp");
    assert_eq!(submit_code(&replay, &code).await.status(), 401, "a code works once");

    // A recovery code works once in place of a code.
    assert_eq!(submit_code(&replay, &recovery[0]).await.status(), 303);
    let again = new_browser(&app);
    password_step(&again, &client).await;
    assert_eq!(
        submit_code(&again, &recovery[0]).await.status(),
        401,
        "a recovery code works once"
    );
    assert_eq!(submit_code(&again, &recovery[1].to_lowercase()).await.status(), 303);
}

#[tokio::test]
async fn five_wrong_codes_drop_the_pending_sign_in() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app
        .register_client(ClientSpec {
            first_party: true,
            ..Default::default()
        })
        .await;
    app.create_user("alice").await;
    app.submit_login("/login", "alice", PASSWORD).await;
    let (secret, _) = enroll_totp(&app).await;
    app.clock.advance(30);
    let browser = new_browser(&app);
    password_step(&browser, &client).await;
    for _ in 0..4 {
        assert_eq!(submit_code(&browser, "000000").await.status(), 401);
    }
    let fifth = submit_code(&browser, "000000").await;
    assert!(fifth.text().await.unwrap().contains("Sign in again"));
    // The pending sign-in is gone: even the right code has nowhere to go.
    let page = browser.get_url("/login/otp").await;
    assert_eq!(page.status(), 401);
    assert!(page.text().await.unwrap().contains("Sign in again"));
    let _ = secret;
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_and_unknown_accounts_alike() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    for _ in 0..5 {
        let r = app.submit_login("/login", "alice", "wrong password").await;
        assert_eq!(r.status(), 401);
    }
    let locked = app.submit_login("/login", "alice", PASSWORD).await;
    assert_eq!(
        locked.status(),
        429,
        "the 6th attempt, with the right password, is refused"
    );
    let locked_page = normalised(&locked.text().await.unwrap());
    assert!(locked_page.contains("Too many attempts. Try again in about 1 minute."));
    assert!(!locked_page.contains("Wrong username"));

    for _ in 0..5 {
        app.submit_login("/login", "mallory", "whatever it is").await;
    }
    let unknown = app.submit_login("/login", "mallory", "whatever it is").await;
    assert_eq!(unknown.status(), 429);
    assert_eq!(
        normalised(&unknown.text().await.unwrap()).replace("mallory", "alice"),
        locked_page,
        "the same page"
    );

    // The lock lifts after its backoff (1 min for the first lockout).
    app.clock.advance(61);
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 303);
    app.state.events.flush().await;
    let lockouts = app
        .state
        .store
        .list_events(&EventFilter {
            kind: Some("lockout".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(lockouts.len(), 2);
}

#[tokio::test]
async fn a_reset_unlocks_the_account() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    for _ in 0..5 {
        app.submit_login("/login", "alice", "wrong password").await;
    }
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 429);
    app.request_reset("alice@example.com").await;
    // One mail says the account was locked, the other has the link (both may be written in
    // the same clock tick, so their order in the outbox is not asserted).
    let mails = app.wait_for_mails(2).await;
    assert!(mails.iter().any(|m| m.contains("Your Keyhaven account was locked")));
    let with_link = mails.iter().find(|m| m.contains("/reset/")).expect("a reset link");
    let link = reset_link(with_link);
    assert_eq!(app.set_new_password(&link, NEW_PASSWORD).await.status(), 303);
    assert_eq!(app.submit_login("/login", "alice", NEW_PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn bursts_from_one_address_get_429_with_retry_after() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("rate_limit_pages", "5/1m"), ("rate_limit_api", "5/1m")],
    )
    .await;
    let client = app.register_client(ClientSpec::default()).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = app.token(&client, &[("grant_type", "client_credentials")]).await;
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
            assert_eq!(r.json::<Value>().await.unwrap()["error"], "too_many_requests");
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 3, "{statuses:?}");
    let mut page_limited = false;
    for _ in 0..8 {
        let r = app.get_url("/login").await;
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
            page_limited = true;
        }
    }
    assert!(page_limited);
    // Other addresses are not affected: a proxy's X-Forwarded-For is ignored unless trusted.
    let spoofed = app
        .http
        .get(format!("{}/login", app.address))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 429);
}

#[tokio::test]
async fn every_flow_leaves_events_and_no_secret_reaches_a_log_or_the_event_table() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    let rs = app.resource_server(API).await;
    let alice = app.create_user("alice").await;
    let mut secrets: Vec<String> = vec![
        PASSWORD.into(),
        NEW_PASSWORD.into(),
        client.secret.clone().unwrap(),
        rs.secret.clone().unwrap(),
    ];

    let (code, p) = app.code_for(&client, "alice", &[]).await;
    secrets.push(code.clone());
    secrets.push(p.verifier.clone());
    let tokens: Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
    let refreshed: Value = app
        .refresh(&client, &text(&tokens, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    app.refresh(&client, &text(&tokens, "refresh_token"), None).await; // reuse
    app.revoke(&client, &text(&refreshed, "access_token"), None).await;
    app.http
        .post(format!("{}/token", app.address))
        .basic_auth(&client.id, Some("khs_wrong-secret-value"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    secrets.push("khs_wrong-secret-value".into());
    app.submit_login("/login", "alice", "a wrong password typed").await;
    secrets.push("a wrong password typed".into());
    app.request_reset("alice@example.com").await;
    let link = reset_link(&app.wait_for_mails(1).await[0]);
    secrets.push(link.rsplit('/').next().unwrap().to_owned());
    app.set_new_password(&link, NEW_PASSWORD).await;
    app.submit_login("/login", "alice", NEW_PASSWORD).await;
    let (totp_secret, recovery) = enroll_totp(&app).await;
    secrets.push(totp_rs::Secret::Raw(totp_secret).to_encoded().to_string());
    secrets.extend(recovery);
    for t in [&tokens, &refreshed] {
        for name in ["access_token", "refresh_token", "id_token"] {
            secrets.push(text(t, name));
        }
    }
    app.get_url("/logout").await;

    app.state.events.flush().await;
    let events = app
        .state
        .store
        .list_events(&EventFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let kinds: std::collections::HashSet<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for expected in [
        "login",
        "token_issued",
        "token_refreshed",
        "refresh_token_reuse",
        "token_revoked",
        "client_auth_failed",
        "reset_requested",
        "reset_completed",
        "password_changed",
        "totp_enabled",
    ] {
        assert!(kinds.contains(expected), "no {expected} event; got {kinds:?}");
    }
    assert!(events
        .iter()
        .any(|e| e.user_id.as_deref() == Some(alice.id.as_str()) && e.ip.is_some()));
    let table = serde_json::to_string(&events).unwrap();
    let logs = captured_logs();
    for secret in &secrets {
        assert!(!table.contains(secret.as_str()), "a secret is in the event table");
        if let Some(at) = logs.find(secret.as_str()) {
            let line_start = logs[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = logs[at..].find('\n').map_or(logs.len(), |i| at + i);
            panic!("a secret is in the logs: {}", &logs[line_start..line_end]);
        }
    }
    assert!(logs.contains("mail written to the outbox"), "the logs were captured");
    assert!(
        logs.contains("route=/reset/{token}"),
        "requests are logged by route template"
    );
    let _ = rs;
}

/// The lines of the captured logs that contain `needle`.
fn log_lines_with(needle: &str) -> Vec<String> {
    captured_logs()
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn log_lines_escape_request_supplied_values() {
    let app = spawn_app(Backend::Sqlite).await;
    let marker = &uuid::Uuid::new_v4().simple().to_string()[..12];
    let refused = |client_id: String| {
        let request = app
            .http
            .post(format!("{}/token", app.address))
            .form(&[("grant_type", "client_credentials"), ("client_id", client_id.as_str())]);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401);
            assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_client");
        }
    };

    // Positive control: a plain unknown client id is logged as it was sent.
    let plain = format!("plain-{marker}");
    refused(plain.clone()).await;
    let lines = log_lines_with(&plain);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("client authentication failed"), "{lines:?}");
    assert!(lines[0].contains(&format!("client_id={plain}")), "{lines:?}");

    // A newline and a terminal escape in the id: one line, escaped, and no forged line.
    let forged = format!("2026-01-01T00:00:00.000000Z  INFO keyhaven: admin signed in {marker}");
    refused(format!("evil-{marker}\n{forged}\u{1b}[2K")).await;
    let lines = log_lines_with(&format!("admin signed in {marker}"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(!lines[0].starts_with("2026-01-01"), "a forged line starts: {lines:?}");
    assert!(lines[0].contains("client authentication failed"), "{lines:?}");
    assert!(
        lines[0].contains(&format!("client_id=evil-{marker}\\n{forged}\\u{{1b}}[2K")),
        "{lines:?}"
    );
    assert!(!lines[0].contains('\u{1b}'), "{lines:?}");
}

/// A minimal SMTP server on port 0 that accepts one message and hands its DATA over.
async fn fake_smtp() -> (u16, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut tx = Some(tx);
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
        let mut data = String::new();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 queued\r\n").await.unwrap();
                    // The client keeps pooled connections open: hand the message over now.
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(std::mem::take(&mut data));
                    }
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let verb = line.split_whitespace().next().unwrap_or_default().to_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 fake\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
    });
    (port, rx)
}

#[tokio::test]
async fn mail_goes_over_smtp_when_configured() {
    let (port, received) = fake_smtp().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("smtp_url", &url), ("mail_from", "Keyhaven <id@example.com>")],
    )
    .await;
    app.create_user("alice").await;
    app.request_reset("alice@example.com").await;
    let Ok(Ok(data)) = tokio::time::timeout(Duration::from_secs(20), received).await else {
        let logs = captured_logs();
        let mail_lines: Vec<&str> = logs.lines().filter(|l| l.contains("mail")).collect();
        panic!("no message within 20 s: {mail_lines:?}");
    };
    let data = data.replace("=\n", "").replace("=3D", "=");
    assert!(data.contains("To: alice@example.com"), "{data}");
    assert!(data.contains("From: Keyhaven <id@example.com>"));
    assert!(data.contains("/reset/khp_"));
    assert!(app.mails().is_empty(), "nothing in the outbox when SMTP is configured");
}

#[tokio::test]
async fn new_recovery_codes_replace_the_old_ones() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app
        .register_client(ClientSpec {
            first_party: true,
            ..Default::default()
        })
        .await;
    app.create_user("alice").await;
    app.submit_login("/login", "alice", PASSWORD).await;
    let (_, old_codes) = enroll_totp(&app).await;
    let page = app.get_url("/account/security").await.text().await.unwrap();
    let csrf = hidden(&page, "csrf_token").unwrap();
    let fresh = app
        .http
        .post(format!("{}/account/security/recovery-codes", app.address))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 303);
    let html = app.get_url(&location(&fresh)).await.text().await.unwrap();
    let new_codes: Vec<String> = html
        .split("<code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(new_codes.len(), 10);
    let browser = new_browser(&app);
    password_step(&browser, &client).await;
    assert_eq!(
        submit_code(&browser, &old_codes[0]).await.status(),
        401,
        "the old codes no longer work"
    );
    assert_eq!(submit_code(&browser, &new_codes[0]).await.status(), 303);
}
