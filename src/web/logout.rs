//! `GET`/`POST /logout` (OIDC RP-Initiated Logout 1.0). The session ends server-side: its row,
//! its refresh families and, through the revocation log, its access tokens everywhere (the
//! flow is `service::signin::logout`).

use axum::extract::{RawForm, RawQuery, State};
use axum::http::header::SET_COOKIE;
use axum::http::StatusCode;
use axum::response::Response;
use tera::Context;

use super::authorize::see_other;
use super::browser::{clear_cookie, Browser};
use super::error::PageError;
use super::flash::Notice;
use super::locale::t;
use super::paths;
use super::words::from_service;
use super::WebState;
use crate::protocol::logout::{LogoutError, LogoutRequest};
use crate::protocol::params::Params;
use crate::service::signin::{self, Confirmation, Logout};
use crate::service::Peer;

fn request_of(params: &Params) -> LogoutRequest {
    LogoutRequest {
        id_token_hint: params.take("id_token_hint"),
        client_id: params.take("client_id"),
        post_logout_redirect_uri: params.take("post_logout_redirect_uri"),
        state: params.take("state"),
    }
}

fn refused(message: &'static str) -> PageError {
    PageError::new(
        StatusCode::BAD_REQUEST,
        t("logout-refused-title"),
        from_service(message),
    )
}

impl From<LogoutError> for PageError {
    fn from(e: LogoutError) -> Self {
        match e {
            LogoutError::Refused(message) => refused(message),
            LogoutError::Store(e) => PageError::failed(e, "logout failed"),
        }
    }
}

pub async fn logout_get(
    State(state): State<WebState>,
    browser: Browser,
    peer: Peer,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    logout(
        state,
        browser,
        peer,
        query.as_deref().unwrap_or_default().as_bytes(),
        false,
    )
    .await
}

pub async fn logout_post(
    State(state): State<WebState>,
    browser: Browser,
    peer: Peer,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    logout(state, browser, peer, &body, true).await
}

async fn logout(
    state: WebState,
    browser: Browser,
    peer: Peer,
    encoded: &[u8],
    posted: bool,
) -> Result<Response, PageError> {
    let params = Params::parse(encoded).map_err(|_| refused("The request is too large or has too many parameters."))?;
    let request = request_of(&params);
    let confirmation = if !(posted && params.get("confirm") == Some("yes")) {
        Confirmation::NotGiven
    } else if browser.csrf_ok(&state.csrf_key, params.get("csrf_token")) {
        Confirmation::Confirmed
    } else {
        Confirmation::Forged
    };
    let browser_hash = (!browser.fresh).then(|| browser.hash());
    let mut response = match signin::logout(&state, &request, browser_hash.as_deref(), confirmation, &peer).await? {
        Logout::Forged => return Err(PageError::form_expired()),
        Logout::Confirm { username, app } => {
            return Ok(confirm_page(&state, &browser, &request, &username, app.as_deref()))
        }
        Logout::SignedOut {
            redirect: Some(location),
        } => see_other(&location, &Browser::new_unset(), &state),
        // A form post answers 303 (Post/Redirect/Get): the sign-in page says it.
        Logout::SignedOut { redirect: None } if posted => {
            Notice::SignedOut.on(&state, see_other(paths::LOGIN, &Browser::new_unset(), &state))
        }
        Logout::SignedOut { redirect: None } => state.pages.message(
            &t("signed-out-title"),
            &t("signed-out-message"),
            (paths::LOGIN, &t("next-sign-in-again")),
        ),
    };
    response.headers_mut().append(SET_COOKIE, clear_cookie(&state.settings));
    Ok(response)
}

fn confirm_page(
    state: &WebState,
    browser: &Browser,
    request: &LogoutRequest,
    username: &str,
    app: Option<&str>,
) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("username", username);
    context.insert("app", &app);
    context.insert("id_token_hint", &request.id_token_hint);
    context.insert("client_id", &request.client_id);
    context.insert("post_logout_redirect_uri", &request.post_logout_redirect_uri);
    context.insert("state", &request.state);
    state.pages.render(StatusCode::OK, "logout.html", &context)
}
