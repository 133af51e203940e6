//! `POST /register` (RFC 7591) and `GET`/`PUT`/`DELETE /register/{client_id}` (RFC 7592):
//! the JSON in, one call to `service::registration`, the answer. Mounted only when
//! `client_registration` is not `off`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::error::json_failure;
use super::extract::{bearer_challenge, bearer_credential};
use super::ApiState;
use crate::protocol::registration::{client_information, ClientMetadata, MetadataError};
use crate::service::registration::{self, RegistrationRefusal};
use crate::service::Peer;

/// `POST /register`: a client registers itself; 201 with its client information, its secret
/// (secret methods only) and its registration access token.
pub async fn register(State(services): State<ApiState>, peer: Peer, headers: HeaderMap, body: Bytes) -> Response {
    let metadata = match metadata(&headers, &body) {
        Ok(metadata) => metadata,
        Err(refusal) => return refusal.into_response(),
    };
    let made = match registration::register(&services, bearer_credential(&headers), &metadata, &peer).await {
        Ok(made) => made,
        Err(refusal) => return refused(refusal),
    };
    let uri = registration::registration_client_uri(&services, made.client.id.as_str());
    let mut info = client_information(&made.client, &uri);
    if let Some(secret) = &made.secret {
        info.insert("client_secret".into(), json!(secret.expose()));
        info.insert("client_secret_expires_at".into(), json!(0));
    }
    info.insert(
        "registration_access_token".into(),
        json!(made.registration_access_token.expose()),
    );
    (StatusCode::CREATED, Json(Value::Object(info))).into_response()
}

/// `GET /register/{client_id}`: the client's registration as it is now.
pub async fn read(
    State(services): State<ApiState>,
    Path(client_id): Path<String>,
    peer: Peer,
    headers: HeaderMap,
) -> Response {
    let token = bearer_credential(&headers);
    match registration::read(&services, &client_id, token, &peer).await {
        Ok(client) => information(&services, &client, token),
        Err(refusal) => refused(refusal),
    }
}

/// `PUT /register/{client_id}`: replaces the registration (the secret is kept).
pub async fn update(
    State(services): State<ApiState>,
    Path(client_id): Path<String>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let metadata = match metadata(&headers, &body) {
        Ok(metadata) => metadata,
        Err(refusal) => return refusal.into_response(),
    };
    let token = bearer_credential(&headers);
    match registration::update(&services, &client_id, token, &metadata, &peer).await {
        Ok(client) => information(&services, &client, token),
        Err(refusal) => refused(refusal),
    }
}

/// `DELETE /register/{client_id}`: the client is gone; 204.
pub async fn delete(
    State(services): State<ApiState>,
    Path(client_id): Path<String>,
    peer: Peer,
    headers: HeaderMap,
) -> Response {
    match registration::delete(&services, &client_id, bearer_credential(&headers), &peer).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(refusal) => refused(refusal),
    }
}

/// The client information of RFC 7592 §3; the registration access token is the one the
/// client just showed (it does not change).
fn information(services: &ApiState, client: &crate::domain::client::Client, token: Option<&str>) -> Response {
    let uri = registration::registration_client_uri(services, client.id.as_str());
    let mut info = client_information(client, &uri);
    if let Some(token) = token {
        info.insert("registration_access_token".into(), json!(token));
    }
    Json(Value::Object(info)).into_response()
}

/// Why a body is not client metadata.
enum BodyRefusal {
    NotJson,
    Metadata(MetadataError),
}

impl IntoResponse for BodyRefusal {
    fn into_response(self) -> Response {
        match self {
            Self::NotJson => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(json!({
                    "error": "invalid_client_metadata",
                    "error_description": "the body must be application/json",
                })),
            )
                .into_response(),
            Self::Metadata(e) => metadata_error(&e),
        }
    }
}

/// The body as client metadata: `application/json` only, at most 16 KiB.
fn metadata(headers: &HeaderMap, body: &[u8]) -> Result<ClientMetadata, BodyRefusal> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(BodyRefusal::NotJson);
    }
    ClientMetadata::from_json(body).map_err(BodyRefusal::Metadata)
}

fn metadata_error(e: &MetadataError) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": e.code.as_str(), "error_description": e.description })),
    )
        .into_response()
}

fn refused(refusal: RegistrationRefusal) -> Response {
    match refusal {
        RegistrationRefusal::Off => (StatusCode::NOT_FOUND, Json(json!({ "error": "not_found" }))).into_response(),
        RegistrationRefusal::InvalidToken(why) => {
            bearer_challenge(StatusCode::UNAUTHORIZED, Some(("invalid_token", why)))
        }
        RegistrationRefusal::Metadata(e) => metadata_error(&e),
        RegistrationRefusal::Full => (
            StatusCode::FORBIDDEN,
            Json(json!({
                "error": "access_denied",
                "error_description": "this server takes no more self-registered clients",
            })),
        )
            .into_response(),
        RegistrationRefusal::Store(e) => json_failure(e, "client registration"),
    }
}
