//! Password reset: `/reset` asks for an email address and always answers the same (the work
//! happens after the answer); `/reset/{token}` sets a new password once. The flows are in
//! `service::accounts`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::browser::Browser;
use super::error::PageError;
use super::extract::CsrfForm;
use super::WebState;
use crate::service::accounts::{self, Reset};
use crate::service::Peer;

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    email: String,
}

/// Not `Debug`: it carries passwords.
#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

fn request_page(state: &WebState, browser: &Browser, sent: bool) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("sent", &sent);
    let response = state.pages.render(StatusCode::OK, "reset_request.html", &context);
    browser.with_cookie(response, &state.settings)
}

pub async fn show_request(State(state): State<WebState>, browser: Browser) -> Response {
    request_page(&state, &browser, false)
}

pub async fn submit_request(
    State(state): State<WebState>,
    peer: Peer,
    CsrfForm { browser, form }: CsrfForm<RequestForm>,
) -> Response {
    accounts::request_reset(state.services.clone(), form.email, peer);
    request_page(&state, &browser, true)
}

fn link_invalid() -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        "This link is no longer valid",
        "Reset links work once, for a short time, and only the newest one. Ask for a new link.",
    )
}

fn password_page(
    state: &WebState,
    browser: &Browser,
    token: &str,
    username: &str,
    problems: &[&str],
    status: StatusCode,
) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("token", token);
    context.insert("username", username);
    context.insert("problems", problems);
    let response = state.pages.render(status, "reset_form.html", &context);
    browser.with_cookie(response, &state.settings)
}

pub async fn show_link(
    State(state): State<WebState>,
    browser: Browser,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let Some(username) = accounts::reset_link_username(&state, &token).await? else {
        return Err(link_invalid());
    };
    Ok(password_page(&state, &browser, &token, &username, &[], StatusCode::OK))
}

pub async fn submit_link(
    State(state): State<WebState>,
    peer: Peer,
    Path(token): Path<String>,
    CsrfForm { browser, form }: CsrfForm<NewPasswordForm>,
) -> Result<Response, PageError> {
    let password = SecretString::from(form.password);
    let confirm = SecretString::from(form.confirm);
    match accounts::reset_password(&state, &token, &password, &confirm, &peer).await? {
        Reset::Done => Ok(state.pages.message(
            "Password changed",
            "Your password was changed and every session was signed out. Sign in again with the new password.",
        )),
        Reset::LinkInvalid => Err(link_invalid()),
        Reset::Refused { problems, username } => Ok(password_page(
            &state,
            &browser,
            &token,
            &username,
            &problems,
            StatusCode::BAD_REQUEST,
        )),
    }
}
