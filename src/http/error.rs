//! Errors at the HTTP edge. A 500 tells the client nothing specific; the cause is logged.
//! A store that is unavailable (a timeout, a lost connection, a lock held elsewhere) is not a
//! fault of ours to hide: it is a 503 with `Retry-After`, so clients and people try again.

use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::protocol::error::{OAuthError, ProtocolError};
use crate::protocol::Failure;
use crate::service::failure::{self, Triage, RETRY_AFTER_SECS};

/// The one error of the JSON endpoints: handlers return `Result<_, ApiError>` and use `?`.
pub enum ApiError {
    /// An OAuth error (RFC 6749 §5.2 JSON): 401 with `WWW-Authenticate` for `invalid_client`,
    /// 500 for `server_error`, else 400.
    OAuth(ProtocolError),
    /// The same body with another status (403 for a client refused introspection).
    OAuthWithStatus(StatusCode, ProtocolError),
    /// Something failed: 503 `temporarily_unavailable` when the store is unavailable, else a
    /// bare 500. The whole chain is logged; the client learns nothing specific.
    Failed(anyhow::Error),
    /// An answer already made in an endpoint's own documented shape (the admin API's).
    Answer(Response),
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        Self::OAuth(e)
    }
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Protocol(e) => Self::OAuth(e),
            Failure::Internal(e) => Self::Failed(e),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        Self::Failed(e)
    }
}

impl From<Response> for ApiError {
    fn from(r: Response) -> Self {
        Self::Answer(r)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::OAuth(e) => oauth_error(&e),
            Self::OAuthWithStatus(status, e) => {
                let mut response = oauth_error(&e);
                *response.status_mut() = status;
                response
            }
            Self::Failed(e) => json_failure(e, "request failed"),
            Self::Answer(response) => response,
        }
    }
}

/// An OAuth error as RFC 6749 §5.2 JSON.
pub fn oauth_error(e: &ProtocolError) -> Response {
    let status = match e.error {
        OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = (
        status,
        Json(json!({ "error": e.error.as_str(), "error_description": e.description })),
    )
        .into_response();
    if e.error == OAuthError::InvalidClient {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"keyhaven\""));
    }
    response
}

/// A failure of a JSON endpoint: 503 `temporarily_unavailable` when the store is unavailable,
/// else a bare 500 `server_error`.
pub fn json_failure(error: impl Into<anyhow::Error>, what: &str) -> Response {
    match failure::triage(&error.into(), what) {
        Triage::Unavailable => unavailable_json(),
        Triage::Fault => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": "server_error" })),
        )
            .into_response(),
    }
}

/// 503 with `Retry-After` and `{"error":"temporarily_unavailable"}`.
pub fn unavailable_json() -> Response {
    retry_after(
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "error": "temporarily_unavailable",
                "error_description": "the service is temporarily unavailable; try again in a few seconds",
            })),
        )
            .into_response(),
    )
}

pub fn retry_after(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": "not_found" }))).into_response()
}
