//! JWS signing algorithms.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// JWS algorithms Keyhaven signs with. RS256 and ES256 are always on: they sign ID tokens (RS256
/// is the OIDC default and what most resource-server libraries accept). EdDSA (Ed25519) signs
/// access tokens only, and has keys only while an audience (or the `access_token_alg` default)
/// asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa];

    /// What a client may register for its ID tokens (and what discovery lists for them): keys
    /// of these always exist.
    pub const ID_TOKEN: [SigningAlg; 2] = [SigningAlg::Rs256, SigningAlg::Es256];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub fn signs_id_tokens(self) -> bool {
        Self::ID_TOKEN.contains(&self)
    }
}

impl std::fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unsupported signing algorithm `{s}`: RS256, ES256 or EdDSA"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_jws_ones_both_ways() {
        for alg in SigningAlg::ALL {
            assert_eq!(alg.as_str().parse::<SigningAlg>(), Ok(alg));
            assert_eq!(serde_json::to_value(alg).unwrap(), alg.as_str());
        }
        assert_eq!(SigningAlg::EdDsa.as_str(), "EdDSA");
        // Exact names only: JOSE algorithm names are case-sensitive.
        for bad in ["eddsa", "Ed25519", "rs256", "HS256", "none", ""] {
            assert!(bad.parse::<SigningAlg>().is_err(), "{bad}");
        }
        assert!(!SigningAlg::EdDsa.signs_id_tokens());
        assert!(SigningAlg::Rs256.signs_id_tokens() && SigningAlg::Es256.signs_id_tokens());
    }
}
