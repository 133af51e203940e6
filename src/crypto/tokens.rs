//! Opaque bearer secrets: 256 bits from the OS CSPRNG, base64url, with a recognisable prefix so
//! secret scanners can find leaked ones. Only their SHA-256 is ever stored.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Prefixes of the opaque secrets Keyhaven issues.
pub mod prefix {
    pub const CLIENT_SECRET: &str = "khs_";
    pub const REFRESH_TOKEN: &str = "khr_";
    pub const AUTHORIZATION_CODE: &str = "khc_";
    pub const RESET_TOKEN: &str = "khp_";
    pub const SESSION: &str = "khsess_";
    /// The link left at the old address when an account's address changes.
    pub const EMAIL_RESTORE: &str = "khu_";
    /// The device code of the device authorization grant (RFC 8628).
    pub const DEVICE_CODE: &str = "khd_";
    /// An initial access token for dynamic client registration (RFC 7591 §3).
    pub const REGISTRATION_TOKEN: &str = "khi_";
    /// A self-registered client's registration access token (RFC 7592).
    pub const REGISTRATION_ACCESS_TOKEN: &str = "khm_";
}

/// A freshly made secret, to hand out once. Its `Debug` is redacted.
pub struct OpaqueSecret(Zeroizing<String>);

impl OpaqueSecret {
    pub fn generate(prefix: &str) -> Self {
        Self(Zeroizing::new(format!("{prefix}{}", random_base64url(32))))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> SecretHash {
        SecretHash::of(&self.0)
    }
}

impl fmt::Debug for OpaqueSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpaqueSecret(<redacted>)")
    }
}

/// SHA-256 of a secret, base64url: the only form in which the store holds a bearer secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    pub fn of(secret: &str) -> Self {
        Self(URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes())))
    }

    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time check of a presented secret against this hash.
    pub fn matches(&self, presented: &str) -> bool {
        let candidate = Self::of(presented);
        bool::from(candidate.0.as_bytes().ct_eq(self.0.as_bytes()))
    }
}

/// `n` random bytes from the OS CSPRNG, base64url without padding.
pub fn random_base64url(n: usize) -> String {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(&*bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_long_and_hash_compared() {
        let s = OpaqueSecret::generate(prefix::CLIENT_SECRET);
        assert!(s.expose().starts_with("khs_"));
        assert_eq!(s.expose().len(), 4 + 43);
        let h = s.hash();
        assert!(h.matches(s.expose()));
        assert!(!h.matches("khs_other"));
        assert_ne!(h.as_str(), s.expose());
        assert_eq!(format!("{s:?}"), "OpaqueSecret(<redacted>)");
    }
}
