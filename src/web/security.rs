//! `/account/security`: turning TOTP on (QR code, confirmed by a first code, ten recovery codes
//! shown once) and off (password and a current code).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::authorize::see_other;
use super::browser::{self, Browser};
use super::login::{forbidden, internal, peer_of};
use super::otp::totp_context;
use super::WebState;
use crate::crypto::totp;
use crate::domain::event::{kind, Outcome};
use crate::domain::user::User;
use crate::http::routes;
use crate::storage::SessionRecord;

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: Option<String>,
}

/// Not `Debug`: it carries a code and maybe a password.
#[derive(Deserialize)]
pub struct CodeForm {
    csrf_token: Option<String>,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

/// The signed-in person, or a redirect to sign in.
pub async fn require_session(state: &WebState, browser: &Browser) -> Result<(SessionRecord, User), Response> {
    match browser::signed_in(state, browser).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(see_other(routes::LOGIN, browser, state)),
        Err(e) => Err(internal(state, e)),
    }
}

/// The browser, session and person of a signed-in page request, or the response to send.
pub async fn signed_in_page(state: &WebState, headers: &HeaderMap) -> Result<(Browser, SessionRecord, User), Response> {
    let browser = Browser::from_headers(headers, &state.settings);
    let (session, user) = require_session(state, &browser).await?;
    Ok((browser, session, user))
}

/// The same for a form post, checking its CSRF token first.
pub async fn signed_in_post(
    state: &WebState,
    headers: &HeaderMap,
    csrf: Option<&str>,
) -> Result<(Browser, SessionRecord, User), Response> {
    let browser = Browser::from_headers(headers, &state.settings);
    if !browser.csrf_ok(&state.csrf_key, csrf) {
        return Err(forbidden(state));
    }
    let (session, user) = require_session(state, &browser).await?;
    Ok((browser, session, user))
}

fn page(
    state: &WebState,
    browser: &Browser,
    user: &User,
    extra: impl FnOnce(&mut Context),
    status: StatusCode,
) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("username", &user.username);
    context.insert("enabled", &user.has_totp());
    extra(&mut context);
    state.pages.render(status, "security.html", &context)
}

pub async fn show(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    match require_session(&state, &browser).await {
        Ok((_, user)) => page(&state, &browser, &user, |_| {}, StatusCode::OK),
        Err(response) => response,
    }
}

fn enrollment_context(state: &WebState, user: &User, secret: &[u8]) -> Option<totp::Enrollment> {
    let issuer = url::Url::parse(&state.settings.issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "Keyhaven".into());
    totp::enrollment(secret, &format!("Keyhaven ({issuer})"), &user.username)
}

pub async fn start(State(state): State<WebState>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    let (browser, _, user) = match signed_in_post(&state, &headers, form.csrf_token.as_deref()).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if user.has_totp() {
        return page(&state, &browser, &user, |_| {}, StatusCode::OK);
    }
    let secret = totp::new_secret();
    let sealed = match state.kek.seal(&totp_context(&user.id), &secret) {
        Ok(sealed) => sealed,
        Err(e) => return internal(&state, e),
    };
    if let Err(e) = state.store.set_totp_pending(&user.id, Some(&sealed)).await {
        return internal(&state, e);
    }
    let Some(enrollment) = enrollment_context(&state, &user, &secret) else {
        return internal(&state, anyhow::anyhow!("cannot render the enrollment"));
    };
    page(
        &state,
        &browser,
        &user,
        |c| {
            c.insert(
                "enrollment",
                &serde_json::json!({ "qr_svg": enrollment.qr_svg, "base32": enrollment.base32, "uri": enrollment.uri }),
            )
        },
        StatusCode::OK,
    )
}

pub async fn confirm(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let (browser, _, user) = match signed_in_post(&state, &headers, form.csrf_token.as_deref()).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(sealed) = user.totp_pending.clone() else {
        return page(
            &state,
            &browser,
            &user,
            |c| c.insert("error", "Start the set-up again."),
            StatusCode::BAD_REQUEST,
        );
    };
    let Ok(secret) = state.kek.open(&totp_context(&user.id), &sealed) else {
        return internal(&state, anyhow::anyhow!("cannot open the pending TOTP secret"));
    };
    let now = state.clock.now();
    let Some(step) = totp::matching_step(&secret, &form.code, now) else {
        let enrollment = enrollment_context(&state, &user, &secret);
        return page(
            &state,
            &browser,
            &user,
            |c| {
                c.insert(
                    "error",
                    "That code is not right. Check the time on your device and try again.",
                );
                if let Some(e) = enrollment {
                    c.insert(
                        "enrollment",
                        &serde_json::json!({ "qr_svg": e.qr_svg, "base32": e.base32 }),
                    );
                }
            },
            StatusCode::BAD_REQUEST,
        );
    };
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    if let Err(e) = state.store.enable_totp(&user.id, &sealed, &hashes).await {
        return internal(&state, e);
    }
    // The confirming code is spent: it cannot sign anyone in.
    let _ = state.store.accept_totp_step(&user.id, step).await;
    let peer = peer_of(&state, peer, &headers);
    state.events.record(
        peer.event(&state.services, kind::TOTP_ENABLED, Outcome::Success)
            .user(&user.id),
    );
    page(
        &state,
        &browser,
        &user,
        |c| c.insert("recovery_codes", &codes),
        StatusCode::OK,
    )
}

pub async fn disable(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let (browser, _, user) = match signed_in_post(&state, &headers, form.csrf_token.as_deref()).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let peer = peer_of(&state, peer, &headers);
    let password_ok = state
        .passwords
        .verify(Some(&user.password_hash), &SecretString::from(form.password))
        .await;
    let code_ok = match (&user.totp_secret, password_ok) {
        (Some(sealed), true) => match state.kek.open(&totp_context(&user.id), sealed) {
            Ok(secret) => match totp::matching_step(&secret, &form.code, state.clock.now()) {
                Some(step) => state.store.accept_totp_step(&user.id, step).await.unwrap_or(false),
                None => false,
            },
            Err(_) => false,
        },
        _ => false,
    };
    if !(password_ok && code_ok) {
        state.events.record(
            peer.event(&state.services, kind::TOTP_DISABLED, Outcome::Failure)
                .user(&user.id),
        );
        return page(
            &state,
            &browser,
            &user,
            |c| c.insert("error", "Wrong password or code."),
            StatusCode::UNAUTHORIZED,
        );
    }
    if let Err(e) = state.store.disable_totp(&user.id).await {
        return internal(&state, e);
    }
    state.events.record(
        peer.event(&state.services, kind::TOTP_DISABLED, Outcome::Success)
            .user(&user.id),
    );
    let user = User {
        totp_secret: None,
        totp_pending: None,
        ..user
    };
    page(&state, &browser, &user, |_| {}, StatusCode::OK)
}

/// New recovery codes (the old ones stop working), shown once.
pub async fn regenerate_recovery_codes(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (browser, _, user) = match signed_in_post(&state, &headers, form.csrf_token.as_deref()).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if !user.has_totp() {
        return page(
            &state,
            &browser,
            &user,
            |c| c.insert("error", "Turn on two-step verification first."),
            StatusCode::BAD_REQUEST,
        );
    }
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    if let Err(e) = state.store.replace_recovery_codes(&user.id, &hashes).await {
        return internal(&state, e);
    }
    page(
        &state,
        &browser,
        &user,
        |c| c.insert("recovery_codes", &codes),
        StatusCode::OK,
    )
}
