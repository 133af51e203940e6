//! Clients whose id is the URL of their metadata document: fetched through
//! `Services::client_documents` (kept per `Cache-Control` within `metadata_cache_min` and
//! `metadata_cache_max`, so a kept document is not fetched again within its lifetime), parsed on
//! each use (a few KiB of JSON), and written to the store as a client of origin
//! `metadata_document` the first time a signed-in person gets a code for it (or approves it on a
//! device), and whenever a recorded client's document changes, so operators see it (`keyhaven
//! client list`, the admin API) and can delete it. Writing on first *use* would let anyone who
//! hosts documents add rows with unauthenticated requests; a person's approval bounds them. Deleting one revokes its
//! grants and forgets the fetched document; its next use fetches it again (the
//! `client_id_metadata_documents` host list is how to keep a host out).

use std::sync::Arc;

use super::clients::LookupError;
use super::Services;
use crate::domain::client::{Client, ClientOrigin};
use crate::domain::event::{kind, Outcome, SecurityEvent};
use crate::fetch::{FetchError, Freshness};
use crate::protocol::metadata_document::{
    client_of_document, document_url, DocumentId, SelfRegisteredPolicy, UrlPolicy,
};
use crate::storage::StoreError;

/// The client `id` names when it is a metadata document's URL; None for an ordinary id (or
/// when the feature is off).
pub async fn lookup(services: &Services, id: &str) -> Option<Result<Arc<Client>, LookupError>> {
    let settings = &services.settings;
    let allows = |host: &str| settings.client_id_metadata_documents.allows(host);
    let policy = UrlPolicy {
        enabled: settings.client_id_metadata_documents.enabled(),
        allow_loopback_http: settings.dev_allow_loopback_fetch,
        allows_host: &allows,
    };
    match document_url(id, policy) {
        DocumentId::NotADocument => None,
        DocumentId::Refused(reason) => Some(Err(refused(id, reason))),
        DocumentId::Url(url) => Some(resolve(services, id, &url).await),
    }
}

async fn resolve(services: &Services, id: &str, url: &url::Url) -> Result<Arc<Client>, LookupError> {
    let now = services.clock.now();
    // Not in the store (never used, or deleted by an operator since): fetch the document again
    // rather than use a copy kept from before (at most once per the cache's refetch interval).
    let known = services.client_cache.find(&*services.store, id, now).await?;
    let freshness = if known.is_some() {
        Freshness::Cached
    } else {
        Freshness::Refetch
    };
    let body = services
        .client_documents
        .get(url, now, freshness)
        .await
        .map_err(|e| refused(id, in_words(&e)))?;
    let settings = &services.settings;
    let policy = SelfRegisteredPolicy {
        grants: &settings.self_registered_grants,
        scopes: &settings.self_registered_scopes,
    };
    let client = client_of_document(id, &body, &policy, now).map_err(|reason| refused(id, reason))?;
    match known {
        // Not recorded yet: only in memory until a person approves it ([`record_first_use`]).
        None => Ok(Arc::new(client)),
        known => record(services, known, client).await,
    }
}

/// Records a metadata-document client the first time a signed-in person approves it (a code
/// is issued, a device approved); nothing for other clients or one already recorded.
pub async fn record_first_use(services: &Services, client: &Client) -> Result<(), LookupError> {
    if client.origin != ClientOrigin::MetadataDocument {
        return Ok(());
    }
    let known = services
        .client_cache
        .find(&*services.store, &client.id, services.clock.now())
        .await?;
    if known.is_none() {
        record(services, None, client.clone()).await?;
    }
    Ok(())
}

fn refused(id: &str, reason: String) -> LookupError {
    tracing::info!(client_id = %id.chars().take(200).collect::<String>(), %reason, "client metadata document refused");
    LookupError::Document(reason)
}

/// Why a fetch failed, as the refusal page says it.
fn in_words(e: &FetchError) -> String {
    match e {
        FetchError::WrongType(served) if served.is_empty() => {
            "the document is not JSON (it was served without a type)".into()
        }
        FetchError::WrongType(served) => format!("the document is not JSON (it was served as {served})"),
        FetchError::Redirect => {
            "the server redirected the request; a client metadata document must be served at its URL without a redirect"
                .into()
        }
        FetchError::ForbiddenAddress => {
            "the document's host is a private, loopback or reserved address, which this server does not contact".into()
        }
        FetchError::TooLarge(max) => format!("the document is too large (more than {max} bytes)"),
        FetchError::Timeout(seconds) => {
            format!("the document's server was too slow (no answer within {seconds} seconds)")
        }
        other => other.to_string(),
    }
}

/// Writes the client to the store when it is new or its document changed (an event each time),
/// and hands back the client as the store holds it.
async fn record(services: &Services, known: Option<Arc<Client>>, client: Client) -> Result<Arc<Client>, LookupError> {
    let now = services.clock.now();
    let event = match known {
        Some(known) if known.origin != ClientOrigin::MetadataDocument => {
            return Err(refused(&client.id, "the client id is taken by another client".into()))
        }
        Some(known) if same_registration(&known, &client) => return Ok(known),
        Some(known) => {
            let updated = Client {
                created_at: known.created_at,
                updated_at: now,
                ..client
            };
            if !services.store.update_client(&updated).await? {
                services.store.insert_client(&updated).await?;
            }
            (updated, kind::CLIENT_UPDATED)
        }
        None => match services.store.insert_client(&client).await {
            Ok(()) => (client, kind::CLIENT_CREATED),
            // Another request (or instance) recorded it first.
            Err(StoreError::Conflict) => {
                services.store.update_client(&client).await?;
                (client, kind::CLIENT_UPDATED)
            }
            Err(e) => return Err(e.into()),
        },
    };
    let (client, kind) = event;
    services.events.record(
        SecurityEvent::new(now, kind, Outcome::Success)
            .client(&*client.id)
            .detail("from its client metadata document"),
    );
    super::clients::changed(services, &client.id)
        .await
        .map_err(|e| match e {
            super::clients::ClientError::Store(e) => LookupError::Store(e),
            other => LookupError::Document(other.to_string()),
        })?;
    Ok(Arc::new(client))
}

/// Whether the stored client says what the document says now.
fn same_registration(a: &Client, b: &Client) -> bool {
    a.name == b.name
        && a.client_type == b.client_type
        && a.redirect_uris == b.redirect_uris
        && a.grant_types == b.grant_types
        && a.scopes == b.scopes
        && a.post_logout_redirect_uris == b.post_logout_redirect_uris
        && a.auth_method == b.auth_method
        && a.jwks == b.jwks
        && a.jwks_uri == b.jwks_uri
        && a.logo_uri == b.logo_uri
        && a.client_uri == b.client_uri
}

/// After an operator deleted a metadata-document client: its grants end (it could come back
/// under the same id), and its document is forgotten, so the next use fetches it again.
pub async fn deleted(services: &Services, client: &Client) -> Result<(), StoreError> {
    let ctx = services.protocol();
    for family in ctx
        .store
        .revoke_all_client_families(&client.id, ctx.now, "client_deleted")
        .await?
    {
        crate::protocol::revocation::record_family_revoked(&ctx, &family).await?;
    }
    if let Ok(url) = url::Url::parse(&client.id) {
        services.client_documents.forget(&url);
    }
    Ok(())
}
