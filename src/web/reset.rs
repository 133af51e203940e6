//! Password reset: `/reset` asks for an email address and always answers the same (the work
//! happens after the answer); `/reset/{token}` sets a new password once. Both forms answer 303
//! (Post/Redirect/Get). A reset started from the sign-in page of an application's request
//! returns to that request's sign-in after the new password (in the same browser). The flows
//! are in `service::accounts`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::authorize::{load_pending, see_other};
use super::browser::Browser;
use super::error::PageError;
use super::extract::CsrfForm;
use super::flash::{Flash, Notice, RESUME};
use super::paths;
use super::words::from_service;
use super::WebState;
use crate::domain::local_path::LocalPath;
use crate::service::accounts::{self, Reset};
use crate::service::Peer;

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    email: String,
    request: Option<String>,
}

#[derive(Deserialize)]
pub struct RequestQuery {
    request: Option<String>,
}

/// Not `Debug`: it carries passwords.
#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// The sign-in page of the application's request `id`, if it is this browser's and live.
async fn login_of_request(state: &WebState, browser: &Browser, id: Option<&str>) -> Option<String> {
    let id = id.filter(|id| !id.is_empty())?;
    match load_pending(state, browser, id).await {
        Ok(Some(_)) => Some(format!("{}?request={id}", paths::LOGIN)),
        _ => None,
    }
}

pub async fn show_request(
    State(state): State<WebState>,
    browser: Browser,
    flash: Flash,
    Query(query): Query<RequestQuery>,
) -> Response {
    let back = login_of_request(&state, &browser, query.request.as_deref()).await;
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("notice", &flash.text());
    context.insert("request_id", &back.as_ref().and(query.request.as_deref()));
    context.insert("back_href", back.as_deref().unwrap_or(paths::LOGIN));
    let response = state.pages.render(StatusCode::OK, "reset_request.html", &context);
    browser.with_cookie(response, &state.settings)
}

pub async fn submit_request(
    State(state): State<WebState>,
    peer: Peer,
    CsrfForm { browser, form }: CsrfForm<RequestForm>,
) -> Response {
    accounts::request_reset(state.services.clone(), form.email, peer);
    let back = login_of_request(&state, &browser, form.request.as_deref()).await;
    let sent = match (&back, form.request.as_deref()) {
        (Some(_), Some(id)) => format!("{}?request={id}", paths::RESET),
        _ => paths::RESET.to_owned(),
    };
    let response = Notice::ResetSent.on(&state, see_other(&sent, &browser, &state));
    match back {
        // Where the new password leads, in this browser: back to the application's sign-in.
        Some(login) => RESUME.set(&state, &browser.hash(), &login, response),
        None => response,
    }
}

fn link_invalid() -> PageError {
    PageError::words(
        StatusCode::BAD_REQUEST,
        "link-invalid-title",
        "reset-link-invalid-message",
    )
    .with_next(paths::RESET, "reset-ask-new-link")
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
    let problems: Vec<String> = problems.iter().map(|p| from_service(p)).collect();
    context.insert("problems", &problems);
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
    headers: HeaderMap,
    Path(token): Path<String>,
    CsrfForm { browser, form }: CsrfForm<NewPasswordForm>,
) -> Result<Response, PageError> {
    let password = SecretString::from(form.password);
    let confirm = SecretString::from(form.confirm);
    match accounts::reset_password(&state, &token, &password, &confirm, &peer).await? {
        Reset::Done => {
            let resume = RESUME
                .read(&state, &headers, &browser.hash())
                .and_then(|path| LocalPath::parse(&path));
            let next = resume.as_ref().map_or(paths::LOGIN, LocalPath::as_str);
            let response = Notice::ResetDone.on(&state, see_other(next, &browser, &state));
            Ok(RESUME.clear(&state.settings, response))
        }
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
