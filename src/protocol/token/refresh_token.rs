//! `grant_type=refresh_token` (RFC 6749 §6, RFC 9700 §4.14): every use rotates the token; a
//! token used after its rotation revokes its whole family (theft detection), unless it is a
//! quick retry of the immediately previous token within `refresh_reuse_grace`. The rules are
//! here; the rotation (one compare-and-swap in the store) and what reuse revokes are
//! `service::tokens`.

use crate::domain::client::Client;
use crate::domain::scope::ScopeSet;
use crate::domain::UnixTime;
use crate::protocol::error::{err, OAuthError, ProtocolError};
use crate::storage::{FamilyRecord, RefreshTokenRecord};

/// Not `Debug`: the token is a secret.
pub struct RefreshRequest {
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

/// What a presented token is, before anything is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// It may be rotated.
    Live,
    /// It was rotated before: presented again, it is reused.
    Rotated,
    /// `invalid_grant` with this description; nothing is revoked.
    Refused(&'static str),
}

/// Judges a token of `family` presented by `client` at `now`. Another client's token is a
/// client bug, not a theft: refused, and its family lives on.
pub fn standing(token: &RefreshTokenRecord, family: &FamilyRecord, client: &Client, now: UnixTime) -> Standing {
    if family.client_id != client.id {
        return Standing::Refused("the refresh token was issued to another client");
    }
    if family.revoked_at.is_some() {
        return Standing::Refused("the refresh token was revoked");
    }
    if token.rotated_at.is_some() {
        return Standing::Rotated;
    }
    if token.expires_at <= now || family.expires_at <= now {
        return Standing::Refused("the refresh token has expired");
    }
    Standing::Live
}

/// The scope of the refreshed tokens: the grant's, or narrower when asked; never wider.
pub fn scope(granted: &str, asked: Option<&str>) -> Result<ScopeSet, ProtocolError> {
    let granted =
        ScopeSet::parse(granted).map_err(|_| err(OAuthError::InvalidGrant, "the grant's scope is unreadable"))?;
    let Some(asked) = asked else {
        return Ok(granted);
    };
    let asked = ScopeSet::parse(asked).map_err(|e| err(OAuthError::InvalidScope, e.to_string()))?;
    if asked.is_subset_of(&granted) {
        Ok(asked)
    } else {
        Err(err(
            OAuthError::InvalidScope,
            "a refresh may narrow the scope, never widen it",
        ))
    }
}

/// When a new refresh token of a family expires: its idle lifetime slides with each rotation,
/// the family's absolute end does not.
pub fn expires_at(now: UnixTime, idle_ttl: i64, family_ends_at: UnixTime) -> UnixTime {
    (now + idle_ttl).min(family_ends_at)
}

/// Whether a rotated token presented again may be a client's quick retry (a lost response)
/// rather than a theft: rotated within `grace` seconds. It is one only if its successor is
/// still unused, which the caller looks up.
pub fn may_be_retry(token: &RefreshTokenRecord, grace: i64, now: UnixTime) -> bool {
    grace > 0 && token.rotated_at.is_some_and(|at| now - at <= grace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::GrantType;

    const NOW: UnixTime = 1_700_000_000;

    fn client(id: &str) -> Client {
        Client {
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            ..Client::example(id)
        }
    }

    fn family(ends_at: UnixTime) -> FamilyRecord {
        FamilyRecord {
            id: "fam".into(),
            client_id: "a".into(),
            user_id: "alice".into(),
            sid: "s".into(),
            scope: "openid offline_access".into(),
            claims: None,
            audience: "[]".into(),
            auth_time: NOW - 100,
            amr: vec![],
            created_at: NOW - 100,
            expires_at: ends_at,
            revoked_at: None,
            revoked_reason: None,
        }
    }

    fn token(expires_at: UnixTime, rotated_at: Option<UnixTime>) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: "h".into(),
            family_id: "fam".into(),
            created_at: NOW - 100,
            expires_at,
            rotated_at,
            successor_hash: rotated_at.map(|_| "next".into()),
        }
    }

    #[test]
    fn a_token_is_live_until_its_idle_or_its_familys_absolute_end() {
        let a = client("a");
        let live = token(NOW + 3600, None);
        assert_eq!(standing(&live, &family(NOW + 7200), &a, NOW), Standing::Live);
        // Positive control first, then the same token one second past each end.
        assert_eq!(standing(&live, &family(NOW + 7200), &a, NOW + 3599), Standing::Live);
        assert_eq!(
            standing(&live, &family(NOW + 7200), &a, NOW + 3600),
            Standing::Refused("the refresh token has expired")
        );
        assert_eq!(
            standing(&live, &family(NOW + 10), &a, NOW + 10),
            Standing::Refused("the refresh token has expired")
        );
    }

    #[test]
    fn reuse_is_told_apart_from_other_refusals() {
        let a = client("a");
        let rotated = token(NOW + 3600, Some(NOW - 1));
        assert_eq!(standing(&rotated, &family(NOW + 7200), &a, NOW), Standing::Rotated);
        // Another client's token, even a rotated one, is refused without a theft alarm.
        assert!(matches!(
            standing(&rotated, &family(NOW + 7200), &client("b"), NOW),
            Standing::Refused(_)
        ));
        let mut revoked = family(NOW + 7200);
        revoked.revoked_at = Some(NOW - 5);
        assert_eq!(
            standing(&rotated, &revoked, &a, NOW),
            Standing::Refused("the refresh token was revoked")
        );
    }

    #[test]
    fn a_refresh_may_narrow_the_scope_but_never_widen_it() {
        let granted = "openid profile offline_access";
        assert_eq!(
            scope(granted, None).unwrap().to_string(),
            "offline_access openid profile"
        );
        assert_eq!(scope(granted, Some("openid")).unwrap().to_string(), "openid");
        assert_eq!(
            scope(granted, Some("openid email")).unwrap_err().error,
            OAuthError::InvalidScope
        );
        assert_eq!(scope(granted, Some("\"")).unwrap_err().error, OAuthError::InvalidScope);
    }

    #[test]
    fn the_idle_lifetime_slides_up_to_the_absolute_end() {
        assert_eq!(expires_at(NOW, 3600, NOW + 7200), NOW + 3600);
        assert_eq!(expires_at(NOW + 5400, 3600, NOW + 7200), NOW + 7200);
    }

    #[test]
    fn only_a_recent_rotation_may_be_a_retry_and_only_with_a_grace_time() {
        let rotated = token(NOW + 3600, Some(NOW - 10));
        assert!(may_be_retry(&rotated, 10, NOW));
        assert!(!may_be_retry(&rotated, 9, NOW));
        assert!(!may_be_retry(&rotated, 0, NOW));
        assert!(!may_be_retry(&token(NOW + 3600, None), 10, NOW));
    }
}
