//! The admin API at `/admin/v1` (JSON): clients (and their client_credentials issuance),
//! initial access tokens for dynamic client registration, resource servers, users, sessions, events, keys. Callers present an access token from
//! `client_credentials` for audience `keyhaven-admin` with the scope `keyhaven:admin`. Every call
//! writes an `admin_action` security event naming the acting client.
//!
//! The OpenAPI 3 document at `/admin/v1/openapi.json` is generated (`utoipa`) from the very types
//! the handlers extract and answer with, so it cannot drift from them: request bodies are serde
//! structs, path and query parameters are the structs the extractors fill, and each bound (a
//! length, a count, a range) lives in one type that both enforces it and declares it. Bad JSON, a
//! wrong type, an unknown member or a value out of bounds is a 400 naming the field, never
//! axum's 415 or 422; a path that names nothing is a 404.

use std::fmt;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Path, Request};
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use super::extract::bearer_credential;
use super::ApiState;
use crate::crypto::keys::KeyError;
use crate::service::accounts::AccountError;
use crate::service::admin::{self, AdminRefusal, Operator};
use crate::service::clients::ClientError;
use crate::service::passkeys::PasskeyError;
use crate::service::resources::ResourceError;
use crate::storage::StoreError;

mod audit;
mod clients;
mod registration;
mod resources;
mod schema;
mod users;

pub use audit::{EventOut, EventQuery, KeyOut};
pub use clients::{
    Audiences, ClientChanges, ClientName, ClientOut, GrantTypes, IssuanceOut, NewClient, Permissions, RedirectUris,
    ScopeTokens,
};
pub use registration::{NewRegistrationToken, RegistrationTokenOut};
pub use resources::{NewResource, ResourceChanges, ResourceName, ResourceOut, ResourceUri};
pub use schema::{IdTokenAlg, Int, Limit, List, Offset, ProfileClaims, Text};
pub use users::{NewUser, PasskeyOut, Password, SessionOut, UserChanges, UserOut, UserQuery};

pub use crate::service::admin::{AUDIENCE, SCOPE};

// ---------------------------------------------------------------------------------------------
// Error bodies

/// A request field that is missing or wrong (400), or that conflicts with a stored record (409).
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    /// `invalid_request` (400) or `conflict` (409).
    #[schema(example = "invalid_request")]
    error: &'static str,
    /// The body member or query parameter at fault; `body` or `query` when the whole is.
    #[schema(example = "name")]
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            error: "invalid_request",
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl IntoResponse for FieldError {
    fn into_response(self) -> Response {
        let status = if self.error == "conflict" {
            StatusCode::CONFLICT
        } else {
            StatusCode::BAD_REQUEST
        };
        (status, Json(self)).into_response()
    }
}

/// Every other error: 401, 403, 404, 500, 503.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// `invalid_token` (401), `insufficient_scope` (403), `not_found` (404), `server_error`
    /// (500) or `temporarily_unavailable` (503).
    #[schema(example = "not_found")]
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'static str>,
}

/// Why an admin call failed; each variant is one answer of the API.
#[derive(Debug)]
pub enum AdminError {
    /// 400 (or 409) naming the field at fault.
    Field(FieldError),
    /// 401 with a Bearer challenge.
    Unauthorized(&'static str),
    /// 403: a valid token without the admin audience and scope.
    Forbidden,
    NotFound,
    /// 500, or 503 when the store is unavailable; the cause chain is logged, not sent.
    Failed(anyhow::Error),
}

impl AdminError {
    /// 400 naming the field at fault.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Field(FieldError::new(field, message))
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        match self {
            Self::Field(e) => e.into_response(),
            Self::Unauthorized(description) => {
                let mut response = error_body(StatusCode::UNAUTHORIZED, "invalid_token", Some(description));
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"keyhaven-admin\", error=\"invalid_token\""),
                );
                response
            }
            Self::Forbidden => error_body(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                Some("needs audience keyhaven-admin and scope keyhaven:admin"),
            ),
            Self::NotFound => error_body(StatusCode::NOT_FOUND, "not_found", None),
            Self::Failed(e) => crate::http::error::json_failure(e, "admin request failed"),
        }
    }
}

impl From<FieldError> for AdminError {
    fn from(e: FieldError) -> Self {
        Self::Field(e)
    }
}

impl From<AdminRefusal> for AdminError {
    fn from(e: AdminRefusal) -> Self {
        match e {
            AdminRefusal::Unauthorized(why) => Self::Unauthorized(why),
            AdminRefusal::Forbidden => Self::Forbidden,
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        Self::Failed(e.into())
    }
}

impl From<KeyError> for AdminError {
    fn from(e: KeyError) -> Self {
        Self::Failed(e.into())
    }
}

impl From<ClientError> for AdminError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Invalid { field, message } => Self::invalid(field, message),
            ClientError::NotFound => Self::NotFound,
            ClientError::Store(e) => e.into(),
        }
    }
}

impl From<ResourceError> for AdminError {
    fn from(e: ResourceError) -> Self {
        match e {
            ResourceError::Invalid { field, message } => Self::invalid(field, message),
            ResourceError::Taken => Self::Field(FieldError {
                error: "conflict",
                ..FieldError::new("uri", "a resource server with this URI is registered already")
            }),
            ResourceError::NotFound => Self::NotFound,
            ResourceError::Store(e) => e.into(),
        }
    }
}

impl From<PasskeyError> for AdminError {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::NotFound => Self::NotFound,
            PasskeyError::Store(e) => e.into(),
            other => Self::Failed(other.into()),
        }
    }
}

impl From<AccountError> for AdminError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid { field, message } => Self::invalid(field, message),
            AccountError::Taken => Self::Field(FieldError {
                error: "conflict",
                ..FieldError::new("username", "username or email taken")
            }),
            AccountError::NotFound => Self::NotFound,
            AccountError::Failed(e) => Self::Failed(e),
        }
    }
}

fn error_body(status: StatusCode, error: &'static str, description: Option<&'static str>) -> Response {
    (
        status,
        Json(ErrorBody {
            error,
            error_description: description,
        }),
    )
        .into_response()
}

/// Answers every operation may give; the variants only describe them in the document.
#[allow(dead_code)]
#[derive(IntoResponses)]
enum Refused {
    /// No bearer token, or one that is invalid, expired or revoked (`invalid_token`).
    #[response(status = 401, headers(("WWW-Authenticate" = String, description = "Bearer challenge")))]
    Unauthorized(ErrorBody),
    /// A valid token without the `keyhaven-admin` audience and `keyhaven:admin` scope
    /// (`insufficient_scope`).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Something failed inside (`server_error`); the details are logged, not sent.
    #[response(status = 500)]
    ServerError(ErrorBody),
    /// The store cannot be reached (`temporarily_unavailable`); try again.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// A field is missing, of the wrong type, unknown or out of bounds, or the body is not JSON.
#[allow(dead_code)]
#[derive(IntoResponses)]
#[response(status = 400)]
struct BadRequest(FieldError);

/// Nothing has this id (or the path names nothing).
#[allow(dead_code)]
#[derive(IntoResponses)]
#[response(status = 404)]
struct NotFound(ErrorBody);

// ---------------------------------------------------------------------------------------------
// Extractors: the operator, the path, the query and the body, each refused in the API's own shape

/// The client acting through the admin API: the first argument of every handler, so that the
/// token is checked (by the admin service) before anything else.
pub struct Admin(pub Operator);

impl<S: Send + Sync> FromRequestParts<S> for Admin
where
    ApiState: FromRef<S>,
{
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        let token = bearer_credential(&parts.headers).ok_or(AdminError::Unauthorized("a bearer token is required"))?;
        Ok(Self(admin::authorize(&ApiState::from_ref(state), token)?))
    }
}

impl Admin {
    /// Records what this call did, and to what.
    fn record(&self, state: &ApiState, action: &str, target: &str) {
        admin::record(state, &self.0, action, target);
    }
}

/// Path parameters; a path they do not fit names nothing, so it is a 404.
pub struct AdminPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AdminPath<T> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(_) => Err(AdminError::NotFound),
        }
    }
}

/// Query parameters, or a 400 naming the parameter.
pub struct AdminQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AdminQuery<T> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AdminError> {
        parse_query(parts.uri.query().unwrap_or_default())
            .map(Self)
            .map_err(AdminError::from)
    }
}

/// A JSON body, whatever its `Content-Type`, or a 400 naming the field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AdminError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AdminError> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| AdminError::invalid("body", e.body_text()))?;
        parse_body(&body).map(Self).map_err(AdminError::from)
    }
}

/// Parses a JSON request body into `T`; the error names the top-level member at fault.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, FieldError> {
    // serde lets a struct be read from an array of its members in order; only objects are bodies.
    if body.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) != Some(&b'{') {
        return Err(FieldError::new("body", "the body must be a JSON object"));
    }
    let mut json = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| field_error(&e, "body"))?;
    json.end()
        .map_err(|_| FieldError::new("body", "the body must be one JSON value"))?;
    Ok(value)
}

/// Parses a query string into `T`; the error names the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, FieldError> {
    let pairs = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(pairs).map_err(|e| field_error(&e, "query"))
}

fn field_error<E: fmt::Display>(e: &serde_path_to_error::Error<E>, whole: &str) -> FieldError {
    let message = e.inner().to_string();
    let field = match e.path().iter().next() {
        Some(serde_path_to_error::Segment::Map { key }) => key.as_str(),
        // A missing or unknown member is reported at the level above it; serde names it.
        _ => ["missing field `", "unknown field `", "duplicate field `"]
            .iter()
            .find_map(|lead| message.strip_prefix(lead))
            .and_then(|rest| rest.split_once('`'))
            .map_or(whole, |(name, _)| name),
    };
    // A member named "" names nothing a caller could fix: the body (or query) is at fault.
    FieldError::new(if field.is_empty() { whole } else { field }, message.as_str())
}

// ---------------------------------------------------------------------------------------------
// The document and the routes

/// Declares the bearer token every operation needs.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "admin_token",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some(
                            "An access token from client_credentials with audience keyhaven-admin and \
                         scope keyhaven:admin.",
                        ))
                        .build(),
                ),
            );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Keyhaven admin API", version = "1"),
    paths(
        clients::list_clients,
        clients::create_client,
        clients::get_client,
        clients::update_client,
        clients::rotate_client_secret,
        clients::delete_client,
        clients::client_issuance,
        resources::list_resources,
        resources::create_resource,
        resources::get_resource,
        resources::update_resource,
        resources::delete_resource,
        users::list_users,
        users::create_user,
        users::get_user,
        users::update_user,
        users::user_action,
        users::list_sessions,
        users::revoke_session,
        users::list_passkeys,
        users::delete_passkey,
        audit::list_events,
        audit::list_keys,
        audit::rotate_keys,
        registration::create_registration_token
    ),
    components(schemas(ClientOut, IssuanceOut, ResourceOut, UserOut, SessionOut, PasskeyOut, EventOut, KeyOut, FieldError, ErrorBody, RegistrationTokenOut)),
    modifiers(&BearerToken),
    security(("admin_token" = []))
)]
pub struct AdminApi;

async fn openapi() -> Response {
    Json(AdminApi::openapi()).into_response()
}

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    ApiState: FromRef<S>,
{
    Router::new()
        .route("/admin/v1/openapi.json", get(openapi))
        .route(
            "/admin/v1/clients",
            get(clients::list_clients).post(clients::create_client),
        )
        .route(
            "/admin/v1/clients/{id}",
            get(clients::get_client)
                .patch(clients::update_client)
                .delete(clients::delete_client),
        )
        .route("/admin/v1/clients/{id}/secret", post(clients::rotate_client_secret))
        .route("/admin/v1/clients/{id}/issuance", get(clients::client_issuance))
        .route(
            "/admin/v1/resources",
            get(resources::list_resources).post(resources::create_resource),
        )
        .route(
            "/admin/v1/resources/{uri}",
            get(resources::get_resource)
                .patch(resources::update_resource)
                .delete(resources::delete_resource),
        )
        .route("/admin/v1/users", get(users::list_users).post(users::create_user))
        .route("/admin/v1/users/{id}", get(users::get_user).patch(users::update_user))
        .route("/admin/v1/users/{id}/sessions", get(users::list_sessions))
        .route("/admin/v1/users/{id}/passkeys", get(users::list_passkeys))
        .route(
            "/admin/v1/users/{id}/passkeys/{credential_id}",
            delete(users::delete_passkey),
        )
        .route("/admin/v1/users/{id}/{action}", post(users::user_action))
        .route("/admin/v1/sessions/{sid}", delete(users::revoke_session))
        .route("/admin/v1/events", get(audit::list_events))
        .route("/admin/v1/keys", get(audit::list_keys))
        .route("/admin/v1/keys/rotate", post(audit::rotate_keys))
        .route(
            "/admin/v1/registration-tokens",
            post(registration::create_registration_token),
        )
}
