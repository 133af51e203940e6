//! A person's browser sessions, as the account's devices page shows them: the live ones, and
//! signing out one of them or every one but the current.

use super::signin::{self, Liveness, SessionRecord};
use super::{Peer, Services};
use crate::domain::event::{kind, Outcome};
use crate::domain::user::User;
use crate::domain::SessionId;
use crate::protocol::revocation;
use crate::storage::StoreError;

/// The person's sessions that are live now (not ended, within both lifetimes).
pub async fn devices(services: &Services, user: &User) -> Result<Vec<SessionRecord>, StoreError> {
    let now = services.clock.now();
    let idle_ttl = services.settings.session_idle_ttl;
    let mut sessions = services.store.list_live_sessions(&user.id, now).await?;
    sessions.retain(|s| matches!(signin::liveness(s, now, idle_ttl), Liveness::Live { .. }));
    Ok(sessions)
}

/// Signs out the person's session `sid` (one of theirs only); false when it is not theirs.
pub async fn sign_out_device(
    services: &Services,
    user: &User,
    sid: &SessionId,
    peer: &Peer,
) -> Result<bool, StoreError> {
    let owned = services
        .store
        .find_session_by_sid(sid)
        .await?
        .is_some_and(|s| s.user_id == user.id);
    if owned {
        signin::sign_out(
            services,
            user,
            sid,
            "signed_out_from_account",
            peer,
            Some("from the devices page"),
        )
        .await?;
    }
    Ok(owned)
}

/// Signs out every session of the person but `keep_sid`, with their refresh families.
pub async fn sign_out_other_devices(
    services: &Services,
    user: &User,
    keep_sid: &SessionId,
    peer: &Peer,
) -> Result<(), StoreError> {
    revocation::end_user_sessions(
        &services.protocol(),
        &user.id,
        Some(keep_sid),
        "signed_out_everywhere_else",
    )
    .await?;
    services.events.record(
        peer.event(services, kind::LOGOUT, Outcome::Success)
            .user(&user.id)
            .detail("everywhere else"),
    );
    Ok(())
}
