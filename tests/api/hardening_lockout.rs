//! The sign-in throttle holds across the steps of a sign-in, counts second-factor failures and
//! current-password guesses, and keys its locks so that they do not tell which names share an
//! account (issue 9, findings 3, 4 and 8).

use keyhaven::crypto::totp;
use keyhaven::domain::event::EventFilter;
use keyhaven::domain::Clock;

use crate::flow::{hidden, location, ClientSpec, TestClient, PASSWORD};
use crate::helpers::{spawn_app, Backend, TestApp};
use crate::security::{enroll_totp, new_browser, normalised, password_step, submit_code, NEW_PASSWORD};

const TOO_MANY_ATTEMPTS: &str = "Too many attempts. Try again in about";
const WRONG_CREDENTIALS: &str = "Wrong username or password.";

/// A six-digit code that no time step near `now` accepts.
fn wrong_code(secret: &[u8], now: i64) -> String {
    let valid: Vec<String> = (-2..=2)
        .map(|step| totp::code_at(secret, now + step * totp::STEP))
        .collect();
    ["000000", "111111", "222222", "333333", "444444", "555555"]
        .into_iter()
        .find(|c| !valid.iter().any(|v| v == c))
        .unwrap()
        .to_owned()
}

/// A server with a first-party client and alice, who has TOTP on; returns her TOTP secret.
async fn alice_with_totp() -> (TestApp, TestClient, Vec<u8>) {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app
        .register_client(ClientSpec {
            first_party: true,
            ..Default::default()
        })
        .await;
    app.create_user("alice").await;
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 303);
    let (secret, _) = enroll_totp(&app).await;
    // The enrolment used the code of this time step; sign-ins use later ones.
    app.clock.advance(30);
    (app, client, secret)
}

/// In a new browser: the right password, which must lead to the second factor.
async fn to_second_factor(app: &TestApp, client: &TestClient) -> TestApp {
    let browser = new_browser(app);
    let (response, _) = password_step(&browser, client).await;
    assert_eq!(response.status(), 303, "the right password leads on");
    assert_eq!(location(&response), "/login/otp");
    browser
}

/// In a new browser: the right password; returns the status (303 on to the code, 429 locked).
async fn right_password_status(app: &TestApp, client: &TestClient) -> u16 {
    let (response, _) = password_step(&new_browser(app), client).await;
    response.status().as_u16()
}

async fn lockout_events(app: &TestApp, user_id: &str) -> usize {
    app.state.events.flush().await;
    app.state
        .store
        .list_events(&EventFilter {
            user_id: Some(user_id.to_owned()),
            kind: Some("lockout".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn password_step_keeps_lockout_history() {
    let (app, client, secret) = alice_with_totp().await;

    // Five wrong codes after the right password lock the account (1 minute, the first lock).
    let browser = to_second_factor(&app, &client).await;
    for _ in 0..4 {
        let wrong = submit_code(&browser, &wrong_code(&secret, app.clock.now())).await;
        assert_eq!(wrong.status(), 401);
    }
    let fifth = submit_code(&browser, &wrong_code(&secret, app.clock.now())).await;
    assert!(fifth.text().await.unwrap().contains("Sign in again"));
    assert_eq!(right_password_status(&app, &client).await, 429, "locked");

    // After the lock, the right password leads on to the code again...
    app.clock.advance(61);
    let browser = to_second_factor(&app, &client).await;
    // ...but has not wiped the history: five more wrong codes lock for twice as long.
    for _ in 0..5 {
        submit_code(&browser, &wrong_code(&secret, app.clock.now())).await;
    }
    app.clock.advance(61);
    assert_eq!(
        right_password_status(&app, &client).await,
        429,
        "the second lock lasts longer than the first"
    );
    app.clock.advance(60);

    // Positive control: once the second lock is over, the right password and code sign in.
    let browser = to_second_factor(&app, &client).await;
    let code = totp::code_at(&secret, app.clock.now());
    let accepted = submit_code(&browser, &code).await;
    assert_eq!(accepted.status(), 303, "the right code signs in");
    assert!(location(&accepted).starts_with("/authorize/resume"));
}

#[tokio::test]
async fn second_factor_failures_count_in_the_sign_in_throttle() {
    let (app, client, secret) = alice_with_totp().await;

    // Positive control: four failures in all (a wrong password, then three wrong codes) do not
    // lock, and the right code signs in.
    let browser = new_browser(&app);
    assert_eq!(
        browser.submit_login("/login", "alice", "wrong password").await.status(),
        401
    );
    let browser = to_second_factor(&browser, &client).await;
    for _ in 0..3 {
        assert_eq!(
            submit_code(&browser, &wrong_code(&secret, app.clock.now()))
                .await
                .status(),
            401
        );
    }
    let code = totp::code_at(&secret, app.clock.now());
    assert_eq!(submit_code(&browser, &code).await.status(), 303, "not locked: signs in");
    app.clock.advance(30);

    // Two wrong passwords, the right one, then three wrong codes: five failures of one sign-in,
    // counted in one throttle. The right password in between does not forget the first two.
    let browser = new_browser(&app);
    for _ in 0..2 {
        assert_eq!(
            browser.submit_login("/login", "alice", "wrong password").await.status(),
            401
        );
    }
    let browser = to_second_factor(&browser, &client).await;
    for _ in 0..3 {
        let wrong = submit_code(&browser, &wrong_code(&secret, app.clock.now())).await;
        assert_eq!(wrong.status(), 401);
        assert!(wrong.text().await.unwrap().contains("Wrong code"));
    }
    let code = totp::code_at(&secret, app.clock.now());
    let refused = submit_code(&browser, &code).await;
    assert_eq!(
        refused.status(),
        429,
        "the account is locked: even the right code is refused"
    );
    assert!(refused.text().await.unwrap().contains(TOO_MANY_ATTEMPTS));
    assert_eq!(right_password_status(&app, &client).await, 429);
    let alice = app.state.store.find_user_by_login("alice").await.unwrap().unwrap();
    assert_eq!(lockout_events(&app, &alice.id).await, 1);
}

/// Changes the password of the signed-in browser of `app` from `current` to `new`.
async fn change_password(app: &TestApp, current: &str, new: &str) -> reqwest::Response {
    let page = app.get_url("/account/password").await;
    assert_eq!(page.status(), 200, "signed in");
    let csrf = hidden(&page.text().await.unwrap(), "csrf_token").unwrap();
    app.http
        .post(format!("{}/account/password", app.address))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("current", current),
            ("password", new),
            ("confirm", new),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn current_password_guessing_is_throttled() {
    const THIRD_PASSWORD: &str = "quartz lantern pelican 7";
    let app = spawn_app(Backend::Sqlite).await;
    let alice = app.create_user("alice").await;
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 303);

    // Positive control: before any failure, the right current password works.
    let changed = change_password(&app, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status(), 303);
    let page = app.get_url(&crate::flow::location(&changed)).await;
    assert!(page.text().await.unwrap().contains("Password changed"));

    // Five wrong guesses of the current password lock the account.
    for i in 0..5 {
        let wrong = change_password(&app, &format!("guess number {i}"), THIRD_PASSWORD).await;
        assert_eq!(wrong.status(), 400);
        let html = wrong.text().await.unwrap();
        assert!(html.contains("The current password is wrong."));
        assert_eq!(
            html.contains("changing the password is locked"),
            i == 4,
            "the fifth guess says it locked"
        );
    }

    // Now the right current password is refused too, with the reason; the session stays.
    let refused = change_password(&app, NEW_PASSWORD, THIRD_PASSWORD).await;
    assert_eq!(refused.status(), 429);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("changing the password is locked. Try again in about 1 minute."),
        "{html}"
    );
    assert!(html.contains("Resetting your password unlocks your account at once."));
    assert_eq!(app.get_url("/account").await.status(), 200, "still signed in");
    // It is the sign-in throttle: the right password does not sign in elsewhere either.
    let elsewhere = new_browser(&app);
    assert_eq!(
        elsewhere.submit_login("/login", "alice", NEW_PASSWORD).await.status(),
        429
    );

    // One lockout event, and one mail to the person saying until when and what unlocks it
    // (after the mail that told them of the change made before).
    assert_eq!(lockout_events(&app, &alice.id).await, 1);
    let mails = app.wait_for_mails(2).await;
    assert_eq!(mails.len(), 2);
    assert!(
        mails[0].contains("password of the account alice was just changed"),
        "{}",
        mails[0]
    );
    let mail = &mails[1];
    assert!(mail.contains("To: alice@example.com"), "{mail}");
    assert!(mail.contains("was locked after repeated failed attempts"), "{mail}");
    assert!(mail.contains("stays locked until"), "{mail}");
    assert!(mail.contains("/reset"), "{mail}");

    // When the lock is over, the right current password works again.
    app.clock.advance(61);
    let changed = change_password(&app, NEW_PASSWORD, THIRD_PASSWORD).await;
    assert_eq!(changed.status(), 303);
}

#[tokio::test]
async fn lockout_does_not_link_names_of_one_account() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("bob").await;

    // Positive control: an unknown name locked by five failures shows the lockout page.
    for _ in 0..5 {
        assert_eq!(app.submit_login("/login", "mallory", "guess").await.status(), 401);
    }
    let unknown_locked = app.submit_login("/login", "mallory", "guess").await;
    assert_eq!(unknown_locked.status(), 429);
    assert!(unknown_locked.text().await.unwrap().contains(TOO_MANY_ATTEMPTS));

    // Five failures as bob lock the name bob.
    for _ in 0..5 {
        assert_eq!(app.submit_login("/login", "bob", "guess").await.status(), 401);
    }
    let bob_locked = app.submit_login("/login", "bob", "guess").await;
    assert_eq!(bob_locked.status(), 429);

    // bob's email address answers exactly like the address of nobody.
    let known = app.submit_login("/login", "bob@example.com", "another guess").await;
    let unknown = app.submit_login("/login", "nobody@example.com", "another guess").await;
    assert_eq!(known.status(), 401);
    assert_eq!(unknown.status(), 401);
    // The page keeps the name typed; apart from it, the pages are the same.
    let known = normalised(&known.text().await.unwrap()).replace("bob@example.com", "NAME");
    assert!(known.contains(WRONG_CREDENTIALS));
    let unknown = normalised(&unknown.text().await.unwrap()).replace("nobody@example.com", "NAME");
    assert_eq!(known, unknown, "the same page");

    // The account itself stays locked: whoever knows its password learns so, by any name.
    let right = app.submit_login("/login", "bob@example.com", PASSWORD).await;
    assert_eq!(right.status(), 429);
}
