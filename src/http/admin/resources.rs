//! `/admin/v1/resources`: the registry of resource servers and the algorithm of their access
//! tokens, through the resources service (as the command line). A resource server is named in
//! the path by its URI, percent-encoded as one segment (`https%3A%2F%2Fapi.example`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::schema::Text;
use super::{Admin, AdminError, AdminPath, BadRequest, JsonBody, NotFound, Refused};
use crate::domain::{ResourceServer, SigningAlg};
use crate::http::ApiState;
use crate::service::resources;

/// A resource server as the admin API shows it.
#[derive(Serialize, ToSchema)]
pub struct ResourceOut {
    /// The audience value: what clients name in `resource` and tokens carry in `aud`.
    uri: String,
    name: String,
    /// The algorithm its access tokens are signed with.
    access_token_alg: SigningAlg,
    /// Whether clients nobody vetted (self-registered, metadata documents) may ask for tokens
    /// for it.
    open_to_self_registered: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<ResourceServer> for ResourceOut {
    fn from(r: ResourceServer) -> Self {
        Self {
            uri: r.uri.into_string(),
            name: r.name,
            access_token_alg: r.access_token_alg,
            open_to_self_registered: r.open_to_self_registered,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub type ResourceUri = Text<1, { ResourceServer::MAX_URI_CHARS }>;
pub type ResourceName = Text<1, { ResourceServer::MAX_NAME_CHARS }>;

/// A new resource server. Without `access_token_alg` it takes the server's `access_token_alg`
/// setting as it is now.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "uri": "https://api.shop.example", "name": "Shop API", "access_token_alg": "ES256" }))]
pub struct NewResource {
    /// An absolute URI without a fragment, compared as written.
    #[schema(inline)]
    pub uri: ResourceUri,
    #[schema(inline)]
    pub name: ResourceName,
    #[serde(default)]
    pub access_token_alg: Option<SigningAlg>,
    /// Whether clients nobody vetted may ask for tokens for it (default false).
    #[serde(default)]
    pub open_to_self_registered: Option<bool>,
}

/// Changes to a resource server: only the members given change. Its URI cannot change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceChanges {
    #[serde(default)]
    #[schema(inline)]
    pub name: Option<ResourceName>,
    #[serde(default)]
    pub access_token_alg: Option<SigningAlg>,
    #[serde(default)]
    pub open_to_self_registered: Option<bool>,
}

/// The resource server named in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ResourcePath {
    /// The resource server's URI, percent-encoded (`https%3A%2F%2Fapi.example`).
    pub uri: String,
}

#[utoipa::path(get, path = "/admin/v1/resources", responses(
    (status = 200, description = "Every resource server, by URI", body = [ResourceOut]), Refused))]
pub(super) async fn list_resources(admin: Admin, State(state): State<ApiState>) -> Result<Response, AdminError> {
    let all = resources::list(&state).await?;
    admin.record(&state, "list", "resources");
    Ok(Json(all.into_iter().map(ResourceOut::from).collect::<Vec<_>>()).into_response())
}

#[utoipa::path(post, path = "/admin/v1/resources", request_body = NewResource, responses(
    (status = 201, description = "Registered", body = ResourceOut),
    (status = 409, description = "The URI is registered already", body = super::FieldError),
    BadRequest, Refused))]
pub(super) async fn create_resource(
    admin: Admin,
    State(state): State<ApiState>,
    JsonBody(new): JsonBody<NewResource>,
) -> Result<Response, AdminError> {
    let changes = resources::ResourceChanges {
        name: Some(new.name.into_string()),
        access_token_alg: new.access_token_alg,
        open_to_self_registered: new.open_to_self_registered,
    };
    let made = resources::create(&state, new.uri.as_str(), changes, &admin.0.actor()).await?;
    admin.record(&state, "create resource", &made.uri);
    Ok((StatusCode::CREATED, Json(ResourceOut::from(made))).into_response())
}

#[utoipa::path(get, path = "/admin/v1/resources/{uri}", params(ResourcePath), responses(
    (status = 200, description = "The resource server", body = ResourceOut), NotFound, Refused))]
pub(super) async fn get_resource(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<ResourcePath>,
) -> Result<Response, AdminError> {
    let resource = resources::find(&state, &path.uri).await?;
    admin.record(&state, "get resource", &path.uri);
    Ok(Json(ResourceOut::from(resource)).into_response())
}

#[utoipa::path(patch, path = "/admin/v1/resources/{uri}", params(ResourcePath), request_body = ResourceChanges,
    responses((status = 200, description = "The changed resource server", body = ResourceOut),
    BadRequest, NotFound, Refused))]
pub(super) async fn update_resource(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<ResourcePath>,
    JsonBody(changes): JsonBody<ResourceChanges>,
) -> Result<Response, AdminError> {
    let changes = resources::ResourceChanges {
        name: changes.name.map(Text::into_string),
        access_token_alg: changes.access_token_alg,
        open_to_self_registered: changes.open_to_self_registered,
    };
    let changed = resources::update(&state, &path.uri, changes, &admin.0.actor()).await?;
    admin.record(&state, "update resource", &path.uri);
    Ok(Json(ResourceOut::from(changed)).into_response())
}

#[utoipa::path(delete, path = "/admin/v1/resources/{uri}", params(ResourcePath), responses(
    (status = 204, description = "Deleted: its audience takes the access_token_alg setting"), NotFound, Refused))]
pub(super) async fn delete_resource(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<ResourcePath>,
) -> Result<Response, AdminError> {
    resources::delete(&state, &path.uri, &admin.0.actor()).await?;
    admin.record(&state, "delete resource", &path.uri);
    Ok(StatusCode::NO_CONTENT.into_response())
}
