//! The body of an OAuth endpoint (`/token`, `/introspect`, `/revoke`, `/userinfo`), read under
//! the router's body limit. A body over it gets RFC 6749 JSON, not the framework's text.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub struct FormBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(request, state).await {
            Ok(body) => Ok(Self(body)),
            Err(rejection) => {
                let status = rejection.status();
                let description = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "the request body is too large"
                } else {
                    "the request body could not be read"
                };
                Err((
                    status,
                    Json(json!({ "error": "invalid_request", "error_description": description })),
                )
                    .into_response())
            }
        }
    }
}
