//! Errors at the HTTP edge. A 500 tells the client nothing specific; the cause is logged.
//! A store that is unavailable (a timeout, a lost connection, a lock held elsewhere) is not a
//! fault of ours to hide: it is a 503 with `Retry-After`, so clients and people try again.

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Seconds a client is asked to wait before trying again after a 503.
pub const RETRY_AFTER_SECS: u64 = 5;

pub struct InternalError(pub anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for InternalError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for InternalError {
    fn into_response(self) -> Response {
        json_failure(self.0, "request failed")
    }
}

/// The status a failure earns, logged: 503 when the store is unavailable (a warning), else 500
/// (an error with the whole chain).
pub fn triage(error: &anyhow::Error, what: &str) -> StatusCode {
    if crate::storage::is_unavailable(error) {
        tracing::warn!(error = format!("{error:#}"), "{what}: the store is unavailable");
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        tracing::error!(error = format!("{error:#}"), "{what}");
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// A failure of a JSON endpoint: 503 `temporarily_unavailable` when the store is unavailable,
/// else a bare 500 `server_error`.
pub fn json_failure(error: impl Into<anyhow::Error>, what: &str) -> Response {
    if triage(&error.into(), what) == StatusCode::SERVICE_UNAVAILABLE {
        unavailable_json()
    } else {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": "server_error" })),
        )
            .into_response()
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
