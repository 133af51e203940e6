//! `POST /token`, `/introspect` and `/revoke`: an authenticated client's form, one call, the
//! answer. Errors are RFC 6749 §5.2 JSON; `invalid_client` is a 401 with `WWW-Authenticate`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use super::error::ApiError;
use super::extract::ClientRequest;
use super::ApiState;
use crate::protocol::error::OAuthError;
use crate::protocol::introspect::{self, IntrospectRequest};
use crate::protocol::revoke::{self, RevokeRequest};
use crate::protocol::token::{TokenRequest, TokenResponse};
use crate::protocol::Failure;
use crate::service::tokens;

pub async fn token(
    State(state): State<ApiState>,
    ClientRequest { client, params }: ClientRequest,
) -> Result<Json<TokenResponse>, ApiError> {
    let request = TokenRequest::from_params(&params)?;
    Ok(Json(tokens::grant(&state, &client, request).await?))
}

/// `POST /introspect` (RFC 7662). A client without the permission is refused with 403.
pub async fn introspect(
    State(state): State<ApiState>,
    ClientRequest { client, params }: ClientRequest,
) -> Result<Json<Value>, ApiError> {
    let request = IntrospectRequest {
        token: params.take("token"),
        token_type_hint: params.take("token_type_hint"),
    };
    let answer = introspect::introspect(&state.protocol(), &state.usernames, &client, request)
        .await
        .map_err(|f| match f {
            Failure::Protocol(e) if e.error == OAuthError::UnauthorizedClient => {
                ApiError::OAuthWithStatus(StatusCode::FORBIDDEN, e)
            }
            f => f.into(),
        })?;
    state
        .metrics
        .introspection(answer.get("active") == Some(&Value::Bool(true)));
    Ok(Json(answer))
}

/// `POST /revoke` (RFC 7009).
pub async fn revoke(
    State(state): State<ApiState>,
    ClientRequest { client, params }: ClientRequest,
) -> Result<StatusCode, ApiError> {
    let request = RevokeRequest {
        token: params.take("token"),
        token_type_hint: params.take("token_type_hint"),
    };
    revoke::revoke(&state.protocol(), &client, request).await?;
    Ok(StatusCode::OK)
}
