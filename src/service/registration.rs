//! Dynamic client registration (RFC 7591) and its management (RFC 7592), free of HTTP: a client
//! registers itself (with an initial access token when `client_registration = token`), then
//! reads, replaces or deletes its registration with the registration access token it was given.
//! The client is made, changed and deleted through [`super::clients`], so the registration
//! rules, the client cache and the revocation log are the operator's; the tokens are kept only
//! as hashes. Every registration, change, deletion and refused token is a security event.

use crate::config::RegistrationPolicy;
use crate::crypto::tokens::{prefix, OpaqueSecret, SecretHash};
use crate::domain::client::{Client, ClientOrigin};
use crate::domain::event::{kind, Outcome};
use crate::domain::UnixTime;
use crate::protocol::registration::{self, ClientMetadata, MetadataError, Policy};
use crate::storage::StoreError;

use super::clients::{self, ClientChanges, ClientError};
use super::{Actor, Peer, Services};

/// Why a registration request was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationRefusal {
    /// Registration is off (`client_registration = off`).
    #[error("dynamic client registration is off")]
    Off,
    /// The bearer token is missing, wrong, expired or used up (RFC 6750 `invalid_token`); the
    /// words are the same whichever, and say nothing of the client.
    #[error("{0}")]
    InvalidToken(&'static str),
    /// The metadata breaks a rule (RFC 7591 §3.2.2).
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// Open registration has reached `self_registered_clients_max`.
    #[error("this server takes no more self-registered clients")]
    Full,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ClientError> for RegistrationRefusal {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Invalid { field, message } => Self::Metadata(MetadataError {
                code: if field == "redirect_uris" {
                    registration::MetadataErrorCode::InvalidRedirectUri
                } else {
                    registration::MetadataErrorCode::InvalidClientMetadata
                },
                description: format!("{field}: {message}"),
            }),
            // Deleted between the token check and the change: as if the token were wrong.
            ClientError::NotFound => Self::InvalidToken(WRONG_REGISTRATION_TOKEN),
            ClientError::Store(e) => Self::Store(e),
        }
    }
}

const MISSING_TOKEN: &str = "an initial access token is required to register";
const WRONG_INITIAL_TOKEN: &str = "the initial access token is invalid, expired or used up";
const WRONG_REGISTRATION_TOKEN: &str = "the registration access token is invalid";

/// A client that just registered: what to tell it once (its secret, its registration access
/// token).
pub struct Registration {
    pub client: Client,
    pub secret: Option<OpaqueSecret>,
    pub registration_access_token: OpaqueSecret,
}

/// An initial access token just made, to hand out once.
pub struct InitialAccessToken {
    pub token: OpaqueSecret,
    pub uses: u32,
    pub expires_at: UnixTime,
}

/// Where a client manages its registration: `<issuer>/register/<client_id>`.
pub fn registration_client_uri(services: &Services, client_id: &str) -> String {
    format!("{}/register/{client_id}", services.settings.issuer)
}

/// Registers a client from its metadata, under the `client_registration` policy: with
/// `token`, `initial_token` must be an initial access token with a use left (one is taken once
/// the metadata passed). Returns the client, its secret (secret methods only) and its
/// registration access token.
pub async fn register(
    services: &Services,
    initial_token: Option<&str>,
    metadata: &ClientMetadata,
    peer: &Peer,
) -> Result<Registration, RegistrationRefusal> {
    let policy = services.settings.client_registration;
    if policy == RegistrationPolicy::Off {
        return Err(RegistrationRefusal::Off);
    }
    if policy == RegistrationPolicy::Token && initial_token.is_none() {
        return Err(refuse(services, peer, None, MISSING_TOKEN));
    }
    let reg = registration::registration(
        metadata,
        Policy {
            grants: &services.settings.self_registered_grants,
            scopes: &services.settings.self_registered_scopes,
        },
    )?;
    // Anyone may register: the number of such clients is bounded (the rate limit bounds each
    // sender, this bounds them all). Counted in memory (every client is held there).
    if policy == RegistrationPolicy::Open
        && services.client_cache.count_of(ClientOrigin::Registered) >= services.settings.self_registered_clients_max
    {
        services.events.record(
            peer.event(services, kind::CLIENT_REGISTERED, Outcome::Failure)
                .detail("refused: self_registered_clients_max reached"),
        );
        tracing::warn!("open client registration refused: self_registered_clients_max reached");
        return Err(RegistrationRefusal::Full);
    }
    if let (RegistrationPolicy::Token, Some(token)) = (policy, initial_token) {
        let hash = SecretHash::of(token);
        if !services
            .store
            .use_registration_token(hash.as_str(), services.clock.now())
            .await?
        {
            return Err(refuse(services, peer, None, WRONG_INITIAL_TOKEN));
        }
    }
    let actor = Actor::Registrant(peer.clone());
    let made = clients::insert(services, reg, kind::CLIENT_REGISTERED, &actor).await?;
    let access = OpaqueSecret::generate(prefix::REGISTRATION_ACCESS_TOKEN);
    if let Err(e) = services
        .store
        .insert_client_registration(made.client.id.as_str(), access.hash().as_str(), services.clock.now())
        .await
    {
        // A client it could never manage is no use to it: undo, and let it try again.
        if let Err(undo) = services.store.delete_client(made.client.id.as_str()).await {
            tracing::warn!(error = %undo, client_id = %made.client.id, "cannot remove a half-registered client");
        }
        return Err(e.into());
    }
    Ok(Registration {
        client: made.client,
        secret: made.secret,
        registration_access_token: access,
    })
}

/// The registration of `client_id` (RFC 7592 §2.1), for the holder of its registration access
/// token.
pub async fn read(
    services: &Services,
    client_id: &str,
    token: Option<&str>,
    peer: &Peer,
) -> Result<Client, RegistrationRefusal> {
    authenticate(services, client_id, token, peer).await
}

/// Replaces the registration of `client_id` (RFC 7592 §2.2) with `metadata`, under the same
/// rules as a registration. The body's `client_id` must name the client; the secret is kept,
/// so the method cannot change between a secret and none.
pub async fn update(
    services: &Services,
    client_id: &str,
    token: Option<&str>,
    metadata: &ClientMetadata,
    peer: &Peer,
) -> Result<Client, RegistrationRefusal> {
    authenticate(services, client_id, token, peer).await?;
    if metadata.client_id.as_deref() != Some(client_id) {
        return Err(MetadataError {
            code: registration::MetadataErrorCode::InvalidClientMetadata,
            description: "client_id: must be the id of the client being changed".into(),
        }
        .into());
    }
    let reg = registration::registration(
        metadata,
        Policy {
            grants: &services.settings.self_registered_grants,
            scopes: &services.settings.self_registered_scopes,
        },
    )?;
    let changes = ClientChanges {
        name: Some(reg.name),
        redirect_uris: Some(reg.redirect_uris),
        grant_types: Some(reg.grant_types),
        scopes: Some(reg.scopes),
        auth_method: Some(reg.auth_method),
        jwks: Some(reg.jwks),
        jwks_uri: Some(reg.jwks_uri),
        logo_uri: Some(reg.logo_uri),
        client_uri: Some(reg.client_uri),
        ..ClientChanges::default()
    };
    let actor = Actor::Registrant(peer.clone());
    let changed = clients::change(services, client_id, changes, kind::CLIENT_REGISTRATION_UPDATED, &actor).await?;
    Ok(changed.client)
}

/// Deletes the client `client_id` (RFC 7592 §2.3): it can no longer authenticate, and its
/// refresh tokens stop working, as when an operator deletes a client.
pub async fn delete(
    services: &Services,
    client_id: &str,
    token: Option<&str>,
    peer: &Peer,
) -> Result<(), RegistrationRefusal> {
    authenticate(services, client_id, token, peer).await?;
    let actor = Actor::Registrant(peer.clone());
    clients::remove(services, client_id, kind::CLIENT_REGISTRATION_DELETED, &actor).await?;
    Ok(())
}

/// Makes an initial access token good for `uses` registrations (at least one) for
/// `expires_in` seconds, shown once.
pub async fn issue_token(
    services: &Services,
    uses: u32,
    expires_in: u64,
    note: Option<&str>,
    actor: &Actor,
) -> Result<InitialAccessToken, StoreError> {
    let uses = uses.max(1);
    let now = services.clock.now();
    let expires_at = now.saturating_add(i64::try_from(expires_in).unwrap_or(i64::MAX));
    let token = OpaqueSecret::generate(prefix::REGISTRATION_TOKEN);
    services
        .store
        .insert_registration_token(token.hash().as_str(), i64::from(uses), expires_at, now, note)
        .await?;
    services
        .events
        .record(actor.action(services, kind::REGISTRATION_TOKEN_CREATED).detail(format!(
            "{uses} use(s), expires at {expires_at}, by {}",
            actor.describe()
        )));
    Ok(InitialAccessToken {
        token,
        uses,
        expires_at,
    })
}

/// The self-registered client `client_id`, when `token` is its registration access token.
/// A wrong token, another client's, or an id that did not register itself are one refusal.
async fn authenticate(
    services: &Services,
    client_id: &str,
    token: Option<&str>,
    peer: &Peer,
) -> Result<Client, RegistrationRefusal> {
    let Some(token) = token else {
        return Err(refuse(services, peer, Some(client_id), WRONG_REGISTRATION_TOKEN));
    };
    let stored = services.store.find_client_registration(client_id).await?;
    let matches = stored.is_some_and(|hash| SecretHash::from_stored(hash).matches(token));
    if !matches {
        return Err(refuse(services, peer, Some(client_id), WRONG_REGISTRATION_TOKEN));
    }
    match services.store.find_client(client_id).await? {
        Some(client) if client.origin == ClientOrigin::Registered => Ok(client),
        _ => Err(refuse(services, peer, Some(client_id), WRONG_REGISTRATION_TOKEN)),
    }
}

/// Records a refused token and returns the refusal.
fn refuse(services: &Services, peer: &Peer, client_id: Option<&str>, why: &'static str) -> RegistrationRefusal {
    let mut event = peer
        .event(services, kind::REGISTRATION_TOKEN_REFUSED, Outcome::Failure)
        .detail(why);
    if let Some(id) = client_id {
        event = event.client(id);
    }
    services.events.record(event);
    RegistrationRefusal::InvalidToken(why)
}
