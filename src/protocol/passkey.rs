//! The rules of passkeys that read nothing: who the relying party is, the user handle that
//! names a person in a discoverable credential, and the `amr` of a passkey sign-in (RFC 8176).

use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{Url, Uuid, Webauthn, WebauthnBuilder};

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
}
