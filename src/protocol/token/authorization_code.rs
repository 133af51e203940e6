//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9700 §2.1.1, §4.5):
//! what a code must satisfy once it is spent. Spending it (one atomic store operation) and
//! revoking what a replayed code issued is `service::tokens`.

use crate::domain::client::Client;
use crate::domain::pkce::{CodeChallenge, CodeVerifier};
use crate::domain::UnixTime;
use crate::protocol::redirect_uri;
use crate::storage::CodeRecord;

/// The grant's parameters. `Debug` is not derived: the code is a secret.
pub struct CodeExchange {
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

/// Checks a just-spent code against the request presenting it: unexpired, issued to this
/// client, the authorization request's `redirect_uri` repeated, and the PKCE verifier. The
/// error is the `invalid_grant` description.
pub fn check(granted: &CodeRecord, client: &Client, request: &CodeExchange, now: UnixTime) -> Result<(), &'static str> {
    if granted.expires_at <= now {
        return Err("the code has expired");
    }
    if granted.client_id != client.id {
        return Err("the code was issued to another client");
    }
    redirect_uri::token_request_matches(granted.redirect_uri.as_deref(), request.redirect_uri.as_deref())?;
    let verifier = match request.code_verifier.as_deref().map(CodeVerifier::parse) {
        Some(Ok(verifier)) => verifier,
        Some(Err(_)) => return Err("code_verifier is malformed"),
        None => return Err("code_verifier is required"),
    };
    if !CodeChallenge::from_stored(granted.code_challenge.clone()).is_satisfied_by(&verifier) {
        return Err("code_verifier does not match the code_challenge");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use sha2::{Digest, Sha256};

    use super::*;

    const NOW: UnixTime = 1_700_000_000;
    const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn client(id: &str) -> Client {
        Client::example(id)
    }

    fn code(redirect_uri: Option<&str>) -> CodeRecord {
        CodeRecord {
            code_hash: "h".into(),
            client_id: "a".into(),
            user_id: "alice".into(),
            sid: "s".into(),
            redirect_uri: redirect_uri.map(str::to_owned),
            code_challenge: URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes())),
            nonce: None,
            scope: "openid".into(),
            claims: None,
            audience: "[]".into(),
            auth_time: NOW - 5,
            amr: vec![],
            created_at: NOW - 5,
            expires_at: NOW + 55,
        }
    }

    fn exchange(redirect_uri: Option<&str>, verifier: Option<&str>) -> CodeExchange {
        CodeExchange {
            code: Some("khc_x".into()),
            redirect_uri: redirect_uri.map(str::to_owned),
            code_verifier: verifier.map(str::to_owned),
        }
    }

    #[test]
    fn a_code_is_bound_to_its_client_redirect_uri_verifier_and_lifetime() {
        let uri = Some("http://127.0.0.1:49152/cb");
        let granted = code(uri);
        let a = client("a");
        assert_eq!(check(&granted, &a, &exchange(uri, Some(VERIFIER)), NOW), Ok(()));
        assert_eq!(check(&code(None), &a, &exchange(None, Some(VERIFIER)), NOW), Ok(()));
        let refused = [
            (
                granted.clone(),
                client("b"),
                exchange(uri, Some(VERIFIER)),
                "another client",
            ),
            (
                granted.clone(),
                a.clone(),
                exchange(Some("http://127.0.0.1/cb"), Some(VERIFIER)),
                "does not match the authorization",
            ),
            (
                granted.clone(),
                a.clone(),
                exchange(None, Some(VERIFIER)),
                "redirect_uri is required",
            ),
            (
                code(None),
                a.clone(),
                exchange(uri, Some(VERIFIER)),
                "does not match the authorization",
            ),
            (
                granted.clone(),
                a.clone(),
                exchange(uri, None),
                "code_verifier is required",
            ),
            (granted.clone(), a.clone(), exchange(uri, Some("short")), "malformed"),
            (
                granted.clone(),
                a.clone(),
                exchange(uri, Some(&"A".repeat(43))),
                "does not match the code_challenge",
            ),
        ];
        for (granted, client, request, why) in refused {
            let e = check(&granted, &client, &request, NOW).unwrap_err();
            assert!(e.contains(why), "{e} should say {why}");
        }
        // Valid until the second it expires.
        assert_eq!(check(&granted, &a, &exchange(uri, Some(VERIFIER)), NOW + 54), Ok(()));
        assert_eq!(
            check(&granted, &a, &exchange(uri, Some(VERIFIER)), NOW + 55),
            Err("the code has expired")
        );
    }
}
