//! Passkeys (WebAuthn discoverable credentials), written once and free of HTTP: adding one,
//! listing, renaming and removing them, signing in with one (no name typed), and one as the
//! second factor of a given person. The ceremonies themselves are `webauthn-rs`'s; here are
//! the rules around them:
//!
//! - The relying party is the issuer: its host is the RP id, its origin the only origin.
//! - A ceremony's state (with its challenge) stays on the server, under the hash of a random
//!   handle the browser echoes, bound to that browser, for 5 minutes, and is taken by its one
//!   use, whatever the answer was.
//! - Adding a passkey needs a sign-in within the last 5 minutes; user verification is
//!   required, a discoverable credential preferred, attestation none.
//! - Unless the operator names attestation roots (`passkey_attestation_ca_file`, optionally
//!   `passkey_aaguids`): then attestation is direct, and a passkey is added only when its
//!   attestation verifies and chains to one of those roots, with an allowed AAGUID; anything
//!   else (no attestation, self attestation, another root, another AAGUID, a key that may be
//!   synchronised) is refused as an authenticator not allowed. The attested AAGUID is kept with
//!   the passkey; an unattested passkey has none (attestation none tells nothing verified). The
//!   credential kept is a plain `Passkey` either way, so sign-in does not depend on it.
//! - A registration ceremony keeps the state of its kind (attested or not), and is finished as
//!   that kind; an unattested one started before roots were configured is not finished after.
//! - A credential is found by its id and must belong to the person of its user handle (and,
//!   as a second factor, to the person signing in): a credential of another person never
//!   signs anyone in. The counter and backup state are updated as the library says.
//! - Removing needs a sign-in within the last 5 minutes, and the password for the last
//!   passkey (then the password is what is left).
//! - Every registration, use, failure and removal is a security event; registration and
//!   removal mail the person.
//!
//! `amr` of a passkey sign-in (RFC 8176): `hwk` for a device-bound credential or `swk` for one
//! that may be synchronised (backup eligible: its key leaves the hardware), `user` (user
//! verification was required and done; the library does not say whether by PIN or biometric,
//! so neither `pin` nor `fpt` is claimed), and `mfa` (possession plus verification). As the
//! second factor after a password: `pwd` first, then the same.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use secrecy::SecretString;

use webauthn_rs::prelude::{
    AttestationCaList, AttestedPasskeyRegistration, CreationChallengeResponse, DiscoverableAuthentication, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Webauthn, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use crate::protocol::passkey;
pub use crate::protocol::passkey::{amr, user_handle};

use super::notify::{self, ChangedBy};
use super::signin::{self, BrowserIds, NewSession};
use super::{Actor, Peer, Services};
use crate::config::{ConfigError, Settings};
use crate::crypto::tokens::{random_base64url, SecretHash};
use crate::domain::event::{kind, Outcome};
use crate::domain::user::User;
use crate::domain::{UnixTime, UserId};
use crate::storage::{ChallengePurpose, ChallengeRecord, PasskeyRecord, StoreError};

/// How long a ceremony may take, and how recent a sign-in must be to add or remove a passkey.
pub const CHALLENGE_TTL: i64 = 300;
pub const RECENT_SIGN_IN: i64 = 300;
/// Ceremonies one browser may have waiting (a newer one pushes out the oldest): the sign-in
/// page's autofill and button, a second tab; unauthenticated traffic writes these rows.
pub const CEREMONIES_PER_BROWSER: i64 = 8;
/// The longest name a passkey may have (characters).
pub const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The session's sign-in is older than [`RECENT_SIGN_IN`]: sign in again first.
    #[error("sign in again to change passkeys")]
    SignInAgain,
    /// No such ceremony for this browser: never started, another browser's, used, or expired.
    #[error("the passkey request expired; start again")]
    NoCeremony,
    /// The authenticator's answer did not verify, or names a credential that is unknown, of
    /// another person, or of a disabled account.
    #[error("the passkey was refused")]
    Refused,
    /// The credential is registered already.
    #[error("this passkey is registered already")]
    AlreadyRegistered,
    #[error("no such passkey")]
    NotFound,
    /// Removing the last passkey needs the password.
    #[error("the password is wrong")]
    WrongPassword,
    #[error("a passkey's name has 1 to 64 characters")]
    BadName,
    /// The issuer's host is no domain name (an IP address), so WebAuthn cannot work.
    #[error("passkeys need an issuer whose host is a domain name")]
    NotConfigured,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A ceremony started: the handle the browser sends back with its answer, and the options it
/// hands to `navigator.credentials`.
#[derive(Debug)]
pub struct Ceremony<T> {
    pub handle: String,
    pub options: T,
}

/// Whether this server offers passkeys: the `passkeys` setting is on and its issuer's host is
/// a domain name.
pub fn available(services: &Services) -> bool {
    webauthn(services).is_ok()
}

fn webauthn(services: &Services) -> Result<Webauthn, PasskeyError> {
    if !services.settings.passkeys {
        return Err(PasskeyError::NotConfigured);
    }
    passkey::relying_party(&services.settings.issuer, &services.settings.brand_name).ok_or(PasskeyError::NotConfigured)
}

/// The attestation roots the settings name, read and checked (at start): None without
/// `passkey_attestation_ca_file`.
pub fn read_attestation_roots(settings: &Settings) -> Result<Option<AttestationCaList>, ConfigError> {
    let Some(path) = &settings.passkey_attestation_ca_file else {
        return Ok(None);
    };
    let invalid = |message: String| ConfigError::invalid("passkey_attestation_ca_file", message);
    let pem = std::fs::read_to_string(path).map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
    passkey::attestation_roots(&pem, &settings.passkey_aaguids)
        .map(Some)
        .map_err(|e| invalid(format!("{} {e}", path.display())))
}

/// The state of a registration ceremony as stored: attested under the operator's roots, or not.
/// Unattested states are stored as before (the bare library state), so rows written by an
/// earlier version still read.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum RegistrationState {
    Attested { attested: AttestedPasskeyRegistration },
    Unattested(PasskeyRegistration),
}

/// Whether a refused registration was refused for its authenticator (not attested under the
/// roots, an AAGUID not allowed, a key that may be synchronised), not for a bad answer.
fn authenticator_not_allowed(error: &WebauthnError) -> bool {
    matches!(
        error,
        WebauthnError::AttestationNotVerifiable
            | WebauthnError::AttestationUntrustedAaguid
            | WebauthnError::AttestationFormatMissingAaguid
            | WebauthnError::AttestationChainNotTrusted(_)
            | WebauthnError::AttestationLeafCertMissing
            | WebauthnError::AttestationTrustFailure
            | WebauthnError::CredentialMayNotBeHardwareBound
    )
}

fn credential_id(passkey: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(passkey.cred_id())
}

/// The backup flags (BE, BS) of a credential the library made: read from its serialized form,
/// the only place this version shows them at registration.
fn backup_flags(passkey: &Passkey) -> (bool, bool) {
    let value = serde_json::to_value(passkey).unwrap_or_default();
    let flag = |name: &str| {
        value
            .get("cred")
            .and_then(|c| c.get(name))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    (flag("backup_eligible"), flag("backup_state"))
}

fn parse_name(name: &str) -> Result<String, PasskeyError> {
    let name = name.trim();
    let count = name.chars().count();
    if count == 0 || count > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(PasskeyError::BadName);
    }
    Ok(name.to_owned())
}

fn ensure_recent(services: &Services, auth_time: UnixTime) -> Result<(), PasskeyError> {
    if services.clock.now() - auth_time > RECENT_SIGN_IN {
        return Err(PasskeyError::SignInAgain);
    }
    Ok(())
}

async fn keep_ceremony<S: serde::Serialize>(
    services: &Services,
    browser_hash: &str,
    purpose: ChallengePurpose,
    user_id: Option<&UserId>,
    state: &S,
) -> Result<String, PasskeyError> {
    let handle = random_base64url(32);
    let now = services.clock.now();
    let state = serde_json::to_string(state).map_err(|e| anyhow::anyhow!(e).context("serializing a ceremony"))?;
    services
        .store
        .insert_webauthn_challenge(
            &ChallengeRecord {
                id_hash: SecretHash::of(&handle).as_str().to_owned(),
                browser_hash: browser_hash.to_owned(),
                purpose,
                user_id: user_id.cloned(),
                state,
                created_at: now,
                expires_at: now + CHALLENGE_TTL,
            },
            CEREMONIES_PER_BROWSER,
        )
        .await?;
    Ok(handle)
}

/// Takes the ceremony `handle` of this browser for `purpose` (once), with its state.
async fn take_ceremony<S: serde::de::DeserializeOwned>(
    services: &Services,
    browser_hash: &str,
    handle: &str,
    purpose: ChallengePurpose,
) -> Result<(Option<UserId>, S), PasskeyError> {
    let taken = services
        .store
        .take_webauthn_challenge(
            SecretHash::of(handle).as_str(),
            browser_hash,
            purpose,
            services.clock.now(),
        )
        .await?
        .ok_or(PasskeyError::NoCeremony)?;
    let state =
        serde_json::from_str(&taken.state).map_err(|e| anyhow::anyhow!(e).context("reading a stored ceremony"))?;
    Ok((taken.user_id, state))
}

fn decode(record: &PasskeyRecord) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(&record.credential)
        .map_err(|e| PasskeyError::Unexpected(anyhow::anyhow!(e).context("reading a stored passkey")))
}

/// Starts adding a passkey for `user`, whose session signed in at `auth_time`.
pub async fn start_registration(
    services: &Services,
    user: &User,
    auth_time: UnixTime,
    browser_hash: &str,
) -> Result<Ceremony<CreationChallengeResponse>, PasskeyError> {
    ensure_recent(services, auth_time)?;
    let webauthn = webauthn(services)?;
    let mut exclude = Vec::new();
    for record in services.store.list_passkeys(&user.id).await? {
        exclude.push(decode(&record)?.cred_id().clone());
    }
    let display = user
        .claims
        .get("name")
        .cloned()
        .unwrap_or_else(|| user.username.clone());
    let handle_uuid = user_handle(&user.id);
    let (mut options, state) = match &services.passkey_attestation {
        None => webauthn
            .start_passkey_registration(handle_uuid, &user.username, &display, Some(exclude))
            .map(|(options, state)| (options, RegistrationState::Unattested(state))),
        Some(roots) => webauthn
            .start_attested_passkey_registration(
                handle_uuid,
                &user.username,
                &display,
                Some(exclude),
                roots.clone(),
                None,
            )
            .map(|(options, state)| (options, RegistrationState::Attested { attested: state })),
    }
    .map_err(|e| anyhow::anyhow!(e).context("starting a passkey registration"))?;
    // A passkey, not only a second factor: ask for a discoverable credential where the
    // authenticator can make one, without failing those that cannot.
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Preferred);
    }
    let handle = keep_ceremony(
        services,
        browser_hash,
        ChallengePurpose::Registration,
        Some(&user.id),
        &state,
    )
    .await?;
    Ok(Ceremony { handle, options })
}

/// Finishes adding a passkey named `name` with the authenticator's answer.
pub async fn finish_registration(
    services: &Services,
    user: &User,
    browser_hash: &str,
    handle: &str,
    name: &str,
    answer: &RegisterPublicKeyCredential,
    peer: &Peer,
) -> Result<PasskeyRecord, PasskeyError> {
    let name = parse_name(name)?;
    let (owner, state): (_, RegistrationState) =
        take_ceremony(services, browser_hash, handle, ChallengePurpose::Registration).await?;
    if owner.as_ref() != Some(&user.id) {
        return Err(PasskeyError::NoCeremony);
    }
    let failed = |detail: &str| {
        services.events.record(
            peer.event(services, kind::PASSKEY_REGISTERED, Outcome::Failure)
                .user(&user.id)
                .detail(detail),
        );
    };
    let webauthn = webauthn(services)?;
    let finished = match &state {
        // Roots configured since this ceremony started: it would add an unattested passkey.
        RegistrationState::Unattested(_) if services.passkey_attestation.is_some() => {
            return Err(PasskeyError::NoCeremony);
        }
        RegistrationState::Unattested(state) => webauthn
            .finish_passkey_registration(answer, state)
            .map(|passkey| (passkey, None)),
        RegistrationState::Attested { attested } => webauthn
            .finish_attested_passkey_registration(answer, attested)
            .map(|attested| {
                let aaguid = passkey::attested_aaguid(&attested.attestation().metadata);
                (Passkey::from(attested), aaguid)
            }),
    };
    let (passkey, aaguid) = match finished {
        Ok(finished) => finished,
        Err(e) if authenticator_not_allowed(&e) => {
            tracing::info!(error = %e, user_id = %user.id, "passkey registration refused: authenticator not allowed");
            failed("the authenticator is not allowed (its attestation is not under a trusted root, or its AAGUID is not listed)");
            return Err(PasskeyError::Refused);
        }
        Err(e) => {
            tracing::info!(error = %e, user_id = %user.id, "passkey registration refused");
            failed("the authenticator's answer did not verify");
            return Err(PasskeyError::Refused);
        }
    };
    let (backup_eligible, backed_up) = backup_flags(&passkey);
    let now = services.clock.now();
    let record = PasskeyRecord {
        credential_id: credential_id(&passkey),
        user_id: user.id.clone(),
        credential: serde_json::to_string(&passkey).map_err(|e| anyhow::anyhow!(e).context("serializing a passkey"))?,
        name,
        aaguid: aaguid.map(|a| a.to_string()),
        backup_eligible,
        backed_up,
        created_at: now,
        last_used_at: None,
    };
    match services.store.insert_passkey(&record).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            failed("the credential is registered already");
            return Err(PasskeyError::AlreadyRegistered);
        }
        Err(e) => return Err(e.into()),
    }
    services.events.record(
        peer.event(services, kind::PASSKEY_REGISTERED, Outcome::Success)
            .user(&user.id)
            .detail(record.name.clone()),
    );
    notify::passkey_changed(services, user, &record.name, true, ChangedBy::Person);
    Ok(record)
}

/// A person's passkeys, oldest first.
pub async fn list(services: &Services, user_id: &UserId) -> Result<Vec<PasskeyRecord>, StoreError> {
    services.store.list_passkeys(user_id).await
}

/// Renames one of the person's passkeys.
pub async fn rename(services: &Services, user: &User, credential_id: &str, name: &str) -> Result<(), PasskeyError> {
    let name = parse_name(name)?;
    if !services.store.rename_passkey(&user.id, credential_id, &name).await? {
        return Err(PasskeyError::NotFound);
    }
    Ok(())
}

/// Removes one of the person's passkeys: their sign-in must be recent, and the last passkey
/// needs the password too.
pub async fn remove(
    services: &Services,
    user: &User,
    auth_time: UnixTime,
    credential_id: &str,
    password: Option<&SecretString>,
    peer: &Peer,
) -> Result<(), PasskeyError> {
    let refused = |detail: &str| {
        services.events.record(
            peer.event(services, kind::PASSKEY_REMOVED, Outcome::Failure)
                .user(&user.id)
                .detail(detail),
        );
    };
    if let Err(e) = ensure_recent(services, auth_time) {
        refused("the sign-in is older than 5 minutes");
        return Err(e);
    }
    let passkeys = services.store.list_passkeys(&user.id).await?;
    let Some(passkey) = passkeys.iter().find(|p| p.credential_id == credential_id) else {
        return Err(PasskeyError::NotFound);
    };
    if passkeys.len() == 1 {
        let right = match password {
            Some(password) => services.passwords.verify(Some(&user.password_hash), password).await,
            None => false,
        };
        if !right {
            refused("the last passkey needs the password");
            return Err(PasskeyError::WrongPassword);
        }
    }
    if !services.store.delete_passkey(&user.id, credential_id).await? {
        return Err(PasskeyError::NotFound);
    }
    services.events.record(
        peer.event(services, kind::PASSKEY_REMOVED, Outcome::Success)
            .user(&user.id)
            .detail(passkey.name.clone()),
    );
    notify::passkey_changed(services, user, &passkey.name, false, ChangedBy::Person);
    Ok(())
}

/// An operator removes a person's passkey (admin API, command line).
pub async fn remove_by_operator(
    services: &Services,
    user: &User,
    credential_id: &str,
    actor: &Actor,
) -> Result<(), PasskeyError> {
    let Some(passkey) = services
        .store
        .find_passkey(credential_id)
        .await?
        .filter(|p| p.user_id == user.id)
    else {
        return Err(PasskeyError::NotFound);
    };
    if !services.store.delete_passkey(&user.id, credential_id).await? {
        return Err(PasskeyError::NotFound);
    }
    services.events.record(
        actor
            .action(services, kind::PASSKEY_REMOVED)
            .user(&user.id)
            .detail(passkey.name.clone()),
    );
    notify::passkey_changed(services, user, &passkey.name, false, ChangedBy::Operator);
    Ok(())
}

/// Starts a sign-in with a passkey, no name typed (discoverable credentials). The options ask
/// for no conditional mediation; the page sets it when it offers passkeys in the name field.
pub async fn start_sign_in(
    services: &Services,
    browser_hash: &str,
) -> Result<Ceremony<RequestChallengeResponse>, PasskeyError> {
    let (mut options, state) = webauthn(services)?
        .start_discoverable_authentication()
        .map_err(|e| anyhow::anyhow!(e).context("starting a passkey sign-in"))?;
    options.mediation = None;
    let handle = keep_ceremony(services, browser_hash, ChallengePurpose::SignIn, None, &state).await?;
    Ok(Ceremony { handle, options })
}

/// A passkey that verified: its person, and whether it may be synchronised.
struct Verified {
    user: User,
    backup_eligible: bool,
}

fn record_use_failure(services: &Services, peer: &Peer, user_id: Option<&UserId>, detail: &str) {
    let mut event = peer
        .event(services, kind::PASSKEY_USED, Outcome::Failure)
        .detail(detail);
    if let Some(user_id) = user_id {
        event = event.user(user_id);
    }
    services.events.record(event);
    services.metrics.login(false);
}

/// Checks an assertion against the stored credential it names, which must belong to
/// `expected` (the person of the user handle, or the one signing in); updates the counter and
/// backup state.
async fn verify_assertion(
    services: &Services,
    answer: &PublicKeyCredential,
    expected: &UserId,
    check: impl FnOnce(&Webauthn, &Passkey) -> Result<webauthn_rs::prelude::AuthenticationResult, String>,
    peer: &Peer,
) -> Result<Verified, PasskeyError> {
    let credential_id = URL_SAFE_NO_PAD.encode(answer.get_credential_id());
    let Some(record) = services.store.find_passkey(&credential_id).await? else {
        record_use_failure(services, peer, Some(expected), "unknown credential");
        return Err(PasskeyError::Refused);
    };
    if &record.user_id != expected {
        // A credential of one person presented for another: never a sign-in.
        record_use_failure(services, peer, Some(expected), "a credential of another person");
        return Err(PasskeyError::Refused);
    }
    let mut passkey = decode(&record)?;
    let result = match check(&webauthn(services)?, &passkey) {
        Ok(result) => result,
        Err(e) => {
            tracing::info!(error = %e, user_id = %record.user_id, "passkey assertion refused");
            record_use_failure(services, peer, Some(&record.user_id), "the assertion did not verify");
            return Err(PasskeyError::Refused);
        }
    };
    let user = services
        .store
        .find_user_by_id(&record.user_id)
        .await?
        .filter(|u| !u.disabled);
    let Some(user) = user else {
        record_use_failure(services, peer, Some(&record.user_id), "account disabled");
        return Err(PasskeyError::Refused);
    };
    passkey.update_credential(&result);
    let credential =
        serde_json::to_string(&passkey).map_err(|e| anyhow::anyhow!(e).context("serializing a passkey"))?;
    services
        .store
        .record_passkey_use(
            &user.id,
            &record.credential_id,
            &credential,
            result.backup_state(),
            services.clock.now(),
        )
        .await?;
    services.events.record(
        peer.event(services, kind::PASSKEY_USED, Outcome::Success)
            .user(&user.id)
            .detail(record.name.clone()),
    );
    Ok(Verified {
        user,
        backup_eligible: record.backup_eligible || result.backup_eligible(),
    })
}

/// Finishes a sign-in with a passkey: the credential named by the answer, of the person its
/// user handle names, verified against the ceremony of this browser; the browser is signed in
/// (under its new id) and the authorization request `request_id` follows it.
pub async fn finish_sign_in(
    services: &Services,
    browser: BrowserIds<'_>,
    handle: &str,
    answer: &PublicKeyCredential,
    request_id: Option<&str>,
    peer: &Peer,
) -> Result<NewSession, PasskeyError> {
    let (_, state): (_, DiscoverableAuthentication) =
        take_ceremony(services, browser.current, handle, ChallengePurpose::SignIn).await?;
    let webauthn = webauthn(services)?;
    let Ok((handle_uuid, _)) = webauthn.identify_discoverable_authentication(answer) else {
        record_use_failure(services, peer, None, "no user handle");
        return Err(PasskeyError::Refused);
    };
    let credential_id = URL_SAFE_NO_PAD.encode(answer.get_credential_id());
    let owner = services.store.find_passkey(&credential_id).await?.map(|p| p.user_id);
    let Some(owner) = owner.filter(|owner| user_handle(owner) == handle_uuid) else {
        record_use_failure(services, peer, None, "unknown credential or user handle");
        return Err(PasskeyError::Refused);
    };
    let verified = verify_assertion(
        services,
        answer,
        &owner,
        |webauthn, passkey| {
            webauthn
                .finish_discoverable_authentication_v2(answer, state, passkey)
                .map_err(|e| e.to_string())
        },
        peer,
    )
    .await?;
    let amr = amr(verified.backup_eligible, false);
    Ok(signin::start_session(services, browser, verified.user, &amr, peer, request_id).await?)
}

/// Starts a passkey as the second factor of `user` (who gave their password in this browser):
/// None when they have no passkey.
pub async fn start_second_factor(
    services: &Services,
    user: &User,
    browser_hash: &str,
) -> Result<Option<Ceremony<RequestChallengeResponse>>, PasskeyError> {
    let mut passkeys = Vec::new();
    for record in services.store.list_passkeys(&user.id).await? {
        passkeys.push(decode(&record)?);
    }
    if passkeys.is_empty() {
        return Ok(None);
    }
    let (options, state) = webauthn(services)?
        .start_passkey_authentication(&passkeys)
        .map_err(|e| anyhow::anyhow!(e).context("starting a passkey second factor"))?;
    let handle = keep_ceremony(
        services,
        browser_hash,
        ChallengePurpose::SecondFactor,
        Some(&user.id),
        &state,
    )
    .await?;
    Ok(Some(Ceremony { handle, options }))
}

/// Checks a passkey as the second factor of `user`: the `amr` it earns with the password.
pub async fn finish_second_factor(
    services: &Services,
    user: &User,
    browser_hash: &str,
    handle: &str,
    answer: &PublicKeyCredential,
    peer: &Peer,
) -> Result<Vec<&'static str>, PasskeyError> {
    let (owner, state): (_, PasskeyAuthentication) =
        take_ceremony(services, browser_hash, handle, ChallengePurpose::SecondFactor).await?;
    if owner.as_ref() != Some(&user.id) {
        return Err(PasskeyError::NoCeremony);
    }
    let verified = verify_assertion(
        services,
        answer,
        &user.id,
        |webauthn, _| {
            webauthn
                .finish_passkey_authentication(answer, &state)
                .map_err(|e| e.to_string())
        },
        peer,
    )
    .await?;
    Ok(amr(verified.backup_eligible, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passkey_name_is_trimmed_and_bounded() {
        assert_eq!(parse_name("  Laptop ").expect("name"), "Laptop");
        assert!(matches!(parse_name("   "), Err(PasskeyError::BadName)));
        assert!(matches!(parse_name(&"x".repeat(65)), Err(PasskeyError::BadName)));
        assert!(parse_name(&"x".repeat(64)).is_ok());
        assert!(matches!(parse_name("a\nb"), Err(PasskeyError::BadName)));
    }

    #[test]
    fn an_unattested_registration_is_stored_as_before_and_reads_back() {
        let rp = passkey::relying_party("https://id.example.com", "Keyhaven").expect("rp");
        let (_, state) = rp
            .start_passkey_registration(webauthn_rs::prelude::Uuid::nil(), "alice", "Alice", None)
            .expect("start");
        // A row written before attestation existed: the bare library state.
        let old_row = serde_json::to_string(&state).expect("json");
        let read: RegistrationState = serde_json::from_str(&old_row).expect("old row reads");
        assert!(matches!(read, RegistrationState::Unattested(_)));
        // And an unattested state is still written that way.
        let written = serde_json::to_string(&RegistrationState::Unattested(state)).expect("json");
        assert_eq!(written, old_row);
    }
}
