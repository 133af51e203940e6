//! Password reset: `/reset` asks for an email address and always answers the same; the work
//! (lookup, token, mail) happens in a task after the answer, so an existing and a missing
//! account cost the request the same. `/reset/{token}` sets a new password once.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tera::Context;

use super::browser::Browser;
use super::login::{forbidden, internal, peer_of};
use super::WebState;
use crate::crypto::tokens::{prefix, OpaqueSecret, SecretHash};
use crate::domain::event::{kind, Outcome};
use crate::domain::password_policy;
use crate::domain::user::Email;
use crate::mail::Mail;
use crate::service::accounts::{self, Actor, PasswordChange};
use crate::service::Peer;

#[derive(Deserialize)]
pub struct RequestForm {
    csrf_token: Option<String>,
    #[serde(default)]
    email: String,
}

/// Not `Debug`: it carries passwords.
#[derive(Deserialize)]
pub struct NewPasswordForm {
    csrf_token: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

fn request_page(state: &WebState, browser: &Browser, sent: bool) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("sent", &sent);
    let mut response = state.pages.render(StatusCode::OK, "reset_request.html", &context);
    if browser.fresh {
        response
            .headers_mut()
            .append(SET_COOKIE, browser.set_cookie(&state.settings));
    }
    response
}

pub async fn show_request(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    request_page(&state, &browser, false)
}

pub async fn submit_request(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<RequestForm>,
) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    if !browser.csrf_ok(&state.csrf_key, form.csrf_token.as_deref()) {
        return forbidden(&state);
    }
    let peer = peer_of(&state, peer, &headers);
    let task_state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = send_reset_link(&task_state, &form.email, &peer).await {
            tracing::error!(error = %e, "password reset request failed");
        }
    });
    request_page(&state, &browser, true)
}

async fn send_reset_link(state: &WebState, email: &str, peer: &Peer) -> Result<(), crate::storage::StoreError> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let user = state.store.find_user_by_login(email.as_str()).await?;
    let Some(user) = user.filter(|u| u.email == email.as_str() && !u.disabled) else {
        state.events.record(
            peer.event(&state.services, kind::RESET_REQUESTED, Outcome::Failure)
                .detail("no such account"),
        );
        return Ok(());
    };
    let now = state.clock.now();
    let token = OpaqueSecret::generate(prefix::RESET_TOKEN);
    state
        .store
        .replace_reset_token(
            &user.id,
            token.hash().as_str(),
            now,
            now + state.settings.reset_token_ttl,
        )
        .await?;
    let minutes = state.settings.reset_token_ttl / 60;
    state.mailer.send(Mail {
        to: user.email.clone(),
        subject: "Reset your Keyhaven password".into(),
        body: format!(
            "Someone asked to reset the password of the account {}.\n\nTo choose a new password, open this link within {minutes} minutes:\n\n{}/reset/{}\n\nIf it was not you, ignore this message: your password stays as it is.\n",
            user.username,
            state.settings.issuer,
            token.expose()
        ),
        kind: "password_reset",
    });
    state.events.record(
        peer.event(&state.services, kind::RESET_REQUESTED, Outcome::Success)
            .user(&user.id),
    );
    Ok(())
}

fn link_invalid(state: &WebState) -> Response {
    state.pages.error(
        StatusCode::BAD_REQUEST,
        "This link is no longer valid",
        "Reset links work once, for a short time, and only the newest one. Ask for a new link.",
    )
}

fn password_page(state: &WebState, browser: &Browser, token: &str, problems: &[&str], status: StatusCode) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("token", token);
    context.insert("problems", problems);
    let mut response = state.pages.render(status, "reset_form.html", &context);
    if browser.fresh {
        response
            .headers_mut()
            .append(SET_COOKIE, browser.set_cookie(&state.settings));
    }
    response
}

pub async fn show_link(State(state): State<WebState>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    match state
        .store
        .find_reset_token(SecretHash::of(&token).as_str(), state.clock.now())
        .await
    {
        Ok(Some(_)) => password_page(&state, &browser, &token, &[], StatusCode::OK),
        Ok(None) => link_invalid(&state),
        Err(e) => internal(&state, e),
    }
}

pub async fn submit_link(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    if !browser.csrf_ok(&state.csrf_key, form.csrf_token.as_deref()) {
        return forbidden(&state);
    }
    let peer = peer_of(&state, peer, &headers);
    let hash = SecretHash::of(&token);
    let now = state.clock.now();
    let user = match state.store.find_reset_token(hash.as_str(), now).await {
        Ok(Some(user_id)) => match state.store.find_user_by_id(&user_id).await {
            Ok(Some(user)) => user,
            Ok(None) => return link_invalid(&state),
            Err(e) => return internal(&state, e),
        },
        Ok(None) => return link_invalid(&state),
        Err(e) => return internal(&state, e),
    };
    let password = SecretString::from(form.password);
    let mut problems = password_policy::problems(password.expose_secret(), &user.username, &user.email);
    if password.expose_secret() != form.confirm.as_str() {
        problems.push("The two passwords differ.");
    }
    if !problems.is_empty() {
        return password_page(&state, &browser, &token, &problems, StatusCode::BAD_REQUEST);
    }
    // Spend the link first: of two submissions, one wins.
    match state.store.consume_reset_token(hash.as_str(), now).await {
        Ok(Some(_)) => {}
        Ok(None) => return link_invalid(&state),
        Err(e) => return internal(&state, e),
    }
    state.events.record(
        peer.event(&state.services, kind::RESET_COMPLETED, Outcome::Success)
            .user(&user.id),
    );
    if let Err(e) = accounts::set_password(&state, &user, &password, PasswordChange::Reset, &Actor::Person(peer)).await
    {
        return internal(&state, e);
    }
    state.pages.message(
        "Password changed",
        "Your password was changed and every session was signed out. Sign in again with the new password.",
    )
}
