//! Registered clients, written once for the admin API and the command line: made, changed,
//! given a new secret, deleted. Whoever asks, a registration passes the same checks
//! ([`ClientRegistration::validate`]), a secret is made the same way and only its hash is
//! stored, and each change is a security event naming who made it. Each change is also written
//! to the revocation log, so every instance's client cache reloads the client (this one at
//! once, the others within one refresh interval).

use std::sync::Arc;

use crate::crypto::tokens::{prefix, random_base64url, OpaqueSecret};
use crate::domain::client::{
    AuthMethod, Client, ClientOrigin, ClientRegistration, ClientType, GrantType, Permission, RedirectUri,
};
use crate::domain::event::{kind, EventKind};
use crate::domain::scope::ScopeSet;
use crate::domain::{Audience, ClientId, SigningAlg};
use crate::protocol::revocation;
use crate::storage::StoreError;

use super::{Actor, Services};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A field is wrong; the message says how.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("no such client")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::domain::client::RegistrationError> for ClientError {
    fn from(e: crate::domain::client::RegistrationError) -> Self {
        Self::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

/// Changes to a registration: each member given replaces what is there. `scopes: Some(None)`
/// lets the client ask for any scope.
#[derive(Debug, Default, Clone)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub client_type: Option<ClientType>,
    pub redirect_uris: Option<Vec<RedirectUri>>,
    pub grant_types: Option<Vec<GrantType>>,
    pub scopes: Option<Option<ScopeSet>>,
    pub audiences: Option<Vec<Audience>>,
    pub first_party: Option<bool>,
    pub id_token_alg: Option<SigningAlg>,
    pub post_logout_redirect_uris: Option<Vec<RedirectUri>>,
    pub permissions: Option<Vec<Permission>>,
    pub introspect_any_audience: Option<bool>,
    /// Without it, a change of `client_type` brings the matching method (`none` for a public
    /// client, `client_secret_basic` for a confidential one that had none).
    pub auth_method: Option<AuthMethod>,
    pub jwks: Option<Option<serde_json::Value>>,
    pub jwks_uri: Option<Option<url::Url>>,
    pub logo_uri: Option<Option<url::Url>>,
    pub client_uri: Option<Option<url::Url>>,
}

impl ClientChanges {
    /// The same changes with the client's keys for private_key_jwt: inline keys replace a URL
    /// and a URL replaces inline keys (a client has one or the other); neither given, neither
    /// changes.
    #[must_use]
    pub fn with_keys(mut self, jwks: Option<serde_json::Value>, jwks_uri: Option<url::Url>) -> Self {
        match (jwks, jwks_uri) {
            (None, None) => {}
            (jwks, jwks_uri) => {
                self.jwks = Some(jwks);
                self.jwks_uri = Some(jwks_uri);
            }
        }
        self
    }

    /// Applies the members given, then checks the rules across fields.
    pub fn apply(self, reg: &mut ClientRegistration) -> Result<(), ClientError> {
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *slot = value;
            }
        }
        set(&mut reg.name, self.name);
        if let Some(client_type) = self.client_type {
            reg.client_type = client_type;
            reg.auth_method = match (client_type, reg.auth_method) {
                (ClientType::Public, _) => AuthMethod::None,
                (ClientType::Confidential, AuthMethod::None) => AuthMethod::ClientSecretBasic,
                (ClientType::Confidential, method) => method,
            };
        }
        if let Some(method) = self.auth_method {
            reg.auth_method = method;
            reg.client_type = if method == AuthMethod::None {
                ClientType::Public
            } else {
                ClientType::Confidential
            };
        }
        set(&mut reg.jwks, self.jwks);
        set(&mut reg.jwks_uri, self.jwks_uri);
        set(&mut reg.logo_uri, self.logo_uri);
        set(&mut reg.client_uri, self.client_uri);
        set(&mut reg.redirect_uris, self.redirect_uris);
        if let Some(mut grants) = self.grant_types {
            grants.sort();
            grants.dedup();
            reg.grant_types = grants;
        }
        set(&mut reg.scopes, self.scopes);
        set(&mut reg.audiences, self.audiences);
        set(&mut reg.first_party, self.first_party);
        set(&mut reg.id_token_alg, self.id_token_alg);
        set(&mut reg.post_logout_redirect_uris, self.post_logout_redirect_uris);
        set(&mut reg.permissions, self.permissions);
        set(&mut reg.introspect_any_audience, self.introspect_any_audience);
        Ok(reg.validate()?)
    }
}

/// A client as made or changed: its secret when one was just made (to show once), and what
/// the registration allows but was probably not meant.
#[derive(Debug)]
pub struct Registered {
    pub client: Client,
    pub secret: Option<OpaqueSecret>,
    pub warnings: Vec<String>,
}

/// The client named `id` as the flows see it (authorization, client authentication): from the
/// in-memory cache, which reads the store only for an id it does not hold. Every flow looks a
/// client up here, so a kind of client that is not in the store (a metadata document) is added
/// in one place.
pub async fn lookup(services: &Services, id: &str) -> Result<Option<Arc<Client>>, LookupError> {
    if let Some(found) = super::metadata_documents::lookup(services, id).await {
        return found.map(|client| Some(with_open_audiences(services, client)));
    }
    Ok(services
        .client_cache
        .find(&*services.store, id, services.clock.now())
        .await?
        .map(|client| with_open_audiences(services, client)))
}

/// Why [`lookup`] found no client it could use, beyond "no such client".
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The id is a client metadata document's URL, and the document was refused; the reason
    /// in words for the refusal page.
    #[error("client metadata document refused: {0}")]
    Document(String),
}

/// The client as the flows may use it: a client nobody vetted (self-registered, metadata
/// document) may ask only for the resource servers open to such clients
/// (`open_to_self_registered`), whatever its record says; an operator's client as it is. Read
/// from the key manager's registry in memory, so no store read per request.
pub fn with_open_audiences(services: &Services, client: Arc<Client>) -> Arc<Client> {
    if client.origin == ClientOrigin::Operator {
        return client;
    }
    let keys = services.keys.current();
    let open = keys.open_audiences();
    if client.audiences == open {
        return client;
    }
    Arc::new(Client {
        audiences: open.to_vec(),
        ..(*client).clone()
    })
}

pub async fn list(services: &Services) -> Result<Vec<Client>, ClientError> {
    Ok(services.store.list_clients().await?)
}

pub async fn find(services: &Services, id: &str) -> Result<Client, ClientError> {
    services.store.find_client(id).await?.ok_or(ClientError::NotFound)
}

/// Registers a client named `name`, with the defaults of [`ClientRegistration::new`] where
/// `changes` gives nothing. A confidential client gets a secret, shown once.
pub async fn create(
    services: &Services,
    name: String,
    changes: ClientChanges,
    actor: &Actor,
) -> Result<Registered, ClientError> {
    let mut reg = ClientRegistration::new(name);
    changes.apply(&mut reg)?;
    insert(services, reg, kind::CLIENT_CREATED, actor).await
}

/// Stores a checked registration as a new client, recorded as `kind`; a client of a secret
/// method gets one, shown once.
pub(crate) async fn insert(
    services: &Services,
    reg: ClientRegistration,
    kind: EventKind,
    actor: &Actor,
) -> Result<Registered, ClientError> {
    reg.validate()?;
    let warnings = reg.warnings();
    let secret = reg
        .auth_method
        .uses_secret()
        .then(|| OpaqueSecret::generate(prefix::CLIENT_SECRET));
    let client = reg.into_client(
        ClientId::new(format!("khc-{}", random_base64url(16))),
        secret.as_ref().map(|s| s.hash().as_str().to_owned()),
        services.clock.now(),
    );
    services.store.insert_client(&client).await?;
    record(services, actor, kind, &client.id);
    changed(services, &client.id).await?;
    Ok(Registered {
        client,
        secret,
        warnings,
    })
}

/// Changes a client's registration; its type cannot change (its secret, or lack of one,
/// depends on it).
pub async fn update(
    services: &Services,
    id: &str,
    changes: ClientChanges,
    actor: &Actor,
) -> Result<Registered, ClientError> {
    change(services, id, changes, kind::CLIENT_UPDATED, actor).await
}

/// [`update`], recorded as `kind`.
pub(crate) async fn change(
    services: &Services,
    id: &str,
    changes: ClientChanges,
    kind: EventKind,
    actor: &Actor,
) -> Result<Registered, ClientError> {
    let client = find(services, id).await?;
    let mut reg = ClientRegistration::of(&client);
    changes.apply(&mut reg)?;
    if reg.client_type != client.client_type {
        return Err(ClientError::Invalid {
            field: "client_type",
            message: "cannot change; create a new client".into(),
        });
    }
    if reg.auth_method.uses_secret() != client.auth_method.uses_secret() {
        return Err(ClientError::Invalid {
            field: "token_endpoint_auth_method",
            message: "cannot change between a secret and no secret; create a new client".into(),
        });
    }
    let warnings = reg.warnings();
    let mut updated = reg.into_client(client.id, client.secret_hash, client.created_at);
    updated.updated_at = services.clock.now();
    if !services.store.update_client(&updated).await? {
        return Err(ClientError::NotFound);
    }
    record(services, actor, kind, id);
    changed(services, &updated.id).await?;
    Ok(Registered {
        client: updated,
        secret: None,
        warnings,
    })
}

/// Gives a confidential client a new secret (shown once); the old one stops working at once.
pub async fn rotate_secret(services: &Services, id: &str, actor: &Actor) -> Result<Registered, ClientError> {
    let client = find(services, id).await?;
    if !client.auth_method.uses_secret() {
        return Err(ClientError::Invalid {
            field: "token_endpoint_auth_method",
            message: format!("a client of `{}` has no secret", client.auth_method.as_str()),
        });
    }
    let secret = OpaqueSecret::generate(prefix::CLIENT_SECRET);
    let now = services.clock.now();
    if !services
        .store
        .set_client_secret(id, secret.hash().as_str(), now)
        .await?
    {
        return Err(ClientError::NotFound);
    }
    record(services, actor, kind::CLIENT_SECRET_ROTATED, id);
    changed(services, &client.id).await?;
    Ok(Registered {
        client: Client {
            updated_at: now,
            ..client
        },
        secret: Some(secret),
        warnings: Vec::new(),
    })
}

/// Deletes a client: it can no longer authenticate, so its refresh tokens stop working.
pub async fn delete(services: &Services, id: &str, actor: &Actor) -> Result<(), ClientError> {
    remove(services, id, kind::CLIENT_DELETED, actor).await
}

/// [`delete`], recorded as `kind`. Deleting a metadata-document client also revokes its grants
/// and forgets its fetched document.
pub(crate) async fn remove(services: &Services, id: &str, kind: EventKind, actor: &Actor) -> Result<(), ClientError> {
    let client = services.store.find_client(id).await?;
    if !services.store.delete_client(id).await? {
        return Err(ClientError::NotFound);
    }
    if let Some(client) = client.filter(|c| c.origin == ClientOrigin::MetadataDocument) {
        super::metadata_documents::deleted(services, &client).await?;
    }
    record(services, actor, kind, id);
    changed(services, &ClientId::from(id)).await?;
    Ok(())
}

/// Tells every instance that the client changed: an entry in the revocation log (read by the
/// others within one refresh interval), and a reload here now.
pub(super) async fn changed(services: &Services, id: &ClientId) -> Result<(), ClientError> {
    revocation::record_client_changed(&services.protocol(), id).await?;
    services
        .client_cache
        .reload(&*services.store, id, services.clock.now())
        .await;
    Ok(())
}

fn record(services: &Services, actor: &Actor, kind: EventKind, client_id: &str) {
    services.events.record(
        actor
            .action(services, kind)
            .detail(format!("client {client_id}, by {}", actor.describe())),
    );
}
