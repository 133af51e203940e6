//! `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4, §3.5): what a
//! device's poll hears. Recording the poll (and growing the interval) and spending an approved
//! authorization are single store operations, in `service::device`.

use crate::domain::client::Client;
use crate::domain::UnixTime;
use crate::protocol::error::{err, OAuthError, ProtocolError};
use crate::storage::{DevicePoll, DeviceStatus};

/// The grant's parameters. `Debug` is not derived: the device code is a secret.
pub struct DeviceCodeRequest {
    pub device_code: Option<String>,
}

/// The answer to a poll, by the authorization as the poll left it: `Ok` when it is approved
/// and may be redeemed now; else the RFC 8628 §3.5 error.
pub fn check(poll: &DevicePoll, client: &Client, now: UnixTime) -> Result<(), ProtocolError> {
    let authorization = &poll.authorization;
    if authorization.client_id != client.id {
        return Err(err(OAuthError::InvalidGrant, "the device code is invalid"));
    }
    if authorization.expires_at <= now {
        return Err(err(OAuthError::ExpiredToken, "the device code has expired"));
    }
    match authorization.status {
        DeviceStatus::Pending if poll.too_fast => Err(err(
            OAuthError::SlowDown,
            format!("poll at most every {} seconds", authorization.interval),
        )),
        DeviceStatus::Pending => Err(err(OAuthError::AuthorizationPending, "the person has not answered yet")),
        DeviceStatus::Denied => Err(err(OAuthError::AccessDenied, "the person denied the request")),
        DeviceStatus::Redeemed => Err(err(OAuthError::InvalidGrant, "the device code was already used")),
        DeviceStatus::Approved => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::DeviceAuthorization;

    const NOW: UnixTime = 1_700_000_000;

    fn poll(status: DeviceStatus, too_fast: bool) -> DevicePoll {
        DevicePoll {
            too_fast,
            authorization: DeviceAuthorization {
                device_code_hash: "d".into(),
                user_code_hash: "u".into(),
                client_id: "tv".into(),
                scope: "openid".into(),
                audience: "[]".into(),
                created_at: NOW - 10,
                expires_at: NOW + 590,
                interval: 5,
                last_polled_at: Some(NOW),
                status,
                approval: None,
            },
        }
    }

    #[test]
    fn each_state_has_its_rfc_8628_answer() {
        let tv = Client::example("tv");
        let code = |p: &DevicePoll, now| check(p, &tv, now).map_err(|e| e.error);
        assert_eq!(code(&poll(DeviceStatus::Approved, false), NOW), Ok(()));
        assert_eq!(
            code(&poll(DeviceStatus::Pending, false), NOW),
            Err(OAuthError::AuthorizationPending)
        );
        assert_eq!(code(&poll(DeviceStatus::Pending, true), NOW), Err(OAuthError::SlowDown));
        assert_eq!(
            code(&poll(DeviceStatus::Denied, false), NOW),
            Err(OAuthError::AccessDenied)
        );
        assert_eq!(
            code(&poll(DeviceStatus::Redeemed, false), NOW),
            Err(OAuthError::InvalidGrant)
        );
        assert_eq!(
            code(&poll(DeviceStatus::Approved, false), NOW + 590),
            Err(OAuthError::ExpiredToken)
        );
        let other = Client::example("other");
        assert_eq!(
            check(&poll(DeviceStatus::Approved, false), &other, NOW).map_err(|e| e.error),
            Err(OAuthError::InvalidGrant)
        );
    }
}
