//! `GET`/`POST /userinfo` with a Bearer access token (RFC 6750 §2.1 header, §2.2 form body).

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::form::FormBody;
use super::ApiState;
use crate::protocol::params::Params;
use crate::protocol::userinfo::{self, Refusal};

fn challenge(status: StatusCode, error: Option<(&str, &str)>) -> Response {
    let header = match error {
        Some((code, description)) => {
            format!("Bearer realm=\"keyhaven\", error=\"{code}\", error_description=\"{description}\"")
        }
        None => "Bearer realm=\"keyhaven\"".to_owned(),
    };
    let body = match error {
        Some((code, description)) => json!({ "error": code, "error_description": description }),
        None => json!({ "error": "invalid_token", "error_description": "an access token is required" }),
    };
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&header) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}

pub async fn userinfo(
    State(state): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    FormBody(body): FormBody,
) -> Response {
    let from_header = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").map(|t| t.trim().to_owned()));
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from_body = if method == Method::POST && is_form {
        match Params::parse_unique(&body) {
            Ok(form) => form.take("access_token"),
            Err(_) => {
                return challenge(
                    StatusCode::BAD_REQUEST,
                    Some(("invalid_request", "malformed form body")),
                )
            }
        }
    } else {
        None
    };
    let token = match (from_header, from_body) {
        (Some(_), Some(_)) => {
            return challenge(
                StatusCode::BAD_REQUEST,
                Some(("invalid_request", "send the token in one place only")),
            )
        }
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return challenge(StatusCode::UNAUTHORIZED, None),
    };
    match userinfo::userinfo(&state.protocol(), &token).await {
        Ok(claims) => Json(claims).into_response(),
        Err(Refusal::InvalidToken(why)) => {
            tracing::info!(reason = why, "userinfo refused a token");
            challenge(
                StatusCode::UNAUTHORIZED,
                Some(("invalid_token", "the access token is invalid")),
            )
        }
        Err(Refusal::Internal(e)) => crate::http::error::json_failure(e, "userinfo failed"),
    }
}
