//! A client's redirect URI, as registered and as matched.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// A registered redirect URI: absolute, no fragment (RFC 6749 §3.1.2), and never plain http
/// except to a loopback address (RFC 8252 §7.3) or `localhost` for local development.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(Url);

impl RedirectUri {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|e| format!("redirect URI `{raw}` is not an absolute URL: {e}"))?;
        if url.fragment().is_some() {
            return Err(format!("redirect URI `{raw}` must not have a fragment"));
        }
        if url.port() == Some(0) {
            return Err(format!(
                "redirect URI `{raw}` names port 0, which nothing can listen on"
            ));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(format!(
                    "redirect URI `{raw}` uses http on a non-loopback host; use https"
                ))
            }
            "javascript" | "data" | "file" | "vbscript" | "about" | "blob" => {
                return Err(format!("redirect URI `{raw}` uses a forbidden scheme"))
            }
            // Private-use URI schemes of native apps (RFC 8252 §7.1) must contain a period.
            scheme if scheme.contains('.') => {}
            scheme => {
                return Err(format!(
                    "redirect URI `{raw}`: scheme `{scheme}` is neither https, loopback http nor a reverse-domain private-use scheme"
                ))
            }
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }
}

/// Whether the URL's host is a loopback address or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RedirectUri> for String {
    fn from(value: RedirectUri) -> Self {
        value.0.into()
    }
}

impl fmt::Debug for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedirectUri({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1:8000/cb",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "/relative",
            "https://app.example/cb#frag",
            "http://app.example/cb",
            "javascript:alert(1)",
            "myapp:/cb",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }
}
