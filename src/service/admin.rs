//! Who may use the admin API, and the record of what they did. An operator is a client holding
//! an access token from `client_credentials` for audience [`AUDIENCE`] with scope [`SCOPE`];
//! every call writes an `admin_action` security event naming that client.

use crate::domain::event::{kind, EventFilter, Outcome, SecurityEvent};
use crate::domain::user::User;
use crate::domain::{ClientId, SessionId};
use crate::protocol::revocation;
pub use crate::storage::SessionRecord;
use crate::storage::StoreError;

use super::{Actor, Services};

pub const AUDIENCE: &str = "keyhaven-admin";
pub const SCOPE: &str = "keyhaven:admin";

/// A client the admin API has let in.
#[derive(Debug, Clone)]
pub struct Operator {
    pub client_id: ClientId,
}

impl Operator {
    /// The actor named in the events of what this operator does.
    pub fn actor(&self) -> Actor {
        Actor::AdminClient(self.client_id.clone())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdminRefusal {
    /// No valid token (401): the reason, safe to send.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A valid token without the admin audience or scope (403).
    #[error("needs audience keyhaven-admin and scope keyhaven:admin")]
    Forbidden,
}

/// Checks a bearer token: valid (signature, issuer, expiry), not revoked, and for the admin
/// audience with the admin scope — both, each on its own.
pub fn authorize(services: &Services, token: &str) -> Result<Operator, AdminRefusal> {
    let ctx = services.protocol();
    let claims = services
        .access_tokens
        .validate(&ctx, token)
        .map_err(|_| AdminRefusal::Unauthorized("the token is invalid"))?;
    if services.revocations.is_revoked(&claims) {
        return Err(AdminRefusal::Unauthorized("the token is revoked"));
    }
    if !claims.audience.iter().any(|a| a == AUDIENCE) || !claims.has_scope(SCOPE) {
        return Err(AdminRefusal::Forbidden);
    }
    Ok(Operator {
        client_id: claims.client_id,
    })
}

/// Records one admin API call: what was done, and to what.
pub fn record(services: &Services, operator: &Operator, action: &str, target: &str) {
    services.events.record(
        SecurityEvent::new(services.clock.now(), kind::ADMIN_ACTION, Outcome::Success)
            .client(&operator.client_id)
            .detail(format!("{action} {target}")),
    );
}

/// Whether the store answers within two seconds (the readiness check); logs why not.
pub async fn store_ready(services: &Services) -> bool {
    match tokio::time::timeout(std::time::Duration::from_secs(2), services.store.ping()).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = format!("{e:#}"), "readiness check: store unreachable");
            false
        }
        Err(_) => {
            tracing::warn!("readiness check: store timed out");
            false
        }
    }
}

/// The person's live sessions, newest first.
pub async fn sessions_of(services: &Services, user: &User) -> Result<Vec<SessionRecord>, StoreError> {
    services.store.list_live_sessions(&user.id, services.clock.now()).await
}

/// Ends one session with its refresh families and access tokens; false when there is no such
/// session.
pub async fn end_session(services: &Services, sid: &SessionId, actor: &Actor) -> Result<bool, StoreError> {
    let Some(session) = services.store.find_session_by_sid(sid).await? else {
        return Ok(false);
    };
    revocation::end_session(&services.protocol(), sid, "revoked_by_admin").await?;
    services
        .events
        .record(actor.event(services, kind::LOGOUT, &session.user_id).session(sid));
    Ok(true)
}

/// A page of security events, newest first.
pub async fn events(services: &Services, filter: &EventFilter) -> Result<Vec<SecurityEvent>, StoreError> {
    services.store.list_events(filter).await
}
