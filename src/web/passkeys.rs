//! Signing in with a passkey, no name typed: two posts from `static/passkeys.js` on the sign-in
//! page, each a form post under the sign-in form's CSRF token, answered in JSON. `start` gives
//! the options for `navigator.credentials.get` and a handle; `finish` takes the handle and the
//! authenticator's answer (JSON) and signs the browser in under a fresh cookie, answering where
//! to go. The second factor after a password (`/login/otp`) is the same pair of posts under the
//! browser's CSRF token, for the passkeys of the person who gave the password. The ceremony is bound to the browser: its cookie, or the sign-in form's when it has
//! none yet (the rules are in `service::passkeys`). Adding a passkey from `/account/security`
//! is the same pair of posts under the signed-in browser's CSRF token; renaming and removing
//! are plain forms of that page (`security.rs`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::browser::Browser;
use super::error::PageError;
use super::extract::{CsrfForm, NoFields, SignInCsrfForm, SignedIn, SignedInForm};
use super::login::return_to;
use super::paths;
use super::WebState;
use crate::domain::local_path::LocalPath;
use crate::service::passkeys::{self, PasskeyError};
use crate::service::second_factor::{self, Step};
use crate::service::signin::{BrowserIds, Resume};
use crate::service::Peer;

/// The finishing post. Not `Debug`: it carries the authenticator's answer.
#[derive(Deserialize)]
pub struct FinishForm {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    credential: String,
    request: Option<String>,
    return_to: Option<String>,
    remember: Option<String>,
}

/// What the ceremony is bound to: the browser's cookie, or the sign-in form's.
fn binding(state: &WebState, browser: &Browser, headers: &HeaderMap) -> String {
    if browser.fresh {
        Browser::sign_in_form(headers, &state.settings).hash()
    } else {
        browser.hash()
    }
}

fn refused(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

fn answer(error: PasskeyError) -> Result<Response, PageError> {
    Ok(match error {
        PasskeyError::NoCeremony => refused(StatusCode::BAD_REQUEST, "expired"),
        PasskeyError::Refused => refused(StatusCode::UNAUTHORIZED, "refused"),
        PasskeyError::NotConfigured => refused(StatusCode::NOT_FOUND, "unavailable"),
        other => return Err(PageError::failed(other, "a passkey sign-in")),
    })
}

pub async fn start(
    State(state): State<WebState>,
    headers: HeaderMap,
    SignInCsrfForm {
        browser,
        form: NoFields {},
    }: SignInCsrfForm<NoFields>,
) -> Result<Response, PageError> {
    match passkeys::start_sign_in(&state, &binding(&state, &browser, &headers)).await {
        Ok(ceremony) => Ok(Json(json!({ "handle": ceremony.handle, "options": ceremony.options })).into_response()),
        Err(e) => answer(e),
    }
}

pub async fn finish(
    State(state): State<WebState>,
    peer: Peer,
    headers: HeaderMap,
    SignInCsrfForm { browser, form }: SignInCsrfForm<FinishForm>,
) -> Result<Response, PageError> {
    let Ok(credential) = serde_json::from_str(&form.credential) else {
        return Ok(refused(StatusCode::BAD_REQUEST, "unreadable"));
    };
    let bound = binding(&state, &browser, &headers);
    let fresh = Browser::signing_in(form.remember.as_deref().is_some_and(|r| !r.is_empty()));
    let ids = BrowserIds {
        current: &bound,
        signed_in: &fresh.hash(),
    };
    let request_id = form.request.as_deref().filter(|r| !r.is_empty());
    let new = match passkeys::finish_sign_in(&state, ids, &form.handle, &credential, request_id, &peer).await {
        Ok(new) => new,
        Err(e) => return answer(e),
    };
    Ok(signed_in(&state, &fresh, &new.resume, form.return_to.as_deref()))
}

/// The answer to a passkey that signed the browser in: where to go (the authorization request
/// it signed in for, or the page it came from, or the account), with its fresh cookie.
fn signed_in(state: &WebState, fresh: &Browser, resume: &Resume, return_to_field: Option<&str>) -> Response {
    let location = match resume {
        Resume::Request(id) => format!("{}?request={id}", paths::AUTHORIZE_RESUME),
        Resume::Expired | Resume::Nothing => return_to(return_to_field)
            .as_ref()
            .map_or(paths::ACCOUNT, LocalPath::as_str)
            .to_owned(),
    };
    let response = Json(json!({ "location": location })).into_response();
    fresh.with_cookie(response, &state.settings)
}

/// The second factor after a password: starts a ceremony for the person's own passkeys.
pub async fn second_start(
    State(state): State<WebState>,
    CsrfForm {
        browser,
        form: NoFields {},
    }: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    match second_factor::start_passkey(&state, &browser.hash()).await {
        Ok(ceremony) => Ok(Json(json!({ "handle": ceremony.handle, "options": ceremony.options })).into_response()),
        Err(PasskeyError::NoCeremony) => Ok(start_again()),
        Err(e) => answer(e),
    }
}

/// The step is gone (expired, dropped after failures, or the account locked): the code page
/// says to sign in again.
fn start_again() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": "start_again", "location": paths::LOGIN_OTP })),
    )
        .into_response()
}

/// The second factor after a password: the passkey's answer.
pub async fn second_finish(
    State(state): State<WebState>,
    peer: Peer,
    CsrfForm { browser, form }: CsrfForm<FinishForm>,
) -> Result<Response, PageError> {
    let Ok(credential) = serde_json::from_str(&form.credential) else {
        return Ok(refused(StatusCode::BAD_REQUEST, "unreadable"));
    };
    let fresh = Browser::signing_in(form.remember.as_deref().is_some_and(|r| !r.is_empty()));
    let ids = BrowserIds {
        current: &browser.hash(),
        signed_in: &fresh.hash(),
    };
    match second_factor::passkey(&state, ids, &form.handle, &credential, &peer).await {
        Ok(Step::SignedIn(new)) => Ok(signed_in(&state, &fresh, &new.resume, form.return_to.as_deref())),
        Ok(Step::Wrong) => Ok(refused(StatusCode::UNAUTHORIZED, "refused")),
        Ok(Step::StartAgain | Step::Locked { .. }) => Ok(start_again()),
        Err(e) => answer(e),
    }
}

/// Adding a passkey: the finishing post. Not `Debug`: it carries the authenticator's answer.
#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    credential: String,
}

fn add_refused(error: PasskeyError) -> Result<Response, PageError> {
    Ok(match error {
        PasskeyError::SignInAgain => refused(StatusCode::FORBIDDEN, "sign_in_again"),
        PasskeyError::BadName => refused(StatusCode::BAD_REQUEST, "bad_name"),
        PasskeyError::AlreadyRegistered => refused(StatusCode::CONFLICT, "already_registered"),
        other => return answer(other),
    })
}

/// Starts adding a passkey for the signed-in person (a sign-in within 5 minutes).
pub async fn add_start(
    State(state): State<WebState>,
    SignedInForm { signed_in, .. }: SignedInForm<NoFields>,
) -> Result<Response, PageError> {
    let SignedIn { browser, user, session } = signed_in;
    match passkeys::start_registration(&state, &user, session.auth_time, &browser.hash()).await {
        Ok(ceremony) => Ok(Json(json!({ "handle": ceremony.handle, "options": ceremony.options })).into_response()),
        Err(e) => add_refused(e),
    }
}

/// Finishes adding a passkey; answers where to go (the security page, which lists it).
pub async fn add_finish(
    State(state): State<WebState>,
    peer: Peer,
    SignedInForm { signed_in, form }: SignedInForm<AddForm>,
) -> Result<Response, PageError> {
    let SignedIn { browser, user, .. } = signed_in;
    let Ok(credential) = serde_json::from_str(&form.credential) else {
        return Ok(refused(StatusCode::BAD_REQUEST, "unreadable"));
    };
    match passkeys::finish_registration(
        &state,
        &user,
        &browser.hash(),
        &form.handle,
        &form.name,
        &credential,
        &peer,
    )
    .await
    {
        Ok(_) => Ok(Json(json!({ "location": paths::ACCOUNT_SECURITY })).into_response()),
        Err(e) => add_refused(e),
    }
}
