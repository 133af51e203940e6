//! The applications a person let in: those they consented to and those holding a live grant
//! family of theirs, and removing an application's access.

use std::collections::BTreeSet;

use super::{Peer, Services};
use crate::domain::event::{kind, Outcome};
use crate::domain::user::User;
use crate::protocol::revocation;
use crate::storage::StoreError;

/// An application with access to the person's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedApp {
    pub client_id: String,
    pub name: String,
    /// What the person consented to, else what a live grant holds.
    pub scope: String,
}

/// The applications with a consent or a live grant family of the person, by client id.
pub async fn connected_apps(services: &Services, user: &User) -> Result<Vec<ConnectedApp>, StoreError> {
    let now = services.clock.now();
    let consents = services.store.list_consents(&user.id).await?;
    let families = services.store.list_live_families(&user.id, now).await?;
    let mut client_ids: BTreeSet<&str> = consents.iter().map(|(c, _, _)| c.as_str()).collect();
    client_ids.extend(families.iter().map(|f| f.client_id.as_str()));
    let mut apps = Vec::new();
    for id in client_ids {
        let Some(client) = services.store.find_client(id).await? else {
            continue;
        };
        let scope = consents
            .iter()
            .find(|(c, _, _)| c == id)
            .map(|(_, s, _)| s.clone())
            .or_else(|| families.iter().find(|f| f.client_id == id).map(|f| f.scope.clone()))
            .unwrap_or_default();
        apps.push(ConnectedApp {
            client_id: id.to_owned(),
            name: client.name,
            scope,
        });
    }
    Ok(apps)
}

/// Revokes every grant family the person has with the client (refresh tokens in the store,
/// access tokens through the revocation log) and forgets their consent, so the next
/// authorization asks again.
pub async fn remove_access(services: &Services, user: &User, client_id: &str, peer: &Peer) -> Result<(), StoreError> {
    let ctx = services.protocol();
    for family in ctx
        .store
        .revoke_client_families(&user.id, client_id, ctx.now, "access_removed")
        .await?
    {
        revocation::record_family_revoked(&ctx, &family).await?;
    }
    ctx.store.delete_consent(&user.id, client_id).await?;
    services.events.record(
        peer.event(services, kind::TOKEN_REVOKED, Outcome::Success)
            .user(&user.id)
            .client(client_id)
            .detail("access removed by the person"),
    );
    Ok(())
}
