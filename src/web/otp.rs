//! `GET`/`POST /login/otp`: the second factor after a right password: the person's passkey
//! (offered first; `passkeys.rs` answers its two posts) and, with TOTP on, a code. The step is
//! bound to the browser and lives 5 minutes; a code works once; five failures drop the step, and
//! every failure counts in the sign-in throttle (the rules are in `service::second_factor`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::authorize::see_other;
use super::browser::{self, Browser};
use super::error::PageError;
use super::extract::CsrfForm;
use super::locale::t;
use super::login::{return_to, signed_in, too_many_attempts};
use super::paths;
use super::WebState;
use crate::domain::local_path::LocalPath;
use crate::service::second_factor::{self, Factors, Step};
use crate::service::signin::BrowserIds;
use crate::service::Peer;

/// Not `Debug`: it carries a code.
#[derive(Deserialize)]
pub struct OtpForm {
    #[serde(default)]
    code: String,
    return_to: Option<String>,
    /// "Keep me signed in", carried from the password step.
    remember: Option<String>,
}

#[derive(Deserialize)]
pub struct OtpQuery {
    return_to: Option<String>,
    remember: Option<String>,
}

/// What the code page carries along: where to go once signed in, and "Keep me signed in".
struct Carried<'a> {
    return_to: Option<&'a LocalPath>,
    remember: bool,
}

fn otp_page(
    state: &WebState,
    browser: &Browser,
    factors: Factors,
    carried: &Carried<'_>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("error", &error);
    context.insert("return_to", &carried.return_to.map(LocalPath::as_str));
    context.insert("remember", &carried.remember);
    context.insert("code", &factors.code);
    context.insert("passkey", &factors.passkey);
    state.pages.render(status, "otp.html", &context)
}

pub(super) fn start_again() -> PageError {
    PageError::words(
        StatusCode::UNAUTHORIZED,
        "otp-start-again-title",
        "otp-start-again-message",
    )
    .with_next(paths::LOGIN, "next-sign-in-again")
}

pub async fn show(
    State(state): State<WebState>,
    browser: Browser,
    Query(query): Query<OtpQuery>,
) -> Result<Response, PageError> {
    let return_to = return_to(query.return_to.as_deref());
    let Some(factors) = second_factor::awaited(&state, &browser.hash()).await? else {
        // "Back" to the code page of a sign-in that is finished: a signed-in person goes on
        // to where the sign-in was going (or the account), not to "sign in again".
        if browser::signed_in(&state, &browser).await?.is_some() {
            let next = return_to.as_ref().map_or(paths::ACCOUNT, LocalPath::as_str);
            return Ok(see_other(next, &browser, &state));
        }
        return Err(start_again());
    };
    let carried = Carried {
        return_to: return_to.as_ref(),
        remember: query.remember.is_some(),
    };
    Ok(otp_page(&state, &browser, factors, &carried, None, StatusCode::OK))
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
    let return_to = return_to(form.return_to.as_deref());
    match second_factor::code(&state, ids, &code, &peer).await? {
        Step::SignedIn(session) => Ok(signed_in(&state, &fresh, &session, return_to.as_ref())),
        Step::Wrong => Ok(otp_page(
            &state,
            &browser,
            second_factor::awaited(&state, &browser.hash())
                .await?
                .unwrap_or_default(),
            &Carried {
                return_to: return_to.as_ref(),
                remember,
            },
            Some(&t("otp-wrong-code")),
            StatusCode::UNAUTHORIZED,
        )),
        Step::StartAgain => Err(start_again()),
        Step::Locked { until } => Err(PageError::new(
            StatusCode::TOO_MANY_REQUESTS,
            t("too-many-attempts-title"),
            too_many_attempts(until, state.clock.now()),
        )
        .with_next(paths::LOGIN, "back-to-sign-in")),
    }
}
