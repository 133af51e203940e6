//! Passkeys through `service::passkeys` (the flows every face will call), with a software
//! authenticator (`webauthn-authenticator-rs`'s `SoftPasskey`) running whole ceremonies: add,
//! sign in without a name, as second factor; and the refusals, each beside its positive
//! control: a credential of another person, a replayed assertion, an expired challenge, a
//! challenge of another browser, a wrong origin; re-authentication to add and remove.
//!
//! The software authenticator keeps no resident keys and sends no user handle, so a
//! discoverable sign-in is played as a browser with a synchronised passkey would: the test
//! names the credential to it and adds the user handle to its answer (the handle is not
//! signed; the server checks it against the credential's person).

use keyhaven::domain::event::{kind, EventFilter};
use keyhaven::domain::user::User;
use keyhaven::domain::Clock as _;
use keyhaven::service::passkeys::{self, PasskeyError};
use keyhaven::service::signin::BrowserIds;
use keyhaven::service::Peer;
use keyhaven::storage::PasskeyRecord;
use secrecy::SecretString;
use url::Url;
use webauthn_authenticator_rs::prelude::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{AllowCredentials, PublicKeyCredential, RequestChallengeResponse};

use crate::flow::PASSWORD;
use crate::helpers::{spawn_app_with, Backend, TestApp};

/// WebAuthn has no relying party on an IP address: these servers are `localhost`.
const ISSUER: &str = "http://localhost:8080";
const BROWSER: &str = "browser-a";

async fn app() -> TestApp {
    spawn_app_with(Backend::Sqlite, &[("issuer", ISSUER), ("passkeys", "true")]).await
}

fn origin() -> Url {
    Url::parse(ISSUER).unwrap()
}

fn peer() -> Peer {
    Peer {
        ip: "192.0.2.7".into(),
        user_agent: Some("passkey test".into()),
    }
}

/// Adds a passkey held by `key` to `user`, signed in just now.
async fn register(app: &TestApp, user: &User, key: &mut SoftPasskey, name: &str) -> PasskeyRecord {
    let services = &app.state.services;
    let ceremony = passkeys::start_registration(services, user, app.clock.now(), BROWSER)
        .await
        .expect("start");
    let answer = key.do_registration(origin(), ceremony.options).expect("authenticator");
    passkeys::finish_registration(services, user, BROWSER, &ceremony.handle, name, &answer, &peer())
        .await
        .expect("finish")
}

/// What the browser does with a discoverable credential of `user`: it picks `credential_id`
/// and answers with the user handle.
fn answer_as_discoverable(
    key: &mut SoftPasskey,
    mut options: RequestChallengeResponse,
    credential_id: &str,
    user: &User,
    origin: Url,
) -> PublicKeyCredential {
    use base64::Engine as _;
    assert!(options.public_key.allow_credentials.is_empty(), "usernameless");
    options.public_key.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(credential_id)
            .unwrap(),
        transports: None,
    }];
    let mut answer = key.do_authentication(origin, options).expect("authenticator");
    answer.response.user_handle = Some(passkeys::user_handle(&user.id).as_bytes().to_vec());
    answer
}

async fn start_sign_in(app: &TestApp, browser_hash: &str) -> passkeys::Ceremony<RequestChallengeResponse> {
    passkeys::start_sign_in(&app.state.services, browser_hash)
        .await
        .expect("start")
}

async fn sign_in(
    app: &TestApp,
    handle: &str,
    answer: &PublicKeyCredential,
) -> Result<keyhaven::service::signin::NewSession, PasskeyError> {
    // Each sign-in gives the browser a fresh id, as the pages do.
    let signed_in = format!("signed-in-{}", uuid::Uuid::new_v4());
    let browser = BrowserIds {
        current: BROWSER,
        signed_in: &signed_in,
    };
    passkeys::finish_sign_in(&app.state.services, browser, handle, answer, None, &peer()).await
}

async fn events_of(app: &TestApp, user: &User, what: keyhaven::domain::event::EventKind) -> Vec<String> {
    app.state.events.flush().await;
    let filter = EventFilter {
        user_id: Some(user.id.to_string()),
        kind: Some(what.as_str().to_owned()),
        since: None,
        limit: 100,
        offset: 0,
    };
    app.state
        .store
        .list_events(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.outcome)
        .collect()
}

#[tokio::test]
async fn a_passkey_is_added_and_signs_in_without_a_name() {
    let app = app().await;
    let alice = app.create_user("alice").await;
    let mut key = SoftPasskey::new(true);
    let added = register(&app, &alice, &mut key, "  Laptop ").await;
    assert_eq!(added.name, "Laptop");
    assert_eq!(added.last_used_at, None);
    let listed = passkeys::list(&app.state.services, &alice.id).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&added));
    app.wait_for_mails_about("A passkey was added", 1).await;

    let ceremony = start_sign_in(&app, BROWSER).await;
    let answer = answer_as_discoverable(&mut key, ceremony.options, &added.credential_id, &alice, origin());
    let signed_in = sign_in(&app, &ceremony.handle, &answer).await.expect("signed in");
    assert_eq!(signed_in.user.id, alice.id);
    // A device-bound key (the software one is not backup eligible), verified: RFC 8176.
    assert_eq!(signed_in.session.amr, ["hwk", "user", "mfa"]);
    assert!(signed_in.session.id_hash.starts_with("signed-in-"), "under the new id");
    let used = app
        .state
        .store
        .find_passkey(&added.credential_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.last_used_at, Some(app.clock.now()));

    assert_eq!(events_of(&app, &alice, kind::PASSKEY_REGISTERED).await, ["success"]);
    assert_eq!(events_of(&app, &alice, kind::PASSKEY_USED).await, ["success"]);
    assert_eq!(events_of(&app, &alice, kind::LOGIN).await, ["success"]);
}

#[tokio::test]
async fn adding_a_passkey_needs_a_sign_in_within_five_minutes() {
    let app = app().await;
    let alice = app.create_user("alice").await;
    let services = &app.state.services;
    let now = app.clock.now();
    let stale = passkeys::start_registration(services, &alice, now - passkeys::RECENT_SIGN_IN - 1, BROWSER).await;
    assert!(matches!(stale, Err(PasskeyError::SignInAgain)), "{stale:?}");
    let recent = passkeys::start_registration(services, &alice, now - passkeys::RECENT_SIGN_IN, BROWSER).await;
    assert!(recent.is_ok(), "{recent:?}");
}

#[tokio::test]
async fn a_credential_of_another_person_never_signs_in() {
    let app = app().await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let mut alices_key = SoftPasskey::new(true);
    let mut bobs_key = SoftPasskey::new(true);
    let alices = register(&app, &alice, &mut alices_key, "Alice's").await;
    let bobs = register(&app, &bob, &mut bobs_key, "Bob's").await;

    // Bob's credential, answering as Alice (her user handle): refused.
    let ceremony = start_sign_in(&app, BROWSER).await;
    let forged = answer_as_discoverable(&mut bobs_key, ceremony.options, &bobs.credential_id, &alice, origin());
    assert!(matches!(
        sign_in(&app, &ceremony.handle, &forged).await,
        Err(PasskeyError::Refused)
    ));
    // Positive controls: each credential signs its own person in.
    for (key, record, person) in [(&mut alices_key, &alices, &alice), (&mut bobs_key, &bobs, &bob)] {
        let ceremony = start_sign_in(&app, BROWSER).await;
        let answer = answer_as_discoverable(key, ceremony.options, &record.credential_id, person, origin());
        let signed_in = sign_in(&app, &ceremony.handle, &answer).await.expect("own passkey");
        assert_eq!(signed_in.user.id, person.id);
    }

    // As a second factor: Alice's ceremony answered with Bob's credential is refused.
    let services = &app.state.services;
    let ceremony = passkeys::start_second_factor(services, &alice, BROWSER)
        .await
        .unwrap()
        .expect("alice has a passkey");
    let mut options = ceremony.options;
    options.public_key.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&bobs.credential_id)
                .unwrap()
        },
        transports: None,
    }];
    let forged = bobs_key.do_authentication(origin(), options).expect("authenticator");
    let refused = passkeys::finish_second_factor(services, &alice, BROWSER, &ceremony.handle, &forged, &peer()).await;
    assert!(matches!(refused, Err(PasskeyError::Refused)), "{refused:?}");
    assert!(events_of(&app, &alice, kind::PASSKEY_USED)
        .await
        .contains(&"failure".to_owned()));
}

#[tokio::test]
async fn a_passkey_is_the_second_factor_of_its_person() {
    let app = app().await;
    let alice = app.create_user("alice").await;
    let carol = app.create_user("carol").await;
    let mut key = SoftPasskey::new(true);
    register(&app, &alice, &mut key, "Key").await;
    let services = &app.state.services;
    assert!(
        passkeys::start_second_factor(services, &carol, BROWSER)
            .await
            .unwrap()
            .is_none(),
        "no passkey, no passkey step"
    );
    let ceremony = passkeys::start_second_factor(services, &alice, BROWSER)
        .await
        .unwrap()
        .unwrap();
    let answer = key
        .do_authentication(origin(), ceremony.options)
        .expect("authenticator");
    let amr = passkeys::finish_second_factor(services, &alice, BROWSER, &ceremony.handle, &answer, &peer())
        .await
        .expect("second factor");
    assert_eq!(amr, ["pwd", "hwk", "user", "mfa"]);
}

#[tokio::test]
async fn an_assertion_is_accepted_once() {
    let app = app().await;
    let alice = app.create_user("alice").await;
    let mut key = SoftPasskey::new(true);
    let added = register(&app, &alice, &mut key, "Key").await;
    let ceremony = start_sign_in(&app, BROWSER).await;
    let answer = answer_as_discoverable(&mut key, ceremony.options, &added.credential_id, &alice, origin());
    assert!(sign_in(&app, &ceremony.handle, &answer).await.is_ok(), "first use");
    // The same answer again: its ceremony is spent.
    assert!(matches!(
        sign_in(&app, &ceremony.handle, &answer).await,
        Err(PasskeyError::NoCeremony)
    ));
    // Replayed into a fresh ceremony: its challenge is not the fresh one.
    let fresh = start_sign_in(&app, BROWSER).await;
    assert!(matches!(
        sign_in(&app, &fresh.handle, &answer).await,
        Err(PasskeyError::Refused)
    ));
}

#[tokio::test]
async fn a_challenge_of_another_browser_or_past_five_minutes_is_refused() {
    let app = app().await;
    let alice = app.create_user("alice").await;
    let mut key = SoftPasskey::new(true);
    let added = register(&app, &alice, &mut key, "Key").await;

    // Started in another browser: not this one's.
    let foreign = start_sign_in(&app, "browser-b").await;
    let answer = answer_as_discoverable(&mut key, foreign.options, &added.credential_id, &alice, origin());
    assert!(matches!(
        sign_in(&app, &foreign.handle, &answer).await,
        Err(PasskeyError::NoCeremony)
    ));

    // Expired: past its five minutes; the control answers within them.
    let late = start_sign_in(&app, BROWSER).await;
    let late_answer = answer_as_discoverable(&mut key, late.options, &added.credential_id, &alice, origin());
    let in_time = start_sign_in(&app, BROWSER).await;
    let in_time_answer = answer_as_discoverable(&mut key, in_time.options, &added.credential_id, &alice, origin());
    app.clock.advance(passkeys::CHALLENGE_TTL - 1);
    assert!(sign_in(&app, &in_time.handle, &in_time_answer).await.is_ok());
    app.clock.advance(1);
    assert!(matches!(
        sign_in(&app, &late.handle, &late_answer).await,
        Err(PasskeyError::NoCeremony)
    ));
}

#[tokio::test]
async fn an_answer_made_for_another_origin_is_refused() {
    let app = app().await;
    let alice = app.create_user("alice").await;
    let mut key = SoftPasskey::new(true);
    let added = register(&app, &alice, &mut key, "Key").await;
    // Same RP id, another origin (a port the issuer is not on).
    let elsewhere = Url::parse("http://localhost:9999").unwrap();
    let ceremony = start_sign_in(&app, BROWSER).await;
    let answer = answer_as_discoverable(&mut key, ceremony.options, &added.credential_id, &alice, elsewhere);
    assert!(matches!(
        sign_in(&app, &ceremony.handle, &answer).await,
        Err(PasskeyError::Refused)
    ));
    let control = start_sign_in(&app, BROWSER).await;
    let answer = answer_as_discoverable(&mut key, control.options, &added.credential_id, &alice, origin());
    assert!(sign_in(&app, &control.handle, &answer).await.is_ok());
}

#[tokio::test]
async fn removing_a_passkey_needs_a_recent_sign_in_and_the_last_one_the_password() {
    let app = app().await;
    let alice = app.create_user("alice").await;
    let services = &app.state.services;
    let first = register(&app, &alice, &mut SoftPasskey::new(true), "First").await;
    let last = register(&app, &alice, &mut SoftPasskey::new(true), "Last").await;
    let now = app.clock.now();
    let stale = now - passkeys::RECENT_SIGN_IN - 1;

    let refused = passkeys::remove(services, &alice, stale, &first.credential_id, None, &peer()).await;
    assert!(matches!(refused, Err(PasskeyError::SignInAgain)), "{refused:?}");
    passkeys::remove(services, &alice, now, &first.credential_id, None, &peer())
        .await
        .expect("not the last one: no password");

    let wrong: SecretString = "wrong password".to_owned().into();
    for password in [None, Some(&wrong)] {
        let refused = passkeys::remove(services, &alice, now, &last.credential_id, password, &peer()).await;
        assert!(matches!(refused, Err(PasskeyError::WrongPassword)), "{refused:?}");
    }
    let right: SecretString = PASSWORD.to_owned().into();
    passkeys::remove(services, &alice, now, &last.credential_id, Some(&right), &peer())
        .await
        .expect("the last one with the password");
    assert!(passkeys::list(services, &alice.id).await.unwrap().is_empty());
    let removed = passkeys::remove(services, &alice, now, &last.credential_id, Some(&right), &peer()).await;
    assert!(matches!(removed, Err(PasskeyError::NotFound)));

    let outcomes = events_of(&app, &alice, kind::PASSKEY_REMOVED).await;
    assert_eq!(outcomes.iter().filter(|o| *o == "success").count(), 2);
    assert_eq!(outcomes.iter().filter(|o| *o == "failure").count(), 3);
    app.wait_for_mails_about("A passkey was removed", 2).await;
}

/// A server whose issuer is `localhost` on its own port, for the ceremonies over HTTP.
async fn http_app() -> TestApp {
    spawn_app_with(
        Backend::Sqlite,
        &[("issuer", "http://localhost:{port}"), ("passkeys", "true")],
    )
    .await
}

pub async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.http
        .post(format!("{}{path}", app.address))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_passkey_sign_in_on_the_page_finishes_a_code_flow_and_the_id_token_says_so() {
    use crate::flow::{hidden, location, pkce, query, ClientSpec, REDIRECT};
    use crate::token::jwt_claims;

    let app = http_app().await;
    let services = &app.state.services;
    let origin = Url::parse(&services.settings.issuer).unwrap();
    let client = app
        .register_client(ClientSpec {
            first_party: true,
            ..Default::default()
        })
        .await;
    let alice = app.create_user("alice").await;
    let mut key = SoftPasskey::new(true);
    let ceremony = passkeys::start_registration(services, &alice, app.clock.now(), "setup")
        .await
        .unwrap();
    let made = key.do_registration(origin.clone(), ceremony.options).unwrap();
    let added = passkeys::finish_registration(services, &alice, "setup", &ceremony.handle, "Key", &made, &peer())
        .await
        .unwrap();

    let p = pkce();
    let login = location(&app.get_url(&app.authorize_url(&client.id, &p.challenge, &[])).await);
    let page = app.get_url(&login).await.text().await.unwrap();
    assert!(page.contains("Sign in with a passkey"), "{page}");
    assert!(page.contains("<script src=\"/static/passkeys.js\" defer></script>"));
    let script = app.get_url("/static/passkeys.js").await;
    assert_eq!(script.status(), 200);
    let csrf = hidden(&page, "csrf_token").unwrap();
    let request = hidden(&page, "request").unwrap();

    // Without the sign-in form's token: refused before any ceremony; with it, the options.
    let forged = post_form(&app, "/login/passkey/start", &[("csrf_token", "forged")]).await;
    assert_eq!(forged.status(), 403);
    let started = post_form(&app, "/login/passkey/start", &[("csrf_token", &csrf)]).await;
    assert_eq!(started.status(), 200);
    let started: serde_json::Value = started.json().await.unwrap();
    let handle = started["handle"].as_str().unwrap().to_owned();
    let options: RequestChallengeResponse = serde_json::from_value(started["options"].clone()).unwrap();
    let answer = answer_as_discoverable(&mut key, options, &added.credential_id, &alice, origin);
    let credential = serde_json::to_string(&answer).unwrap();

    let finish = |csrf: String| {
        let (handle, credential, request) = (handle.clone(), credential.clone(), request.clone());
        let app = &app;
        async move {
            post_form(
                app,
                "/login/passkey/finish",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("handle", handle.as_str()),
                    ("credential", credential.as_str()),
                    ("request", request.as_str()),
                ],
            )
            .await
        }
    };
    assert_eq!(finish("forged".into()).await.status(), 403, "CSRF on the finish too");
    let finished = finish(csrf.clone()).await;
    assert_eq!(finished.status(), 200);
    let finished: serde_json::Value = finished.json().await.unwrap();
    let resume = finished["location"].as_str().unwrap().to_owned();
    assert_eq!(resume, format!("/authorize/resume?request={request}"));
    // The same post again: this browser's form token went with its old cookie.
    assert_eq!(finish(csrf).await.status(), 403);
    // Replayed from another browser with its own form token: the ceremony is spent (and was
    // never that browser's).
    let other = crate::security::new_browser(&app);
    let other_page = other.get_url("/login").await.text().await.unwrap();
    let other_csrf = hidden(&other_page, "csrf_token").unwrap();
    let replayed = post_form(
        &other,
        "/login/passkey/finish",
        &[
            ("csrf_token", other_csrf.as_str()),
            ("handle", handle.as_str()),
            ("credential", credential.as_str()),
        ],
    )
    .await;
    assert_eq!(replayed.status(), 400);
    let body = replayed.text().await.unwrap();
    assert!(body.contains("\"error\":\"expired\""), "{body}");

    let done = location(&app.get_url(&resume).await);
    assert!(done.starts_with(REDIRECT), "{done}");
    let tokens: serde_json::Value = app
        .exchange(&client, &query(&done)["code"], &p.verifier)
        .await
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(jwt_claims(id_token)["amr"], serde_json::json!(["hwk", "user", "mfa"]));
}

#[tokio::test]
async fn the_passkey_button_shows_only_where_passkeys_can_work() {
    // An issuer on an IP address can have no passkeys: no button, no script.
    let on_ip = spawn_app_with(Backend::Sqlite, &[("passkeys", "true")]).await;
    let page = on_ip.get_url("/login").await.text().await.unwrap();
    assert!(!page.contains("Sign in with a passkey") && !page.contains("passkeys.js"));
    let started = post_form(&on_ip, "/login/passkey/start", &[("csrf_token", "x")]).await;
    assert_eq!(started.status(), 403, "still behind the form token");
    // On a domain name: both.
    let on_name = http_app().await;
    let page = on_name.get_url("/login").await.text().await.unwrap();
    assert!(page.contains("Sign in with a passkey") && page.contains("passkeys.js"));
    // With the setting off, none, on a domain name too.
    let off = spawn_app_with(
        Backend::Sqlite,
        &[("issuer", "http://localhost:{port}"), ("passkeys", "false")],
    )
    .await;
    let page = off.get_url("/login").await.text().await.unwrap();
    assert!(!page.contains("Sign in with a passkey") && !page.contains("passkeys.js"));
}

#[tokio::test]
async fn a_passkey_is_added_renamed_and_removed_on_the_security_page_with_a_recent_sign_in() {
    use crate::flow::hidden;
    use webauthn_rs_proto::CreationChallengeResponse;

    let app = http_app().await;
    let origin = Url::parse(&app.state.services.settings.issuer).unwrap();
    let alice = app.create_user("alice").await;
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 303);
    let page = app.get_url("/account/security").await.text().await.unwrap();
    assert!(
        page.contains("Add a passkey") && page.contains("No passkeys yet"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf_token").unwrap();

    let forged = post_form(&app, "/account/security/passkeys/start", &[("csrf_token", "forged")]).await;
    assert_eq!(forged.status(), 403);
    let started = post_form(&app, "/account/security/passkeys/start", &[("csrf_token", &csrf)]).await;
    assert_eq!(started.status(), 200);
    let started: serde_json::Value = started.json().await.unwrap();
    let options: CreationChallengeResponse = serde_json::from_value(started["options"].clone()).unwrap();
    let mut key = SoftPasskey::new(true);
    let made = serde_json::to_string(&key.do_registration(origin, options).unwrap()).unwrap();
    let handle = started["handle"].as_str().unwrap();
    let finished = post_form(
        &app,
        "/account/security/passkeys/finish",
        &[
            ("csrf_token", csrf.as_str()),
            ("handle", handle),
            ("name", "Laptop"),
            ("credential", made.as_str()),
        ],
    )
    .await;
    assert_eq!(finished.status(), 200);
    assert_eq!(
        finished.json::<serde_json::Value>().await.unwrap()["location"],
        "/account/security"
    );
    let page = app.get_url("/account/security").await.text().await.unwrap();
    assert!(page.contains("<td data-label=\"Name\">Laptop</td>"), "{page}");
    assert!(
        page.contains("When you sign in with your password, you confirm with a passkey too."),
        "the page says what a passkey changes: {page}"
    );
    let id = app.state.store.list_passkeys(&alice.id).await.unwrap()[0]
        .credential_id
        .clone();

    let renamed = post_form(
        &app,
        "/account/security/passkeys/rename",
        &[
            ("csrf_token", csrf.as_str()),
            ("credential_id", &id),
            ("name", "Work laptop"),
        ],
    )
    .await;
    assert_eq!(renamed.status(), 303);
    let page = app.get_url("/account/security").await.text().await.unwrap();
    assert!(page.contains("Work laptop"));

    // Five minutes after the sign-in: adding and removing ask for a new one.
    app.clock.advance(passkeys::RECENT_SIGN_IN + 1);
    let stale = post_form(&app, "/account/security/passkeys/start", &[("csrf_token", &csrf)]).await;
    assert_eq!(stale.status(), 403);
    assert_eq!(
        stale.json::<serde_json::Value>().await.unwrap()["error"],
        "sign_in_again"
    );
    let remove = |csrf: String, password: &'static str| {
        let (app, id) = (&app, id.clone());
        async move {
            post_form(
                app,
                "/account/security/passkeys/remove",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("credential_id", id.as_str()),
                    ("password", password),
                ],
            )
            .await
        }
    };
    let refused = remove(csrf.clone(), PASSWORD).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("sign in again"));

    // Signed in again (password, then the passkey as second factor): the last passkey goes
    // only with the password.
    let again = app
        .submit_login("/login?return_to=/account/security", "alice", PASSWORD)
        .await;
    assert_eq!(again.status(), 303);
    crate::passkey_second_factor::pass_with_passkey(&app, &mut key).await;
    let page = app.get_url("/account/security").await.text().await.unwrap();
    let csrf = hidden(&page, "csrf_token").unwrap();
    assert!(page.contains("This is your last passkey"));
    assert_eq!(remove(csrf.clone(), "").await.status(), 401);
    assert_eq!(remove(csrf.clone(), "not the password").await.status(), 401);
    assert_eq!(remove(csrf, PASSWORD).await.status(), 303);
    let page = app.get_url("/account/security").await.text().await.unwrap();
    assert!(page.contains("No passkeys yet"));
    assert!(!page.contains("you confirm with a passkey too"), "not without one");
    assert_eq!(
        events_of(&app, &alice, kind::PASSKEY_REMOVED).await,
        ["success", "failure", "failure", "failure"],
        "newest first"
    );
}

#[tokio::test]
async fn an_operator_removes_a_persons_passkey_and_only_theirs() {
    use keyhaven::service::Actor;

    let app = app().await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let services = &app.state.services;
    let alices = register(&app, &alice, &mut SoftPasskey::new(true), "Alice's").await;
    // Named with another person: nothing happens.
    let wrong = passkeys::remove_by_operator(services, &bob, &alices.credential_id, &Actor::CommandLine).await;
    assert!(matches!(wrong, Err(PasskeyError::NotFound)), "{wrong:?}");
    assert_eq!(passkeys::list(services, &alice.id).await.unwrap().len(), 1);
    // Her own: removed, no recent sign-in or password asked of the operator.
    passkeys::remove_by_operator(services, &alice, &alices.credential_id, &Actor::CommandLine)
        .await
        .unwrap();
    assert!(passkeys::list(services, &alice.id).await.unwrap().is_empty());
    assert_eq!(events_of(&app, &alice, kind::PASSKEY_REMOVED).await, ["success"]);
    let mails = app.wait_for_mails_about("A passkey was removed", 1).await;
    assert!(mails[0].contains("An administrator made this change."), "{}", mails[0]);
}

#[tokio::test]
async fn an_operator_lists_and_removes_passkeys_from_the_command_line() {
    use crate::helpers::stdout_json;

    let app = app().await;
    let alice = app.create_user("alice").await;
    let added = register(&app, &alice, &mut SoftPasskey::new(true), "Laptop").await;
    let listed = stdout_json(&app.cli(&["user", "passkeys", "alice", "--json"]).await);
    assert_eq!(listed[0]["credential_id"], added.credential_id.as_str());
    assert_eq!(listed[0]["name"], "Laptop");
    let unknown = app
        .cli(&["user", "remove-passkey", "alice", "no-such-credential"])
        .await;
    assert_eq!(unknown.status.code(), Some(1));
    let removed = stdout_json(
        &app.cli(&["user", "remove-passkey", "alice", &added.credential_id, "--json"])
            .await,
    );
    assert_eq!(removed["passkey_removed"], true);
    let listed = stdout_json(&app.cli(&["user", "passkeys", "alice", "--json"]).await);
    assert_eq!(listed, serde_json::json!([]));
}

#[tokio::test]
async fn an_operator_lists_and_deletes_passkeys_through_the_admin_api() {
    let app = app().await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let added = register(&app, &alice, &mut SoftPasskey::new(true), "Laptop").await;
    let token = app.admin_token().await;
    let url = |path: String| format!("{}/admin/v1/users/{path}", app.address);

    let unauthenticated = app
        .http
        .get(url(format!("{}/passkeys", alice.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let listed: serde_json::Value = app
        .http
        .get(url(format!("{}/passkeys", alice.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["credential_id"], added.credential_id.as_str());
    assert_eq!(listed[0]["name"], "Laptop");
    assert!(listed[0].get("credential").is_none(), "no key material");

    // Named with another person: not found, and hers stays.
    let elsewhere = app
        .http
        .delete(url(format!("{}/passkeys/{}", bob.id, added.credential_id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 404);
    let deleted = app
        .http
        .delete(url(format!("{}/passkeys/{}", alice.id, added.credential_id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(passkeys::list(&app.state.services, &alice.id).await.unwrap().is_empty());
    let again = app
        .http
        .delete(url(format!("{}/passkeys/{}", alice.id, added.credential_id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn a_browser_keeps_at_most_eight_passkey_ceremonies() {
    // Unauthenticated traffic writes ceremonies: one browser's ninth pushes out its first.
    let app = app().await;
    let alice = app.create_user("alice").await;
    let mut key = SoftPasskey::new(true);
    let added = register(&app, &alice, &mut key, "Key").await;
    let mut ceremonies = Vec::new();
    for _ in 0..=passkeys::CEREMONIES_PER_BROWSER {
        ceremonies.push(start_sign_in(&app, BROWSER).await);
        // Older by a second each (within one second, which goes first is not said).
        app.clock.advance(1);
    }
    let first = ceremonies.remove(0);
    let answer = answer_as_discoverable(&mut key, first.options, &added.credential_id, &alice, origin());
    assert!(matches!(
        sign_in(&app, &first.handle, &answer).await,
        Err(PasskeyError::NoCeremony)
    ));
    // The second is still there (the control).
    let second = ceremonies.remove(0);
    let answer = answer_as_discoverable(&mut key, second.options, &added.credential_id, &alice, origin());
    assert!(sign_in(&app, &second.handle, &answer).await.is_ok());
}
