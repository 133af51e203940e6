//! What happens next in the authorization flow (OIDC Core §3.1.2.3, §3.1.2.4): sign in,
//! consent, or a code. Pure: the session, the consent and the time are given.

use super::AuthorizationRequest;
use crate::domain::client::Client;
use crate::domain::scope::ScopeSet;
use crate::domain::UnixTime;
use crate::protocol::error::{err, OAuthError, ProtocolError};
use crate::storage::SessionRecord;

/// Where the person is in the flow for this request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// When the person signed in for this very request (satisfies `prompt=login`).
    pub login_done_at: Option<UnixTime>,
    /// Whether they consented on this very request (satisfies `prompt=consent`).
    pub consent_done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Login,
    Consent,
    IssueCode,
}

/// What happens next: sign in, consent, or a code. With `prompt=none` a needed page is an
/// error instead (`login_required`, `consent_required`).
pub fn next_step(
    request: &AuthorizationRequest,
    client: &Client,
    session: Option<&SessionRecord>,
    consented_scope: Option<&str>,
    progress: Progress,
    now: UnixTime,
) -> Result<Step, ProtocolError> {
    if let (Some(sub), Some(s)) = (&request.hint_sub, session) {
        // Someone else signed in for this very request: asking again would loop.
        if *sub != s.user_id && progress.login_done_at.is_some() {
            return Err(err(
                OAuthError::LoginRequired,
                "the person who signed in is not the one the request names",
            ));
        }
    }
    let needs_login = match session {
        None => true,
        Some(s) => {
            let forced = request.prompt_login() && progress.login_done_at.is_none();
            let too_old = request.max_age.is_some_and(|max| now - s.auth_time > max);
            let other_person = request.hint_sub.as_ref().is_some_and(|sub| *sub != s.user_id);
            forced || too_old || other_person
        }
    };
    if needs_login {
        return if request.prompt_none() {
            Err(err(OAuthError::LoginRequired, "the person is not signed in"))
        } else {
            Ok(Step::Login)
        };
    }
    let covered = match (consented_scope.and_then(|s| ScopeSet::parse(s).ok()), request.scopes()) {
        (Some(granted), Some(wanted)) => wanted.is_subset_of(&granted),
        _ => false,
    };
    // A client nobody vetted (registered or a metadata document) is asked about every time: its
    // name is only its claim, so neither the first-party shortcut nor an earlier consent skips it.
    let needs_consent = if client.is_verified() {
        !client.first_party && ((request.prompt_consent() && !progress.consent_done) || !covered)
    } else {
        !progress.consent_done
    };
    if needs_consent {
        return if request.prompt_none() {
            Err(err(OAuthError::ConsentRequired, "the person has not consented"))
        } else {
            Ok(Step::Consent)
        };
    }
    Ok(Step::IssueCode)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed "now" of these tests.
    const NOW: UnixTime = 1_700_000_000;

    fn client(first_party: bool) -> Client {
        Client {
            first_party,
            ..Client::example("c")
        }
    }

    fn request(prompt: &[&str], max_age: Option<i64>, hint_sub: Option<&str>) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: "c".into(),
            redirect_uri: None,
            redirect_to: "https://rp.example/cb".into(),
            scope: "openid profile".into(),
            state: None,
            nonce: None,
            code_challenge: "x".repeat(43),
            prompt: prompt.iter().map(|p| (*p).to_owned()).collect(),
            max_age,
            login_hint: None,
            ui_locales: None,
            hint_sub: hint_sub.map(str::to_owned),
            claims: None,
            audience: vec![],
        }
    }

    /// Alice, signed in `age` seconds ago.
    fn session(age: i64) -> SessionRecord {
        SessionRecord {
            id_hash: "h".into(),
            sid: "s".into(),
            user_id: "alice".into(),
            auth_time: NOW - age,
            amr: vec!["pwd".into()],
            created_at: NOW - age,
            last_seen_at: NOW,
            expires_at: NOW + 3600,
            ip: None,
            user_agent: None,
        }
    }

    const SIGNED_IN_NOW: Progress = Progress {
        login_done_at: Some(NOW),
        consent_done: false,
    };
    const CONSENTED_NOW: Progress = Progress {
        login_done_at: None,
        consent_done: true,
    };

    fn step(
        request: &AuthorizationRequest,
        client: &Client,
        session: Option<&SessionRecord>,
        consented: Option<&str>,
        progress: Progress,
    ) -> Result<Step, OAuthError> {
        next_step(request, client, session, consented, progress, NOW).map_err(|e| e.error)
    }

    #[test]
    fn sign_in_then_consent_then_a_code() {
        let (third, request, alice) = (client(false), request(&[], None, None), session(10));
        let d = Progress::default();
        assert_eq!(step(&request, &third, None, None, d), Ok(Step::Login));
        assert_eq!(step(&request, &third, Some(&alice), None, d), Ok(Step::Consent));
        // Consent for fewer scopes than asked is not consent; for as many or more it is.
        assert_eq!(
            step(&request, &third, Some(&alice), Some("openid"), d),
            Ok(Step::Consent)
        );
        assert_eq!(
            step(&request, &third, Some(&alice), Some("openid profile"), d),
            Ok(Step::IssueCode)
        );
        assert_eq!(
            step(&request, &third, Some(&alice), Some("email openid profile"), d),
            Ok(Step::IssueCode)
        );
        // A first-party client needs no consent.
        assert_eq!(
            step(&request, &client(true), Some(&alice), None, d),
            Ok(Step::IssueCode)
        );
    }

    #[test]
    fn unverified_clients_are_asked_every_time() {
        let (request, alice) = (request(&[], None, None), session(10));
        let d = Progress::default();
        for origin in [
            crate::domain::client::ClientOrigin::Registered,
            crate::domain::client::ClientOrigin::MetadataDocument,
        ] {
            let unvetted = Client {
                origin,
                ..client(false)
            };
            // An earlier consent covering the scopes does not skip the page...
            assert_eq!(
                step(&request, &unvetted, Some(&alice), Some("openid profile"), d),
                Ok(Step::Consent)
            );
            // ... consent on this very request does.
            assert_eq!(
                step(&request, &unvetted, Some(&alice), Some("openid profile"), CONSENTED_NOW),
                Ok(Step::IssueCode)
            );
        }
        // Positive control: an operator's client with the same earlier consent gets its code.
        assert_eq!(
            step(&request, &client(false), Some(&alice), Some("openid profile"), d),
            Ok(Step::IssueCode)
        );
    }

    #[test]
    fn prompt_none_turns_a_needed_page_into_an_error() {
        let (third, request, alice) = (client(false), request(&["none"], None, None), session(10));
        let d = Progress::default();
        assert_eq!(step(&request, &third, None, None, d), Err(OAuthError::LoginRequired));
        assert_eq!(
            step(&request, &third, Some(&alice), None, d),
            Err(OAuthError::ConsentRequired)
        );
        assert_eq!(
            step(&request, &third, Some(&alice), Some("openid profile"), d),
            Ok(Step::IssueCode)
        );
    }

    #[test]
    fn prompt_login_and_consent_are_satisfied_only_on_this_request() {
        let third = client(false);
        let alice = session(10);
        let login = request(&["login"], None, None);
        let granted = Some("openid profile");
        assert_eq!(
            step(&login, &third, Some(&alice), granted, Progress::default()),
            Ok(Step::Login)
        );
        assert_eq!(
            step(&login, &third, Some(&alice), granted, SIGNED_IN_NOW),
            Ok(Step::IssueCode)
        );
        let select = request(&["select_account"], None, None);
        assert_eq!(
            step(&select, &third, Some(&alice), granted, Progress::default()),
            Ok(Step::Login)
        );
        let consent = request(&["consent"], None, None);
        assert_eq!(
            step(&consent, &third, Some(&alice), granted, Progress::default()),
            Ok(Step::Consent)
        );
        assert_eq!(
            step(&consent, &third, Some(&alice), granted, CONSENTED_NOW),
            Ok(Step::IssueCode)
        );
    }

    #[test]
    fn max_age_counts_from_the_sign_in_at_the_given_time() {
        let third = client(true);
        let request = request(&[], Some(60), None);
        let d = Progress::default();
        assert_eq!(step(&request, &third, Some(&session(60)), None, d), Ok(Step::IssueCode));
        assert_eq!(step(&request, &third, Some(&session(61)), None, d), Ok(Step::Login));
        let none = self::request(&["none"], Some(60), None);
        assert_eq!(
            step(&none, &third, Some(&session(61)), None, d),
            Err(OAuthError::LoginRequired)
        );
    }

    #[test]
    fn a_request_naming_a_person_gets_a_code_only_for_them() {
        let first = client(true);
        let alice = session(10);
        let for_alice = request(&[], None, Some("alice"));
        let for_bob = request(&[], None, Some("bob"));
        let d = Progress::default();
        assert_eq!(step(&for_alice, &first, Some(&alice), None, d), Ok(Step::IssueCode));
        // Someone else is signed in: sign in (as the one named)...
        assert_eq!(step(&for_bob, &first, Some(&alice), None, d), Ok(Step::Login));
        // ...and if the wrong person signs in for this very request, stop rather than loop.
        assert_eq!(
            step(&for_bob, &first, Some(&alice), None, SIGNED_IN_NOW),
            Err(OAuthError::LoginRequired)
        );
    }
}
