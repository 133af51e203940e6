//! `GET`/`POST /userinfo` with a Bearer access token (RFC 6750 §2.1 header, §2.2 form body).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::extract::{bearer_challenge, BearerToken};
use super::ApiState;
use crate::protocol::userinfo::{self, Refusal};

pub async fn userinfo(
    State(state): State<ApiState>,
    BearerToken(token): BearerToken,
) -> Result<Json<Map<String, Value>>, ApiError> {
    match userinfo::userinfo(&state.protocol(), &token).await {
        Ok(claims) => Ok(Json(claims)),
        Err(Refusal::InvalidToken(why)) => {
            tracing::info!(reason = why, "userinfo refused a token");
            let invalid = ("invalid_token", "the access token is invalid");
            Err(bearer_challenge(StatusCode::UNAUTHORIZED, Some(invalid)).into())
        }
        Err(Refusal::Internal(e)) => Err(ApiError::Failed(e.context("userinfo failed"))),
    }
}
