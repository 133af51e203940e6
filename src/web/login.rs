//! `GET`/`POST /login`: username or email and password. Wrong username and wrong password get
//! the same page, status and (a dummy argon2 verify for unknown users) time. Failures count per
//! login name typed (known or not, so every name locks alike) and per account (see
//! `lockout`); the account's own lock shows only after a right password. A locked name or
//! account gets only "too many attempts". A person with TOTP continues at `/login/otp`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::authorize::{expired, load_pending, see_other};
use super::browser::{self, Browser};
use super::WebState;
use crate::crypto::tokens::random_base64url;
use crate::domain::event::{kind, Outcome};
use crate::domain::user::User;
use crate::http::peer::client_ip;
use crate::http::routes;
use crate::service::lockout;
use crate::service::Peer;
use crate::storage::{PendingLogin, SessionRecord};

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

pub const WRONG_CREDENTIALS: &str = "Wrong username or password.";
pub const TOO_MANY_ATTEMPTS: &str = "Too many attempts. Try again later.";
/// How long the second factor may take after the password.
const OTP_STEP_TTL: i64 = 300;

pub fn forbidden(state: &WebState) -> Response {
    state.pages.error(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "For your security the form could not be accepted. Go back, reload the page and try again.",
    )
}

pub fn internal(state: &WebState, e: impl Into<anyhow::Error>) -> Response {
    super::error::page_failure(&state.pages, e, "page failed")
}

/// Where the browser is, for events.
pub fn peer_of(state: &WebState, peer: SocketAddr, headers: &HeaderMap) -> Peer {
    Peer {
        ip: client_ip(state.settings.trust_forwarded_for, Some(peer), headers).to_string(),
        user_agent: browser::user_agent(headers),
    }
}

async fn login_page(
    state: &WebState,
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

pub async fn show(State(state): State<WebState>, headers: HeaderMap, Query(query): Query<LoginQuery>) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    login_page(&state, &browser, query.request.as_deref(), None, StatusCode::OK).await
}

pub async fn submit(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    if !browser.csrf_ok(&state.csrf_key, form.csrf_token.as_deref()) {
        return forbidden(&state);
    }
    let peer = peer_of(&state, peer, &headers);
    let request_id = form.request.as_deref().filter(|r| !r.is_empty());
    let user = match state.store.find_user_by_login(&form.login).await {
        Ok(user) => user,
        Err(e) => return internal(&state, e),
    };
    let name_key = lockout::name_key(&form.login);
    let now = state.clock.now();
    // Before the password, only the name typed: its answer must not depend on the account.
    match lockout::locked_until(&state.services, &name_key).await {
        Ok(Some(_)) => {
            let mut event = peer
                .event(&state, kind::LOGIN, Outcome::Failure)
                .detail("sign-in name locked");
            if let Some(user) = &user {
                event = event.user(&user.id);
            }
            state.events.record(event);
            return login_page(
                &state,
                &browser,
                request_id,
                Some(TOO_MANY_ATTEMPTS),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
        }
        Ok(None) => {}
        Err(e) => return internal(&state, e),
    }
    let password = SecretString::from(form.password);
    // Always one argon2 verify: against the person's hash, or a dummy one.
    let verified = state
        .passwords
        .verify(user.as_ref().map(|u| u.password_hash.as_str()), &password)
        .await;
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        other => {
            let mut event = peer
                .event(&state, kind::LOGIN, Outcome::Failure)
                .detail("wrong credentials");
            if let Some(user) = &other {
                event = event.user(&user.id);
            }
            state.events.record(event);
            state.metrics.login(false);
            if let Err(e) = lockout::note_failure(&state.services, &peer, Some(&name_key), other.as_ref()).await {
                return internal(&state, e);
            }
            return login_page(
                &state,
                &browser,
                request_id,
                Some(WRONG_CREDENTIALS),
                StatusCode::UNAUTHORIZED,
            )
            .await;
        }
    };
    // After a right password, the account's own lock: only someone who knows the password
    // learns of it, whichever name they typed.
    match lockout::locked_until(&state.services, lockout::account_key(&user)).await {
        Ok(Some(_)) => {
            state.events.record(
                peer.event(&state.services, kind::LOGIN, Outcome::Failure)
                    .user(&user.id)
                    .detail("account locked"),
            );
            return login_page(
                &state,
                &browser,
                request_id,
                Some(TOO_MANY_ATTEMPTS),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
        }
        Ok(None) => {}
        Err(e) => return internal(&state, e),
    }
    // Failures are forgotten only once the whole sign-in succeeds: not here when a second
    // factor follows.
    if user.has_totp() {
        let pending = PendingLogin {
            browser_hash: browser.hash(),
            user_id: user.id.clone(),
            request_id: request_id.map(str::to_owned),
            created_at: now,
            expires_at: now + OTP_STEP_TTL,
            failures: 0,
            name_key: Some(name_key),
        };
        if let Err(e) = state.store.put_pending_login(&pending).await {
            return internal(&state, e);
        }
        return see_other(routes::LOGIN_OTP, &browser, &state);
    }
    if let Err(e) = lockout::note_success(&state.services, Some(&name_key), &user).await {
        return internal(&state, e);
    }
    start_session(&state, &browser, &user, vec!["pwd".into()], &peer, request_id).await
}

/// Signs the browser in: a fresh cookie value (no fixation), a session row, the pending
/// authorization request moved to the new cookie and resumed, or a signed-in page.
pub async fn start_session(
    state: &WebState,
    browser: &Browser,
    user: &User,
    amr: Vec<String>,
    peer: &Peer,
    request_id: Option<&str>,
) -> Response {
    let now = state.clock.now();
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
        amr,
        created_at: now,
        last_seen_at: now,
        expires_at: now + state.settings.session_absolute_ttl,
        ip: Some(peer.ip.clone()),
        user_agent: peer.user_agent.clone(),
    };
    if let Err(e) = state.store.insert_session(&session).await {
        return internal(state, e);
    }
    state.events.record(
        peer.event(&state.services, kind::LOGIN, Outcome::Success)
            .user(&user.id)
            .session(&session.sid)
            .detail(session.amr.join("+")),
    );
    state.metrics.login(true);
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
    match load_pending(state, browser, id).await {
        Ok(Some((mut pending, _))) => {
            pending.browser_hash = signed_in.hash();
            pending.login_done_at = Some(now);
            if let Err(e) = state.store.update_pending_authorization(&pending).await {
                tracing::error!(error = %e, "could not update the pending request");
            }
            see_other(&format!("{}?request={id}", routes::AUTHORIZE_RESUME), &signed_in, state)
        }
        Ok(None) => {
            let mut response = expired(state);
            response
                .headers_mut()
                .append(SET_COOKIE, signed_in.set_cookie(&state.settings));
            response
        }
        Err(response) => response,
    }
}
