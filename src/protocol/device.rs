//! The device authorization request (RFC 8628 §3.1, §3.2) and the user code: what a device may
//! ask for, and the short code a person types on another device. Polling the token endpoint
//! is `token::device_code`; the flow around both is `service::device`.

use rand::rngs::OsRng;
use rand::RngCore;

use super::authorize::check_scopes;
use super::discovery::SCOPES;
use super::error::{err, OAuthError, ProtocolError};
use super::resource::{self, NoAudience};
use crate::domain::client::{Client, GrantType};
use crate::domain::scope::ScopeSet;
use crate::domain::Audience;

/// The page where a person types a user code (RFC 8628 §3.2 `verification_uri`, under the
/// issuer). Defined beside the rule, as the device authorization response names it; the
/// pages mount it from here.
pub const VERIFICATION_PATH: &str = "/device";

/// Letters of a user code: no vowels (no words), none that looks like a digit or another
/// letter (RFC 8628 §6.1).
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Letters in a user code: 20^8, about 34.6 bits, against a handful of guesses.
pub const USER_CODE_LEN: usize = 8;

/// A user code in its canonical form: eight letters of [`USER_CODE_ALPHABET`], upper case, no
/// dash. Not `Debug`: until it is approved, it is as good as a password.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// A new code from the OS CSPRNG, each letter uniform (bytes past the last whole multiple
    /// of 20 are drawn again).
    pub fn generate() -> Self {
        let mut code = String::with_capacity(USER_CODE_LEN);
        let mut byte = [0u8; 1];
        while code.len() < USER_CODE_LEN {
            OsRng.fill_bytes(&mut byte);
            let b = usize::from(byte[0]);
            if b < 240 {
                if let Some(letter) = USER_CODE_ALPHABET.get(b % 20) {
                    code.push(char::from(*letter));
                }
            }
        }
        Self(code)
    }

    /// What a person typed, read without regard to case, dashes or spaces; None when it cannot
    /// be a code.
    pub fn parse(typed: &str) -> Option<Self> {
        if typed.len() > 64 {
            return None;
        }
        let code: String = typed
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let well_formed = code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
        well_formed.then_some(Self(code))
    }

    /// The canonical form, which is what gets hashed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As people are shown it: `XXXX-XXXX`.
    pub fn display(&self) -> String {
        let (a, b) = self.0.split_at(USER_CODE_LEN / 2);
        format!("{a}-{b}")
    }
}

/// The device authorization response (RFC 8628 §3.2). Not `Debug`: it carries the device code.
#[derive(serde::Serialize)]
pub struct DeviceAuthorizationResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

impl DeviceAuthorizationResponse {
    pub fn new(issuer: &str, device_code: &str, user_code: &UserCode, expires_in: i64, interval: i64) -> Self {
        let verification_uri = format!("{issuer}{VERIFICATION_PATH}");
        Self {
            device_code: device_code.to_owned(),
            user_code: user_code.display(),
            verification_uri_complete: format!("{verification_uri}?user_code={}", user_code.display()),
            verification_uri,
            expires_in,
            interval,
        }
    }
}

/// What a device may be granted: a scope and the audiences of its access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceGrant {
    pub scope: ScopeSet,
    pub audience: Vec<Audience>,
}

/// The device authorization request of an authenticated client: it must be registered for
/// the device grant (`unauthorized_client`); `scope` follows the authorization request's
/// rules (scopes we know, within the client's, `offline_access` only with the refresh grant;
/// without one, the client's registered scopes); `resource` resolves as at the authorization
/// request (RFC 8707).
pub fn validate(client: &Client, scope: Option<&str>, resources: &[&str]) -> Result<DeviceGrant, ProtocolError> {
    if !client.allows_grant(GrantType::DeviceCode) {
        return Err(err(
            OAuthError::UnauthorizedClient,
            "client may not use the device authorization grant",
        ));
    }
    let scopes = match scope {
        Some(asked) => ScopeSet::parse(asked).map_err(|e| err(OAuthError::InvalidScope, e.to_string()))?,
        None => client
            .scopes
            .clone()
            .ok_or_else(|| err(OAuthError::InvalidScope, "scope is required"))?,
    };
    if let Some(unknown) = scopes.tokens().into_iter().find(|t| !SCOPES.contains(&t.as_str())) {
        return Err(err(OAuthError::InvalidScope, format!("unknown scope {unknown}")));
    }
    check_scopes(client, &scopes)?;
    // Without a resource and a default audience, an OpenID request's token is for userinfo.
    let without = if scopes.contains("openid") {
        NoAudience::UserinfoOnly
    } else {
        NoAudience::Refused
    };
    let audience = resource::resolve(client, resources, without)?;
    Ok(DeviceGrant {
        scope: scopes,
        audience,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_unambiguous_letters() {
        for _ in 0..200 {
            let code = UserCode::generate();
            assert_eq!(code.as_str().len(), USER_CODE_LEN);
            assert!(code.as_str().bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
            assert_eq!(UserCode::parse(&code.display()).unwrap().as_str(), code.as_str());
        }
    }

    #[test]
    fn typed_codes_ignore_case_dashes_and_spaces() {
        let canonical = UserCode::parse("BCDF-GHJK").unwrap();
        assert_eq!(canonical.display(), "BCDF-GHJK");
        for typed in ["bcdfghjk", "bcdf-ghjk", " BCDF GHJK ", "bCdF-gHjK"] {
            assert_eq!(UserCode::parse(typed).unwrap().as_str(), "BCDFGHJK", "{typed}");
        }
        for bad in ["", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ1", &"B".repeat(100)] {
            assert!(UserCode::parse(bad).is_none(), "{bad}");
        }
    }

    fn device_client() -> Client {
        Client {
            grant_types: vec![GrantType::DeviceCode, GrantType::RefreshToken],
            ..Client::example("tv")
        }
    }

    #[test]
    fn only_a_client_of_the_device_grant_may_ask() {
        assert!(validate(&device_client(), Some("openid"), &[]).is_ok());
        let e = validate(&Client::example("web"), Some("openid"), &[]).unwrap_err();
        assert_eq!(e.error, OAuthError::UnauthorizedClient);
    }

    #[test]
    fn scopes_and_resources_follow_the_authorization_request() {
        let client = Client {
            audiences: vec!["https://api.example".into()],
            ..device_client()
        };
        let grant = validate(&client, Some("openid offline_access"), &[]).unwrap();
        assert_eq!(grant.audience, vec![Audience::from("https://api.example")]);
        assert_eq!(
            validate(&client, Some("openid nonsense"), &[]).unwrap_err().error,
            OAuthError::InvalidScope
        );
        assert_eq!(
            validate(&client, Some("openid"), &["https://other.example"])
                .unwrap_err()
                .error,
            OAuthError::InvalidTarget
        );
        assert_eq!(
            validate(&client, None, &[]).unwrap_err().error,
            OAuthError::InvalidScope
        );
        let no_refresh = Client {
            grant_types: vec![GrantType::DeviceCode],
            ..client.clone()
        };
        assert_eq!(
            validate(&no_refresh, Some("openid offline_access"), &[])
                .unwrap_err()
                .error,
            OAuthError::InvalidScope
        );
    }
}
