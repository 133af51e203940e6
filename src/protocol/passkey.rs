//! The rules of passkeys that read nothing: who the relying party is, the user handle that
//! names a person in a discoverable credential, the `amr` of a passkey sign-in (RFC 8176), and
//! the attestation roots an operator trusts.
//!
//! Attestation roots: every `CERTIFICATE` block of the PEM text is a root (other text is
//! ignored; no certificate at all, or one that does not parse, is an error). Each root allows
//! the listed AAGUIDs, or, with none listed, any authenticator it attests. An AAGUID counts only
//! as the verified attestation states it (`packed` or `tpm`); an unattested one is never kept.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    AttestationCaList, AttestationCaListBuilder, AttestationMetadata, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::domain::UserId;

/// The relying party of this server: RP id the issuer's host, the issuer's origin the only
/// origin, the brand as its name. None when the issuer's host is not a domain name (WebAuthn
/// has no relying party on an IP address).
pub fn relying_party(issuer: &str, brand: &str) -> Option<Webauthn> {
    let url = Url::parse(issuer).ok()?;
    let host = url.domain()?.to_owned();
    let origin = Url::parse(&url.origin().ascii_serialization()).ok()?;
    WebauthnBuilder::new(&host, &origin)
        .and_then(|b| b.rp_name(brand).build())
        .ok()
}

/// The WebAuthn user handle of a person: derived from their id (no personal data in it, and
/// the same for every passkey of theirs), so a discoverable credential names its person.
pub fn user_handle(user_id: &UserId) -> Uuid {
    let digest = Sha256::digest(format!("keyhaven passkey user handle:{user_id}").as_bytes());
    let mut bytes = [0u8; 16];
    for (to, from) in bytes.iter_mut().zip(digest.iter()) {
        *to = *from;
    }
    Uuid::from_bytes(bytes)
}

/// The `amr` of a sign-in with a passkey: `hwk` for a device-bound key or `swk` for one that
/// may be synchronised (backup eligible), `user` (user verification is required), `mfa`;
/// `pwd` first when it was the second factor after a password.
pub fn amr(backup_eligible: bool, after_password: bool) -> Vec<&'static str> {
    let key = if backup_eligible { "swk" } else { "hwk" };
    let mut amr = if after_password { vec!["pwd"] } else { vec![] };
    amr.extend([key, "user", "mfa"]);
    amr
}

/// Why attestation roots could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationRootsError {
    #[error("holds no PEM certificate")]
    NoCertificate,
    #[error("certificate {0} (counting from 1) is not an X.509 certificate")]
    BadCertificate(usize),
}

/// The `CERTIFICATE` blocks of a PEM text, each with its markers.
fn pem_certificates(pem: &str) -> Vec<&str> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut blocks = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let Some(length) = rest[start..].find(END) else {
            // An unterminated block: kept, so it fails to parse and is named.
            blocks.push(&rest[start..]);
            break;
        };
        let end = start + length + END.len();
        blocks.push(&rest[start..end]);
        rest = &rest[end..];
    }
    blocks
}

/// The attestation roots of a PEM text, each allowing `aaguids` (empty: any authenticator it
/// attests).
pub fn attestation_roots(pem: &str, aaguids: &[Uuid]) -> Result<AttestationCaList, AttestationRootsError> {
    let blocks = pem_certificates(pem);
    if blocks.is_empty() {
        return Err(AttestationRootsError::NoCertificate);
    }
    if aaguids.is_empty() {
        let mut list = AttestationCaList::default();
        for (i, block) in blocks.iter().enumerate() {
            let root = AttestationCaList::try_from(block.as_bytes())
                .map_err(|_| AttestationRootsError::BadCertificate(i + 1))?;
            list.union(&root);
        }
        return Ok(list);
    }
    let mut builder = AttestationCaListBuilder::new();
    for (i, block) in blocks.iter().enumerate() {
        for aaguid in aaguids {
            builder
                .insert_device_pem(block.as_bytes(), *aaguid, aaguid.to_string(), BTreeMap::new())
                .map_err(|_| AttestationRootsError::BadCertificate(i + 1))?;
        }
    }
    Ok(builder.build())
}

/// The AAGUID a verified attestation states (`packed`, `tpm`); None for the other formats.
pub fn attested_aaguid(metadata: &AttestationMetadata) -> Option<Uuid> {
    match metadata {
        AttestationMetadata::Packed { aaguid } | AttestationMetadata::Tpm { aaguid, .. } => Some(*aaguid),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_issuers_host_and_origin() {
        let rp = relying_party("https://id.example.com/tenant", "Keyhaven").expect("rp");
        let origins: Vec<_> = rp.get_allowed_origins().iter().map(Url::as_str).collect();
        assert_eq!(origins, ["https://id.example.com/"]);
        assert!(relying_party("http://localhost:8080", "Keyhaven").is_some());
        // WebAuthn has no relying party on an IP address.
        assert!(relying_party("http://127.0.0.1:8080", "Keyhaven").is_none());
    }

    #[test]
    fn a_user_handle_is_stable_per_person_and_differs_between_people() {
        let alice: UserId = "u1".to_owned().into();
        let bob: UserId = "u2".to_owned().into();
        assert_eq!(user_handle(&alice), user_handle(&alice));
        assert_ne!(user_handle(&alice), user_handle(&bob));
    }

    #[test]
    fn amr_names_the_key_kind_verification_and_mfa() {
        assert_eq!(amr(false, false), ["hwk", "user", "mfa"]);
        assert_eq!(amr(true, false), ["swk", "user", "mfa"]);
        assert_eq!(amr(false, true), ["pwd", "hwk", "user", "mfa"]);
    }

    #[test]
    fn attestation_roots_need_a_certificate_and_name_the_bad_one() {
        assert_eq!(
            attestation_roots("", &[]).unwrap_err(),
            AttestationRootsError::NoCertificate
        );
        assert_eq!(
            attestation_roots("just words", &[]).unwrap_err(),
            AttestationRootsError::NoCertificate
        );
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(
            attestation_roots(garbage, &[]).unwrap_err(),
            AttestationRootsError::BadCertificate(1)
        );
        assert_eq!(
            attestation_roots(garbage, &[Uuid::nil()]).unwrap_err(),
            AttestationRootsError::BadCertificate(1)
        );
    }

    #[test]
    fn pem_certificate_blocks_are_split_and_other_text_ignored() {
        let pem = "comment\n-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n\
                   -----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n\
                   -----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----";
        let blocks = pem_certificates(pem);
        assert_eq!(blocks.len(), 2);
        assert!(blocks[0].contains("\nA\n") && blocks[1].contains("\nB\n"));
    }
}
