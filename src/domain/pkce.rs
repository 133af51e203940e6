//! PKCE (RFC 7636), S256 only: `plain` gives no protection once the request leaks (RFC 9700 §2.1.1).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

/// An S256 `code_challenge`: base64url of a SHA-256, so exactly 43 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    pub fn parse_s256(raw: &str) -> Result<Self, &'static str> {
        let decoded = URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| "code_challenge is not base64url")?;
        if raw.len() != 43 || decoded.len() != 32 {
            return Err("code_challenge must be the 43-character base64url SHA-256 of the verifier");
        }
        Ok(Self(raw.to_owned()))
    }

    /// For values read back from the store (checked when they were stored).
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time S256 check of a verifier against this challenge.
    pub fn is_satisfied_by(&self, verifier: &CodeVerifier) -> bool {
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.0.as_bytes()));
        bool::from(computed.as_bytes().ct_eq(self.0.as_bytes()))
    }
}

/// A `code_verifier`: 43 to 128 unreserved characters (RFC 7636 §4.1).
pub struct CodeVerifier(String);

impl CodeVerifier {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if !(43..=128).contains(&raw.len()) || !raw.chars().all(is_unreserved) {
            return Err("code_verifier must be 43 to 128 unreserved characters");
        }
        Ok(Self(raw.to_owned()))
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example() {
        let verifier = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        let challenge = CodeChallenge::parse_s256("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM").unwrap();
        assert!(challenge.is_satisfied_by(&verifier));
        let other = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX").unwrap();
        assert!(!challenge.is_satisfied_by(&other));
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert!(CodeVerifier::parse("short").is_err());
        assert!(CodeVerifier::parse(&"a".repeat(129)).is_err());
        assert!(CodeVerifier::parse(&format!("{}+", "a".repeat(43))).is_err());
        assert!(CodeChallenge::parse_s256("plain-challenge").is_err());
        assert!(CodeChallenge::parse_s256(&"a".repeat(44)).is_err());
    }
}
