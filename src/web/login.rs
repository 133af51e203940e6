//! `GET`/`POST /login`: username or email and password. Wrong username and wrong password get
//! the same page, status and (a dummy argon2 verify for unknown users) time.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::browser::{self, Browser};
use crate::crypto::tokens::random_base64url;
use crate::http::authorize::{expired, load_pending, see_other};
use crate::http::routes;
use crate::startup::AppState;
use crate::storage::SessionRecord;

#[derive(Deserialize)]
pub struct LoginQuery {
    request: Option<String>,
}

/// The sign-in form. Not `Debug`: it carries the password.
#[derive(Deserialize)]
pub struct LoginForm {
    csrf_token: Option<String>,
    request: Option<String>,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

const WRONG_CREDENTIALS: &str = "Wrong username or password.";

pub fn forbidden(state: &AppState) -> Response {
    state.pages.error(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "For your security the form could not be accepted. Go back, reload the page and try again.",
    )
}

async fn login_page(
    state: &AppState,
    browser: &Browser,
    request_id: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("error", &error);
    let mut login_hint: Option<String> = None;
    let mut client_name: Option<String> = None;
    if let Some(id) = request_id {
        match load_pending(state, browser, id).await {
            Ok(Some((_, request))) => {
                login_hint = request.login_hint.clone();
                if let Ok(Some(client)) = state.store.find_client(&request.client_id).await {
                    client_name = Some(client.name);
                }
                context.insert("request_id", id);
            }
            Ok(None) => return expired(state),
            Err(response) => return response,
        }
    }
    context.insert("login_hint", &login_hint);
    context.insert("client_name", &client_name);
    let mut response = state.pages.render(status, "login.html", &context);
    if browser.fresh {
        response
            .headers_mut()
            .append(SET_COOKIE, browser.set_cookie(&state.settings));
    }
    response
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<LoginQuery>) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    login_page(&state, &browser, query.request.as_deref(), None, StatusCode::OK).await
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    if !browser.csrf_ok(&state.csrf_key, form.csrf_token.as_deref()) {
        return forbidden(&state);
    }
    let request_id = form.request.as_deref().filter(|r| !r.is_empty());
    let user = match state.store.find_user_by_login(&form.login).await {
        Ok(user) => user,
        Err(e) => {
            tracing::error!(error = %e, "sign-in lookup failed");
            return state.pages.error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again later.",
            );
        }
    };
    let password = SecretString::from(form.password);
    // Always one argon2 verify: against the person's hash, or a dummy one.
    let verified = state
        .passwords
        .verify(user.as_ref().map(|u| u.password_hash.as_str()), &password)
        .await;
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        _ => {
            return login_page(
                &state,
                &browser,
                request_id,
                Some(WRONG_CREDENTIALS),
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
    };

    let now = state.clock.now();
    // A new cookie value at sign-in: whatever id the browser had before is worthless now.
    if !browser.fresh {
        if let Err(e) = state.store.end_session(&browser.hash(), now).await {
            tracing::error!(error = %e, "could not end the previous session");
        }
    }
    let signed_in = Browser::new();
    let session = SessionRecord {
        id_hash: signed_in.hash(),
        sid: random_base64url(16),
        user_id: user.id.clone(),
        auth_time: now,
        amr: vec!["pwd".into()],
        created_at: now,
        last_seen_at: now,
        expires_at: now + state.settings.session_absolute_ttl,
        ip: Some(peer.ip().to_string()),
        user_agent: browser::user_agent(&headers),
    };
    if let Err(e) = state.store.insert_session(&session).await {
        tracing::error!(error = %e, "could not create the session");
        return state.pages.error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Please try again later.",
        );
    }
    tracing::info!(user_id = %user.id, sid = %session.sid, "signed in");

    let Some(id) = request_id else {
        let mut response = state
            .pages
            .message("Signed in", &format!("You are signed in as {}.", user.username));
        response
            .headers_mut()
            .append(SET_COOKIE, signed_in.set_cookie(&state.settings));
        return response;
    };
    // The pending request follows the browser to its new cookie, marked as signed in.
    match load_pending(&state, &browser, id).await {
        Ok(Some((mut pending, _))) => {
            pending.browser_hash = signed_in.hash();
            pending.login_done_at = Some(now);
            if let Err(e) = state.store.update_pending_authorization(&pending).await {
                tracing::error!(error = %e, "could not update the pending request");
            }
            see_other(
                &format!("{}?request={id}", routes::AUTHORIZE_RESUME),
                &signed_in,
                &state,
            )
        }
        Ok(None) => {
            let mut response = expired(&state);
            response
                .headers_mut()
                .append(SET_COOKIE, signed_in.set_cookie(&state.settings));
            response
        }
        Err(response) => response,
    }
}
