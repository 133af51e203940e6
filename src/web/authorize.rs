//! `GET`/`POST /authorize` and `GET /authorize/resume`: the authorization endpoint's HTTP shape.
//! The rules are in `protocol::authorize`; this file moves the browser between pages.

use axum::extract::{Query, RawForm, RawQuery, State};
use axum::http::header::{HeaderMap, LOCATION, SET_COOKIE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::WebState;
use crate::crypto::tokens::{prefix, random_base64url, OpaqueSecret, SecretHash};
use crate::domain::client::Client;
use crate::http::routes;
use crate::protocol::authorize::{
    self, code_redirect, error_redirect, next_step, AuthorizationRequest, ErrorRedirect, Params, Progress,
    RequestError, Step,
};
use crate::protocol::token::id_token;
use crate::storage::{CodeRecord, PendingAuthorization, SessionRecord};
use crate::web::browser::{self, Browser};

/// How long a person has to sign in and consent before the request must start over.
const PENDING_TTL: i64 = 600;
/// The most sign-in requests one browser keeps pending (tabs of several apps at once); a newer
/// one pushes out the oldest.
const PENDING_PER_BROWSER: i64 = 16;

pub async fn authorize_get(State(state): State<WebState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    authorize(state, headers, query.as_deref().unwrap_or_default().as_bytes()).await
}

pub async fn authorize_post(State(state): State<WebState>, headers: HeaderMap, RawForm(body): RawForm) -> Response {
    authorize(state, headers, &body).await
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

fn untrusted(state: &WebState, message: &str) -> Response {
    state
        .pages
        .error(StatusCode::BAD_REQUEST, "This request cannot be completed", message)
}

fn internal(state: &WebState, error: impl Into<anyhow::Error>) -> Response {
    super::error::page_failure(&state.pages, error, "authorization request failed")
}

async fn authorize(state: WebState, headers: HeaderMap, encoded: &[u8]) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    let params = match Params::parse(encoded) {
        Ok(params) => params,
        Err(_) => return untrusted(&state, "The request is too large or has too many parameters."),
    };
    let client_id = match authorize::client_id(&params) {
        Ok(id) => id.to_owned(),
        Err(RequestError::Untrusted(message)) => return untrusted(&state, &message),
        Err(RequestError::Redirect(_)) => return untrusted(&state, "The request is malformed."),
    };
    let client = match state.store.find_client(&client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return untrusted(&state, "The application that sent you here is not registered."),
        Err(e) => return internal(&state, e),
    };
    let verify_hint = |hint: &str| verify_id_token_hint(&state, hint, &client.id);
    let request = match authorize::validate(&params, &client, &verify_hint) {
        Ok(request) => request,
        Err(RequestError::Untrusted(message)) => return untrusted(&state, &message),
        Err(RequestError::Redirect(e)) => {
            return see_other(&error_redirect(&e, &state.settings.issuer), &browser, &state)
        }
    };
    proceed(&state, &browser, &client, request, None).await
}

/// Verifies an `id_token_hint` issued to this client (`protocol::token::id_token::verify_hint`,
/// shared with `/logout`) and returns the person it names.
pub fn verify_id_token_hint(state: &WebState, hint: &str, client_id: &str) -> Result<String, String> {
    let claims = id_token::verify_hint(&state.keys, &state.settings.issuer, hint, Some(client_id))?;
    claims
        .get("sub")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "has no sub".into())
}

#[derive(Deserialize)]
pub struct ResumeQuery {
    request: String,
}

/// Where sign-in and consent send the browser back to.
pub async fn resume(State(state): State<WebState>, headers: HeaderMap, Query(query): Query<ResumeQuery>) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    let (pending, request) = match load_pending(&state, &browser, &query.request).await {
        Ok(Some(found)) => found,
        Ok(None) => return expired(&state),
        Err(response) => return response,
    };
    let client = match state.store.find_client(&request.client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return untrusted(&state, "The application that sent you here is no longer registered."),
        Err(e) => return internal(&state, e),
    };
    proceed(&state, &browser, &client, request, Some((query.request, pending))).await
}

pub fn expired(state: &WebState) -> Response {
    state.pages.error(
        StatusCode::BAD_REQUEST,
        "This sign-in request has expired",
        "Go back to the application and start again.",
    )
}

/// The pending request `id`, if it exists, has not expired and belongs to this browser.
pub async fn load_pending(
    state: &WebState,
    browser: &Browser,
    id: &str,
) -> Result<Option<(PendingAuthorization, AuthorizationRequest)>, Response> {
    let now = state.clock.now();
    let pending = match state
        .store
        .find_pending_authorization(SecretHash::of(id).as_str(), now)
        .await
    {
        Ok(pending) => pending,
        Err(e) => return Err(internal(state, e)),
    };
    let Some(pending) = pending.filter(|p| p.browser_hash == browser.hash()) else {
        return Ok(None);
    };
    match serde_json::from_str::<AuthorizationRequest>(&pending.request) {
        Ok(request) => Ok(Some((pending, request))),
        Err(e) => Err(internal(state, e)),
    }
}

/// Runs the next step of the flow for a validated request.
async fn proceed(
    state: &WebState,
    browser: &Browser,
    client: &Client,
    request: AuthorizationRequest,
    pending: Option<(String, PendingAuthorization)>,
) -> Response {
    let now = state.clock.now();
    let session = match browser::signed_in(state, browser).await {
        Ok(session) => session,
        Err(e) => return internal(state, e),
    };
    let consented = match &session {
        Some((s, _)) => match state.store.find_consent(&s.user_id, &client.id).await {
            Ok(c) => c,
            Err(e) => return internal(state, e),
        },
        None => None,
    };
    let progress = pending
        .as_ref()
        .map(|(_, p)| Progress {
            login_done_at: p.login_done_at,
            consent_done: p.consent_done,
        })
        .unwrap_or_default();
    let step = next_step(
        &request,
        client,
        session.as_ref().map(|(s, _)| s),
        consented.as_deref(),
        progress,
        now,
    );
    let issuer = &state.settings.issuer;
    let pending_hash = pending.as_ref().map(|(_, p)| p.id_hash.clone());
    let finish = |location: String| async move {
        if let Some(hash) = &pending_hash {
            if let Err(e) = state.store.delete_pending_authorization(hash).await {
                return internal(state, e);
            }
        }
        see_other(&location, browser, state)
    };
    match step {
        Err(error) => {
            let e = ErrorRedirect {
                redirect_to: request.redirect_to.clone(),
                state: request.state.clone(),
                error,
            };
            finish(error_redirect(&e, issuer)).await
        }
        Ok(Step::IssueCode) => {
            let Some((session, _)) = session else {
                return internal(state, anyhow::anyhow!("a code step without a session"));
            };
            match issue_code(state, &request, &session).await {
                Ok(code) => finish(code_redirect(&request, &code, issuer)).await,
                Err(e) => internal(state, e),
            }
        }
        Ok(step) => {
            let id = match pending {
                Some((id, _)) => id,
                None => match remember(state, browser, &request).await {
                    Ok(id) => id,
                    Err(response) => return response,
                },
            };
            let page = if step == Step::Login {
                routes::LOGIN
            } else {
                routes::CONSENT
            };
            see_other(&format!("{page}?request={id}"), browser, state)
        }
    }
}

/// Stores the request while the person signs in or consents; returns its id for page URLs.
async fn remember(state: &WebState, browser: &Browser, request: &AuthorizationRequest) -> Result<String, Response> {
    let now = state.clock.now();
    let id = random_base64url(32);
    let json = serde_json::to_string(request).map_err(|e| internal(state, e))?;
    let pending = PendingAuthorization {
        id_hash: SecretHash::of(&id).as_str().to_owned(),
        browser_hash: browser.hash(),
        request: json,
        created_at: now,
        expires_at: now + PENDING_TTL,
        login_done_at: None,
        consent_done: false,
    };
    state
        .store
        .insert_pending_authorization(&pending, PENDING_PER_BROWSER)
        .await
        .map_err(|e| internal(state, e))?;
    Ok(id)
}

async fn issue_code(
    state: &WebState,
    request: &AuthorizationRequest,
    session: &SessionRecord,
) -> Result<String, crate::storage::StoreError> {
    let now = state.clock.now();
    let code = OpaqueSecret::generate(prefix::AUTHORIZATION_CODE);
    let audience = serde_json::to_string(&request.audience).unwrap_or_else(|_| "[]".into());
    state
        .store
        .insert_authorization_code(&CodeRecord {
            code_hash: code.hash().as_str().to_owned(),
            client_id: request.client_id.clone(),
            user_id: session.user_id.clone(),
            sid: session.sid.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            scope: request.scope.clone(),
            claims: request.claims.as_ref().map(Value::to_string),
            audience,
            auth_time: session.auth_time,
            amr: session.amr.clone(),
            created_at: now,
            expires_at: now + state.settings.code_ttl,
        })
        .await?;
    Ok(code.expose().to_owned())
}
