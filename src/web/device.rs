//! `/device` (RFC 8628 §3.3): a signed-in person types the code their device shows, sees
//! which client it claims to be and for what, and approves or denies; the answer leads
//! (Post/Redirect/Get) to a page that sends them back to the device. Wrong codes are limited
//! per session and per address. The flow is `service::device`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tera::Context;

use super::authorize::see_other;
use super::error::PageError;
use super::extract::{SignedIn, SignedInForm};
use super::locale::t;
use super::{paths, words, WebState};
use crate::domain::UnixTime;
use crate::service::device::{self, Decided, DeviceQuestion, Lookup};
use crate::service::Peer;

#[derive(Deserialize)]
pub struct DeviceQuery {
    user_code: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    user_code: String,
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    user_code: String,
    decision: Option<String>,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    result: Option<String>,
}

/// What the page shows: the form (with the code typed so far and a problem), or the question.
enum Shown<'a> {
    Form { user_code: &'a str, error: Option<String> },
    Question(DeviceQuestion),
}

fn render(state: &WebState, signed_in: &SignedIn, shown: Shown<'_>, status: StatusCode) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &signed_in.browser.csrf_token(&state.csrf_key));
    context.insert("signed_in_as", &signed_in.user.username);
    match shown {
        Shown::Form { user_code, error } => {
            // Only what could be a code is shown back.
            let user_code: String = user_code.chars().take(64).collect();
            context.insert("user_code", &user_code);
            context.insert("error", &error);
        }
        Shown::Question(question) => {
            let scopes: Vec<String> = question.scopes.iter().map(|s| words::scope_description(s)).collect();
            context.insert("user_code", &question.user_code);
            context.insert("client_name", &question.client_name);
            context.insert("verified", &question.verified);
            context.insert("scopes", &scopes);
        }
    }
    state.pages.render(status, "device.html", &context)
}

/// The form again, saying the code was wrong (400) or that the limit is reached (429).
fn refused(state: &WebState, signed_in: &SignedIn, typed: &str, limited: Option<UnixTime>) -> Response {
    let (error, status) = match limited {
        None => (t("device-wrong-code"), StatusCode::BAD_REQUEST),
        Some(until) => (
            format!(
                "{} {}",
                t("device-too-many"),
                words::try_again_in(until, state.clock.now())
            ),
            StatusCode::TOO_MANY_REQUESTS,
        ),
    };
    render(
        state,
        signed_in,
        Shown::Form {
            user_code: typed,
            error: Some(error),
        },
        status,
    )
}

/// `GET /device`: the form, with the code of `?user_code=` (the `verification_uri_complete`)
/// filled in. Nothing is looked up until the person posts it.
pub async fn show(
    State(state): State<WebState>,
    signed_in: SignedIn,
    Query(query): Query<DeviceQuery>,
) -> Result<Response, PageError> {
    let user_code = query.user_code.unwrap_or_default();
    Ok(render(
        &state,
        &signed_in,
        Shown::Form {
            user_code: &user_code,
            error: None,
        },
        StatusCode::OK,
    ))
}

/// `POST /device`: the code typed; the question, or the form with the problem.
pub async fn submit(
    State(state): State<WebState>,
    peer: Peer,
    SignedInForm { signed_in, form }: SignedInForm<CodeForm>,
) -> Result<Response, PageError> {
    let lookup = device::look_up(&state, &signed_in.session, &peer, &form.user_code).await?;
    Ok(match lookup {
        Lookup::Found(question) => render(&state, &signed_in, Shown::Question(question), StatusCode::OK),
        Lookup::Wrong => refused(&state, &signed_in, &form.user_code, None),
        Lookup::Limited { until } => refused(&state, &signed_in, &form.user_code, Some(until)),
    })
}

/// `POST /device/decide`: Approve or Deny, then 303 to the page that says what happened.
pub async fn decide(
    State(state): State<WebState>,
    peer: Peer,
    SignedInForm { signed_in, form }: SignedInForm<DecisionForm>,
) -> Result<Response, PageError> {
    let approve = match form.decision.as_deref() {
        Some("approve") => true,
        Some("deny") => false,
        _ => {
            return Err(PageError::words(
                StatusCode::UNPROCESSABLE_ENTITY,
                "error-unreadable-title",
                "error-unreadable-message",
            ))
        }
    };
    let decided = device::decide(&state, &signed_in.session, &peer, &form.user_code, approve).await?;
    Ok(match decided {
        Decided::Approved => see_other(
            &format!("{}?result=approved", paths::DEVICE_DONE),
            &signed_in.browser,
            &state,
        ),
        Decided::Denied => see_other(
            &format!("{}?result=denied", paths::DEVICE_DONE),
            &signed_in.browser,
            &state,
        ),
        Decided::Wrong => refused(&state, &signed_in, &form.user_code, None),
        Decided::Limited { until } => refused(&state, &signed_in, &form.user_code, Some(until)),
    })
}

/// `GET /device/done`: "return to your device".
pub async fn done(
    State(state): State<WebState>,
    signed_in: SignedIn,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let mut context = Context::new();
    context.insert("csrf_token", &signed_in.browser.csrf_token(&state.csrf_key));
    context.insert("signed_in_as", &signed_in.user.username);
    context.insert("approved", &(query.result.as_deref() == Some("approved")));
    Ok(state.pages.render(StatusCode::OK, "device_done.html", &context))
}
