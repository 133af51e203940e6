//! Resource indicators (RFC 8707): which resource servers an access token is for. One rule for
//! every grant that takes `resource` (the authorization request, `client_credentials`); the code
//! and refresh grants carry on the audience their authorization request resolved here.

use url::Url;

use super::error::{err, OAuthError, ProtocolError};
use crate::domain::client::Client;
use crate::domain::Audience;

/// The audience of the admin API's tokens: Keyhaven's own logical name, not a resource
/// server's URI, so the one resource accepted that is not an absolute URI.
pub const ADMIN_AUDIENCE: &str = "keyhaven-admin";

/// When a request names no resource and the client has no default audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAudience {
    /// Refused: the token would be for nobody.
    Refused,
    /// Allowed: an OpenID request's access token is still for the userinfo endpoint.
    UserinfoOnly,
}

/// One requested resource (RFC 8707 §2): an absolute URI without a fragment, and one of the
/// audiences the client is registered for. `invalid_target` otherwise.
pub fn check(client: &Client, resource: &str) -> Result<(), ProtocolError> {
    let absolute = resource == ADMIN_AUDIENCE || Url::parse(resource).is_ok_and(|u| u.fragment().is_none());
    if !absolute {
        return Err(err(
            OAuthError::InvalidTarget,
            "resource must be an absolute URI without a fragment",
        ));
    }
    if !client.audiences.iter().any(|a| a == resource) {
        return Err(err(
            OAuthError::InvalidTarget,
            "resource is not an allowed audience of this client",
        ));
    }
    Ok(())
}

/// The audiences of the token: the requested resources, each checked, or when none is given
/// the client's default (its first registered audience). A client nobody vetted has no
/// default: its audiences are the resource servers open to every such client, and it gets a
/// token for one only by naming it.
pub fn resolve(client: &Client, requested: &[&str], without: NoAudience) -> Result<Vec<Audience>, ProtocolError> {
    for resource in requested {
        check(client, resource)?;
    }
    if !requested.is_empty() {
        return Ok(requested.iter().map(|r| Audience::from(*r)).collect());
    }
    let default = if client.is_verified() {
        client.audiences.first()
    } else {
        None
    };
    match (default, without) {
        (Some(default), _) => Ok(vec![default.clone()]),
        (None, NoAudience::UserinfoOnly) => Ok(Vec::new()),
        (None, NoAudience::Refused) => Err(err(
            OAuthError::InvalidRequest,
            "resource is required: the client has no default audience",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::{ClientType, GrantType};

    fn client(audiences: &[&str]) -> Client {
        Client {
            client_type: ClientType::Confidential,
            grant_types: vec![GrantType::ClientCredentials],
            audiences: audiences.iter().map(|a| Audience::from(*a)).collect(),
            ..Client::example("c")
        }
    }

    #[test]
    fn a_resource_must_be_an_absolute_uri_without_fragment_and_registered() {
        // Registered, but malformed: the form is refused even for a registered audience.
        let c = client(&[
            "https://api.example",
            "https://api.example/v1#part",
            "api.example",
            "urn:example:api",
            ADMIN_AUDIENCE,
        ]);
        for ok in ["https://api.example", "urn:example:api", ADMIN_AUDIENCE] {
            assert_eq!(check(&c, ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("https://api.example/v1#part", "absolute URI"),
            ("api.example", "absolute URI"),
            ("/relative", "absolute URI"),
            ("https://other.example", "allowed audience"),
            ("https://api.example/", "allowed audience"),
        ] {
            let e = check(&c, bad).unwrap_err();
            assert_eq!(e.error, OAuthError::InvalidTarget, "{bad}");
            assert!(e.description.contains(why), "{bad}: {}", e.description);
        }
    }

    #[test]
    fn without_a_resource_the_first_audience_is_the_default() {
        let c = client(&["https://api.example", "https://other.example"]);
        assert_eq!(
            resolve(&c, &[], NoAudience::Refused).unwrap(),
            vec!["https://api.example"]
        );
        assert_eq!(
            resolve(
                &c,
                &["https://other.example", "https://api.example"],
                NoAudience::Refused
            )
            .unwrap(),
            vec!["https://other.example", "https://api.example"]
        );
        // One bad resource among good ones refuses the request.
        assert_eq!(
            resolve(
                &c,
                &["https://api.example", "https://nope.example"],
                NoAudience::Refused
            )
            .unwrap_err()
            .error,
            OAuthError::InvalidTarget
        );
        let none = client(&[]);
        assert_eq!(
            resolve(&none, &[], NoAudience::Refused).unwrap_err().error,
            OAuthError::InvalidRequest
        );
        assert!(resolve(&none, &[], NoAudience::UserinfoOnly).unwrap().is_empty());
    }

    #[test]
    fn a_client_nobody_vetted_has_no_default_audience() {
        let registered = Client {
            origin: crate::domain::client::ClientOrigin::Registered,
            ..client(&["https://mcp.example"])
        };
        assert!(resolve(&registered, &[], NoAudience::UserinfoOnly).unwrap().is_empty());
        assert_eq!(
            resolve(&registered, &[], NoAudience::Refused).unwrap_err().error,
            OAuthError::InvalidRequest
        );
        assert_eq!(
            resolve(&registered, &["https://mcp.example"], NoAudience::Refused).unwrap(),
            vec!["https://mcp.example"]
        );
    }
}
