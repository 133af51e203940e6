//! `GET`/`POST /login`: username or email and password. Wrong username and wrong password get
//! the same page, status and time; a locked name or account gets only "too many attempts" (the
//! rules are in `service::signin` and `service::lockout`). A person with TOTP continues at
//! `/login/otp`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::authorize::{expired, load_pending, see_other};
use super::browser::Browser;
use super::error::PageError;
use super::extract::CsrfForm;
use super::paths;
use super::WebState;
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
}

pub const WRONG_CREDENTIALS: &str = "Wrong username or password.";
pub const TOO_MANY_ATTEMPTS: &str = "Too many attempts. Try again later.";

/// The "form has expired" page, rendered now (for the consent page; the others take
/// `CsrfForm`).
pub fn forbidden(state: &WebState) -> Response {
    PageError::form_expired().render(&state.pages)
}

async fn login_page(
    state: &WebState,
    browser: &Browser,
    request_id: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("error", &error);
    let mut login_hint: Option<String> = None;
    let mut client_name: Option<String> = None;
    if let Some(id) = request_id {
        let request = match load_pending(state, browser, id).await {
            Ok(Some((_, request))) => request,
            Ok(None) => return Ok(expired(state)),
            Err(response) => return Ok(response),
        };
        login_hint = request.login_hint.clone();
        // The name is a courtesy: the page shows without it.
        client_name = signin::client_name(state, &request.client_id).await.ok().flatten();
        context.insert("request_id", id);
    }
    context.insert("login_hint", &login_hint);
    context.insert("client_name", &client_name);
    let response = state.pages.render(status, "login.html", &context);
    Ok(browser.with_cookie(response, &state.settings))
}

pub async fn show(
    State(state): State<WebState>,
    browser: Browser,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    login_page(&state, &browser, query.request.as_deref(), None, StatusCode::OK).await
}

pub async fn submit(
    State(state): State<WebState>,
    peer: Peer,
    CsrfForm { browser, form }: CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    let request_id = form.request.as_deref().filter(|r| !r.is_empty());
    let fresh = Browser::new();
    let ids = BrowserIds {
        current: &browser.hash(),
        signed_in: &fresh.hash(),
    };
    let password = SecretString::from(form.password);
    let (error, status) = match signin::password_step(&state, ids, &form.login, &password, request_id, &peer).await? {
        PasswordStep::SignedIn(session) => return Ok(signed_in(&state, &fresh, &session)),
        PasswordStep::SecondFactor => return Ok(see_other(paths::LOGIN_OTP, &browser, &state)),
        PasswordStep::Refused(Refusal::WrongCredentials) => (WRONG_CREDENTIALS, StatusCode::UNAUTHORIZED),
        PasswordStep::Refused(Refusal::Locked { .. }) => (TOO_MANY_ATTEMPTS, StatusCode::TOO_MANY_REQUESTS),
    };
    login_page(&state, &browser, request_id, Some(error), status).await
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
