//! `GET`/`POST /login`: username or email and password. Wrong username and wrong password get
//! the same page, status and time; a locked name or account gets only "too many attempts" (the
//! rules are in `service::signin` and `service::lockout`). A person with TOTP continues at
//! `/login/otp`. Signed in, the browser goes back to the authorization request it came from,
//! else to the local page it asked for (`return_to`), else to the account.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::authorize::{expired_for, expired_signed_in, load_pending, see_other};
use super::browser::{self, Browser};
use super::error::PageError;
use super::extract::CsrfForm;
use super::flash::Flash;
use super::paths;
use super::WebState;
use crate::domain::local_path::LocalPath;
use crate::service::signin::{self, BrowserIds, NewSession, PasswordStep, Refusal, Resume};
use crate::service::Peer;

#[derive(Deserialize)]
pub struct LoginQuery {
    request: Option<String>,
    return_to: Option<String>,
}

/// The sign-in form. Not `Debug`: it carries the password.
#[derive(Deserialize)]
pub struct LoginForm {
    request: Option<String>,
    return_to: Option<String>,
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

/// A `return_to` that is a local path; anything else is dropped (never an open redirect).
pub fn return_to(input: Option<&str>) -> Option<LocalPath> {
    input.and_then(LocalPath::parse)
}

/// `path` with `?return_to=...` when there is one.
pub fn with_return_to(path: &str, return_to: Option<&LocalPath>) -> String {
    match return_to.and_then(|r| serde_urlencoded::to_string([("return_to", r.as_str())]).ok()) {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    }
}

struct LoginPage<'a> {
    request_id: Option<&'a str>,
    return_to: Option<&'a LocalPath>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

async fn login_page(
    state: &WebState,
    browser: &Browser,
    page: LoginPage<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("error", &page.error);
    context.insert("notice", &page.notice);
    context.insert("return_to", &page.return_to.map(LocalPath::as_str));
    let mut login_hint: Option<String> = None;
    let mut client_name: Option<String> = None;
    if let Some(id) = page.request_id {
        let request = match load_pending(state, browser, id).await {
            Ok(Some((_, request))) => request,
            Ok(None) => {
                // "Back" from the application to a request that is finished: a signed-in
                // person continues to the account.
                let signed_in = browser::signed_in(state, browser).await?.is_some();
                return Ok(expired_for(state, browser, signed_in));
            }
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
    flash: Flash,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let return_to = return_to(query.return_to.as_deref());
    let page = LoginPage {
        request_id: query.request.as_deref(),
        return_to: return_to.as_ref(),
        notice: flash.text(),
        error: None,
    };
    login_page(&state, &browser, page, StatusCode::OK).await
}

pub async fn submit(
    State(state): State<WebState>,
    peer: Peer,
    CsrfForm { browser, form }: CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    let request_id = form.request.as_deref().filter(|r| !r.is_empty());
    let return_to = return_to(form.return_to.as_deref());
    let fresh = Browser::new();
    let ids = BrowserIds {
        current: &browser.hash(),
        signed_in: &fresh.hash(),
    };
    let password = SecretString::from(form.password);
    let (error, status) = match signin::password_step(&state, ids, &form.login, &password, request_id, &peer).await? {
        PasswordStep::SignedIn(session) => return Ok(signed_in(&state, &fresh, &session, return_to.as_ref())),
        PasswordStep::SecondFactor => {
            let otp = with_return_to(paths::LOGIN_OTP, return_to.as_ref());
            return Ok(see_other(&otp, &browser, &state));
        }
        PasswordStep::Refused(Refusal::WrongCredentials) => (WRONG_CREDENTIALS, StatusCode::UNAUTHORIZED),
        PasswordStep::Refused(Refusal::Locked { .. }) => (TOO_MANY_ATTEMPTS, StatusCode::TOO_MANY_REQUESTS),
    };
    let page = LoginPage {
        request_id,
        return_to: return_to.as_ref(),
        notice: None,
        error: Some(error),
    };
    login_page(&state, &browser, page, status).await
}

/// Where a browser goes once signed in under its fresh cookie (303): back to the
/// authorization request it signed in for, else to the page it asked for, else the account.
pub fn signed_in(state: &WebState, fresh: &Browser, new: &NewSession, return_to: Option<&LocalPath>) -> Response {
    match &new.resume {
        Resume::Request(id) => see_other(&format!("{}?request={id}", paths::AUTHORIZE_RESUME), fresh, state),
        Resume::Expired => fresh.with_cookie(expired_signed_in(state), &state.settings),
        Resume::Nothing => see_other(return_to.map_or(paths::ACCOUNT, LocalPath::as_str), fresh, state),
    }
}
