//! Attestation by AAGUID (`passkey_attestation_ca_file`, `passkey_aaguids`) through
//! `service::passkeys`, with `webauthn-authenticator-rs`'s `SoftToken`: each one makes its own
//! attestation CA and attests (`packed`, with a certificate chain) under it, with the fixed
//! `softtoken::AAGUID`. `SoftPasskey` only self-attests, so it stands for an authenticator with
//! no attestation a root could vouch for.
//!
//! An authenticator under the configured root (with an allowed AAGUID) is added, its AAGUID
//! kept and shown to operators, and signs in; beside each such positive control: another
//! authenticator's root, a self-attested one, an AAGUID not listed, all refused with nothing
//! stored and a failure event. Without the setting, attestation is none and anything registers.
//! A ceremony finishes as the kind it started, whatever the server finishing it is set to. A bad
//! roots file stops the server with a line naming the setting.

use crypto_glue::traits::{EncodePem as _, LineEndingPem};
use crypto_glue::x509::Certificate;
use keyhaven::config::Settings;
use keyhaven::domain::event::{kind, EventFilter, SecurityEvent};
use keyhaven::domain::user::User;
use keyhaven::domain::Clock as _;
use keyhaven::service::passkeys::{self, PasskeyError};
use keyhaven::service::signin::BrowserIds;
use keyhaven::service::Peer;
use keyhaven::storage::PasskeyRecord;
use url::Url;
use webauthn_authenticator_rs::prelude::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::softtoken::{SoftToken, AAGUID};
use webauthn_authenticator_rs::AuthenticatorBackend;
use webauthn_rs_proto::{AllowCredentials, AttestationConveyancePreference, RegisterPublicKeyCredential};

use crate::helpers::{spawn_app_with, Backend, TestApp};

const ISSUER: &str = "http://localhost:8080";
const BROWSER: &str = "browser-a";
/// An AAGUID no software token has.
const OTHER_AAGUID: &str = "ee882879-721c-4913-9775-3dfcce97072a";

/// A software token with its own attestation root (user verification claimed, as a PIN would).
fn token() -> (SoftToken, Certificate) {
    SoftToken::new(true).expect("soft token")
}

fn pem(roots: &[&Certificate]) -> String {
    roots
        .iter()
        .map(|root| root.to_pem(LineEndingPem::LF).expect("PEM"))
        .collect()
}

/// A server trusting `roots` (written to a file), allowing `aaguids` when given.
async fn app_trusting(roots: &[&Certificate], aaguids: Option<&str>) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("attestation-roots.pem");
    std::fs::write(&file, pem(roots)).unwrap();
    let file = file.display().to_string();
    let mut settings = vec![
        ("issuer", ISSUER),
        ("passkeys", "true"),
        ("passkey_attestation_ca_file", file.as_str()),
    ];
    if let Some(aaguids) = aaguids {
        settings.push(("passkey_aaguids", aaguids));
    }
    (spawn_app_with(Backend::Sqlite, &settings).await, dir)
}

fn origin() -> Url {
    Url::parse(ISSUER).unwrap()
}

fn peer() -> Peer {
    Peer {
        ip: "192.0.2.7".into(),
        user_agent: Some("attestation test".into()),
    }
}

/// Adds a passkey held by `key` to `user` (signed in just now), as far as the server lets it.
async fn register<K: AuthenticatorBackend>(
    app: &TestApp,
    user: &User,
    key: &mut K,
) -> Result<PasskeyRecord, PasskeyError> {
    let services = &app.state.services;
    let ceremony = passkeys::start_registration(services, user, app.clock.now(), BROWSER)
        .await
        .expect("start");
    let answer = key.do_registration(origin(), ceremony.options).expect("authenticator");
    passkeys::finish_registration(services, user, BROWSER, &ceremony.handle, "Key", &answer, &peer()).await
}

/// Signs in with the passkey `record` held by `key`, as a browser with a discoverable
/// credential would (see `passkeys.rs`: the test names the credential and adds the user handle).
async fn sign_in<K: AuthenticatorBackend>(app: &TestApp, user: &User, key: &mut K, record: &PasskeyRecord) {
    use base64::Engine as _;
    let services = &app.state.services;
    let ceremony = passkeys::start_sign_in(services, BROWSER).await.expect("start");
    let mut options = ceremony.options;
    options.public_key.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&record.credential_id)
            .unwrap(),
        transports: None,
    }];
    let mut answer = key.do_authentication(origin(), options).expect("authenticator");
    answer.response.user_handle = Some(passkeys::user_handle(&user.id).as_bytes().to_vec());
    let browser = BrowserIds {
        current: BROWSER,
        signed_in: "signed-in",
    };
    let signed_in = passkeys::finish_sign_in(services, browser, &ceremony.handle, &answer, None, &peer())
        .await
        .expect("signed in");
    assert_eq!(signed_in.user.id, user.id);
    assert_eq!(signed_in.session.amr, ["hwk", "user", "mfa"]);
}

async fn registration_events(app: &TestApp, user: &User) -> Vec<SecurityEvent> {
    app.state.events.flush().await;
    let filter = EventFilter {
        user_id: Some(user.id.to_string()),
        kind: Some(kind::PASSKEY_REGISTERED.as_str().to_owned()),
        since: None,
        limit: 100,
        offset: 0,
    };
    app.state.store.list_events(&filter).await.unwrap()
}

/// `user`'s registration was refused for the authenticator: nothing stored, a failure event
/// saying so.
async fn assert_refused(app: &TestApp, user: &User, result: Result<PasskeyRecord, PasskeyError>) {
    assert!(matches!(result, Err(PasskeyError::Refused)), "{result:?}");
    assert!(passkeys::list(&app.state.services, &user.id).await.unwrap().is_empty());
    let events = registration_events(app, user).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].outcome, "failure");
    let detail = events[0].detail.as_deref().unwrap_or_default();
    assert!(detail.contains("authenticator is not allowed"), "{detail}");
}

#[tokio::test]
async fn an_authenticator_under_the_root_with_an_allowed_aaguid_is_added_with_its_aaguid_and_signs_in() {
    let (mut key, root) = token();
    let (app, _dir) = app_trusting(&[&root], Some(&format!("{OTHER_AAGUID}, {AAGUID}"))).await;
    let alice = app.create_user("alice").await;

    // Direct attestation is asked for.
    let ceremony = passkeys::start_registration(&app.state.services, &alice, app.clock.now(), BROWSER)
        .await
        .unwrap();
    assert!(matches!(
        ceremony.options.public_key.attestation,
        Some(AttestationConveyancePreference::Direct)
    ));

    let added = register(&app, &alice, &mut key).await.expect("attested under the root");
    assert_eq!(added.aaguid.as_deref(), Some(AAGUID.to_string().as_str()));
    let stored = app
        .state
        .store
        .find_passkey(&added.credential_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.aaguid, added.aaguid);
    let events = registration_events(&app, &alice).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, "success");

    // The credential kept is a plain passkey: sign-in is as for any other.
    sign_in(&app, &alice, &mut key, &added).await;

    // Operators see the AAGUID.
    let token = app.admin_token().await;
    let listed: serde_json::Value = app
        .http
        .get(format!("{}/admin/v1/users/{}/passkeys", app.address, alice.id))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["aaguid"], AAGUID.to_string());
    let listed = crate::helpers::stdout_json(&app.cli(&["user", "passkeys", "alice", "--json"]).await);
    assert_eq!(listed[0]["aaguid"], AAGUID.to_string());
}

#[tokio::test]
async fn an_authenticator_under_another_root_or_self_attested_is_refused() {
    let (mut trusted, root) = token();
    let (mut other, _other_root) = token();
    // Any AAGUID under the root (no `passkey_aaguids`).
    let (app, _dir) = app_trusting(&[&root], None).await;

    // Positive control: the token under the root is added (with its AAGUID).
    let alice = app.create_user("alice").await;
    let added = register(&app, &alice, &mut trusted).await.expect("under the root");
    assert_eq!(added.aaguid, Some(AAGUID.to_string()));

    // Another token of the same model, attested under its own root: refused.
    let bob = app.create_user("bob").await;
    let result = register(&app, &bob, &mut other).await;
    assert_refused(&app, &bob, result).await;

    // An authenticator with only self attestation: nothing vouches for it.
    let carol = app.create_user("carol").await;
    let result = register(&app, &carol, &mut SoftPasskey::new(true)).await;
    assert_refused(&app, &carol, result).await;
}

#[tokio::test]
async fn with_several_roots_each_vouches_for_its_own_authenticators() {
    let (mut first, first_root) = token();
    let (mut second, second_root) = token();
    let (app, _dir) = app_trusting(&[&first_root, &second_root], Some(&AAGUID.to_string())).await;
    let alice = app.create_user("alice").await;
    register(&app, &alice, &mut first).await.expect("first root");
    let bob = app.create_user("bob").await;
    register(&app, &bob, &mut second).await.expect("second root");
}

#[tokio::test]
async fn an_aaguid_not_listed_is_refused_under_the_right_root() {
    let (mut key, root) = token();
    let (app, _dir) = app_trusting(&[&root], Some(OTHER_AAGUID)).await;
    let alice = app.create_user("alice").await;
    let result = register(&app, &alice, &mut key).await;
    assert_refused(&app, &alice, result).await;

    // Positive control: the same root and token, its AAGUID listed.
    let (app, _dir) = app_trusting(&[&root], Some(&AAGUID.to_string())).await;
    let alice = app.create_user("alice").await;
    register(&app, &alice, &mut key).await.expect("listed");
}

#[tokio::test]
async fn without_roots_attestation_is_none_and_any_authenticator_registers() {
    let app = spawn_app_with(Backend::Sqlite, &[("issuer", ISSUER), ("passkeys", "true")]).await;
    let alice = app.create_user("alice").await;
    let ceremony = passkeys::start_registration(&app.state.services, &alice, app.clock.now(), BROWSER)
        .await
        .unwrap();
    assert!(matches!(
        ceremony.options.public_key.attestation,
        Some(AttestationConveyancePreference::None)
    ));
    let (mut token, _root) = token();
    let added = register(&app, &alice, &mut token).await.expect("any token");
    // Nothing verified it: no AAGUID is kept.
    assert_eq!(added.aaguid, None);
    sign_in(&app, &alice, &mut token, &added).await;
    let bob = app.create_user("bob").await;
    let added = register(&app, &bob, &mut SoftPasskey::new(true))
        .await
        .expect("self-attested");
    assert_eq!(added.aaguid, None);
}

#[tokio::test]
async fn a_bad_roots_file_stops_the_server_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let settings_with = |file: &std::path::Path| {
        Settings::from_pairs([
            ("passkeys", "true".to_owned()),
            ("passkey_attestation_ca_file", file.display().to_string()),
        ])
        .unwrap()
    };
    let missing = dir.path().join("missing.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    for file in [&missing, &garbage, &empty] {
        let err = passkeys::read_attestation_roots(&settings_with(file))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("passkey_attestation_ca_file") && err.contains("KEYHAVEN_PASSKEY_ATTESTATION_CA_FILE"),
            "{err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");
    }
    // Positive control: two roots read.
    let (_, first) = token();
    let (_, second) = token();
    let good = dir.path().join("good.pem");
    std::fs::write(&good, format!("# attestation roots\n{}", pem(&[&first, &second]))).unwrap();
    let roots = passkeys::read_attestation_roots(&settings_with(&good))
        .unwrap()
        .expect("roots");
    assert_eq!(roots.len(), 2);
    // Unset: none.
    let unset = Settings::from_pairs([("passkeys", "true".to_owned())]).unwrap();
    assert!(passkeys::read_attestation_roots(&unset).unwrap().is_none());
}

/// A server on the database and KEK of `first`, trusting `roots` (None: no roots), as the same
/// deployment before or after its operator changed the setting.
async fn same_database(first: &TestApp, roots: Option<&Certificate>) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("attestation-roots.pem");
    let shared = |name: &str| {
        first
            .settings
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let (database_url, kek) = (shared("database_url"), shared("kek"));
    let mut settings = vec![
        ("issuer", ISSUER.to_owned()),
        ("passkeys", "true".to_owned()),
        ("database_url", database_url),
        ("kek", kek),
    ];
    if let Some(root) = roots {
        std::fs::write(&file, pem(&[root])).unwrap();
        settings.push(("passkey_attestation_ca_file", file.display().to_string()));
    }
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (spawn_app_with(Backend::Sqlite, &settings).await, dir)
}

async fn finish_on(
    app: &TestApp,
    user: &User,
    handle: &str,
    answer: &RegisterPublicKeyCredential,
) -> Result<PasskeyRecord, PasskeyError> {
    passkeys::finish_registration(&app.state.services, user, BROWSER, handle, "Key", answer, &peer()).await
}

#[tokio::test]
async fn a_ceremony_finishes_as_the_kind_it_started() {
    let (mut key, root) = token();
    let open = spawn_app_with(Backend::Sqlite, &[("issuer", ISSUER), ("passkeys", "true")]).await;
    let (strict, _dir) = same_database(&open, Some(&root)).await;
    let alice = open.create_user("alice").await;

    // Started without attestation, finished after roots were configured: it would add an
    // unattested passkey, so the person starts again.
    let started = passkeys::start_registration(&open.state.services, &alice, open.clock.now(), BROWSER)
        .await
        .unwrap();
    let answer = key.do_registration(origin(), started.options).unwrap();
    let result = finish_on(&strict, &alice, &started.handle, &answer).await;
    assert!(matches!(result, Err(PasskeyError::NoCeremony)), "{result:?}");
    assert!(passkeys::list(&open.state.services, &alice.id)
        .await
        .unwrap()
        .is_empty());

    // Started attested, finished where no roots are set: still checked against the roots it
    // started with, and its AAGUID kept.
    let started = passkeys::start_registration(&strict.state.services, &alice, strict.clock.now(), BROWSER)
        .await
        .unwrap();
    let answer = key.do_registration(origin(), started.options).unwrap();
    let added = finish_on(&open, &alice, &started.handle, &answer)
        .await
        .expect("attested");
    assert_eq!(added.aaguid, Some(AAGUID.to_string()));

    // And an attested ceremony answered by an authenticator under another root is refused
    // wherever it finishes.
    let (mut other, _) = token();
    let bob = open.create_user("bob").await;
    let started = passkeys::start_registration(&strict.state.services, &bob, strict.clock.now(), BROWSER)
        .await
        .unwrap();
    let answer = other.do_registration(origin(), started.options).unwrap();
    let result = finish_on(&open, &bob, &started.handle, &answer).await;
    assert_refused(&open, &bob, result).await;
}
