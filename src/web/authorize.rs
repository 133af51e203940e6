//! `GET`/`POST /authorize` and `GET /authorize/resume`: the authorization endpoint's HTTP shape.
//! The flow is `service::authorization`; this file moves the browser where it says.

use axum::extract::{Query, RawForm, RawQuery, State};
use axum::http::header::{HeaderMap, LOCATION, SET_COOKIE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::browser::{self, Browser};
use super::error::PageError;
use super::flash::Notice;
use super::locale::{self, t};
use super::paths;
use super::words::from_service;
use super::WebState;
use crate::service::authorization::{self, Next, Pending, Visitor};

pub async fn authorize_get(
    State(state): State<WebState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    authorize(&state, &headers, query.as_deref().unwrap_or_default().as_bytes()).await
}

pub async fn authorize_post(
    State(state): State<WebState>,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    authorize(&state, &headers, &body).await
}

async fn authorize(state: &WebState, headers: &HeaderMap, encoded: &[u8]) -> Result<Response, PageError> {
    let browser = Browser::from_headers(headers, &state.settings);
    let visitor = visitor(state, &browser).await?;
    let next = authorization::authorize(state, &visitor, encoded)
        .await
        .map_err(|e| PageError::failed(e, "authorization request failed"))?;
    go(state, &browser, visitor.signed_in.is_some(), next)
}

#[derive(Deserialize)]
pub struct ResumeQuery {
    request: String,
}

/// Where sign-in and consent send the browser back to.
pub async fn resume(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(query): Query<ResumeQuery>,
) -> Result<Response, PageError> {
    let browser = Browser::from_headers(&headers, &state.settings);
    let visitor = visitor(&state, &browser).await?;
    let next = authorization::resume(&state, &visitor, &query.request)
        .await
        .map_err(|e| PageError::failed(e, "authorization request failed"))?;
    go(&state, &browser, visitor.signed_in.is_some(), next)
}

/// The browser as the authorization flow sees it: its cookie's hash and its live session.
pub async fn visitor(state: &WebState, browser: &Browser) -> Result<Visitor, PageError> {
    Ok(Visitor {
        browser_hash: browser.hash(),
        signed_in: browser::signed_in(state, browser).await?,
    })
}

/// Sends the browser where the flow goes next. `signed_in`: whether the browser has a live
/// session (a finished request then leads to the account instead of "expired").
pub fn go(state: &WebState, browser: &Browser, signed_in: bool, next: Next) -> Result<Response, PageError> {
    let location = match next {
        Next::SignIn { pending_id } => format!("{}?request={pending_id}", paths::LOGIN),
        Next::Consent { pending_id } => format!("{}?request={pending_id}", paths::CONSENT),
        Next::Resume { pending_id } => format!("{}?request={pending_id}", paths::AUTHORIZE_RESUME),
        Next::Redirect(location) => location,
        Next::Refuse(message) => {
            return Err(PageError::new(
                StatusCode::BAD_REQUEST,
                t("authorize-refused-title"),
                from_service(&message),
            ))
        }
        Next::Expired => return Ok(expired_for(state, browser, signed_in)),
    };
    Ok(see_other(&location, browser, state))
}

/// A 303 to `location`, setting the browser cookie when it is new.
pub fn see_other(location: &str, browser: &Browser, state: &WebState) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response();
    if browser.fresh {
        response
            .headers_mut()
            .append(SET_COOKIE, browser.set_cookie(&state.settings));
    }
    response
}

fn expired_page() -> PageError {
    PageError::words(
        StatusCode::BAD_REQUEST,
        "authorize-expired-title",
        "authorize-expired-message",
    )
}

/// The answer for a pending request that is gone: the "expired" page, or, for a signed-in
/// browser (which came "back" from the application to a finished request), a 303 to the
/// account that says so.
pub fn expired_for(state: &WebState, browser: &Browser, signed_in: bool) -> Response {
    if signed_in {
        return Notice::AlreadySignedIn.on(state, see_other(paths::ACCOUNT, browser, state));
    }
    browser.with_cookie(expired_page().render(&state.pages), &state.settings)
}

/// The "expired" page for a browser that has just signed in: it can continue to the account.
pub fn expired_signed_in(state: &WebState) -> Response {
    expired_page()
        .with_next(paths::ACCOUNT, "next-account")
        .render(&state.pages)
}

/// The pending request `id`, if it exists, has not expired and belongs to this browser (for
/// the sign-in pages; `service::authorization::load_pending` without HTTP).
pub async fn load_pending(state: &WebState, browser: &Browser, id: &str) -> Result<Option<Pending>, Response> {
    let pending = authorization::load_pending(state, &browser.hash(), id)
        .await
        .map_err(|e| PageError::failed(e, "authorization request failed").render(&state.pages))?;
    if let Some((_, request)) = &pending {
        locale::prefer_ui_locales(request.ui_locales.as_deref());
    }
    Ok(pending)
}
