//! The registry of resource servers: each is an audience value (what `resource` names and `aud`
//! carries), a name for people, and the algorithm its access tokens are signed with.

use url::Url;

use super::{Audience, SigningAlg, UnixTime};

/// A registered resource server, as the store returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceServer {
    pub uri: Audience,
    pub name: String,
    pub access_token_alg: SigningAlg,
    /// Whether clients nobody vetted (self-registered, metadata documents) may ask for tokens
    /// for it.
    pub open_to_self_registered: bool,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl ResourceServer {
    /// The longest URI the registry takes (as the admin API's audiences).
    pub const MAX_URI_CHARS: usize = 512;
    pub const MAX_NAME_CHARS: usize = 200;

    /// A resource server's URI as RFC 8707 wants a `resource`: an absolute URI without a
    /// fragment, kept exactly as written (audiences are compared as strings).
    pub fn parse_uri(text: &str) -> Result<Audience, String> {
        if text.is_empty() || text.chars().count() > Self::MAX_URI_CHARS {
            return Err(format!("must be 1 to {} characters", Self::MAX_URI_CHARS));
        }
        if text.chars().any(char::is_whitespace) {
            return Err("must have no white space".into());
        }
        match Url::parse(text) {
            Ok(url) if url.fragment().is_none() => Ok(Audience::from(text)),
            _ => Err("must be an absolute URI without a fragment".into()),
        }
    }

    pub fn check_name(name: &str) -> Result<(), String> {
        if name.trim().is_empty() || name.chars().count() > Self::MAX_NAME_CHARS {
            return Err(format!("must be 1 to {} characters", Self::MAX_NAME_CHARS));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_uri_is_absolute_without_fragment_and_kept_as_written() {
        for ok in ["https://api.example", "https://api.example/v1/", "urn:example:api"] {
            assert_eq!(ResourceServer::parse_uri(ok).unwrap(), ok, "{ok}");
        }
        let long = format!("https://api.example/{}", "a".repeat(500));
        for bad in [
            "",
            "api.example",
            "/relative",
            "https://api.example/#part",
            "https://api.example/a b",
            long.as_str(),
        ] {
            assert!(ResourceServer::parse_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_name_is_one_to_two_hundred_characters() {
        assert!(ResourceServer::check_name("Orders API").is_ok());
        assert!(ResourceServer::check_name(&"é".repeat(200)).is_ok());
        for bad in ["", "   ", &"a".repeat(201)] {
            assert!(ResourceServer::check_name(bad).is_err(), "{bad:?}");
        }
    }
}
