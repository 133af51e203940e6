//! `GET`/`POST /login/otp`: the second factor after a right password. The step is bound to the
//! browser and lives 5 minutes; a code works once (the accepted time step only moves forward);
//! five wrong codes drop the step, and every wrong code counts towards the lockout of the account
//! and of the name typed at the password step. Only the right code forgets the failures.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::browser::Browser;
use super::login::{forbidden, internal, peer_of, start_session, TOO_MANY_ATTEMPTS};
use super::WebState;
use crate::crypto::totp;
use crate::domain::event::{kind, Outcome};
use crate::domain::user::lockout::MAX_FAILURES;
use crate::domain::user::User;
use crate::service::lockout;
use crate::storage::PendingLogin;

/// Not `Debug`: it carries a code.
#[derive(Deserialize)]
pub struct OtpForm {
    csrf_token: Option<String>,
    #[serde(default)]
    code: String,
}

fn otp_page(state: &WebState, browser: &Browser, error: Option<&str>, status: StatusCode) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("error", &error);
    state.pages.render(status, "otp.html", &context)
}

fn start_again(state: &WebState) -> Response {
    state.pages.error(
        StatusCode::UNAUTHORIZED,
        "Sign in again",
        "This sign-in has expired or had too many wrong codes. Go back to the application and sign in again.",
    )
}

async fn pending(state: &WebState, browser: &Browser) -> Result<Option<(PendingLogin, User)>, Response> {
    let now = state.clock.now();
    let Some(pending) = state
        .store
        .find_pending_login(&browser.hash(), now)
        .await
        .map_err(|e| internal(state, e))?
    else {
        return Ok(None);
    };
    let user = state
        .store
        .find_user_by_id(&pending.user_id)
        .await
        .map_err(|e| internal(state, e))?;
    Ok(user.filter(|u| !u.disabled && u.has_totp()).map(|u| (pending, u)))
}

pub async fn show(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    match pending(&state, &browser).await {
        Ok(Some(_)) => otp_page(&state, &browser, None, StatusCode::OK),
        Ok(None) => start_again(&state),
        Err(response) => response,
    }
}

/// Whether `code` is a valid, unused TOTP code or recovery code of `user`.
async fn check_code(
    state: &WebState,
    user: &User,
    code: &str,
) -> Result<Option<&'static str>, crate::storage::StoreError> {
    let now = state.clock.now();
    if totp::looks_like_recovery_code(code) {
        let used = state
            .store
            .use_recovery_code(&user.id, &totp::recovery_hash(code), now)
            .await?;
        return Ok(used.then_some("recovery"));
    }
    let Some(sealed) = &user.totp_secret else {
        return Ok(None);
    };
    let Ok(secret) = state.kek.open(&totp_context(&user.id), sealed) else {
        tracing::error!(user_id = %user.id, "cannot open a TOTP secret");
        return Ok(None);
    };
    match totp::matching_step(&secret, code, now) {
        Some(step) => Ok(state.store.accept_totp_step(&user.id, step).await?.then_some("otp")),
        None => Ok(None),
    }
}

/// The associated data under which a person's TOTP secret is sealed.
pub fn totp_context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

pub async fn submit(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<OtpForm>,
) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    if !browser.csrf_ok(&state.csrf_key, form.csrf_token.as_deref()) {
        return forbidden(&state);
    }
    let peer = peer_of(&state, peer, &headers);
    let (pending, user) = match pending(&state, &browser).await {
        Ok(Some(found)) => found,
        Ok(None) => return start_again(&state),
        Err(response) => return response,
    };
    match lockout::locked_until(&state.services, lockout::account_key(&user)).await {
        Ok(Some(_)) => {
            let _ = state.store.delete_pending_login(&pending.browser_hash).await;
            return state
                .pages
                .error(StatusCode::TOO_MANY_REQUESTS, "Too many attempts", TOO_MANY_ATTEMPTS);
        }
        Ok(None) => {}
        Err(e) => return internal(&state, e),
    }
    let code = SecretString::from(form.code);
    let accepted = match check_code(&state, &user, secrecy::ExposeSecret::expose_secret(&code)).await {
        Ok(accepted) => accepted,
        Err(e) => return internal(&state, e),
    };
    match accepted {
        Some(how) => {
            if let Err(e) = state.store.delete_pending_login(&pending.browser_hash).await {
                return internal(&state, e);
            }
            if let Err(e) = lockout::note_success(&state.services, pending.name_key.as_deref(), &user).await {
                return internal(&state, e);
            }
            state
                .events
                .record(peer.event(&state.services, kind::OTP, Outcome::Success).user(&user.id));
            if how == "recovery" {
                state.events.record(
                    peer.event(&state.services, kind::RECOVERY_CODE_USED, Outcome::Success)
                        .user(&user.id),
                );
            }
            start_session(
                &state,
                &browser,
                &user,
                vec!["pwd".into(), "otp".into()],
                &peer,
                pending.request_id.as_deref(),
            )
            .await
        }
        None => {
            state
                .events
                .record(peer.event(&state.services, kind::OTP, Outcome::Failure).user(&user.id));
            if let Err(e) =
                lockout::note_failure(&state.services, &peer, pending.name_key.as_deref(), Some(&user)).await
            {
                return internal(&state, e);
            }
            let failures = match state.store.record_otp_failure(&pending.browser_hash).await {
                Ok(failures) => failures,
                Err(e) => return internal(&state, e),
            };
            if failures >= MAX_FAILURES {
                let _ = state.store.delete_pending_login(&pending.browser_hash).await;
                return start_again(&state);
            }
            otp_page(
                &state,
                &browser,
                Some("Wrong code. Try again."),
                StatusCode::UNAUTHORIZED,
            )
        }
    }
}
