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
//!
//! Here: the ceremonies' storage, and listing, renaming and removing; adding a passkey is in
//! `registration`, signing in with one (without a name, or as second factor) in `assertion`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use secrecy::SecretString;

use webauthn_rs::prelude::{Passkey, Webauthn};

use crate::protocol::passkey;
pub use crate::protocol::passkey::{amr, user_handle};

mod assertion;
mod registration;

/// A stored passkey, as the faces list it.
pub use crate::storage::PasskeyRecord;
pub use assertion::{finish_second_factor, finish_sign_in, start_second_factor, start_sign_in};
pub use registration::{finish_registration, read_attestation_roots, start_registration};

use super::notify::{self, ChangedBy};
use super::{Actor, Peer, Services};
use crate::crypto::tokens::{random_base64url, SecretHash};
use crate::domain::event::{kind, Outcome};
use crate::domain::user::User;
use crate::domain::{UnixTime, UserId};
use crate::storage::{ChallengePurpose, ChallengeRecord, StoreError};

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

fn credential_id(passkey: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(passkey.cred_id())
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
}
