//! Redirect-URI matching, every rule in one place: the authorization request's `redirect_uri`
//! against the registered ones (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3: exact string match; RFC 8252
//! §7.3: a loopback IP URI may change its port, never to 0), the token request's against the
//! authorization request's (RFC 6749 §4.1.3: identical), and RP-initiated logout's
//! `post_logout_redirect_uri` (exact match). The form of a registered URI is checked when it is
//! registered (`domain::client::RedirectUri`).

use url::{Host, Url};

use crate::domain::client::{Client, RedirectUri};

/// The registered URI that `requested` names: the same string, or for a loopback IP URI the
/// same string but for the port (native apps listen on an ephemeral port).
pub fn registered<'a>(uris: &'a [RedirectUri], requested: &str) -> Option<&'a RedirectUri> {
    uris.iter()
        .find(|r| r.as_str() == requested || loopback_matches_ignoring_port(r, requested))
}

/// Where the authorization request's responses go: the `redirect_uri` it sent if registered,
/// else the client's only registered URI. The error is shown to the person, never redirected.
pub fn for_authorization(client: &Client, sent: Option<&str>) -> Result<String, &'static str> {
    match sent {
        Some(uri) => registered(&client.redirect_uris, uri)
            .map(|_| uri.to_owned())
            .ok_or("The application asked to return to an address it has not registered."),
        None => match client.redirect_uris.as_slice() {
            [only] => Ok(only.as_str().to_owned()),
            [] => Err("This application has no registered address to return to."),
            _ => Err("The application did not say which of its addresses to return to."),
        },
    }
}

/// The token request's `redirect_uri` (RFC 6749 §4.1.3): required and identical when the
/// authorization request had one, absent when it had none.
pub fn token_request_matches(authorized: Option<&str>, sent: Option<&str>) -> Result<(), &'static str> {
    match (authorized, sent) {
        (Some(authorized), Some(sent)) if authorized == sent => Ok(()),
        (None, None) => Ok(()),
        (Some(_), None) => Err("redirect_uri is required: the authorization request had it"),
        _ => Err("redirect_uri does not match the authorization request"),
    }
}

/// Whether RP-initiated logout may send the person to `uri`: one of the client's registered
/// post-logout URIs, exactly.
pub fn post_logout_registered(client: &Client, uri: &str) -> bool {
    client.post_logout_redirect_uris.iter().any(|r| r.as_str() == uri)
}

/// `redirect_to` with `params` added to its query (RFC 6749 §3.1.2: keep its own query).
pub fn redirect_with(redirect_to: &str, params: &[(&str, &str)]) -> String {
    match Url::parse(redirect_to) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params.iter());
            url.into()
        }
        // Unreachable for a registered URI; degrade to the plain URI rather than panic.
        Err(_) => redirect_to.to_owned(),
    }
}

fn is_loopback_ip(url: &Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        }
}

/// True when `registered` is `http://127.0.0.1...` or `http://[::1]...` and `requested` is the
/// same string but for the port. Not for `localhost`, which a hostile resolver could point
/// elsewhere (RFC 8252 §8.3).
fn loopback_matches_ignoring_port(registered: &RedirectUri, requested: &str) -> bool {
    if !is_loopback_ip(registered.url()) {
        return false;
    }
    let Ok(parsed) = Url::parse(requested) else {
        return false;
    };
    // Port 0 is no port: nothing listens there, and an OS may treat it as "any".
    if !is_loopback_ip(&parsed) || parsed.host() != registered.url().host() || parsed.port() == Some(0) {
        return false;
    }
    strip_port(registered.as_str()) == strip_port(requested)
}

/// `http://host:port/rest` -> (`http://host`, `/rest`), on the raw string, so every other
/// character still has to match exactly.
fn strip_port(raw: &str) -> Option<(&str, &str)> {
    let after_scheme = raw.strip_prefix("http://")?;
    let host_end = if after_scheme.starts_with('[') {
        after_scheme.find(']')? + 1
    } else {
        after_scheme.find([':', '/', '?']).unwrap_or(after_scheme.len())
    };
    let (host, rest) = after_scheme.split_at(host_end);
    let rest = match rest.strip_prefix(':') {
        Some(with_port) => {
            let digits = with_port.find(|c: char| !c.is_ascii_digit()).unwrap_or(with_port.len());
            with_port.get(digits..)?
        }
        None => rest,
    };
    Some((host, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_with(uris: &[&str], post_logout: &[&str]) -> Client {
        let parse = |list: &[&str]| list.iter().map(|u| RedirectUri::parse(u).unwrap()).collect();
        Client {
            redirect_uris: parse(uris),
            post_logout_redirect_uris: parse(post_logout),
            ..Client::example("c")
        }
    }

    #[test]
    fn redirect_uris_match_exactly_but_for_a_loopback_port() {
        let c = client_with(
            &[
                "https://app.example/cb",
                "http://127.0.0.1/cb",
                "http://[::1]:8000/cb",
                "http://localhost:3000/cb",
            ],
            &[],
        );
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:53123/cb",
            "http://[::1]/cb",
            "http://[::1]:1/cb",
            "http://localhost:3000/cb",
        ] {
            assert!(registered(&c.redirect_uris, ok).is_some(), "{ok}");
            assert_eq!(for_authorization(&c, Some(ok)).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "https://app.example/cb/",
            "https://app.example/cb?x=1",
            "https://APP.example/cb",
            "https://app.example:443/cb",
            "http://127.0.0.1:53123/cb2",
            "http://127.0.0.2:53123/cb",
            "http://127.0.0.1:80/cb/../cb",
            "http://127.0.0.1:0/cb",
            "http://[::1]:0/cb",
            "http://localhost:3001/cb",
            "https://127.0.0.1:53123/cb",
        ] {
            assert!(registered(&c.redirect_uris, bad).is_none(), "{bad}");
            assert!(for_authorization(&c, Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_omitted_redirect_uri_means_the_only_registered_one() {
        let one = client_with(&["https://app.example/cb"], &[]);
        assert_eq!(for_authorization(&one, None).as_deref(), Ok("https://app.example/cb"));
        let two = client_with(&["https://app.example/cb", "https://app.example/other"], &[]);
        assert!(for_authorization(&two, None).is_err());
        assert!(for_authorization(&client_with(&[], &[]), None).is_err());
    }

    #[test]
    fn the_token_request_repeats_the_authorization_requests_uri_exactly() {
        let sent = "http://127.0.0.1:49152/cb";
        assert_eq!(token_request_matches(Some(sent), Some(sent)), Ok(()));
        assert_eq!(token_request_matches(None, None), Ok(()));
        // The loopback port freedom is the authorization request's, not the token request's.
        assert!(token_request_matches(Some(sent), Some("http://127.0.0.1/cb")).is_err());
        assert!(token_request_matches(Some(sent), Some("http://127.0.0.1:49153/cb")).is_err());
        assert!(token_request_matches(Some(sent), None).is_err());
        assert!(token_request_matches(None, Some(sent)).is_err());
    }

    #[test]
    fn post_logout_uris_match_exactly_with_no_loopback_freedom() {
        let c = client_with(
            &["https://app.example/cb"],
            &["https://app.example/bye", "http://127.0.0.1/bye"],
        );
        assert!(post_logout_registered(&c, "https://app.example/bye"));
        assert!(post_logout_registered(&c, "http://127.0.0.1/bye"));
        for bad in [
            "https://app.example/bye/",
            "https://app.example/cb",
            "http://127.0.0.1:8000/bye",
        ] {
            assert!(!post_logout_registered(&c, bad), "{bad}");
        }
    }

    #[test]
    fn parameters_are_added_to_the_uris_own_query() {
        assert_eq!(
            redirect_with("https://app.example/cb?a=1", &[("code", "x y"), ("state", "s")]),
            "https://app.example/cb?a=1&code=x+y&state=s"
        );
    }
}
