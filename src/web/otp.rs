//! `GET`/`POST /login/otp`: the second factor after a right password. The step is bound to the
//! browser and lives 5 minutes; a code works once; five wrong codes drop the step, and every
//! wrong code counts in the sign-in throttle (the rules are in `service::signin`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::browser::Browser;
use super::error::PageError;
use super::extract::CsrfForm;
use super::login::{signed_in, too_many_attempts};
use super::WebState;
use crate::service::signin::{self, BrowserIds, SecondFactorStep};
use crate::service::Peer;

/// Not `Debug`: it carries a code.
#[derive(Deserialize)]
pub struct OtpForm {
    #[serde(default)]
    code: String,
    /// "Keep me signed in", carried from the password step.
    remember: Option<String>,
}

#[derive(Deserialize)]
pub struct OtpQuery {
    remember: Option<String>,
}

fn otp_page(state: &WebState, browser: &Browser, remember: bool, error: Option<&str>, status: StatusCode) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("error", &error);
    context.insert("remember", &remember);
    state.pages.render(status, "otp.html", &context)
}

fn start_again() -> PageError {
    PageError::new(
        StatusCode::UNAUTHORIZED,
        "Sign in again",
        "This sign-in has expired or had too many wrong codes. Go back to the application and sign in again.",
    )
}

pub async fn show(
    State(state): State<WebState>,
    browser: Browser,
    Query(query): Query<OtpQuery>,
) -> Result<Response, PageError> {
    if !signin::awaits_second_factor(&state, &browser.hash()).await? {
        return Err(start_again());
    }
    let remember = query.remember.is_some();
    Ok(otp_page(&state, &browser, remember, None, StatusCode::OK))
}

pub async fn submit(
    State(state): State<WebState>,
    peer: Peer,
    CsrfForm { browser, form }: CsrfForm<OtpForm>,
) -> Result<Response, PageError> {
    let remember = form.remember.is_some();
    let fresh = Browser::signing_in(remember);
    let ids = BrowserIds {
        current: &browser.hash(),
        signed_in: &fresh.hash(),
    };
    let code = SecretString::from(form.code);
    match signin::second_factor(&state, ids, &code, &peer).await? {
        SecondFactorStep::SignedIn(session) => Ok(signed_in(&state, &fresh, &session)),
        SecondFactorStep::WrongCode => Ok(otp_page(
            &state,
            &browser,
            remember,
            Some("Wrong code. Try again."),
            StatusCode::UNAUTHORIZED,
        )),
        SecondFactorStep::StartAgain => Err(start_again()),
        SecondFactorStep::Locked { until } => Err(PageError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            too_many_attempts(until, state.clock.now()),
        )),
    }
}
