//! `/admin/v1/clients`: the client registry, through the clients service (as the command line).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::schema::{Audience, HttpsUrl, IdTokenAlg, JwkSet, List, ScopeToken, Text, Uri};
use super::{Admin, AdminError, AdminPath, BadRequest, FieldError, JsonBody, NotFound, Refused};
use crate::crypto::tokens::OpaqueSecret;
use crate::domain::client::{AuthMethod, Client, ClientOrigin, ClientType, GrantType, Permission, RedirectUri};
use crate::domain::scope::ScopeSet;
use crate::http::ApiState;
use crate::service::clients::{self, Registered};
use crate::service::tokens;

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
    id_token_alg: IdTokenAlg,
    post_logout_redirect_uris: Vec<String>,
    permissions: Vec<Permission>,
    introspect_any_audience: bool,
    token_endpoint_auth_method: AuthMethod,
    /// The client's public keys for private_key_jwt, inline (null when none or by URL).
    #[schema(value_type = Option<Object>)]
    jwks: Option<serde_json::Value>,
    /// Where the client's public keys for private_key_jwt are fetched from.
    jwks_uri: Option<String>,
    /// Who made the client (read-only).
    origin: ClientOrigin,
    /// The logo the client claims (read-only).
    logo_uri: Option<String>,
    /// The client's home page, as it claims (read-only).
    client_uri: Option<String>,
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
            client_id: c.id.to_string(),
            name: c.name.clone(),
            client_type: c.client_type,
            redirect_uris: c.redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            grant_types: c.grant_types.clone(),
            scopes: c.scopes.as_ref().map(ToString::to_string),
            audiences: c.audiences.iter().map(ToString::to_string).collect(),
            first_party: c.first_party,
            id_token_alg: IdTokenAlg(c.id_token_alg),
            post_logout_redirect_uris: c
                .post_logout_redirect_uris
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect(),
            permissions: c.permissions.clone(),
            introspect_any_audience: c.introspect_any_audience,
            token_endpoint_auth_method: c.auth_method,
            jwks: c.jwks.clone(),
            jwks_uri: c.jwks_uri.as_ref().map(ToString::to_string),
            origin: c.origin,
            logo_uri: c.logo_uri.as_ref().map(ToString::to_string),
            client_uri: c.client_uri.as_ref().map(ToString::to_string),
            created_at: c.created_at,
            updated_at: c.updated_at,
            client_secret: secret.map(|s| s.expose().to_owned()),
            warnings: Vec::new(),
        }
    }

    /// A client as just made or changed: with its new secret, if any, and the warnings.
    fn registered(r: Registered) -> Self {
        Self {
            warnings: r.warnings,
            ..Self::of(&r.client, r.secret.as_ref())
        }
    }
}

pub type ClientName = Text<1, 200>;
pub type RedirectUris = List<Uri, 20>;
pub type GrantTypes = List<GrantType, 4>;
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
    pub id_token_alg: Option<IdTokenAlg>,
    #[serde(default)]
    #[schema(inline)]
    pub post_logout_redirect_uris: Option<RedirectUris>,
    #[serde(default)]
    #[schema(inline)]
    pub permissions: Option<Permissions>,
    #[serde(default)]
    pub introspect_any_audience: Option<bool>,
    /// How the client authenticates; without it, a confidential client has a secret
    /// (client_secret_basic) and a public one none. private_key_jwt needs jwks or jwks_uri.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<AuthMethod>,
    /// The client's public keys (private_key_jwt), inline; replaces a jwks_uri.
    #[serde(default)]
    #[schema(inline)]
    pub jwks: Option<JwkSet>,
    /// Where the client's public keys (private_key_jwt) are fetched; replaces inline jwks.
    #[serde(default)]
    #[schema(inline)]
    pub jwks_uri: Option<HttpsUrl>,
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
    pub id_token_alg: Option<IdTokenAlg>,
    #[serde(default)]
    #[schema(inline)]
    pub post_logout_redirect_uris: Option<RedirectUris>,
    #[serde(default)]
    #[schema(inline)]
    pub permissions: Option<Permissions>,
    #[serde(default)]
    pub introspect_any_audience: Option<bool>,
    /// How the client authenticates; without it, a confidential client has a secret
    /// (client_secret_basic) and a public one none. private_key_jwt needs jwks or jwks_uri.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<AuthMethod>,
    /// The client's public keys (private_key_jwt), inline; replaces a jwks_uri.
    #[serde(default)]
    #[schema(inline)]
    pub jwks: Option<JwkSet>,
    /// Where the client's public keys (private_key_jwt) are fetched; replaces inline jwks.
    #[serde(default)]
    #[schema(inline)]
    pub jwks_uri: Option<HttpsUrl>,
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
            token_endpoint_auth_method: c.token_endpoint_auth_method,
            jwks: c.jwks,
            jwks_uri: c.jwks_uri,
        }
    }
}

fn uris(list: RedirectUris) -> Vec<RedirectUri> {
    list.0.into_iter().map(|u| u.0).collect()
}

impl ClientChanges {
    /// The changes as the clients service takes them; the scopes are parsed here, so a bad one
    /// is named as `scopes`.
    pub fn into_changes(self) -> Result<clients::ClientChanges, FieldError> {
        let scopes = match self.scopes {
            None => None,
            Some(list) if list.0.is_empty() => Some(None),
            Some(list) => Some(Some(
                ScopeSet::from_tokens(list.0.iter().map(|t| t.0.as_str()))
                    .map_err(|e| FieldError::new("scopes", e.to_string()))?,
            )),
        };
        Ok(clients::ClientChanges {
            name: self.name.map(Text::into_string),
            client_type: self.client_type,
            redirect_uris: self.redirect_uris.map(uris),
            grant_types: self.grant_types.map(|l| l.0),
            scopes,
            audiences: self.audiences.map(|l| l.0.into_iter().map(|a| a.0.into()).collect()),
            first_party: self.first_party,
            id_token_alg: self.id_token_alg.map(|a| a.0),
            post_logout_redirect_uris: self.post_logout_redirect_uris.map(uris),
            permissions: self.permissions.map(|l| l.0),
            introspect_any_audience: self.introspect_any_audience,
            auth_method: self.token_endpoint_auth_method,
            ..clients::ClientChanges::default()
        }
        .with_keys(self.jwks.map(|k| k.0), self.jwks_uri.map(|u| u.0)))
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
pub(super) async fn list_clients(admin: Admin, State(state): State<ApiState>) -> Result<Response, AdminError> {
    let clients = clients::list(&state).await?;
    admin.record(&state, "list", "clients");
    Ok(Json(clients.iter().map(|c| ClientOut::of(c, None)).collect::<Vec<_>>()).into_response())
}

#[utoipa::path(post, path = "/admin/v1/clients", request_body = NewClient, responses(
    (status = 201, description = "Made; the answer holds its secret, once", body = ClientOut),
    BadRequest, Refused))]
pub(super) async fn create_client(
    admin: Admin,
    State(state): State<ApiState>,
    JsonBody(new): JsonBody<NewClient>,
) -> Result<Response, AdminError> {
    let name = new.name.as_str().to_owned();
    let changes = ClientChanges::from(new).into_changes()?;
    let made = clients::create(&state, name, changes, &admin.0.actor()).await?;
    admin.record(&state, "create client", &made.client.id);
    Ok((StatusCode::CREATED, Json(ClientOut::registered(made))).into_response())
}

#[utoipa::path(get, path = "/admin/v1/clients/{id}", params(ClientPath), responses(
    (status = 200, description = "The client", body = ClientOut), NotFound, Refused))]
pub(super) async fn get_client(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<ClientPath>,
) -> Result<Response, AdminError> {
    let client = clients::find(&state, &path.id).await?;
    admin.record(&state, "get client", &path.id);
    Ok(Json(ClientOut::of(&client, None)).into_response())
}

#[utoipa::path(patch, path = "/admin/v1/clients/{id}", params(ClientPath), request_body = ClientChanges, responses(
    (status = 200, description = "The changed client", body = ClientOut), BadRequest, NotFound, Refused))]
pub(super) async fn update_client(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<ClientPath>,
    JsonBody(changes): JsonBody<ClientChanges>,
) -> Result<Response, AdminError> {
    let changed = clients::update(&state, &path.id, changes.into_changes()?, &admin.0.actor()).await?;
    admin.record(&state, "update client", &path.id);
    Ok(Json(ClientOut::registered(changed)).into_response())
}

#[utoipa::path(post, path = "/admin/v1/clients/{id}/secret", params(ClientPath), responses(
    (status = 200, description = "The client with its new secret, once", body = ClientOut),
    BadRequest, NotFound, Refused))]
pub(super) async fn rotate_client_secret(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<ClientPath>,
) -> Result<Response, AdminError> {
    let rotated = clients::rotate_secret(&state, &path.id, &admin.0.actor()).await?;
    admin.record(&state, "rotate secret of client", &path.id);
    Ok(Json(ClientOut::registered(rotated)).into_response())
}

#[utoipa::path(delete, path = "/admin/v1/clients/{id}", params(ClientPath), responses(
    (status = 204, description = "Deleted"), NotFound, Refused))]
pub(super) async fn delete_client(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<ClientPath>,
) -> Result<Response, AdminError> {
    clients::delete(&state, &path.id, &admin.0.actor()).await?;
    admin.record(&state, "delete client", &path.id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// One minute of a client's client_credentials tokens.
#[derive(Serialize, ToSchema)]
pub struct IssuanceOut {
    /// The Unix time the minute starts at.
    minute: i64,
    /// How many tokens the client got in it.
    count: i64,
    /// The first and the last of them (Unix seconds).
    first_at: i64,
    last_at: i64,
}

impl From<tokens::IssuanceCount> for IssuanceOut {
    fn from(c: tokens::IssuanceCount) -> Self {
        Self {
            minute: c.minute,
            count: c.count,
            first_at: c.first_at,
            last_at: c.last_at,
        }
    }
}

#[utoipa::path(get, path = "/admin/v1/clients/{id}/issuance", params(ClientPath), responses(
    (status = 200, description = "The client's client_credentials tokens per minute over the last 60 minutes, \
        oldest first; a minute without tokens has no entry. Each instance stores a minute once it has ended.",
        body = [IssuanceOut]),
    NotFound, Refused))]
pub(super) async fn client_issuance(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<ClientPath>,
) -> Result<Response, AdminError> {
    let client = clients::find(&state, &path.id).await?;
    let counts = tokens::issuance_of(&state, &client.id).await?;
    admin.record(&state, "get issuance of client", &path.id);
    Ok(Json(counts.into_iter().map(IssuanceOut::from).collect::<Vec<_>>()).into_response())
}
