//! `/account/email/restore/{token}`: the link mailed to the old address when an account's
//! address changes. The page asks first (mail scanners open links); the form puts the address
//! back through `service::accounts::restore_email`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tera::Context;

use super::browser::Browser;
use super::error::PageError;
use super::extract::CsrfForm;
use super::locale::{t, t_with};
use super::paths;
use super::WebState;
use crate::i18n::Arg;
use crate::service::accounts::AccountError;
use crate::service::email_change;
use crate::service::Peer;

/// The form carries only its CSRF token.
#[derive(Deserialize)]
pub struct RestoreForm {}

pub async fn show(State(state): State<WebState>, browser: Browser, Path(token): Path<String>) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("token", &token);
    let response = state.pages.render(StatusCode::OK, "email_restore.html", &context);
    browser.with_cookie(response, &state.settings)
}

pub async fn submit(
    State(state): State<WebState>,
    peer: Peer,
    Path(token): Path<String>,
    CsrfForm {
        browser: _,
        form: RestoreForm {},
    }: CsrfForm<RestoreForm>,
) -> Result<Response, PageError> {
    match email_change::restore_email(&state, &token, &peer).await {
        Ok(email) => Ok(state.pages.message(
            &t("restore-done-title"),
            &t_with("restore-done-message", &[("email", Arg::Str(email.as_ref()))]),
            (paths::RESET, &t("reset-title")),
        )),
        Err(AccountError::NotFound) => Err(PageError::words(
            StatusCode::BAD_REQUEST,
            "link-invalid-title",
            "restore-link-invalid-message",
        )),
        Err(AccountError::Taken) => Err(PageError::words(
            StatusCode::CONFLICT,
            "address-taken-title",
            "restore-taken-message",
        )),
        Err(e) => Err(e.into()),
    }
}
