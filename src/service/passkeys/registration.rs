//! Adding a passkey: a sign-in within the last 5 minutes, user verification required, a
//! discoverable credential preferred; attestation none, or, with the operator's roots
//! (`passkey_attestation_ca_file`, `passkey_aaguids`), verified and chained to one of them.

use webauthn_rs::prelude::{
    AttestationCaList, AttestedPasskeyRegistration, CreationChallengeResponse, Passkey, PasskeyRegistration,
    RegisterPublicKeyCredential, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::{
    credential_id, decode, ensure_recent, keep_ceremony, parse_name, take_ceremony, user_handle, webauthn, Ceremony,
    PasskeyError,
};
use crate::config::{ConfigError, Settings};
use crate::domain::event::{kind, Outcome};
use crate::domain::user::User;
use crate::domain::UnixTime;
use crate::protocol::passkey;
use crate::service::notify::{self, ChangedBy};
use crate::service::{Peer, Services};
use crate::storage::{ChallengePurpose, PasskeyRecord, StoreError};

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

#[cfg(test)]
mod tests {
    use super::*;

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
