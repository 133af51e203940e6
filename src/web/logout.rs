//! `GET`/`POST /logout` (OIDC RP-Initiated Logout 1.0). The session ends server-side: its row,
//! its refresh families and, through the revocation log, its access tokens everywhere.

use axum::extract::{RawForm, RawQuery, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tera::Context;

use super::authorize::see_other;
use super::browser::{self, clear_cookie, Browser};
use super::login::forbidden;
use super::WebState;
use crate::domain::event::{kind, Outcome, SecurityEvent};
use crate::protocol::logout::{self, HintClaims, LogoutError, LogoutRequest};
use crate::protocol::params::Params;
use crate::protocol::revocation;
use crate::protocol::token::id_token;

fn request_of(params: &Params) -> LogoutRequest {
    LogoutRequest {
        id_token_hint: params.take("id_token_hint"),
        client_id: params.take("client_id"),
        post_logout_redirect_uri: params.take("post_logout_redirect_uri"),
        state: params.take("state"),
    }
}

/// The checks `/authorize` makes too (`id_token::verify_hint`): an ID token of ours, for the
/// client the request names if it names one; an expired hint still names its session.
fn verify_hint(state: &WebState, hint: &str, client_id: Option<&str>) -> Result<HintClaims, String> {
    id_token::verify_hint(&state.keys, &state.settings.issuer, hint, client_id).map_err(str::to_owned)
}

fn failed(state: &WebState, e: impl Into<anyhow::Error>) -> Response {
    super::error::page_failure(&state.pages, e, "logout failed")
}

pub async fn logout_get(State(state): State<WebState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    logout(state, headers, query.as_deref().unwrap_or_default().as_bytes(), false).await
}

pub async fn logout_post(State(state): State<WebState>, headers: HeaderMap, RawForm(body): RawForm) -> Response {
    logout(state, headers, &body, true).await
}

async fn logout(state: WebState, headers: HeaderMap, encoded: &[u8], posted: bool) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    let Ok(params) = Params::parse(encoded) else {
        return state.pages.error(
            StatusCode::BAD_REQUEST,
            "This sign-out request cannot be completed",
            "The request is too large or has too many parameters.",
        );
    };
    let request = request_of(&params);
    let verify = |hint: &str| verify_hint(&state, hint, request.client_id.as_deref());
    let valid = match logout::validate(&*state.store, &request, &verify).await {
        Ok(valid) => valid,
        Err(LogoutError::Refused(message)) => {
            return state.pages.error(
                StatusCode::BAD_REQUEST,
                "This sign-out request cannot be completed",
                message,
            )
        }
        Err(LogoutError::Store(e)) => return failed(&state, e),
    };
    let confirmed = posted && params.get("confirm") == Some("yes");
    if confirmed {
        let csrf = params.get("csrf_token");
        if !browser.csrf_ok(&state.csrf_key, csrf) {
            return forbidden(&state);
        }
    }
    let session = match browser::signed_in(&state, &browser).await {
        Ok(session) => session,
        Err(e) => return failed(&state, e),
    };
    if let Some((session, user)) = session {
        let hint_names_this_session = valid.hint_sid.as_deref() == Some(session.sid.as_str());
        if !(confirmed || hint_names_this_session) {
            let mut context = Context::new();
            context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
            context.insert("username", &user.username);
            context.insert("id_token_hint", &request.id_token_hint);
            context.insert("client_id", &request.client_id);
            context.insert("post_logout_redirect_uri", &request.post_logout_redirect_uri);
            context.insert("state", &request.state);
            return state.pages.render(StatusCode::OK, "logout.html", &context);
        }
        let ctx = state.protocol();
        if let Err(e) = revocation::end_session(&ctx, &session.sid, "logout").await {
            return failed(&state, e);
        }
        ctx.record(
            SecurityEvent::new(ctx.now, kind::LOGOUT, Outcome::Success)
                .user(&user.id)
                .session(&session.sid)
                .from_peer(session.ip.clone(), browser::user_agent(&headers)),
        );
        tracing::info!(user_id = %user.id, sid = %session.sid, "signed out");
    }
    let mut response = match &valid.redirect {
        Some(location) => see_other(location, &Browser::new_unset(), &state),
        None => state.pages.message("Signed out", "You are signed out."),
    };
    response.headers_mut().append(SET_COOKIE, clear_cookie(&state.settings));
    response
}
