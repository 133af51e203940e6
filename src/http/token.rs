//! `POST /token`: client authentication from the request, then the grant. Errors are RFC 6749
//! §5.2 JSON; `invalid_client` is a 401 with `WWW-Authenticate: Basic`.

use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::error::ApiError;
use super::form::FormBody;
use super::ApiState;
use crate::domain::client::Client;
use crate::domain::event::{kind, Outcome, SecurityEvent};
use crate::protocol::client_auth::{authenticate, AuthFailure, Credentials};
use crate::protocol::error::{err, OAuthError, ProtocolError};
use crate::protocol::introspect::{self, IntrospectRequest};
use crate::protocol::params::Params;
use crate::protocol::revoke::{self, RevokeRequest};
use crate::protocol::token::authorization_code::{self, CodeExchange};
use crate::protocol::token::client_credentials::{self, ClientCredentialsRequest};
use crate::protocol::token::refresh_token::{self, RefreshRequest};
use crate::protocol::Failure;

pub fn error_response(e: &ProtocolError) -> Response {
    super::error::oauth_error(e)
}

pub fn failure_response(f: Failure) -> Response {
    ApiError::from(f).into_response()
}

/// The client's credentials, from `Authorization: Basic` or the body, never both.
pub fn credentials(headers: &HeaderMap, form: &Params) -> Result<Credentials, ProtocolError> {
    let body_id = form.take("client_id");
    let body_secret = form.take("client_secret");
    let basic = match headers.get(AUTHORIZATION) {
        None => None,
        Some(value) => {
            let bad = || err(OAuthError::InvalidClient, "malformed Basic credentials");
            let text = value.to_str().map_err(|_| bad())?;
            let encoded = text.strip_prefix("Basic ").ok_or_else(bad)?;
            let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
            let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
            let unescape = |s: &str| -> String {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some((unescape(id), unescape(secret)))
        }
    };
    match (basic, body_id, body_secret) {
        (Some(_), _, Some(_)) => Err(err(
            OAuthError::InvalidRequest,
            "use one client authentication method, not two",
        )),
        (Some((id, _)), Some(body), None) if body != id => Err(err(
            OAuthError::InvalidRequest,
            "client_id in the body differs from the authenticated client",
        )),
        (Some((client_id, secret)), _, None) => Ok(Credentials::Basic { client_id, secret }),
        (None, Some(client_id), Some(secret)) => Ok(Credentials::Post { client_id, secret }),
        (None, Some(client_id), None) => Ok(Credentials::IdOnly { client_id }),
        (None, None, _) => Ok(Credentials::Missing),
    }
}

/// Authenticates the calling client from the request (token, introspection and revocation
/// endpoints alike); the error response is ready to send.
pub async fn authenticated_client(state: &ApiState, headers: &HeaderMap, form: &Params) -> Result<Client, Response> {
    let credentials = credentials(headers, form).map_err(|e| error_response(&e))?;
    match authenticate(&*state.store, &credentials).await {
        Ok(client) => Ok(client),
        Err(AuthFailure::Refused(e)) => {
            let client_id = credentials
                .client_id()
                .unwrap_or("-")
                .chars()
                .take(100)
                .collect::<String>();
            tracing::info!(client_id = %client_id, "client authentication failed");
            let mut event = SecurityEvent::new(state.clock.now(), kind::CLIENT_AUTH_FAILED, Outcome::Failure);
            if credentials.client_id().is_some() {
                event = event.client(client_id);
            }
            state.events.record(event);
            Err(error_response(&e))
        }
        Err(AuthFailure::Internal(e)) => Err(failure_response(Failure::Internal(e))),
    }
}

/// The form of a client-authenticated endpoint and the client it authenticates.
async fn client_request(state: &ApiState, headers: &HeaderMap, body: &[u8]) -> Result<(Params, Client), Response> {
    let form = Params::parse_unique(body).map_err(|e| error_response(&e))?;
    let client = authenticated_client(state, headers, &form).await?;
    Ok((form, client))
}

pub async fn token(State(state): State<ApiState>, headers: HeaderMap, FormBody(body): FormBody) -> Response {
    let (form, client) = match client_request(&state, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let ctx = state.protocol();
    let result = match form.get("grant_type") {
        None => Err(Failure::Protocol(err(
            OAuthError::InvalidRequest,
            "grant_type is required",
        ))),
        Some("authorization_code") => {
            let exchange = CodeExchange {
                code: form.take("code"),
                redirect_uri: form.take("redirect_uri"),
                code_verifier: form.take("code_verifier"),
            };
            authorization_code::exchange(&ctx, &client, exchange).await
        }
        Some("refresh_token") => {
            let request = RefreshRequest {
                refresh_token: form.take("refresh_token"),
                scope: form.take("scope"),
            };
            refresh_token::refresh(&ctx, &client, request).await
        }
        Some("client_credentials") => {
            let request = ClientCredentialsRequest {
                scope: form.take("scope"),
                resources: form.all("resource").into_iter().map(str::to_owned).collect(),
            };
            client_credentials::grant(&ctx, &client, request).await
        }
        Some(_) => Err(Failure::Protocol(err(
            OAuthError::UnsupportedGrantType,
            "this grant type is not supported",
        ))),
    };
    match result {
        Ok(response) => {
            state.metrics.token_issued(form.get("grant_type").unwrap_or_default());
            Json(response).into_response()
        }
        Err(f) => failure_response(f),
    }
}

/// `POST /introspect` (RFC 7662).
pub async fn introspect(State(state): State<ApiState>, headers: HeaderMap, FormBody(body): FormBody) -> Response {
    let (form, client) = match client_request(&state, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let request = IntrospectRequest {
        token: form.take("token"),
        token_type_hint: form.take("token_type_hint"),
    };
    match introspect::introspect(&state.protocol(), &state.usernames, &client, request).await {
        Ok(answer) => {
            state
                .metrics
                .introspection(answer.get("active") == Some(&serde_json::Value::Bool(true)));
            Json(answer).into_response()
        }
        Err(Failure::Protocol(e)) if e.error == OAuthError::UnauthorizedClient => {
            let mut response = error_response(&e);
            *response.status_mut() = StatusCode::FORBIDDEN;
            response
        }
        Err(f) => failure_response(f),
    }
}

/// `POST /revoke` (RFC 7009).
pub async fn revoke(State(state): State<ApiState>, headers: HeaderMap, FormBody(body): FormBody) -> Response {
    let (form, client) = match client_request(&state, &headers, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let request = RevokeRequest {
        token: form.take("token"),
        token_type_hint: form.take("token_type_hint"),
    };
    match revoke::revoke(&state.protocol(), &client, request).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(f) => failure_response(f),
    }
}
