//! The registry of resource servers, written once for the admin API and the command line:
//! registered, changed, deleted. A resource server is an audience value (what `resource` names
//! and `aud` carries) with a name and the algorithm its access tokens are signed with; an
//! audience not registered takes the `access_token_alg` setting.
//!
//! Each change is a security event naming who made it, and runs the key schedule at once, so an
//! algorithm newly in use has keys before the change returns. Other instances learn of it at
//! their next key pass (`key_refresh_interval`), which reads the registry and the keys together.

use crate::domain::event::{kind, EventKind};
use crate::domain::{ResourceServer, SigningAlg};
use crate::protocol::resource::ADMIN_AUDIENCE;
use crate::storage::StoreError;

use super::{Actor, Services};

#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// A field is wrong; the message says how.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("a resource server with this URI is registered already")]
    Taken,
    #[error("no such resource server")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Changes to a registration: each member given replaces what is there.
#[derive(Debug, Default, Clone)]
pub struct ResourceChanges {
    pub name: Option<String>,
    pub access_token_alg: Option<SigningAlg>,
    /// Whether clients nobody vetted (self-registered, metadata documents) may ask for it.
    pub open_to_self_registered: Option<bool>,
}

pub async fn list(services: &Services) -> Result<Vec<ResourceServer>, ResourceError> {
    Ok(services.store.list_resources().await?)
}

pub async fn find(services: &Services, uri: &str) -> Result<ResourceServer, ResourceError> {
    services.store.find_resource(uri).await?.ok_or(ResourceError::NotFound)
}

/// Registers the resource server `uri`; without an algorithm it takes the `access_token_alg`
/// setting as it is now. `changes.name` is required; without `open_to_self_registered` it is
/// closed to clients nobody vetted.
pub async fn create(
    services: &Services,
    uri: &str,
    changes: ResourceChanges,
    actor: &Actor,
) -> Result<ResourceServer, ResourceError> {
    let name = changes.name.unwrap_or_default();
    let uri = ResourceServer::parse_uri(uri).map_err(|message| ResourceError::Invalid { field: "uri", message })?;
    if uri == ADMIN_AUDIENCE || uri == services.protocol().userinfo_audience() {
        return Err(ResourceError::Invalid {
            field: "uri",
            message: "is one of Keyhaven's own audiences, whose tokens take the access_token_alg setting".into(),
        });
    }
    check_name(&name)?;
    let now = services.clock.now();
    let resource = ResourceServer {
        uri,
        name,
        access_token_alg: changes.access_token_alg.unwrap_or(services.settings.access_token_alg),
        open_to_self_registered: changes.open_to_self_registered.unwrap_or(false),
        created_at: now,
        updated_at: now,
    };
    match services.store.insert_resource(&resource).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(ResourceError::Taken),
        Err(e) => return Err(e.into()),
    }
    changed(services, actor, kind::RESOURCE_CREATED, &resource).await;
    Ok(resource)
}

/// Changes a resource server's name, algorithm or openness to self-registered clients (its URI is what it is: register another).
pub async fn update(
    services: &Services,
    uri: &str,
    changes: ResourceChanges,
    actor: &Actor,
) -> Result<ResourceServer, ResourceError> {
    let mut resource = find(services, uri).await?;
    if let Some(name) = changes.name {
        check_name(&name)?;
        resource.name = name;
    }
    if let Some(alg) = changes.access_token_alg {
        resource.access_token_alg = alg;
    }
    if let Some(open) = changes.open_to_self_registered {
        resource.open_to_self_registered = open;
    }
    resource.updated_at = services.clock.now();
    if !services.store.update_resource(&resource).await? {
        return Err(ResourceError::NotFound);
    }
    changed(services, actor, kind::RESOURCE_UPDATED, &resource).await;
    Ok(resource)
}

/// Deletes a resource server: its audience takes the `access_token_alg` setting from now on.
pub async fn delete(services: &Services, uri: &str, actor: &Actor) -> Result<(), ResourceError> {
    let resource = find(services, uri).await?;
    if !services.store.delete_resource(uri).await? {
        return Err(ResourceError::NotFound);
    }
    changed(services, actor, kind::RESOURCE_DELETED, &resource).await;
    Ok(())
}

fn check_name(name: &str) -> Result<(), ResourceError> {
    ResourceServer::check_name(name).map_err(|message| ResourceError::Invalid { field: "name", message })
}

/// Records the change and runs the key schedule, so that this instance signs with the new
/// algorithm at once and a newly used one has keys. A failed pass is retried by the schedule.
async fn changed(services: &Services, actor: &Actor, kind: EventKind, resource: &ResourceServer) {
    services.events.record(actor.action(services, kind).detail(format!(
        "resource {} ({}{}), by {}",
        resource.uri,
        resource.access_token_alg,
        if resource.open_to_self_registered {
            ", open to self-registered clients"
        } else {
            ""
        },
        actor.describe()
    )));
    if let Err(e) = services.keys.maintain().await {
        tracing::warn!(error = %e, "key maintenance after a resource-registry change failed; the schedule retries");
    }
}
