//! The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2, RFC 9700): validating the
//! request, deciding whether the person must sign in or consent, and the redirect back.
//!
//! The client and redirect URI are checked first; until both are trusted, errors are shown to
//! the person and never redirected (RFC 6749 §4.1.2.1, no open redirector).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::discovery::SCOPES;
use super::error::{err, OAuthError, ProtocolError};
pub use super::params::Params;
use super::redirect_uri;
use super::resource::{self, NoAudience};
use crate::domain::client::{Client, GrantType};
use crate::domain::pkce::CodeChallenge;
use crate::domain::scope::ScopeSet;
use crate::domain::{Audience, ClientId};

mod step;

pub use step::{next_step, Progress, Step};

/// The longest `state` or `nonce` accepted: both are echoed (in the redirect, in the ID token).
pub const MAX_ECHOED_LEN: usize = 2048;
/// The longest `login_hint` used; a longer one is ignored.
const MAX_LOGIN_HINT_LEN: usize = 320;
/// The longest `ui_locales` used; a longer one is ignored.
const MAX_UI_LOCALES_LEN: usize = 256;

/// A validated authorization request. It is kept (as JSON) while the person signs in or
/// consents, and checked again when the flow resumes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: ClientId,
    /// The `redirect_uri` as sent; None when the request omitted it.
    pub redirect_uri: Option<String>,
    /// Where responses go: the sent URI, or the client's only registered one.
    pub redirect_to: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// The languages the person prefers for the pages of this flow (`ui_locales`, OIDC Core
    /// §3.1.2.1), space-separated, as sent; requests kept before it existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locales: Option<String>,
    /// The person the request names: `sub` of a verified `id_token_hint`, or the value a
    /// `claims` request sets for `sub` (OIDC Core §5.5.1). Only that person may get a code.
    pub hint_sub: Option<String>,
    /// The OIDC `claims` request parameter.
    pub claims: Option<Value>,
    /// The resource servers the access token is for (RFC 8707), never empty unless `openid`.
    pub audience: Vec<Audience>,
}

impl AuthorizationRequest {
    pub fn scopes(&self) -> Option<ScopeSet> {
        ScopeSet::parse(&self.scope).ok()
    }

    fn prompts(&self, value: &str) -> bool {
        self.prompt.iter().any(|p| p == value)
    }

    pub fn prompt_none(&self) -> bool {
        self.prompts("none")
    }

    /// `select_account` is treated as `login`: there is one account per browser session.
    pub fn prompt_login(&self) -> bool {
        self.prompts("login") || self.prompts("select_account")
    }

    pub fn prompt_consent(&self) -> bool {
        self.prompts("consent")
    }
}

/// Why a request fails.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestError {
    /// The client or the redirect URI cannot be trusted: show a page, never redirect.
    Untrusted(String),
    /// Tell the client, at its redirect URI.
    Redirect(ErrorRedirect),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRedirect {
    pub redirect_to: String,
    pub state: Option<String>,
    pub error: ProtocolError,
}

/// The `client_id`, which must appear exactly once.
pub fn client_id(params: &Params) -> Result<&str, RequestError> {
    match params.single("client_id") {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(RequestError::Untrusted("The application did not say who it is.".into())),
        Err(_) => Err(RequestError::Untrusted(
            "The application named itself more than once.".into(),
        )),
    }
}

/// What the validation of an `id_token_hint` yields: its `sub`, or why it was refused.
pub type HintVerifier<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// Validates an authorization request for a known client.
pub fn validate(
    params: &Params,
    client: &Client,
    verify_hint: HintVerifier<'_>,
) -> Result<AuthorizationRequest, RequestError> {
    let redirect_uri = params
        .single("redirect_uri")
        .map_err(|_| RequestError::Untrusted("The application named more than one address to return to.".into()))?;
    let redirect_to =
        redirect_uri::for_authorization(client, redirect_uri).map_err(|m| RequestError::Untrusted(m.into()))?;
    // A state too long to echo is refused and not echoed: otherwise the request would decide
    // the size of our Location header.
    let sent_state = params.single("state").ok().flatten();
    let state = sent_state.filter(|s| s.len() <= MAX_ECHOED_LEN).map(str::to_owned);
    let refuse = |error: ProtocolError| {
        RequestError::Redirect(ErrorRedirect {
            redirect_to: redirect_to.clone(),
            state: state.clone(),
            error,
        })
    };
    let fail = |error: OAuthError, description: &str| refuse(err(error, description));
    if let Some(name) = params.duplicated() {
        return Err(fail(
            OAuthError::InvalidRequest,
            &format!("parameter {name} is given more than once"),
        ));
    }
    if state.is_none() && sent_state.is_some() {
        return Err(fail(
            OAuthError::InvalidRequest,
            &format!("state is longer than {MAX_ECHOED_LEN} characters"),
        ));
    }
    let get = |name: &str| params.single(name).ok().flatten();
    if get("request").is_some() {
        return Err(fail(
            OAuthError::RequestNotSupported,
            "the request parameter is not supported",
        ));
    }
    if get("request_uri").is_some() {
        return Err(fail(
            OAuthError::RequestUriNotSupported,
            "the request_uri parameter is not supported",
        ));
    }
    match get("response_type") {
        None => return Err(fail(OAuthError::InvalidRequest, "response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                OAuthError::UnsupportedResponseType,
                "only response_type=code is supported",
            ))
        }
    }
    // Responses go in the redirect URI's query; form_post and fragment are not offered.
    if get("response_mode").is_some_and(|mode| mode != "query") {
        return Err(fail(
            OAuthError::InvalidRequest,
            "only response_mode=query is supported",
        ));
    }
    check_grant(client).map_err(refuse)?;

    let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None, _) => {
            return Err(fail(
                OAuthError::InvalidRequest,
                "code_challenge is required (PKCE with S256)",
            ))
        }
        (Some(_), None) => {
            return Err(fail(
                OAuthError::InvalidRequest,
                "code_challenge_method is required and must be S256",
            ))
        }
        (Some(_), Some("plain")) => {
            return Err(fail(
                OAuthError::InvalidRequest,
                "code_challenge_method plain is not allowed; use S256",
            ))
        }
        (Some(_), Some(m)) if m != "S256" => {
            return Err(fail(OAuthError::InvalidRequest, "code_challenge_method must be S256"))
        }
        (Some(challenge), Some(_)) => {
            CodeChallenge::parse_s256(challenge).map_err(|e| fail(OAuthError::InvalidRequest, e))?
        }
    };

    let scope = get("scope").ok_or_else(|| fail(OAuthError::InvalidScope, "scope is required"))?;
    let scopes = ScopeSet::parse(scope).map_err(|e| fail(OAuthError::InvalidScope, &e.to_string()))?;
    if let Some(unknown) = scopes.tokens().into_iter().find(|t| !SCOPES.contains(&t.as_str())) {
        return Err(fail(OAuthError::InvalidScope, &format!("unknown scope {unknown}")));
    }
    check_scopes(client, &scopes).map_err(refuse)?;

    let prompt: Vec<String> = get("prompt")
        .map(|p| p.split(' ').filter(|v| !v.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(bad) = prompt
        .iter()
        .find(|p| !["none", "login", "consent", "select_account"].contains(&p.as_str()))
    {
        return Err(fail(
            OAuthError::InvalidRequest,
            &format!("unsupported prompt value {bad}"),
        ));
    }
    if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
        return Err(fail(
            OAuthError::InvalidRequest,
            "prompt=none cannot be combined with other values",
        ));
    }
    let max_age = match get("max_age") {
        None => None,
        Some(v) => Some(v.parse::<u32>().map(i64::from).map_err(|_| {
            fail(
                OAuthError::InvalidRequest,
                "max_age must be a non-negative number of seconds",
            )
        })?),
    };
    let claims = match get("claims") {
        None => None,
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => Some(v),
            _ => return Err(fail(OAuthError::InvalidRequest, "claims must be a JSON object")),
        },
    };

    // Without a resource and a default audience, an OpenID request's token is for userinfo.
    let without = if scopes.contains("openid") {
        NoAudience::UserinfoOnly
    } else {
        NoAudience::Refused
    };
    let audience = resource::resolve(client, &params.all("resource"), without).map_err(refuse)?;

    let hint_sub = match get("id_token_hint") {
        None => None,
        Some(hint) => {
            Some(verify_hint(hint).map_err(|e| fail(OAuthError::InvalidRequest, &format!("id_token_hint: {e}")))?)
        }
    };
    let claims_sub = match &claims {
        Some(claims) => requested_sub(claims).map_err(|e| fail(OAuthError::InvalidRequest, e))?,
        None => None,
    };
    let required_sub = match (hint_sub, claims_sub) {
        (Some(hint), Some(asked)) if hint != asked => {
            return Err(fail(
                OAuthError::InvalidRequest,
                "the claims parameter asks for another sub than the id_token_hint names",
            ))
        }
        (hint, asked) => hint.or(asked),
    };
    let nonce = get("nonce");
    if nonce.is_some_and(|n| n.len() > MAX_ECHOED_LEN) {
        return Err(fail(
            OAuthError::InvalidRequest,
            &format!("nonce is longer than {MAX_ECHOED_LEN} characters"),
        ));
    }

    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.map(str::to_owned),
        redirect_to: redirect_to.clone(),
        scope: scopes.to_string(),
        state: state.clone(),
        nonce: nonce.map(str::to_owned),
        code_challenge: code_challenge.as_str().to_owned(),
        prompt,
        max_age,
        // A hint only: one too long to be a login name is ignored rather than shown.
        login_hint: get("login_hint")
            .filter(|h| h.len() <= MAX_LOGIN_HINT_LEN)
            .map(str::to_owned),
        ui_locales: get("ui_locales")
            .filter(|u| u.len() <= MAX_UI_LOCALES_LEN)
            .map(str::to_owned),
        hint_sub: required_sub,
        claims,
        audience,
    })
}

/// The checks of [`validate`] that depend on the client, made again when a kept request
/// resumes after sign-in or consent: the client may have been changed since. Its redirect URI
/// must still be registered (else the error is shown, never redirected), and the grant, the
/// scopes and the audiences still allowed.
pub fn recheck(request: &AuthorizationRequest, client: &Client) -> Result<(), RequestError> {
    if redirect_uri::registered(&client.redirect_uris, &request.redirect_to).is_none() {
        return Err(RequestError::Untrusted(
            "The address this application returns to is no longer registered.".into(),
        ));
    }
    let refuse = |error: ProtocolError| {
        RequestError::Redirect(ErrorRedirect {
            redirect_to: request.redirect_to.clone(),
            state: request.state.clone(),
            error,
        })
    };
    check_grant(client).map_err(refuse)?;
    let scopes = request
        .scopes()
        .ok_or_else(|| refuse(err(OAuthError::InvalidScope, "the kept scope is unreadable")))?;
    check_scopes(client, &scopes).map_err(refuse)?;
    for audience in &request.audience {
        resource::check(client, audience).map_err(refuse)?;
    }
    Ok(())
}

fn check_grant(client: &Client) -> Result<(), ProtocolError> {
    if client.allows_grant(GrantType::AuthorizationCode) {
        Ok(())
    } else {
        Err(err(
            OAuthError::UnauthorizedClient,
            "this client may not use the authorization code grant",
        ))
    }
}

/// The client's registered scopes bound the request (none registered: any scope we know), and
/// `offline_access` needs the refresh grant.
pub(crate) fn check_scopes(client: &Client, scopes: &ScopeSet) -> Result<(), ProtocolError> {
    if client
        .scopes
        .as_ref()
        .is_some_and(|allowed| !scopes.is_subset_of(allowed))
    {
        return Err(err(
            OAuthError::InvalidScope,
            "a requested scope is not allowed for this client",
        ));
    }
    if scopes.contains("offline_access") && !client.allows_grant(GrantType::RefreshToken) {
        return Err(err(
            OAuthError::InvalidScope,
            "offline_access needs the refresh_token grant, which this client lacks",
        ));
    }
    Ok(())
}

/// The `sub` value a `claims` request asks for (OIDC Core §5.5.1), in the ID token or at
/// userinfo; both must agree.
fn requested_sub(claims: &Value) -> Result<Option<String>, &'static str> {
    let mut asked: Option<&str> = None;
    for member in ["id_token", "userinfo"] {
        let Some(value) = claims
            .get(member)
            .and_then(|m| m.get("sub"))
            .and_then(|s| s.get("value"))
        else {
            continue;
        };
        let sub = value.as_str().ok_or("claims: the value of sub must be a string")?;
        if asked.is_some_and(|a| a != sub) {
            return Err("claims: id_token and userinfo ask for different sub values");
        }
        asked = Some(sub);
    }
    Ok(asked.map(str::to_owned))
}

/// The error response at the client (RFC 6749 §4.1.2.1 plus RFC 9207 `iss`).
pub fn error_redirect(e: &ErrorRedirect, issuer: &str) -> String {
    let mut params = vec![
        ("error", e.error.error.as_str()),
        ("error_description", e.error.description.as_str()),
    ];
    if let Some(state) = &e.state {
        params.push(("state", state));
    }
    params.push(("iss", issuer));
    redirect_uri::redirect_with(&e.redirect_to, &params)
}

/// The success response: the code, `state`, and `iss` (RFC 9207).
pub fn code_redirect(request: &AuthorizationRequest, code: &str, issuer: &str) -> String {
    let mut params = vec![("code", code)];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    params.push(("iss", issuer));
    redirect_uri::redirect_with(&request.redirect_to, &params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::{ClientType, RedirectUri};

    fn client() -> Client {
        Client {
            client_type: ClientType::Confidential,
            redirect_uris: vec![RedirectUri::parse("http://127.0.0.1/cb").unwrap()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            audiences: vec!["https://api.example".into()],
            ..Client::example("c")
        }
    }

    /// A request to a changed loopback port, for `openid offline_access`.
    fn kept(client: &Client) -> AuthorizationRequest {
        let query = "response_type=code&client_id=c&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb\
                     &scope=openid+offline_access&state=s&code_challenge_method=S256\
                     &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let params = Params::parse(query.as_bytes()).unwrap();
        validate(&params, client, &|_| Err("no hint expected".into())).unwrap()
    }

    #[test]
    fn a_kept_request_is_checked_against_the_client_as_it_is_now() {
        let request = kept(&client());
        assert_eq!(request.redirect_to, "http://127.0.0.1:5000/cb");
        // Positive control: the client unchanged (or changed in what the request does not use).
        assert_eq!(recheck(&request, &client()), Ok(()));
        let mut renamed = client();
        renamed.name = "other name".into();
        assert_eq!(recheck(&request, &renamed), Ok(()));

        type Change = fn(&mut Client);
        // None: shown on a page; Some: this error at the redirect URI.
        let changes: [(Change, Option<OAuthError>); 5] = [
            (
                |c| c.redirect_uris = vec![RedirectUri::parse("http://127.0.0.1/other").unwrap()],
                None,
            ),
            (
                |c| c.scopes = Some(ScopeSet::parse("openid").unwrap()),
                Some(OAuthError::InvalidScope),
            ),
            (
                |c| c.grant_types = vec![GrantType::AuthorizationCode],
                Some(OAuthError::InvalidScope),
            ),
            (
                |c| c.grant_types = vec![GrantType::RefreshToken],
                Some(OAuthError::UnauthorizedClient),
            ),
            (
                |c| c.audiences = vec!["https://other.example".into()],
                Some(OAuthError::InvalidTarget),
            ),
        ];
        for (change, expected) in changes {
            let mut changed = client();
            change(&mut changed);
            match (recheck(&request, &changed), expected) {
                (Err(RequestError::Untrusted(_)), None) => {}
                (Err(RequestError::Redirect(e)), Some(error)) => {
                    assert_eq!(e.error.error, error);
                    assert_eq!(
                        (e.redirect_to.as_str(), e.state.as_deref()),
                        ("http://127.0.0.1:5000/cb", Some("s"))
                    );
                }
                (other, expected) => panic!("{other:?}, expected {expected:?}"),
            }
        }
    }
}
