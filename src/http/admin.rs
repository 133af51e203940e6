//! The admin API at `/admin/v1` (JSON): clients, users, sessions, events, keys. Callers present
//! an access token from `client_credentials` for audience `keyhaven-admin` with the scope
//! `keyhaven:admin`. Every call writes an `admin_action` security event naming the acting client.
//!
//! The OpenAPI 3 document at `/admin/v1/openapi.json` is generated (`utoipa`) from the very types
//! the handlers extract and answer with, so it cannot drift from them: request bodies are serde
//! structs, path and query parameters are the structs the extractors fill, and each bound (a
//! length, a count, a range) lives in one type that both enforces it and declares it. Bad JSON, a
//! wrong type, an unknown member or a value out of bounds is a 400 naming the field, never
//! axum's 415 or 422; a path that names nothing is a 404.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::SecretString;
use serde::de::{DeserializeOwned, Error as _, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};

use super::ApiState;
use crate::crypto::keys::{KeyState, KeySummary};
use crate::crypto::tokens::{prefix, random_base64url, OpaqueSecret};
use crate::domain::client::{Client, ClientRegistration, ClientType, GrantType, Permission, RedirectUri};
use crate::domain::event::{EventFilter, Outcome, SecurityEvent};
use crate::domain::scope::ScopeSet;
use crate::domain::user::{is_settable_claim, scope_claims, Email, User, Username, CLAIM_SCOPES};
use crate::domain::SigningAlg;
use crate::protocol::{access_token, revocation};
use crate::service::accounts::{self, AccountError, Actor, NewAccount};
use crate::storage::StoreError;

pub const AUDIENCE: &str = "keyhaven-admin";
pub const SCOPE: &str = "keyhaven:admin";

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

/// 400 naming the field at fault.
fn invalid(field: &str, message: impl Into<String>) -> Response {
    FieldError::new(field, message).into_response()
}

fn not_found() -> Response {
    error_body(StatusCode::NOT_FOUND, "not_found", None)
}

/// The store failed: 503 when it is unavailable (so an operator's script retries), else 500.
/// The chain is logged.
fn unavailable(e: StoreError) -> Response {
    internal(e)
}

fn internal(e: impl Into<anyhow::Error>) -> Response {
    crate::http::error::json_failure(e, "admin request failed")
}

fn unauthorized(description: &'static str) -> Response {
    let mut response = error_body(StatusCode::UNAUTHORIZED, "invalid_token", Some(description));
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"keyhaven-admin\", error=\"invalid_token\""),
    );
    response
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
// Extractors: the admin, the path, the query and the body, each refused in the API's own shape

/// The client acting through the admin API.
pub struct Admin {
    client_id: String,
}

/// Checks the bearer token: 401 without a valid one, 403 without the admin audience and scope.
async fn admin(state: &ApiState, headers: &HeaderMap) -> Result<Admin, Response> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("a bearer token is required"))?;
    let ctx = state.protocol();
    let claims = access_token::validate(&ctx, token.trim()).map_err(|_| unauthorized("the token is invalid"))?;
    if ctx.revocations.is_revoked(&claims) {
        return Err(unauthorized("the token is revoked"));
    }
    if !claims.audience.iter().any(|a| a == AUDIENCE) || !claims.has_scope(SCOPE) {
        return Err(error_body(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            Some("needs audience keyhaven-admin and scope keyhaven:admin"),
        ));
    }
    Ok(Admin {
        client_id: claims.client_id,
    })
}

/// The first argument of every handler, so that the token is checked before anything else.
impl<S: Send + Sync> FromRequestParts<S> for Admin
where
    ApiState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        admin(&ApiState::from_ref(state), &parts.headers).await
    }
}

/// Path parameters; a path they do not fit names nothing, so it is a 404.
pub struct AdminPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AdminPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(_) => Err(not_found()),
        }
    }
}

/// Query parameters, or a 400 naming the parameter.
pub struct AdminQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AdminQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        parse_query(parts.uri.query().unwrap_or_default())
            .map(Self)
            .map_err(IntoResponse::into_response)
    }
}

/// A JSON body, whatever its `Content-Type`, or a 400 naming the field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| invalid("body", e.body_text()))?;
        parse_body(&body).map(Self).map_err(IntoResponse::into_response)
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

macro_rules! or_respond {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(response) => return response.into_response(),
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Bounded values: each type enforces its bounds when deserialized and declares them in its schema

fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// A string of `MIN` to `MAX` characters (Unicode scalar values, as JSON Schema counts them).
pub struct Text<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    pub const MIN_CHARS: usize = MIN;
    pub const MAX_CHARS: usize = MAX;

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn into_string(self) -> String {
        self.0
    }
}

impl<'de, const MIN: usize, const MAX: usize> Deserialize<'de> for Text<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let length = text.chars().count();
        if !(MIN..=MAX).contains(&length) {
            return Err(D::Error::custom(format!("must be {MIN} to {MAX} characters")));
        }
        Ok(Self(text))
    }
}

impl<const MIN: usize, const MAX: usize> PartialSchema for Text<MIN, MAX> {
    fn schema() -> RefOr<Schema> {
        string_schema().min_length(Some(MIN)).max_length(Some(MAX)).into()
    }
}

impl<const MIN: usize, const MAX: usize> ToSchema for Text<MIN, MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Text{MIN}to{MAX}"))
    }
}

/// A list of at most `MAX` items; refused as soon as the item past the bound is read.
pub struct List<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> List<T, MAX> {
    pub const MAX_ITEMS: usize = MAX;

    pub fn items(&self) -> &[T] {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for List<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Items<T, const MAX: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for Items<T, MAX> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a list of at most {MAX} items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    if items.len() == MAX {
                        return Err(A::Error::custom(format!("must have at most {MAX} items")));
                    }
                    items.push(item);
                }
                Ok(items)
            }
        }
        deserializer.deserialize_seq(Items::<T, MAX>(PhantomData)).map(Self)
    }
}

impl<T: PartialSchema, const MAX: usize> PartialSchema for List<T, MAX> {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new().items(T::schema()).max_items(Some(MAX)).into()
    }
}

impl<T: PartialSchema, const MAX: usize> ToSchema for List<T, MAX> {}

/// A whole number from `MIN` to `MAX`.
pub struct Int<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Int<MIN, MAX> {
    pub const MIN_VALUE: i64 = MIN;
    pub const MAX_VALUE: i64 = MAX;

    pub fn get(&self) -> i64 {
        self.0
    }
}

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Int<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(deserializer)?;
        if !(MIN..=MAX).contains(&value) {
            return Err(D::Error::custom(format!("must be {MIN} to {MAX}")));
        }
        Ok(Self(value))
    }
}

impl<const MIN: i64, const MAX: i64> PartialSchema for Int<MIN, MAX> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(MIN))
            .maximum(Some(MAX))
            .into()
    }
}

impl<const MIN: i64, const MAX: i64> ToSchema for Int<MIN, MAX> {}

/// How many items a page holds: 1 to 1000, 50 when not given.
pub type Limit = Int<1, 1000>;
/// How many items to skip: 0 to 1,000,000 (an SQL `OFFSET` costs what it skips).
pub type Offset = Int<0, 1_000_000>;

impl Default for Int<1, 1000> {
    fn default() -> Self {
        Self(50)
    }
}

impl Default for Int<0, 1_000_000> {
    fn default() -> Self {
        Self(0)
    }
}

/// A string enum's schema, from the values serde writes for `all` (so the two cannot differ).
fn enum_schema<T: Serialize>(all: &[T], description: &str) -> RefOr<Schema> {
    string_schema()
        .enum_values(Some(all.iter().filter_map(|v| serde_json::to_value(v).ok())))
        .description(Some(description))
        .into()
}

/// Every variant of the domain's enums; the `match`es fail to compile when one is added.
const CLIENT_TYPES: [ClientType; 2] = [ClientType::Confidential, ClientType::Public];
const PERMISSIONS: [Permission; 1] = [Permission::Introspect];
const KEY_STATES: [KeyState; 3] = [KeyState::Next, KeyState::Active, KeyState::Retired];
#[allow(dead_code)]
fn every_variant_is_listed(t: ClientType, p: Permission, s: KeyState) {
    match t {
        ClientType::Confidential | ClientType::Public => {}
    }
    match p {
        Permission::Introspect => {}
    }
    match s {
        KeyState::Next | KeyState::Active | KeyState::Retired => {}
    }
}

impl PartialSchema for GrantType {
    fn schema() -> RefOr<Schema> {
        enum_schema(&GrantType::ALL, "An OAuth grant (no implicit, no password grant).")
    }
}
impl ToSchema for GrantType {}

impl PartialSchema for ClientType {
    fn schema() -> RefOr<Schema> {
        enum_schema(&CLIENT_TYPES, "RFC 6749 client type; a public client has no secret.")
    }
}
impl ToSchema for ClientType {}

impl PartialSchema for Permission {
    fn schema() -> RefOr<Schema> {
        enum_schema(&PERMISSIONS, "What a client may do beyond OAuth grants.")
    }
}
impl ToSchema for Permission {}

impl PartialSchema for SigningAlg {
    fn schema() -> RefOr<Schema> {
        enum_schema(&SigningAlg::ALL, "JWS signing algorithm.")
    }
}
impl ToSchema for SigningAlg {}

impl PartialSchema for KeyState {
    fn schema() -> RefOr<Schema> {
        enum_schema(
            &KEY_STATES,
            "next (published, not signing), active (signs), retired (published)",
        )
    }
}
impl ToSchema for KeyState {}

/// A redirect URI as [`RedirectUri::parse`] accepts it, of at most 2000 characters.
pub struct Uri(pub RedirectUri);

impl Uri {
    pub const MAX_CHARS: usize = 2000;
}

impl<'de> Deserialize<'de> for Uri {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Text::<1, { Uri::MAX_CHARS }>::deserialize(deserializer)?;
        RedirectUri::parse(raw.as_str()).map(Self).map_err(D::Error::custom)
    }
}

impl PartialSchema for Uri {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .format(Some(SchemaFormat::Custom("uri".into())))
            .min_length(Some(1))
            .max_length(Some(Self::MAX_CHARS))
            .description(Some(
                "Absolute, no fragment: https, http only to a loopback host, or a private-use \
                 scheme with a period (RFC 8252).",
            ))
            .into()
    }
}
impl ToSchema for Uri {}

/// One RFC 6749 §3.3 scope token: visible ASCII but `"` and `\`.
pub struct ScopeToken(pub String);

impl ScopeToken {
    pub const MAX_CHARS: usize = 128;
    pub const PATTERN: &'static str = r"^[!#-\[\]-~]+$";
}

impl<'de> Deserialize<'de> for ScopeToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let token = Text::<1, { ScopeToken::MAX_CHARS }>::deserialize(deserializer)?.into_string();
        if !token
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
        {
            return Err(D::Error::custom(
                "a scope token is visible ASCII other than '\"' and '\\'",
            ));
        }
        Ok(Self(token))
    }
}

impl PartialSchema for ScopeToken {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .min_length(Some(1))
            .max_length(Some(Self::MAX_CHARS))
            .pattern(Some(Self::PATTERN))
            .into()
    }
}
impl ToSchema for ScopeToken {}

/// An audience (resource server identifier): no white space.
pub struct Audience(pub String);

impl Audience {
    pub const MAX_CHARS: usize = 512;
    pub const PATTERN: &'static str = r"^\S+$";
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let audience = Text::<1, { Audience::MAX_CHARS }>::deserialize(deserializer)?.into_string();
        if audience.chars().any(char::is_whitespace) {
            return Err(D::Error::custom("an audience has no white space"));
        }
        Ok(Self(audience))
    }
}

impl PartialSchema for Audience {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .min_length(Some(1))
            .max_length(Some(Self::MAX_CHARS))
            .pattern(Some(Self::PATTERN))
            .into()
    }
}
impl ToSchema for Audience {}

/// A username as [`Username::parse`] accepts it (at most 64 characters as sent, too).
pub struct UsernameIn(pub Username);

impl<'de> Deserialize<'de> for UsernameIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Text::<1, 64>::deserialize(deserializer)?;
        Username::parse(raw.as_str()).map(Self).map_err(D::Error::custom)
    }
}

impl PartialSchema for UsernameIn {
    fn schema() -> RefOr<Schema> {
        Text::<1, 64>::schema()
    }
}
impl ToSchema for UsernameIn {}

/// An email address as [`Email::parse`] accepts it.
pub struct EmailIn(pub Email);

impl<'de> Deserialize<'de> for EmailIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Text::<3, 254>::deserialize(deserializer)?;
        Email::parse(raw.as_str()).map(Self).map_err(D::Error::custom)
    }
}

impl PartialSchema for EmailIn {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .format(Some(SchemaFormat::Custom("email".into())))
            .min_length(Some(3))
            .max_length(Some(254))
            .into()
    }
}
impl ToSchema for EmailIn {}

/// Profile claims an operator may set (OIDC Core §5.1 names, not those kept in columns of their
/// own), each a string of at most 1000 characters; any other name is refused.
pub struct ProfileClaims(pub BTreeMap<String, String>);

impl ProfileClaims {
    pub const MAX_CHARS: usize = 1000;

    pub fn settable() -> impl Iterator<Item = &'static str> {
        CLAIM_SCOPES
            .iter()
            .flat_map(|scope| scope_claims(scope).iter().copied())
            .filter(|name| is_settable_claim(name))
    }
}

impl<'de> Deserialize<'de> for ProfileClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Claims;
        impl<'de> Visitor<'de> for Claims {
            type Value = BTreeMap<String, String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of profile claims")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut claims = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    if !is_settable_claim(&name) {
                        return Err(A::Error::custom(format!("{name} is not a profile claim")));
                    }
                    let value = map.next_value::<Text<0, { ProfileClaims::MAX_CHARS }>>()?;
                    if claims.insert(name, value.into_string()).is_some() {
                        return Err(A::Error::custom("a claim is given twice"));
                    }
                }
                Ok(claims)
            }
        }
        deserializer.deserialize_map(Claims).map(Self)
    }
}

impl PartialSchema for ProfileClaims {
    fn schema() -> RefOr<Schema> {
        let value = Text::<0, { ProfileClaims::MAX_CHARS }>::schema();
        Self::settable()
            .fold(ObjectBuilder::new(), |object, name| {
                object.property(name, value.clone())
            })
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}
impl ToSchema for ProfileClaims {}

// ---------------------------------------------------------------------------------------------
// Clients

/// A client as the admin API shows it (never its secret, but once when made or rotated).
#[derive(Serialize, ToSchema)]
pub struct ClientOut {
    client_id: String,
    name: String,
    client_type: ClientType,
    redirect_uris: Vec<String>,
    grant_types: Vec<GrantType>,
    /// Space-separated; null when any scope may be asked for.
    scopes: Option<String>,
    audiences: Vec<String>,
    first_party: bool,
    id_token_alg: SigningAlg,
    post_logout_redirect_uris: Vec<String>,
    permissions: Vec<Permission>,
    introspect_any_audience: bool,
    created_at: i64,
    updated_at: i64,
    /// Only in the answer that created or rotated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    /// What the registration allows but was probably not meant (answers to create and update).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

impl ClientOut {
    fn of(c: &Client, secret: Option<&OpaqueSecret>) -> Self {
        Self {
            client_id: c.id.clone(),
            name: c.name.clone(),
            client_type: c.client_type,
            redirect_uris: c.redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            grant_types: c.grant_types.clone(),
            scopes: c.scopes.as_ref().map(ToString::to_string),
            audiences: c.audiences.clone(),
            first_party: c.first_party,
            id_token_alg: c.id_token_alg,
            post_logout_redirect_uris: c
                .post_logout_redirect_uris
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect(),
            permissions: c.permissions.clone(),
            introspect_any_audience: c.introspect_any_audience,
            created_at: c.created_at,
            updated_at: c.updated_at,
            client_secret: secret.map(|s| s.expose().to_owned()),
            warnings: Vec::new(),
        }
    }
}

pub type ClientName = Text<1, 200>;
pub type RedirectUris = List<Uri, 20>;
pub type GrantTypes = List<GrantType, 3>;
pub type ScopeTokens = List<ScopeToken, 50>;
pub type Audiences = List<Audience, 20>;
pub type Permissions = List<Permission, 1>;

/// A new client. Members left out take their defaults: confidential, the authorization_code
/// and refresh_token grants, any scope, no audience, RS256 ID tokens.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "name": "Shop", "redirect_uris": ["https://shop.example/cb"],
    "scopes": ["openid", "email"], "audiences": ["https://api.shop.example"] }))]
pub struct NewClient {
    #[schema(inline)]
    pub name: ClientName,
    #[serde(default)]
    pub client_type: Option<ClientType>,
    #[serde(default)]
    #[schema(inline)]
    pub redirect_uris: Option<RedirectUris>,
    #[serde(default)]
    #[schema(inline)]
    pub grant_types: Option<GrantTypes>,
    /// The scopes the client may ask for; empty or left out: any.
    #[serde(default)]
    #[schema(inline)]
    pub scopes: Option<ScopeTokens>,
    /// Resource servers its access tokens may be for; the first is the default.
    #[serde(default)]
    #[schema(inline)]
    pub audiences: Option<Audiences>,
    #[serde(default)]
    pub first_party: Option<bool>,
    #[serde(default)]
    pub id_token_alg: Option<SigningAlg>,
    #[serde(default)]
    #[schema(inline)]
    pub post_logout_redirect_uris: Option<RedirectUris>,
    #[serde(default)]
    #[schema(inline)]
    pub permissions: Option<Permissions>,
    #[serde(default)]
    pub introspect_any_audience: Option<bool>,
}

/// Changes to a client: only the members given change. `client_type` cannot change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientChanges {
    #[serde(default)]
    #[schema(inline)]
    pub name: Option<ClientName>,
    #[serde(default)]
    pub client_type: Option<ClientType>,
    #[serde(default)]
    #[schema(inline)]
    pub redirect_uris: Option<RedirectUris>,
    #[serde(default)]
    #[schema(inline)]
    pub grant_types: Option<GrantTypes>,
    /// The scopes the client may ask for; empty: any.
    #[serde(default)]
    #[schema(inline)]
    pub scopes: Option<ScopeTokens>,
    #[serde(default)]
    #[schema(inline)]
    pub audiences: Option<Audiences>,
    #[serde(default)]
    pub first_party: Option<bool>,
    #[serde(default)]
    pub id_token_alg: Option<SigningAlg>,
    #[serde(default)]
    #[schema(inline)]
    pub post_logout_redirect_uris: Option<RedirectUris>,
    #[serde(default)]
    #[schema(inline)]
    pub permissions: Option<Permissions>,
    #[serde(default)]
    pub introspect_any_audience: Option<bool>,
}

impl From<NewClient> for ClientChanges {
    fn from(c: NewClient) -> Self {
        Self {
            name: Some(c.name),
            client_type: c.client_type,
            redirect_uris: c.redirect_uris,
            grant_types: c.grant_types,
            scopes: c.scopes,
            audiences: c.audiences,
            first_party: c.first_party,
            id_token_alg: c.id_token_alg,
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            permissions: c.permissions,
            introspect_any_audience: c.introspect_any_audience,
        }
    }
}

fn uris(list: RedirectUris) -> Vec<RedirectUri> {
    list.0.into_iter().map(|u| u.0).collect()
}

impl ClientChanges {
    /// Applies the members given to a registration, then checks the rules across fields.
    pub fn apply(self, reg: &mut ClientRegistration) -> Result<(), FieldError> {
        if let Some(name) = self.name {
            reg.name = name.into_string();
        }
        if let Some(client_type) = self.client_type {
            reg.client_type = client_type;
        }
        if let Some(list) = self.redirect_uris {
            reg.redirect_uris = uris(list);
        }
        if let Some(grants) = self.grant_types {
            reg.grant_types = grants.0;
        }
        if let Some(scopes) = self.scopes {
            reg.scopes = if scopes.0.is_empty() {
                None
            } else {
                Some(
                    ScopeSet::from_tokens(scopes.0.iter().map(|t| t.0.as_str()))
                        .map_err(|e| FieldError::new("scopes", e.to_string()))?,
                )
            };
        }
        if let Some(audiences) = self.audiences {
            reg.audiences = audiences.0.into_iter().map(|a| a.0).collect();
        }
        if let Some(first_party) = self.first_party {
            reg.first_party = first_party;
        }
        if let Some(alg) = self.id_token_alg {
            reg.id_token_alg = alg;
        }
        if let Some(list) = self.post_logout_redirect_uris {
            reg.post_logout_redirect_uris = uris(list);
        }
        if let Some(permissions) = self.permissions {
            reg.permissions = permissions.0;
        }
        if let Some(any) = self.introspect_any_audience {
            reg.introspect_any_audience = any;
        }
        reg.validate().map_err(|e| {
            let field = if e.contains("name") {
                "name"
            } else if e.contains("redirect") {
                "redirect_uris"
            } else if e.contains("audience") {
                "audiences"
            } else if e.contains("permission") {
                "permissions"
            } else {
                "grant_types"
            };
            FieldError::new(field, e)
        })
    }
}

/// The registration a new client starts from.
pub fn default_registration() -> ClientRegistration {
    ClientRegistration {
        name: String::new(),
        client_type: ClientType::Confidential,
        redirect_uris: vec![],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: None,
        audiences: vec![],
        first_party: false,
        id_token_alg: SigningAlg::Rs256,
        post_logout_redirect_uris: vec![],
        permissions: vec![],
        introspect_any_audience: false,
    }
}

fn registration_of(c: &Client) -> ClientRegistration {
    ClientRegistration {
        name: c.name.clone(),
        client_type: c.client_type,
        redirect_uris: c.redirect_uris.clone(),
        grant_types: c.grant_types.clone(),
        scopes: c.scopes.clone(),
        audiences: c.audiences.clone(),
        first_party: c.first_party,
        id_token_alg: c.id_token_alg,
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        permissions: c.permissions.clone(),
        introspect_any_audience: c.introspect_any_audience,
    }
}

/// The client named in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClientPath {
    /// The client's id.
    pub id: String,
}

#[utoipa::path(get, path = "/admin/v1/clients", responses(
    (status = 200, description = "Every client", body = [ClientOut]), Refused))]
async fn list_clients(admin: Admin, State(state): State<ApiState>) -> Response {
    record(&state, &admin, "list", "clients");
    match state.store.list_clients().await {
        Ok(clients) => Json(clients.iter().map(|c| ClientOut::of(c, None)).collect::<Vec<_>>()).into_response(),
        Err(e) => unavailable(e),
    }
}

#[utoipa::path(post, path = "/admin/v1/clients", request_body = NewClient, responses(
    (status = 201, description = "Made; the answer holds its secret, once", body = ClientOut),
    BadRequest, Refused))]
async fn create_client(admin: Admin, State(state): State<ApiState>, JsonBody(new): JsonBody<NewClient>) -> Response {
    let mut reg = default_registration();
    or_respond!(ClientChanges::from(new).apply(&mut reg));
    let warnings = reg.warnings();
    let secret = (reg.client_type == ClientType::Confidential).then(|| OpaqueSecret::generate(prefix::CLIENT_SECRET));
    let client = reg.into_client(
        format!("khc-{}", random_base64url(16)),
        secret.as_ref().map(|s| s.hash().as_str().to_owned()),
        state.clock.now(),
    );
    if let Err(e) = state.store.insert_client(&client).await {
        return unavailable(e);
    }
    record(&state, &admin, "create client", &client.id);
    let out = ClientOut {
        warnings,
        ..ClientOut::of(&client, secret.as_ref())
    };
    (StatusCode::CREATED, Json(out)).into_response()
}

async fn find_client(state: &ApiState, id: &str) -> Result<Client, Response> {
    match state.store.find_client(id).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(not_found()),
        Err(e) => Err(unavailable(e)),
    }
}

#[utoipa::path(get, path = "/admin/v1/clients/{id}", params(ClientPath), responses(
    (status = 200, description = "The client", body = ClientOut), NotFound, Refused))]
async fn get_client(admin: Admin, State(state): State<ApiState>, AdminPath(path): AdminPath<ClientPath>) -> Response {
    let client = or_respond!(find_client(&state, &path.id).await);
    record(&state, &admin, "get client", &path.id);
    Json(ClientOut::of(&client, None)).into_response()
}

#[utoipa::path(patch, path = "/admin/v1/clients/{id}", params(ClientPath), request_body = ClientChanges, responses(
    (status = 200, description = "The changed client", body = ClientOut), BadRequest, NotFound, Refused))]
async fn update_client(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<ClientPath>,
    JsonBody(changes): JsonBody<ClientChanges>,
) -> Response {
    let id = path.id;
    let client = or_respond!(find_client(&state, &id).await);
    let mut reg = registration_of(&client);
    or_respond!(changes.apply(&mut reg));
    if reg.client_type != client.client_type {
        return invalid("client_type", "cannot change; create a new client");
    }
    let warnings = reg.warnings();
    let mut updated = reg.into_client(client.id.clone(), client.secret_hash.clone(), client.created_at);
    updated.updated_at = state.clock.now();
    if let Err(e) = state.store.update_client(&updated).await {
        return unavailable(e);
    }
    record(&state, &admin, "update client", &id);
    Json(ClientOut {
        warnings,
        ..ClientOut::of(&updated, None)
    })
    .into_response()
}

#[utoipa::path(post, path = "/admin/v1/clients/{id}/secret", params(ClientPath), responses(
    (status = 200, description = "The client with its new secret, once", body = ClientOut),
    BadRequest, NotFound, Refused))]
async fn rotate_client_secret(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<ClientPath>,
) -> Response {
    let id = path.id;
    let client = or_respond!(find_client(&state, &id).await);
    if client.client_type != ClientType::Confidential {
        return invalid("client_type", "a public client has no secret");
    }
    let secret = OpaqueSecret::generate(prefix::CLIENT_SECRET);
    if let Err(e) = state
        .store
        .set_client_secret(&id, secret.hash().as_str(), state.clock.now())
        .await
    {
        return unavailable(e);
    }
    record(&state, &admin, "rotate secret of client", &id);
    Json(ClientOut::of(&client, Some(&secret))).into_response()
}

#[utoipa::path(delete, path = "/admin/v1/clients/{id}", params(ClientPath), responses(
    (status = 204, description = "Deleted"), NotFound, Refused))]
async fn delete_client(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<ClientPath>,
) -> Response {
    match state.store.delete_client(&path.id).await {
        Ok(true) => {
            record(&state, &admin, "delete client", &path.id);
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => not_found(),
        Err(e) => unavailable(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Users and their sessions

/// A person as the admin API shows them (never a hash or secret).
#[derive(Serialize, ToSchema)]
pub struct UserOut {
    id: String,
    username: String,
    email: String,
    email_verified: bool,
    disabled: bool,
    totp: bool,
    claims: BTreeMap<String, String>,
    created_at: i64,
    updated_at: i64,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            disabled: u.disabled,
            totp: u.has_totp(),
            claims: u.claims.clone(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A page of people, in username order.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of a username or email.
    #[param(inline)]
    pub search: Option<Text<0, 200>>,
    /// How many to skip (0 when left out); more than 1,000,000 is a 400 naming `offset`.
    #[serde(default)]
    #[param(inline)]
    pub offset: Offset,
    /// How many to answer (50 when left out); outside 1 to 1000 is a 400 naming `limit`,
    /// never clamped.
    #[serde(default)]
    #[param(inline)]
    pub limit: Limit,
}

#[utoipa::path(get, path = "/admin/v1/users", params(UserQuery), responses(
    (status = 200, description = "A page of people", body = [UserOut]), BadRequest, Refused))]
async fn list_users(admin: Admin, State(state): State<ApiState>, AdminQuery(q): AdminQuery<UserQuery>) -> Response {
    record(&state, &admin, "list", "users");
    let search = q.search.as_ref().map(Text::as_str);
    match state.store.search_users(search, q.offset.get(), q.limit.get()).await {
        Ok(users) => Json(users.iter().map(UserOut::from).collect::<Vec<_>>()).into_response(),
        Err(e) => unavailable(e),
    }
}

/// A person's password: the policy also refuses common ones and the username or email.
pub type Password = Text<12, 256>;

/// A new person. The password must pass the password policy.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "username": "bob", "email": "bob@example.com",
    "password": "violet kettle marmalade", "claims": { "name": "Bob" } }))]
pub struct NewUser {
    #[schema(inline)]
    pub username: UsernameIn,
    #[schema(inline)]
    pub email: EmailIn,
    #[schema(inline)]
    pub password: Password,
    #[serde(default)]
    #[schema(inline)]
    pub claims: Option<ProfileClaims>,
}

/// Changes to a person: only the members given change; `claims` replaces them all.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    #[serde(default)]
    #[schema(inline)]
    pub email: Option<EmailIn>,
    #[serde(default)]
    #[schema(inline)]
    pub claims: Option<ProfileClaims>,
}

/// The person named in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The person's id.
    pub id: String,
}

#[utoipa::path(post, path = "/admin/v1/users", request_body = NewUser, responses(
    (status = 201, description = "Made", body = UserOut), BadRequest,
    (status = 409, description = "The username or email is taken", body = FieldError), Refused))]
async fn create_user(admin: Admin, State(state): State<ApiState>, JsonBody(new): JsonBody<NewUser>) -> Response {
    let NewUser {
        username: UsernameIn(username),
        email: EmailIn(email),
        password,
        claims,
    } = new;
    let new = NewAccount {
        username: username.as_str().to_owned(),
        email: email.as_str().to_owned(),
        password: SecretString::from(password.into_string()),
        claims: claims.map(|c| c.0).unwrap_or_default(),
    };
    match accounts::create(&state, new, &Actor::AdminClient(admin.client_id.clone())).await {
        Ok(user) => {
            record(&state, &admin, "create user", &user.id);
            (StatusCode::CREATED, Json(UserOut::from(&user))).into_response()
        }
        Err(e) => account_error(e),
    }
}

/// The admin API's answer to an accounts service refusal.
fn account_error(e: AccountError) -> Response {
    match e {
        AccountError::Invalid { field, message } => invalid(field, message),
        AccountError::Taken => FieldError {
            error: "conflict",
            ..FieldError::new("username", "username or email taken")
        }
        .into_response(),
        AccountError::NotFound => not_found(),
        AccountError::Failed(e) => internal(e),
    }
}

async fn find_user(state: &ApiState, id: &str) -> Result<User, Response> {
    match state.store.find_user_by_id(id).await {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(not_found()),
        Err(e) => Err(unavailable(e)),
    }
}

#[utoipa::path(get, path = "/admin/v1/users/{id}", params(UserPath), responses(
    (status = 200, description = "The person", body = UserOut), NotFound, Refused))]
async fn get_user(admin: Admin, State(state): State<ApiState>, AdminPath(path): AdminPath<UserPath>) -> Response {
    let user = or_respond!(find_user(&state, &path.id).await);
    record(&state, &admin, "get user", &path.id);
    Json(UserOut::from(&user)).into_response()
}

#[utoipa::path(patch, path = "/admin/v1/users/{id}", params(UserPath), request_body = UserChanges, responses(
    (status = 200, description = "The changed person", body = UserOut), BadRequest, NotFound, Refused))]
async fn update_user(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<UserPath>,
    JsonBody(changes): JsonBody<UserChanges>,
) -> Response {
    let id = path.id;
    or_respond!(find_user(&state, &id).await);
    let now = state.clock.now();
    if let Some(EmailIn(email)) = changes.email {
        match state.store.set_user_email(&id, email.as_str(), now).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return invalid("email", "another account has this address"),
            Err(e) => return unavailable(e),
        }
    }
    if let Some(claims) = changes.claims {
        if let Err(e) = state.store.update_user_claims(&id, &claims.0, now).await {
            return unavailable(e);
        }
    }
    record(&state, &admin, "update user", &id);
    let user = or_respond!(find_user(&state, &id).await);
    Json(UserOut::from(&user)).into_response()
}

/// What an operator can do to a person.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UserAction {
    /// Refuse sign-in and end every session.
    Disable,
    Enable,
    /// Clear the failed sign-in history (ends a lockout).
    Unlock,
    /// Turn off two-step sign-in.
    ResetTotp,
    /// End every session and its refresh tokens.
    RevokeSessions,
}

impl UserAction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Enable => "enable",
            Self::Unlock => "unlock",
            Self::ResetTotp => "reset-totp",
            Self::RevokeSessions => "revoke-sessions",
        }
    }
}

/// A person and what to do to them.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserActionPath {
    /// The person's id.
    pub id: String,
    #[param(inline)]
    pub action: UserAction,
}

#[utoipa::path(post, path = "/admin/v1/users/{id}/{action}", params(UserActionPath), responses(
    (status = 200, description = "The person afterwards", body = UserOut), NotFound, Refused))]
async fn user_action(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<UserActionPath>,
) -> Response {
    let id = path.id;
    let user = or_respond!(find_user(&state, &id).await);
    let ctx = state.protocol();
    let actor = Actor::AdminClient(admin.client_id.clone());
    let done = match path.action {
        UserAction::Disable => accounts::disable(&state, &user, &actor).await,
        UserAction::Enable => accounts::enable(&state, &user, &actor).await,
        UserAction::Unlock => crate::service::lockout::unlock(&state, &user).await.map_err(Into::into),
        UserAction::ResetTotp => state.store.disable_totp(&id).await.map_err(Into::into),
        UserAction::RevokeSessions => revocation::end_user_sessions(&ctx, &id, None, "revoked_by_admin")
            .await
            .map_err(Into::into),
    };
    if let Err(e) = done {
        return account_error(e);
    }
    record(&state, &admin, path.action.as_str(), &id);
    let user = or_respond!(find_user(&state, &id).await);
    Json(UserOut::from(&user)).into_response()
}

#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    sid: String,
    user_id: String,
    created_at: i64,
    last_seen_at: i64,
    auth_time: i64,
    amr: Vec<String>,
    ip: Option<String>,
    device: String,
}

#[utoipa::path(get, path = "/admin/v1/users/{id}/sessions", params(UserPath), responses(
    (status = 200, description = "The person's live sessions", body = [SessionOut]), NotFound, Refused))]
async fn list_sessions(admin: Admin, State(state): State<ApiState>, AdminPath(path): AdminPath<UserPath>) -> Response {
    let id = path.id;
    or_respond!(find_user(&state, &id).await);
    record(&state, &admin, "list sessions of user", &id);
    match state.store.list_live_sessions(&id, state.clock.now()).await {
        Ok(sessions) => Json(
            sessions
                .into_iter()
                .map(|s| SessionOut {
                    device: crate::domain::device::label(s.user_agent.as_deref()),
                    sid: s.sid,
                    user_id: s.user_id,
                    created_at: s.created_at,
                    last_seen_at: s.last_seen_at,
                    auth_time: s.auth_time,
                    amr: s.amr,
                    ip: s.ip,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => unavailable(e),
    }
}

/// The session named in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SessionPath {
    /// The session id (`sid` in tokens).
    pub sid: String,
}

#[utoipa::path(delete, path = "/admin/v1/sessions/{sid}", params(SessionPath), responses(
    (status = 204, description = "Ended, with its refresh tokens"), NotFound, Refused))]
async fn revoke_session(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<SessionPath>,
) -> Response {
    let sid = path.sid;
    match state.store.find_session_by_sid(&sid).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(),
        Err(e) => return unavailable(e),
    }
    if let Err(e) = revocation::end_session(&state.protocol(), &sid, "revoked_by_admin").await {
        return unavailable(e);
    }
    record(&state, &admin, "revoke session", &sid);
    StatusCode::NO_CONTENT.into_response()
}

// ---------------------------------------------------------------------------------------------
// Events and keys

/// A page of security events, newest first.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only this person's (their id).
    #[param(inline)]
    pub user: Option<Text<1, 200>>,
    /// Only this kind, e.g. `login` or `admin_action`.
    #[param(inline)]
    pub kind: Option<Text<1, 64>>,
    /// Only those at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// How many to skip (0 when left out); more than 1,000,000 is a 400 naming `offset`.
    #[serde(default)]
    #[param(inline)]
    pub offset: Offset,
    /// How many to answer (50 when left out); outside 1 to 1000 is a 400 naming `limit`,
    /// never clamped.
    #[serde(default)]
    #[param(inline)]
    pub limit: Limit,
}

/// A security event.
#[derive(Serialize, ToSchema)]
pub struct EventOut {
    at: i64,
    kind: String,
    /// `success` or `failure`.
    outcome: String,
    user_id: Option<String>,
    client_id: Option<String>,
    sid: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: Option<String>,
}

impl From<SecurityEvent> for EventOut {
    fn from(e: SecurityEvent) -> Self {
        // Destructured whole, so that a new member of the event is a compile error here.
        let SecurityEvent {
            at,
            kind,
            outcome,
            user_id,
            client_id,
            sid,
            ip,
            user_agent,
            detail,
        } = e;
        Self {
            at,
            kind,
            outcome,
            user_id,
            client_id,
            sid,
            ip,
            user_agent,
            detail,
        }
    }
}

#[utoipa::path(get, path = "/admin/v1/events", params(EventQuery), responses(
    (status = 200, description = "A page of events", body = [EventOut]), BadRequest, Refused))]
async fn list_events(admin: Admin, State(state): State<ApiState>, AdminQuery(q): AdminQuery<EventQuery>) -> Response {
    record(&state, &admin, "list", "events");
    let filter = EventFilter {
        user_id: q.user.map(Text::into_string),
        kind: q.kind.map(Text::into_string),
        since: q.since,
        limit: q.limit.get(),
        offset: q.offset.get(),
    };
    match state.store.list_events(&filter).await {
        Ok(events) => Json(events.into_iter().map(EventOut::from).collect::<Vec<_>>()).into_response(),
        Err(e) => unavailable(e),
    }
}

/// A signing key as an operator sees it (never its private part).
#[derive(Serialize, ToSchema)]
pub struct KeyOut {
    kid: String,
    alg: SigningAlg,
    state: KeyState,
    created_at: i64,
    activates_at: i64,
    activated_at: Option<i64>,
    retire_until: Option<i64>,
}

impl From<KeySummary> for KeyOut {
    fn from(k: KeySummary) -> Self {
        let KeySummary {
            kid,
            alg,
            state,
            created_at,
            activates_at,
            activated_at,
            retire_until,
        } = k;
        Self {
            kid,
            alg,
            state,
            created_at,
            activates_at,
            activated_at,
            retire_until,
        }
    }
}

fn keys_response(keys: Result<Vec<KeySummary>, crate::crypto::keys::KeyError>) -> Response {
    match keys {
        Ok(keys) => Json(keys.into_iter().map(KeyOut::from).collect::<Vec<_>>()).into_response(),
        Err(e) => internal(e),
    }
}

#[utoipa::path(get, path = "/admin/v1/keys", responses(
    (status = 200, description = "Every signing key", body = [KeyOut]), Refused))]
async fn list_keys(admin: Admin, State(state): State<ApiState>) -> Response {
    record(&state, &admin, "list", "keys");
    keys_response(state.keys.summaries().await)
}

#[utoipa::path(post, path = "/admin/v1/keys/rotate", responses(
    (status = 200, description = "Every signing key, with a next key per algorithm", body = [KeyOut]), Refused))]
async fn rotate_keys(admin: Admin, State(state): State<ApiState>) -> Response {
    record(&state, &admin, "rotate", "keys");
    keys_response(state.keys.rotate().await)
}

fn record(state: &ApiState, admin: &Admin, action: &str, target: &str) {
    state.events.record(
        SecurityEvent::new(state.clock.now(), "admin_action", Outcome::Success)
            .client(&admin.client_id)
            .detail(format!("{action} {target}")),
    );
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
        list_clients,
        create_client,
        get_client,
        update_client,
        rotate_client_secret,
        delete_client,
        list_users,
        create_user,
        get_user,
        update_user,
        user_action,
        list_sessions,
        revoke_session,
        list_events,
        list_keys,
        rotate_keys
    ),
    components(schemas(ClientOut, UserOut, SessionOut, EventOut, KeyOut, FieldError, ErrorBody)),
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
        .route("/admin/v1/clients", get(list_clients).post(create_client))
        .route(
            "/admin/v1/clients/{id}",
            get(get_client).patch(update_client).delete(delete_client),
        )
        .route("/admin/v1/clients/{id}/secret", post(rotate_client_secret))
        .route("/admin/v1/users", get(list_users).post(create_user))
        .route("/admin/v1/users/{id}", get(get_user).patch(update_user))
        .route("/admin/v1/users/{id}/sessions", get(list_sessions))
        .route("/admin/v1/users/{id}/{action}", post(user_action))
        .route("/admin/v1/sessions/{sid}", axum::routing::delete(revoke_session))
        .route("/admin/v1/events", get(list_events))
        .route("/admin/v1/keys", get(list_keys))
        .route("/admin/v1/keys/rotate", post(rotate_keys))
}
