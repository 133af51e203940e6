//! Errors at the HTTP edge. A 500 tells the client nothing specific; the cause is logged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub struct InternalError(pub anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for InternalError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for InternalError {
    fn into_response(self) -> Response {
        tracing::error!(error = format!("{:#}", self.0), "request failed");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": "server_error" })),
        )
            .into_response()
    }
}

pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": "not_found" }))).into_response()
}
