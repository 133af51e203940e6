//! Mail on every security change (issue 12, point 4): the password (any path), the email
//! address (to the old address, with a link that puts it back), the second factor on and off,
//! a recovery code used, and a sign-in from a new browser.

use keyhaven::domain::Clock;
use serde_json::json;

use crate::account::post_form;
use crate::flow::PASSWORD;
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};
use crate::security::{enroll_totp, new_browser, submit_code};

impl TestApp {
    /// The outbox mails whose subject contains `subject`, oldest first.
    pub fn mails_about(&self, subject: &str) -> Vec<String> {
        self.mails()
            .into_iter()
            .filter(|m| m.lines().any(|l| l.starts_with("Subject:") && l.contains(subject)))
            .collect()
    }

    /// Waits (bounded) until `n` mails about `subject` are in the outbox.
    pub async fn wait_for_mails_about(&self, subject: &str, n: usize) -> Vec<String> {
        for _ in 0..100 {
            let mails = self.mails_about(subject);
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "expected {n} mails about {subject:?}, found {}",
            self.mails_about(subject).len()
        );
    }
}

fn link_in(mail: &str, path: &str) -> String {
    let start = mail.find(path).expect("a link in the mail");
    let from = mail[..start].rfind("http").expect("an absolute link");
    mail[from..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn turning_the_second_factor_on_and_off_and_using_a_recovery_code_are_mailed() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    app.submit_login("/login", "alice", PASSWORD).await;
    assert!(app.mails_about("Two-step").is_empty(), "nothing changed yet");

    let (secret, codes) = enroll_totp(&app).await;
    let on = app.wait_for_mails_about("Two-step sign-in is on", 1).await;
    assert!(on[0].contains("To: alice@example.com"), "{}", on[0]);
    assert!(on[0].contains("/reset"), "what to do when it was not them");

    // A recovery code used in another browser.
    let phone = new_browser(&app);
    phone.submit_login("/login", "alice", PASSWORD).await;
    submit_code(&phone, &codes[0]).await;
    assert_eq!(
        phone.get_url("/account").await.status(),
        200,
        "signed in with a recovery code"
    );
    let used = app.wait_for_mails_about("recovery code was used", 1).await;
    assert!(used[0].contains("recovery code"));
    // The positive control of the mail: a TOTP code sends none.
    let tablet = new_browser(&app);
    tablet.submit_login("/login", "alice", PASSWORD).await;
    app.clock.advance(30);
    let code = keyhaven::crypto::totp::code_at(&secret, app.clock.now());
    submit_code(&tablet, &code).await;
    assert_eq!(
        tablet.get_url("/account").await.status(),
        200,
        "signed in with a TOTP code"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.mails_about("recovery code was used").len(),
        1,
        "a TOTP code is no recovery code"
    );

    app.clock.advance(30);
    let code = keyhaven::crypto::totp::code_at(&secret, app.clock.now());
    let off = post_form(
        &app,
        "/account/security",
        "/account/security/totp/disable",
        &[("password", PASSWORD), ("code", code.as_str())],
    )
    .await;
    assert!(
        off.status().is_success() || off.status().is_redirection(),
        "{}",
        off.status()
    );
    app.wait_for_mails_about("Two-step sign-in is off", 1).await;
}

#[tokio::test]
async fn an_operator_turning_the_second_factor_off_is_mailed() {
    let app = spawn_app(Backend::Sqlite).await;
    let alice = app.create_user("alice").await;
    app.submit_login("/login", "alice", PASSWORD).await;
    enroll_totp(&app).await;
    let token = app.admin_token().await;
    let reset = app
        .http
        .post(format!("{}/admin/v1/users/{}/reset-totp", app.address, alice.id))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(reset.status().is_success(), "{}", reset.status());
    let off = app.wait_for_mails_about("Two-step sign-in is off", 1).await;
    assert!(off[0].contains("An administrator"), "{}", off[0]);
}

#[tokio::test]
async fn a_sign_in_from_a_new_browser_is_mailed_once() {
    let app = spawn_app_with(Backend::Sqlite, &[("mail_new_sign_in", "true")]).await;
    app.create_user("alice").await;
    app.submit_login("/login", "alice", PASSWORD).await;
    app.wait_for_mails_about("New sign-in", 1).await;
    // The same browser again (its session is live): no second mail.
    let again = new_browser(&app);
    again.submit_login("/login", "alice", PASSWORD).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.mails_about("New sign-in").len(),
        1,
        "a browser the account has a session on"
    );
    // Another browser (it names itself differently): a mail.
    let other = TestApp {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
            .build()
            .unwrap(),
        ..app.shallow_clone()
    };
    other.submit_login("/login", "alice", PASSWORD).await;
    let mails = app.wait_for_mails_about("New sign-in", 2).await;
    assert!(mails[1].contains("Firefox/128.0"), "{}", mails[1]);

    // The setting turns it off.
    let quiet = spawn_app_with(Backend::Sqlite, &[("mail_new_sign_in", "false")]).await;
    quiet.create_user("alice").await;
    quiet.submit_login("/login", "alice", PASSWORD).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(quiet.mails_about("New sign-in").is_empty());
}

#[tokio::test]
async fn an_email_change_is_told_to_the_old_address_which_can_put_it_back() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    app.submit_login("/login", "alice", PASSWORD).await;
    post_form(&app, "/account", "/account/email", &[("email", "mallory@evil.example")]).await;
    let confirm = app.wait_for_mails_about("Confirm your new", 1).await;
    let confirm_link = link_in(&confirm[0], "/account/email/confirm/");
    // The account page shows the change waiting for its confirmation.
    let profile = app.get_url("/account").await.text().await.unwrap();
    assert!(
        profile.contains("id=\"pending-email\"") && profile.contains("mallory@evil.example"),
        "{profile}"
    );
    assert_eq!(app.get_url(&confirm_link).await.status(), 200);
    let profile = app.get_url("/account").await.text().await.unwrap();
    assert!(!profile.contains("id=\"pending-email\""), "confirmed: nothing pending");

    let told = app
        .wait_for_mails_about("email address of your Keyhaven account was changed", 1)
        .await;
    assert!(
        told[0].contains("To: alice@example.com"),
        "to the old address: {}",
        told[0]
    );
    assert!(
        told[0].contains("ma...@evil.example"),
        "the new address, masked: {}",
        told[0]
    );
    assert!(!told[0].contains("mallory@evil.example"));
    let restore = link_in(&told[0], "/account/email/restore/");

    // Opening the link only asks (mail scanners open links).
    let page = app.get_url(&restore).await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        app.state
            .store
            .find_user_by_login("alice")
            .await
            .unwrap()
            .unwrap()
            .email,
        "mallory@evil.example",
        "nothing changes on GET"
    );
    // The change's own session is live until the address comes back.
    assert_eq!(app.get_url("/account").await.status(), 200);

    // Whoever opens it (any browser) puts the address back and signs every session out.
    let owner = new_browser(&app);
    let done = post_form(&owner, &restore, &restore.replacen(&app.address, "", 1), &[]).await;
    assert_eq!(done.status(), 200);
    assert_eq!(
        app.state
            .store
            .find_user_by_login("alice")
            .await
            .unwrap()
            .unwrap()
            .email,
        "alice@example.com"
    );
    assert_eq!(app.get_url("/account").await.status(), 303, "every session ended");
    // Once only.
    let again = post_form(&owner, &restore, &restore.replacen(&app.address, "", 1), &[]).await;
    assert_eq!(again.status(), 400);
    // Without the CSRF token of the page, nothing happens.
    let forged = owner.http.post(&restore).form(&[("x", "y")]).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    app.state.events.flush().await;
}

#[tokio::test]
async fn a_password_change_is_mailed_from_every_path() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    app.submit_login("/login", "alice", PASSWORD).await;
    // A refused change (wrong current password) sends nothing: the positive control below does.
    post_form(
        &app,
        "/account/password",
        "/account/password",
        &[
            ("current", "not the password"),
            ("password", "a brand new passphrase 7"),
            ("confirm", "a brand new passphrase 7"),
        ],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mails_about("password was changed").is_empty());
    post_form(
        &app,
        "/account/password",
        "/account/password",
        &[
            ("current", PASSWORD),
            ("password", "a brand new passphrase 7"),
            ("confirm", "a brand new passphrase 7"),
        ],
    )
    .await;
    let mails = app.wait_for_mails_about("password was changed", 1).await;
    assert!(
        mails[0].contains("every other session"),
        "changed from a session that stays: {}",
        mails[0]
    );

    let out = app
        .cli_with_stdin(
            &["user", "set-password", "alice", "--password-stdin"],
            "another fresh passphrase 9\n",
        )
        .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mails = app.wait_for_mails_about("password was changed", 2).await;
    assert!(mails[1].contains("every session"), "{}", mails[1]);
}
