//! `GET`/`POST /login`: username or email and password. Wrong username and wrong password get
//! the same page, status and time; a locked name or account gets only "too many attempts" (the
//! rules are in `service::signin` and `service::lockout`). A person with TOTP continues at
//! `/login/otp`. A browser without its cookie gets none from this page: its form is anchored
//! to the sign-in form's cookie (`Browser::sign_in_form`).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::authorize::{expired, load_pending, see_other};
use super::browser::Browser;
use super::error::PageError;
use super::extract::SignInCsrfForm;
use super::paths;
use super::WebState;
use crate::domain::UnixTime;
use crate::service::lockout::try_again_in;
use crate::service::signin::{self, BrowserIds, NewSession, PasswordStep, Refusal, Resume};
use crate::service::Peer;

#[derive(Deserialize)]
pub struct LoginQuery {
    request: Option<String>,
}

/// The sign-in form. Not `Debug`: it carries the password.
#[derive(Deserialize)]
pub struct LoginForm {
    request: Option<String>,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    /// "Keep me signed in": the cookie outlives the browser session.
    remember: Option<String>,
}

pub const WRONG_CREDENTIALS: &str = "Wrong username or password.";

/// What a locked sign-in says: when to try again, and how to get in at once. The same for a
/// right and a wrong password (the lock of the name typed is checked before the password).
pub fn too_many_attempts(until: UnixTime, now: UnixTime) -> String {
    format!(
        "Too many attempts. {} Resetting your password unlocks your account at once.",
        try_again_in(until, now)
    )
}

/// The "form has expired" page, rendered now (for the consent page; the others take
/// `CsrfForm`).
pub fn forbidden(state: &WebState) -> Response {
    PageError::form_expired().render(&state.pages)
}

/// What the sign-in page shows besides the form.
#[derive(Default)]
struct Shown<'a> {
    /// The name typed in the last attempt, kept in its field.
    login: Option<&'a str>,
    error: Option<&'a str>,
    remember: bool,
}

async fn login_page(
    state: &WebState,
    browser: &Browser,
    headers: &HeaderMap,
    request_id: Option<&str>,
    shown: Shown<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    // A browser without its cookie does not get one here: its form's token is anchored to the
    // sign-in form's cookie.
    let anchor = if browser.fresh {
        Browser::sign_in_form(headers, &state.settings)
    } else {
        Browser::from_headers(headers, &state.settings)
    };
    let mut context = Context::new();
    context.insert("csrf_token", &anchor.csrf_token(&state.csrf_key));
    context.insert("error", &shown.error);
    context.insert("remember", &shown.remember);
    let mut login_hint: Option<String> = shown.login.map(str::to_owned);
    let mut client_name: Option<String> = None;
    if let Some(id) = request_id {
        let request = match load_pending(state, browser, id).await {
            Ok(Some((_, request))) => request,
            Ok(None) => return Ok(expired(state)),
            Err(response) => return Ok(response),
        };
        login_hint = login_hint.or_else(|| request.login_hint.clone());
        // The name is a courtesy: the page shows without it.
        client_name = signin::client_name(state, &request.client_id).await.ok().flatten();
        context.insert("request_id", id);
    }
    context.insert("login_hint", &login_hint);
    context.insert("client_name", &client_name);
    let response = state.pages.render(status, "login.html", &context);
    Ok(anchor.with_cookie(response, &state.settings))
}

pub async fn show(
    State(state): State<WebState>,
    browser: Browser,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let request_id = query.request.as_deref();
    login_page(&state, &browser, &headers, request_id, Shown::default(), StatusCode::OK).await
}

pub async fn submit(
    State(state): State<WebState>,
    peer: Peer,
    headers: HeaderMap,
    SignInCsrfForm { browser, form }: SignInCsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    let request_id = form.request.as_deref().filter(|r| !r.is_empty());
    let remember = form.remember.is_some();
    let fresh = Browser::signing_in(remember);
    let ids = BrowserIds {
        current: &browser.hash(),
        signed_in: &fresh.hash(),
    };
    let password = SecretString::from(form.password);
    let (error, status) = match signin::password_step(&state, ids, &form.login, &password, request_id, &peer).await? {
        PasswordStep::SignedIn(session) => return Ok(signed_in(&state, &fresh, &session)),
        PasswordStep::SecondFactor => {
            let next = if remember {
                format!("{}?remember=yes", paths::LOGIN_OTP)
            } else {
                paths::LOGIN_OTP.to_owned()
            };
            return Ok(see_other(&next, &browser, &state));
        }
        PasswordStep::Refused(Refusal::WrongCredentials) => (WRONG_CREDENTIALS.to_owned(), StatusCode::UNAUTHORIZED),
        PasswordStep::Refused(Refusal::Locked { until }) => (
            too_many_attempts(until, state.clock.now()),
            StatusCode::TOO_MANY_REQUESTS,
        ),
    };
    let shown = Shown {
        login: Some(form.login.trim()).filter(|l| !l.is_empty()),
        error: Some(&error),
        remember,
    };
    login_page(&state, &browser, &headers, request_id, shown, status).await
}

/// Where a browser goes once signed in under its fresh cookie: back to the authorization
/// request it signed in for, or a signed-in page.
pub fn signed_in(state: &WebState, fresh: &Browser, new: &NewSession) -> Response {
    match &new.resume {
        Resume::Request(id) => see_other(&format!("{}?request={id}", paths::AUTHORIZE_RESUME), fresh, state),
        Resume::Expired => fresh.with_cookie(expired(state), &state.settings),
        Resume::Nothing => {
            let message = format!("You are signed in as {}.", new.user.username);
            fresh.with_cookie(state.pages.message("Signed in", &message), &state.settings)
        }
    }
}
