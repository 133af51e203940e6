//! The admin API at `/admin/v1` (JSON): clients, users, sessions, events, keys. Callers present
//! an access token from `client_credentials` for audience `keyhaven-admin` with the scope
//! `keyhaven:admin`. Every call writes an `admin_action` security event naming the acting client.
//! The OpenAPI 3 document is generated from the handlers (`utoipa`) at `/admin/v1/openapi.json`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::crypto::tokens::{prefix, random_base64url, OpaqueSecret};
use crate::domain::client::{Client, ClientRegistration, ClientType, GrantType, Permission, RedirectUri};
use crate::domain::event::{EventFilter, Outcome, SecurityEvent};
use crate::domain::scope::ScopeSet;
use crate::domain::user::{is_settable_claim, Email, User, Username};
use crate::domain::SigningAlg;
use crate::protocol::{access_token, revocation};
use crate::startup::AppState;
use crate::storage::StoreError;

pub const AUDIENCE: &str = "keyhaven-admin";
pub const SCOPE: &str = "keyhaven:admin";

/// The client acting through the admin API.
struct Admin {
    client_id: String,
}

fn json_error(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// 400 naming the field at fault.
fn invalid(field: &str, message: impl Into<String>) -> Response {
    FieldError::new(field, message).into_response()
}

/// A request field that is missing or wrong.
struct FieldError {
    field: String,
    message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl IntoResponse for FieldError {
    fn into_response(self) -> Response {
        json_error(
            StatusCode::BAD_REQUEST,
            json!({ "error": "invalid_request", "field": self.field, "message": self.message }),
        )
    }
}

fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, json!({ "error": "not_found" }))
}

fn internal(e: impl Into<anyhow::Error>) -> Response {
    crate::http::error::json_failure(e, "admin request failed")
}

fn unauthorized(description: &str) -> Response {
    let mut response = json_error(
        StatusCode::UNAUTHORIZED,
        json!({ "error": "invalid_token", "error_description": description }),
    );
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"keyhaven-admin\", error=\"invalid_token\""),
    );
    response
}

/// Checks the bearer token: 401 without a valid one, 403 without the admin audience and scope.
async fn admin(state: &AppState, headers: &HeaderMap) -> Result<Admin, Response> {
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
        return Err(json_error(
            StatusCode::FORBIDDEN,
            json!({ "error": "insufficient_scope", "error_description": "needs audience keyhaven-admin and scope keyhaven:admin" }),
        ));
    }
    Ok(Admin {
        client_id: claims.client_id,
    })
}

fn record(state: &AppState, admin: &Admin, action: &str, target: &str) {
    state.events.record(
        SecurityEvent::new(state.clock.now(), "admin_action", Outcome::Success)
            .client(&admin.client_id)
            .detail(format!("{action} {target}")),
    );
}

macro_rules! or_respond {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(response) => return response.into_response(),
        }
    };
}

/// A JSON object body, or a 400.
fn object(body: &[u8]) -> Result<Map<String, Value>, FieldError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(FieldError::new("body", "the body must be a JSON object")),
    }
}

fn string_field(map: &Map<String, Value>, name: &str) -> Result<Option<String>, FieldError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(FieldError::new(name, "must be a string")),
    }
}

fn required(map: &Map<String, Value>, name: &str) -> Result<String, FieldError> {
    string_field(map, name)?.ok_or_else(|| FieldError::new(name, "is required"))
}

fn strings_field(map: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, FieldError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| FieldError::new(name, "must be a list of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(FieldError::new(name, "must be a list of strings")),
    }
}

fn bool_field(map: &Map<String, Value>, name: &str) -> Result<Option<bool>, FieldError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(FieldError::new(name, "must be true or false")),
    }
}

fn parse_each<T>(
    field: &str,
    items: &[String],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, FieldError> {
    items
        .iter()
        .map(|i| parse(i).map_err(|e| FieldError::new(field, e)))
        .collect()
}

/// A client as the admin API shows it (never its secret).
#[derive(Serialize, ToSchema)]
pub struct ClientOut {
    client_id: String,
    name: String,
    client_type: String,
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    scopes: Option<String>,
    audiences: Vec<String>,
    first_party: bool,
    id_token_alg: String,
    post_logout_redirect_uris: Vec<String>,
    permissions: Vec<String>,
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
            client_type: c.client_type.as_str().into(),
            redirect_uris: c.redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            grant_types: c.grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
            scopes: c.scopes.as_ref().map(ToString::to_string),
            audiences: c.audiences.clone(),
            first_party: c.first_party,
            id_token_alg: c.id_token_alg.as_str().into(),
            post_logout_redirect_uris: c
                .post_logout_redirect_uris
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect(),
            permissions: c
                .permissions
                .iter()
                .map(|p| match p {
                    Permission::Introspect => "introspect".to_owned(),
                })
                .collect(),
            introspect_any_audience: c.introspect_any_audience,
            created_at: c.created_at,
            updated_at: c.updated_at,
            client_secret: secret.map(|s| s.expose().to_owned()),
            warnings: Vec::new(),
        }
    }
}

/// Applies the fields present in `map` to a registration (creation starts from defaults).
fn apply_client_fields(map: &Map<String, Value>, reg: &mut ClientRegistration) -> Result<(), FieldError> {
    if let Some(name) = string_field(map, "name")? {
        reg.name = name;
    }
    if let Some(t) = string_field(map, "client_type")? {
        reg.client_type = t.parse::<ClientType>().map_err(|e| FieldError::new("client_type", e))?;
    }
    if let Some(uris) = strings_field(map, "redirect_uris")? {
        reg.redirect_uris = parse_each("redirect_uris", &uris, RedirectUri::parse)?;
    }
    if let Some(grants) = strings_field(map, "grant_types")? {
        reg.grant_types = parse_each("grant_types", &grants, |g| g.parse::<GrantType>())?;
    }
    if let Some(scopes) = strings_field(map, "scopes")? {
        reg.scopes = if scopes.is_empty() {
            None
        } else {
            Some(ScopeSet::from_tokens(&scopes).map_err(|e| FieldError::new("scopes", e.to_string()))?)
        };
    }
    if let Some(audiences) = strings_field(map, "audiences")? {
        reg.audiences = audiences;
    }
    if let Some(first_party) = bool_field(map, "first_party")? {
        reg.first_party = first_party;
    }
    if let Some(alg) = string_field(map, "id_token_alg")? {
        reg.id_token_alg = alg
            .parse::<SigningAlg>()
            .map_err(|e| FieldError::new("id_token_alg", e))?;
    }
    if let Some(uris) = strings_field(map, "post_logout_redirect_uris")? {
        reg.post_logout_redirect_uris = parse_each("post_logout_redirect_uris", &uris, RedirectUri::parse)?;
    }
    if let Some(permissions) = strings_field(map, "permissions")? {
        reg.permissions = parse_each("permissions", &permissions, |p| p.parse::<Permission>())?;
    }
    if let Some(any) = bool_field(map, "introspect_any_audience")? {
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

#[utoipa::path(get, path = "/admin/v1/clients", responses((status = 200, body = [ClientOut])))]
async fn list_clients(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    record(&state, &admin, "list", "clients");
    match state.store.list_clients().await {
        Ok(clients) => Json(clients.iter().map(|c| ClientOut::of(c, None)).collect::<Vec<_>>()).into_response(),
        Err(e) => internal(e),
    }
}

#[utoipa::path(post, path = "/admin/v1/clients", request_body = Object, responses((status = 201, body = ClientOut), (status = 400)))]
async fn create_client(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    let map = or_respond!(object(&body));
    if or_respond!(string_field(&map, "name")).is_none() {
        return invalid("name", "is required");
    }
    let mut reg = ClientRegistration {
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
    };
    or_respond!(apply_client_fields(&map, &mut reg));
    let warnings = reg.warnings();
    let secret = (reg.client_type == ClientType::Confidential).then(|| OpaqueSecret::generate(prefix::CLIENT_SECRET));
    let client = reg.into_client(
        format!("khc-{}", random_base64url(16)),
        secret.as_ref().map(|s| s.hash().as_str().to_owned()),
        state.clock.now(),
    );
    if let Err(e) = state.store.insert_client(&client).await {
        return internal(e);
    }
    record(&state, &admin, "create client", &client.id);
    let out = ClientOut {
        warnings,
        ..ClientOut::of(&client, secret.as_ref())
    };
    (StatusCode::CREATED, Json(out)).into_response()
}

async fn find_client(state: &AppState, id: &str) -> Result<Client, Response> {
    match state.store.find_client(id).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(not_found()),
        Err(e) => Err(internal(e)),
    }
}

#[utoipa::path(get, path = "/admin/v1/clients/{id}", responses((status = 200, body = ClientOut), (status = 404)))]
async fn get_client(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    let client = or_respond!(find_client(&state, &id).await);
    record(&state, &admin, "get client", &id);
    Json(ClientOut::of(&client, None)).into_response()
}

#[utoipa::path(patch, path = "/admin/v1/clients/{id}", request_body = Object, responses((status = 200, body = ClientOut), (status = 400), (status = 404)))]
async fn update_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    let map = or_respond!(object(&body));
    let client = or_respond!(find_client(&state, &id).await);
    let mut reg = registration_of(&client);
    or_respond!(apply_client_fields(&map, &mut reg));
    if reg.client_type != client.client_type {
        return invalid("client_type", "cannot change; create a new client");
    }
    let warnings = reg.warnings();
    let mut updated = reg.into_client(client.id.clone(), client.secret_hash.clone(), client.created_at);
    updated.updated_at = state.clock.now();
    if let Err(e) = state.store.update_client(&updated).await {
        return internal(e);
    }
    record(&state, &admin, "update client", &id);
    Json(ClientOut {
        warnings,
        ..ClientOut::of(&updated, None)
    })
    .into_response()
}

#[utoipa::path(post, path = "/admin/v1/clients/{id}/secret", responses((status = 200, body = ClientOut), (status = 400), (status = 404)))]
async fn rotate_client_secret(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
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
        return internal(e);
    }
    record(&state, &admin, "rotate secret of client", &id);
    Json(ClientOut::of(&client, Some(&secret))).into_response()
}

#[utoipa::path(delete, path = "/admin/v1/clients/{id}", responses((status = 204), (status = 404)))]
async fn delete_client(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    match state.store.delete_client(&id).await {
        Ok(true) => {
            record(&state, &admin, "delete client", &id);
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => not_found(),
        Err(e) => internal(e),
    }
}

/// A person as the admin API shows them (never a hash or secret).
#[derive(Serialize, ToSchema)]
pub struct UserOut {
    id: String,
    username: String,
    email: String,
    email_verified: bool,
    disabled: bool,
    totp: bool,
    claims: std::collections::BTreeMap<String, String>,
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

#[derive(Deserialize, IntoParams)]
pub struct UserQuery {
    /// Part of a username or email.
    search: Option<String>,
    #[serde(default)]
    offset: i64,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    50
}

#[utoipa::path(get, path = "/admin/v1/users", params(UserQuery), responses((status = 200, body = [UserOut])))]
async fn list_users(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<UserQuery>) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    if !(1..=1000).contains(&q.limit) || q.offset < 0 {
        return invalid("limit", "limit must be 1 to 1000 and offset not negative");
    }
    record(&state, &admin, "list", "users");
    match state.store.search_users(q.search.as_deref(), q.offset, q.limit).await {
        Ok(users) => Json(users.iter().map(UserOut::from).collect::<Vec<_>>()).into_response(),
        Err(e) => internal(e),
    }
}

fn claims_field(map: &Map<String, Value>) -> Result<Option<std::collections::BTreeMap<String, String>>, FieldError> {
    match map.get("claims") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(claims)) => {
            let mut out = std::collections::BTreeMap::new();
            for (name, value) in claims {
                if !is_settable_claim(name) {
                    return Err(FieldError::new("claims", format!("{name} is not a profile claim")));
                }
                let value = value
                    .as_str()
                    .ok_or_else(|| FieldError::new("claims", format!("{name} must be a string")))?;
                out.insert(name.clone(), value.to_owned());
            }
            Ok(Some(out))
        }
        Some(_) => Err(FieldError::new("claims", "must be an object of strings")),
    }
}

#[utoipa::path(post, path = "/admin/v1/users", request_body = Object, responses((status = 201, body = UserOut), (status = 400), (status = 409)))]
async fn create_user(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    let map = or_respond!(object(&body));
    let username =
        or_respond!(Username::parse(&or_respond!(required(&map, "username"))).map_err(|e| invalid("username", e)));
    let email = or_respond!(Email::parse(&or_respond!(required(&map, "email"))).map_err(|e| invalid("email", e)));
    let password = or_respond!(required(&map, "password"));
    let problems = crate::domain::password_policy::problems(&password, username.as_str(), email.as_str());
    if !problems.is_empty() {
        return invalid("password", problems.join(" "));
    }
    let claims = or_respond!(claims_field(&map)).unwrap_or_default();
    let hash = match state.passwords.hash(&SecretString::from(password)).await {
        Ok(hash) => hash,
        Err(e) => return internal(e),
    };
    let now = state.clock.now();
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        username: username.as_str().to_owned(),
        email: email.as_str().to_owned(),
        email_verified: false,
        password_hash: hash,
        disabled: false,
        claims,
        totp_secret: None,
        totp_pending: None,
        created_at: now,
        updated_at: now,
    };
    match state.store.insert_user(&user).await {
        Ok(()) => {
            record(&state, &admin, "create user", &user.id);
            (StatusCode::CREATED, Json(UserOut::from(&user))).into_response()
        }
        Err(StoreError::Conflict) => json_error(
            StatusCode::CONFLICT,
            json!({ "error": "conflict", "field": "username", "message": "username or email taken" }),
        ),
        Err(e) => internal(e),
    }
}

async fn find_user(state: &AppState, id: &str) -> Result<User, Response> {
    match state.store.find_user_by_id(id).await {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(not_found()),
        Err(e) => Err(internal(e)),
    }
}

#[utoipa::path(get, path = "/admin/v1/users/{id}", responses((status = 200, body = UserOut), (status = 404)))]
async fn get_user(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    let user = or_respond!(find_user(&state, &id).await);
    record(&state, &admin, "get user", &id);
    Json(UserOut::from(&user)).into_response()
}

#[utoipa::path(patch, path = "/admin/v1/users/{id}", request_body = Object, responses((status = 200, body = UserOut), (status = 400), (status = 404)))]
async fn update_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    let map = or_respond!(object(&body));
    let user = or_respond!(find_user(&state, &id).await);
    let now = state.clock.now();
    if let Some(email) = or_respond!(string_field(&map, "email")) {
        let email = or_respond!(Email::parse(&email).map_err(|e| invalid("email", e)));
        match state.store.set_user_email(&id, email.as_str(), now).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return invalid("email", "another account has this address"),
            Err(e) => return internal(e),
        }
    }
    if let Some(claims) = or_respond!(claims_field(&map)) {
        if let Err(e) = state.store.update_user_claims(&id, &claims, now).await {
            return internal(e);
        }
    }
    let _ = user;
    record(&state, &admin, "update user", &id);
    let user = or_respond!(find_user(&state, &id).await);
    Json(UserOut::from(&user)).into_response()
}

#[utoipa::path(post, path = "/admin/v1/users/{id}/{action}", params(("action" = String, Path, description = "disable | enable | unlock | reset-totp | revoke-sessions")), responses((status = 200, body = UserOut), (status = 404)))]
async fn user_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    let user = or_respond!(find_user(&state, &id).await);
    let ctx = state.protocol();
    let done = match action.as_str() {
        "disable" => {
            async {
                state.store.set_user_disabled(&id, true, ctx.now).await?;
                revocation::end_user_sessions(&ctx, &id, None, "disabled_by_admin").await
            }
            .await
        }
        "enable" => state.store.set_user_disabled(&id, false, ctx.now).await.map(|_| ()),
        "unlock" => crate::web::lockout::unlock(&state, &user).await,
        "reset-totp" => state.store.disable_totp(&id).await,
        "revoke-sessions" => revocation::end_user_sessions(&ctx, &id, None, "revoked_by_admin").await,
        _ => return not_found(),
    };
    if let Err(e) = done {
        return internal(e);
    }
    record(&state, &admin, &action, &id);
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

#[utoipa::path(get, path = "/admin/v1/users/{id}/sessions", responses((status = 200, body = [SessionOut]), (status = 404)))]
async fn list_sessions(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    or_respond!(find_user(&state, &id).await);
    record(&state, &admin, "list sessions of user", &id);
    match state.store.list_live_sessions(&id, state.clock.now()).await {
        Ok(sessions) => Json(
            sessions
                .into_iter()
                .map(|s| SessionOut {
                    device: crate::web::account::device_label(s.user_agent.as_deref()),
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
        Err(e) => internal(e),
    }
}

#[utoipa::path(delete, path = "/admin/v1/sessions/{sid}", responses((status = 204), (status = 404)))]
async fn revoke_session(State(state): State<AppState>, headers: HeaderMap, Path(sid): Path<String>) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    match state.store.find_session_by_sid(&sid).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(),
        Err(e) => return internal(e),
    }
    if let Err(e) = revocation::end_session(&state.protocol(), &sid, "revoked_by_admin").await {
        return internal(e);
    }
    record(&state, &admin, "revoke session", &sid);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize, IntoParams)]
pub struct EventQuery {
    user: Option<String>,
    kind: Option<String>,
    /// Unix seconds.
    since: Option<i64>,
    #[serde(default)]
    offset: i64,
    #[serde(default = "default_limit")]
    limit: i64,
}

#[utoipa::path(get, path = "/admin/v1/events", params(EventQuery), responses((status = 200, body = [Object])))]
async fn list_events(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<EventQuery>) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    if !(1..=1000).contains(&q.limit) || q.offset < 0 {
        return invalid("limit", "limit must be 1 to 1000 and offset not negative");
    }
    record(&state, &admin, "list", "events");
    let filter = EventFilter {
        user_id: q.user,
        kind: q.kind,
        since: q.since,
        limit: q.limit,
        offset: q.offset,
    };
    match state.store.list_events(&filter).await {
        Ok(events) => Json(events).into_response(),
        Err(e) => internal(e),
    }
}

#[utoipa::path(get, path = "/admin/v1/keys", responses((status = 200, body = [Object])))]
async fn list_keys(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    record(&state, &admin, "list", "keys");
    match state.keys.summaries().await {
        Ok(keys) => Json(keys).into_response(),
        Err(e) => internal(e),
    }
}

#[utoipa::path(post, path = "/admin/v1/keys/rotate", responses((status = 200, body = [Object])))]
async fn rotate_keys(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let admin = or_respond!(admin(&state, &headers).await);
    record(&state, &admin, "rotate", "keys");
    match state.keys.rotate().await {
        Ok(keys) => Json(keys).into_response(),
        Err(e) => internal(e),
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
    components(schemas(ClientOut, UserOut, SessionOut))
)]
struct AdminApi;

async fn openapi() -> Response {
    Json(AdminApi::openapi()).into_response()
}

pub fn router() -> Router<AppState> {
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
