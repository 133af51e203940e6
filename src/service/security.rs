//! Two-step verification, written once for the sign-in's second factor and the account's
//! security page: TOTP secrets (sealed under the KEK, bound to their person), turning TOTP on
//! (confirmed by a first code) and off (password and a current code), recovery codes (shown
//! once, stored as SHA-256), and the check of a code, where a TOTP code works once (the
//! accepted time step only moves forward) and a recovery code works once.

use secrecy::{ExposeSecret, SecretString};

use super::notify::{self, ChangedBy};
use super::{Peer, Services};
use crate::crypto::totp::{self, Enrollment};
use crate::domain::event::{kind, Outcome};
use crate::domain::user::User;
use crate::storage::StoreError;

/// What a right second-factor code was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Totp,
    RecoveryCode,
}

/// The associated data under which a person's TOTP secret is sealed.
fn sealing_context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

/// Accepts `code` as the person's current TOTP code, once: a code of a time step at or before
/// one accepted earlier is refused.
pub async fn accept_totp_code(services: &Services, user: &User, code: &str) -> Result<bool, StoreError> {
    let Some(sealed) = &user.totp_secret else {
        return Ok(false);
    };
    let Ok(secret) = services.kek.open(&sealing_context(&user.id), sealed) else {
        tracing::error!(user_id = %user.id, "cannot open a TOTP secret");
        return Ok(false);
    };
    match totp::matching_step(&secret, code, services.clock.now()) {
        Some(step) => services.store.accept_totp_step(&user.id, step).await,
        None => Ok(false),
    }
}

/// Whether `code` is a valid, unused TOTP code or recovery code of `user` (spending it).
pub async fn check_second_factor(services: &Services, user: &User, code: &str) -> Result<Option<Factor>, StoreError> {
    if totp::looks_like_recovery_code(code) {
        let used = services
            .store
            .use_recovery_code(&user.id, &totp::recovery_hash(code), services.clock.now())
            .await?;
        return Ok(used.then_some(Factor::RecoveryCode));
    }
    Ok(accept_totp_code(services, user, code).await?.then_some(Factor::Totp))
}

fn enrollment(services: &Services, user: &User, secret: &[u8]) -> Option<Enrollment> {
    let issuer = url::Url::parse(&services.settings.issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| services.settings.brand_name.clone());
    // The authenticator app lists the code under the brand; its label cannot hold a colon.
    let brand = services.settings.brand_name.replace(':', " ");
    totp::enrollment(secret, &format!("{brand} ({issuer})"), &user.username)
}

/// Starts turning TOTP on: a new secret, kept aside until a first code confirms it. None when
/// TOTP is on already.
pub async fn start_totp(services: &Services, user: &User) -> anyhow::Result<Option<Enrollment>> {
    if user.has_totp() {
        return Ok(None);
    }
    let secret = totp::new_secret();
    let sealed = services.kek.seal(&sealing_context(&user.id), &secret)?;
    services.store.set_totp_pending(&user.id, Some(&sealed)).await?;
    let enrollment =
        enrollment(services, user, &secret).ok_or_else(|| anyhow::anyhow!("cannot render the enrollment"))?;
    Ok(Some(enrollment))
}

/// The set-up in progress (started, not yet confirmed), to show again; None when there is none.
pub async fn pending_enrollment(services: &Services, user: &User) -> anyhow::Result<Option<Enrollment>> {
    let Some(sealed) = user.totp_pending.as_ref().filter(|_| !user.has_totp()) else {
        return Ok(None);
    };
    let secret = services
        .kek
        .open(&sealing_context(&user.id), sealed)
        .map_err(|e| anyhow::anyhow!("cannot open the pending TOTP secret: {e}"))?;
    Ok(enrollment(services, user, &secret))
}

/// What confirming a new TOTP secret came to.
pub enum TotpConfirmation {
    /// No set-up was started.
    NotStarted,
    /// The code is not right; the enrollment to show again.
    WrongCode(Option<Enrollment>),
    /// TOTP is on; the recovery codes to show, once.
    Enabled { recovery_codes: Vec<String> },
}

/// Turns TOTP on with the secret set aside by [`start_totp`] when `code` is one of its codes,
/// with ten new recovery codes. The confirming code is spent: it cannot sign anyone in.
pub async fn confirm_totp(
    services: &Services,
    user: &User,
    code: &str,
    peer: &Peer,
) -> anyhow::Result<TotpConfirmation> {
    let Some(sealed) = &user.totp_pending else {
        return Ok(TotpConfirmation::NotStarted);
    };
    let secret = services
        .kek
        .open(&sealing_context(&user.id), sealed)
        .map_err(|e| anyhow::anyhow!("cannot open the pending TOTP secret: {e}"))?;
    let Some(step) = totp::matching_step(&secret, code, services.clock.now()) else {
        return Ok(TotpConfirmation::WrongCode(enrollment(services, user, &secret)));
    };
    let recovery_codes = totp::new_recovery_codes();
    let hashes: Vec<String> = recovery_codes.iter().map(|c| totp::recovery_hash(c)).collect();
    services.store.enable_totp(&user.id, sealed, &hashes).await?;
    if let Err(e) = services.store.accept_totp_step(&user.id, step).await {
        tracing::warn!(error = %e, "could not spend the confirming TOTP code");
    }
    services.events.record(
        peer.event(services, kind::TOTP_ENABLED, Outcome::Success)
            .user(&user.id),
    );
    notify::second_factor_changed(services, user, true, ChangedBy::Person);
    Ok(TotpConfirmation::Enabled { recovery_codes })
}

/// Turns TOTP off, given the password and a current code; false (and a failure event) when
/// either is wrong.
pub async fn disable_totp(
    services: &Services,
    user: &User,
    password: &SecretString,
    code: &SecretString,
    peer: &Peer,
) -> Result<bool, StoreError> {
    let password_ok = services.passwords.verify(Some(&user.password_hash), password).await;
    let code_ok = password_ok && accept_totp_code(services, user, code.expose_secret()).await?;
    if !code_ok {
        services.events.record(
            peer.event(services, kind::TOTP_DISABLED, Outcome::Failure)
                .user(&user.id),
        );
        return Ok(false);
    }
    services.store.disable_totp(&user.id).await?;
    services.events.record(
        peer.event(services, kind::TOTP_DISABLED, Outcome::Success)
            .user(&user.id),
    );
    notify::second_factor_changed(services, user, false, ChangedBy::Person);
    Ok(true)
}

/// New recovery codes in place of the old ones, to show once; None when TOTP is off.
pub async fn replace_recovery_codes(services: &Services, user: &User) -> Result<Option<Vec<String>>, StoreError> {
    if !user.has_totp() {
        return Ok(None);
    }
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    services.store.replace_recovery_codes(&user.id, &hashes).await?;
    Ok(Some(codes))
}
