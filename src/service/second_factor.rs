//! The second factor after a right password, written once and free of HTTP: a passkey (offered
//! first), a TOTP code, or a recovery code.
//!
//! - A person has a second factor when they turned TOTP on or have a passkey (and this server
//!   offers passkeys): then a password alone never signs them in.
//! - The step is bound to the browser and lives 5 minutes; it keeps the name typed (its throttle
//!   counts every failure here too) and the authorization request signed in for.
//! - A code works once; a passkey's ceremony is taken once. Every wrong code and every refused
//!   passkey counts in the sign-in throttle and against the step: five drop it, and the person
//!   starts again with the password. Only a whole sign-in forgets the failures.
//! - The account's lock is checked before every try: a locked account's step is dropped, even
//!   for a right code or passkey.

use secrecy::{ExposeSecret, SecretString};
use webauthn_rs::prelude::{PublicKeyCredential, RequestChallengeResponse};

use super::passkeys::{self, Ceremony, PasskeyError};
use super::security::{self, Factor};
use super::signin::{start_session, BrowserIds, NewSession};
use super::{lockout, notify, Peer, Services};
use crate::domain::event::{kind, Outcome};
use crate::domain::user::lockout::MAX_FAILURES;
use crate::domain::user::User;
use crate::domain::UnixTime;
use crate::storage::{PendingLogin, StoreError};

/// How long the second factor may take after the password.
pub const TTL: i64 = 300;

/// The second factors a person has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Factors {
    /// TOTP is on: a code from the app, or a recovery code.
    pub code: bool,
    /// At least one passkey, and this server offers passkeys.
    pub passkey: bool,
}

impl Factors {
    pub fn any(self) -> bool {
        self.code || self.passkey
    }
}

/// What a try at the second factor came to.
pub enum Step {
    SignedIn(Box<NewSession>),
    /// A wrong code, or a passkey that was refused: try again.
    Wrong,
    /// No step waits for this browser (expired, never started, or dropped after failures).
    StartAgain,
    /// The account is locked: the step is dropped, even for a right code.
    Locked {
        until: UnixTime,
    },
}

/// The second factors of `user`.
pub async fn factors(services: &Services, user: &User) -> Result<Factors, StoreError> {
    let passkey = passkeys::available(services) && !services.store.list_passkeys(&user.id).await?.is_empty();
    Ok(Factors {
        code: user.has_totp(),
        passkey,
    })
}

/// Binds the second-factor step to the browser, for 5 minutes, keeping the name typed and the
/// authorization request signed in for.
pub(super) async fn await_step(
    services: &Services,
    browser: BrowserIds<'_>,
    user: &User,
    request_id: Option<&str>,
    name_key: String,
) -> Result<(), StoreError> {
    let now = services.clock.now();
    let pending = PendingLogin {
        browser_hash: browser.current.to_owned(),
        user_id: user.id.clone(),
        request_id: request_id.map(str::to_owned),
        created_at: now,
        expires_at: now + TTL,
        failures: 0,
        name_key: Some(name_key),
    };
    services.store.put_pending_login(&pending).await
}

/// The step waiting for this browser, with its person (still enabled, still with a second
/// factor) and their factors.
async fn pending(services: &Services, browser_hash: &str) -> Result<Option<(PendingLogin, User, Factors)>, StoreError> {
    let now = services.clock.now();
    let Some(pending) = services.store.find_pending_login(browser_hash, now).await? else {
        return Ok(None);
    };
    let Some(user) = services
        .store
        .find_user_by_id(&pending.user_id)
        .await?
        .filter(|u| !u.disabled)
    else {
        return Ok(None);
    };
    let factors = factors(services, &user).await?;
    Ok(factors.any().then_some((pending, user, factors)))
}

/// The factors the step waiting for this browser may take; None when no step waits.
pub async fn awaited(services: &Services, browser_hash: &str) -> Result<Option<Factors>, StoreError> {
    Ok(pending(services, browser_hash).await?.map(|(_, _, factors)| factors))
}

/// Drops a step; the person starts again with the password. Best effort: the step expires
/// within minutes anyway.
async fn drop_step(services: &Services, pending: &PendingLogin) {
    if let Err(e) = services.store.delete_pending_login(&pending.browser_hash).await {
        tracing::warn!(error = %e, "could not drop a second-factor step");
    }
}

/// A failed try: counted in the sign-in throttle and against the step (five drop it).
async fn failed(services: &Services, pending: &PendingLogin, user: &User, peer: &Peer) -> Result<Step, StoreError> {
    lockout::note_failure(services, peer, pending.name_key.as_deref(), Some(user)).await?;
    if services.store.record_otp_failure(&pending.browser_hash).await? >= MAX_FAILURES {
        drop_step(services, pending).await;
        return Ok(Step::StartAgain);
    }
    Ok(Step::Wrong)
}

/// The step is done: the browser is signed in with `amr`.
async fn succeeded(
    services: &Services,
    browser: BrowserIds<'_>,
    pending: &PendingLogin,
    user: User,
    amr: &[&str],
    peer: &Peer,
) -> Result<Step, StoreError> {
    services.store.delete_pending_login(&pending.browser_hash).await?;
    lockout::note_success(services, pending.name_key.as_deref(), &user).await?;
    let request_id = pending.request_id.as_deref();
    let session = start_session(services, browser, user, amr, peer, request_id).await?;
    Ok(Step::SignedIn(Box::new(session)))
}

/// The step of this browser and its person, unless the account is locked (then the step is
/// dropped).
async fn open_step(services: &Services, browser_hash: &str) -> Result<Result<(PendingLogin, User), Step>, StoreError> {
    let Some((pending, user, _)) = pending(services, browser_hash).await? else {
        return Ok(Err(Step::StartAgain));
    };
    if let Some(until) = lockout::locked_until(services, lockout::account_key(&user)).await? {
        drop_step(services, &pending).await;
        return Ok(Err(Step::Locked { until }));
    }
    Ok(Ok((pending, user)))
}

/// A TOTP code or a recovery code.
pub async fn code(
    services: &Services,
    browser: BrowserIds<'_>,
    code: &SecretString,
    peer: &Peer,
) -> Result<Step, StoreError> {
    let (pending, user) = match open_step(services, browser.current).await? {
        Ok(open) => open,
        Err(step) => return Ok(step),
    };
    let Some(factor) = security::check_second_factor(services, &user, code.expose_secret()).await? else {
        services
            .events
            .record(peer.event(services, kind::OTP, Outcome::Failure).user(&user.id));
        return failed(services, &pending, &user, peer).await;
    };
    services
        .events
        .record(peer.event(services, kind::OTP, Outcome::Success).user(&user.id));
    if factor == Factor::RecoveryCode {
        services.events.record(
            peer.event(services, kind::RECOVERY_CODE_USED, Outcome::Success)
                .user(&user.id),
        );
        notify::recovery_code_used(services, &user, peer);
    }
    succeeded(services, browser, &pending, user, &["pwd", "otp"], peer).await
}

/// Starts a passkey ceremony for the step of this browser: the person's passkeys are the only
/// ones allowed. `NoCeremony` when no step waits or its person has no passkey.
pub async fn start_passkey(
    services: &Services,
    browser_hash: &str,
) -> Result<Ceremony<RequestChallengeResponse>, PasskeyError> {
    let Some((_, user, factors)) = pending(services, browser_hash).await? else {
        return Err(PasskeyError::NoCeremony);
    };
    if !factors.passkey {
        return Err(PasskeyError::NoCeremony);
    }
    passkeys::start_second_factor(services, &user, browser_hash)
        .await?
        .ok_or(PasskeyError::NoCeremony)
}

/// A passkey's answer to the ceremony `handle` of this browser's step.
pub async fn passkey(
    services: &Services,
    browser: BrowserIds<'_>,
    handle: &str,
    answer: &PublicKeyCredential,
    peer: &Peer,
) -> Result<Step, PasskeyError> {
    let (pending, user) = match open_step(services, browser.current).await? {
        Ok(open) => open,
        Err(step) => return Ok(step),
    };
    match passkeys::finish_second_factor(services, &user, browser.current, handle, answer, peer).await {
        Ok(amr) => Ok(succeeded(services, browser, &pending, user, &amr, peer).await?),
        Err(PasskeyError::Refused) => Ok(failed(services, &pending, &user, peer).await?),
        Err(other) => Err(other),
    }
}
