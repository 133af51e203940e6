//! Signing in with a passkey: without a name (a discoverable credential, the person its user
//! handle names), or as the second factor of the person who gave their password. Either way the
//! credential must belong to that person, and its counter and backup state are updated.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PublicKeyCredential, RequestChallengeResponse, Webauthn,
};

use super::{amr, decode, keep_ceremony, take_ceremony, user_handle, webauthn, Ceremony, PasskeyError};
use crate::domain::event::{kind, Outcome};
use crate::domain::user::User;
use crate::domain::UserId;
use crate::service::signin::{self, BrowserIds, NewSession};
use crate::service::{Peer, Services};
use crate::storage::ChallengePurpose;

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
