//! What operators decide about passkeys, and what a reset does to them: `passkeys_required`
//! (a password stops signing in a named person, or everyone, once they have a passkey; until
//! then they are sent to add one), and a password reset that keeps passkeys and says so.

use keyhaven::domain::user::User;
use keyhaven::domain::Clock as _;
use keyhaven::service::passkeys;
use keyhaven::service::Peer;
use url::Url;
use webauthn_authenticator_rs::prelude::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::flow::{location, PASSWORD};
use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::security::{new_browser, NEW_PASSWORD};

async fn app_with(extra: &[(&'static str, &str)]) -> TestApp {
    let mut settings = vec![("issuer", "http://localhost:{port}"), ("passkeys", "true")];
    settings.extend_from_slice(extra);
    spawn_app_with(Backend::Sqlite, &settings).await
}

async fn add_passkey(app: &TestApp, user: &User) {
    let services = &app.state.services;
    let origin = Url::parse(&services.settings.issuer).unwrap();
    let peer = Peer {
        ip: "192.0.2.7".into(),
        user_agent: None,
    };
    let mut key = SoftPasskey::new(true);
    let ceremony = passkeys::start_registration(services, user, app.clock.now(), "setup")
        .await
        .unwrap();
    let made = key.do_registration(origin, ceremony.options).unwrap();
    passkeys::finish_registration(services, user, "setup", &ceremony.handle, "Key", &made, &peer)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_required_passkey_refuses_the_password_of_its_person_only() {
    let app = app_with(&[("passkeys_required", "alice")]).await;
    let alice = app.create_user("alice").await;
    app.create_user("bob").await;
    add_passkey(&app, &alice).await;

    // Bob is not named: his password signs him in (the control).
    let bob = new_browser(&app);
    assert_eq!(location(&bob.submit_login("/login", "bob", PASSWORD).await), "/account");

    // Alice's right password is refused, with words saying what to do; not signed in.
    let refused = app.submit_login("/login", "alice", PASSWORD).await;
    assert_eq!(refused.status(), 401);
    let page = refused.text().await.unwrap();
    assert!(page.contains("Your account signs in with a passkey only"), "{page}");
    assert!(
        page.contains("Sign in with a passkey"),
        "the button is on the page: {page}"
    );
    assert_eq!(location(&app.get_url("/account").await), "/login?return_to=%2Faccount");
    // A wrong password gets the usual answer: nobody learns of the rule without the password.
    let wrong = app.submit_login("/login", "alice", "not her password").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("Wrong username or password"));
    // The refusal is not a failure: the right password many times locks nothing (five
    // failures lock the name, and a lock answers 429 before any password is checked).
    for _ in 0..6 {
        assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 401);
    }
    // The control: wrong passwords do lock it.
    for _ in 0..5 {
        app.submit_login("/login", "alice", "not her password").await;
    }
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 429);
}

#[tokio::test]
async fn required_for_everyone_a_person_without_a_passkey_is_sent_to_add_one() {
    let app = app_with(&[("passkeys_required", "everyone")]).await;
    app.create_user("carol").await;
    let signed_in = app.submit_login("/login", "carol", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/account/security", "to add a passkey");
    let page = app.get_url("/account/security").await.text().await.unwrap();
    assert!(page.contains("Your administrator asks you to add a passkey"), "{page}");

    // Without the setting: the account, and no such words (the control).
    let plain = app_with(&[]).await;
    plain.create_user("carol").await;
    assert_eq!(
        location(&plain.submit_login("/login", "carol", PASSWORD).await),
        "/account"
    );
    let page = plain.get_url("/account/security").await.text().await.unwrap();
    assert!(!page.contains("asks you to add a passkey"));
}

/// The first mail to `to` that contains `words`, waiting for it up to 5 s.
async fn wait_for_mail(app: &TestApp, to: &str, words: &str) -> String {
    for _ in 0..100 {
        let to_line = format!("To: {to}");
        if let Some(mail) = app
            .mails()
            .into_iter()
            .find(|m| m.contains(&to_line) && m.contains(words))
        {
            return mail;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no mail to {to} saying {words:?}: {:?}", app.mails());
}

#[tokio::test]
async fn a_reset_keeps_passkeys_and_its_mail_says_so() {
    let app = app_with(&[]).await;
    let alice = app.create_user("alice").await;
    app.create_user("bob").await;
    add_passkey(&app, &alice).await;

    for (name, email) in [("bob", "bob@example.com"), ("alice", "alice@example.com")] {
        assert_eq!(app.request_reset(email).await.status(), 303, "{name}");
        let mail = wait_for_mail(&app, email, "Subject: Reset your").await;
        let start = mail.find("http://").expect("a link");
        let link = mail[start..].split_whitespace().next().unwrap().to_owned();
        assert_eq!(app.set_new_password(&link, NEW_PASSWORD).await.status(), 303, "{name}");
        let changed = wait_for_mail(&app, email, "password was changed").await;
        let says = changed.contains("Your passkey was not removed");
        assert_eq!(says, name == "alice", "{name}: {changed}");
    }
    assert_eq!(passkeys::list(&app.state.services, &alice.id).await.unwrap().len(), 1);
}
