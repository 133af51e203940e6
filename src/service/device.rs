//! The device authorization grant (RFC 8628), the parts a device and a person meet: a device
//! asks for a device code and a user code ([`start`]); a signed-in person types the user code
//! at `/device` ([`look_up`]) and approves or denies ([`decide`]). Wrong user codes count per
//! session and per address, and past [`WRONG_CODE_LIMIT`] in [`WRONG_CODE_WINDOW`] every code
//! is refused for a while, so the 20^8 codes cannot be guessed through the page. The device's
//! polls and the tokens are `service::tokens` (the grant `device_code`).

use super::signin::SessionRecord;
use super::{Peer, Services};
use crate::crypto::tokens::{prefix, OpaqueSecret, SecretHash};
use crate::domain::client::Client;
use crate::domain::event::{kind, Outcome};
use crate::domain::scope;
use crate::domain::{ClientId, UnixTime};
use crate::protocol::access_token;
use crate::protocol::device::{self, UserCode};
use crate::protocol::Failure;
use crate::storage::{DeviceApproval, DeviceAuthorization, DeviceStatus, StoreError};

/// Wrong user codes a session, or an address, may type in [`WRONG_CODE_WINDOW`] seconds.
pub const WRONG_CODE_LIMIT: i64 = 5;
pub const WRONG_CODE_WINDOW: i64 = 15 * 60;
/// Tries at a user code that is not already taken before giving up (20^8 codes: a clash is rare).
const USER_CODE_TRIES: usize = 3;

/// The answer to a device authorization request (RFC 8628 §3.2), before the URIs are added.
pub struct DeviceStart {
    pub device_code: OpaqueSecret,
    pub user_code: UserCode,
    pub expires_in: i64,
    pub interval: i64,
}

/// A device authorization request of an authenticated client: checked, stored (both codes
/// hashed), recorded.
pub async fn start(
    services: &Services,
    client: &Client,
    scope: Option<&str>,
    resources: &[String],
    peer: &Peer,
) -> Result<DeviceStart, Failure> {
    let ctx = services.protocol();
    let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
    let grant = device::validate(client, scope, &resources)?;
    // Resources whose access tokens take different algorithms are refused now, not after the
    // person approved.
    access_token::signing_alg(&ctx, &services.keys.current(), &grant.audience)?;
    let settings = &services.settings;
    let mut tries = 0;
    loop {
        tries += 1;
        let device_code = OpaqueSecret::generate(prefix::DEVICE_CODE);
        let user_code = UserCode::generate();
        let record = DeviceAuthorization {
            device_code_hash: device_code.hash().as_str().to_owned(),
            user_code_hash: SecretHash::of(user_code.as_str()).as_str().to_owned(),
            client_id: client.id.clone(),
            scope: grant.scope.to_string(),
            audience: serde_json::to_string(&grant.audience).map_err(anyhow::Error::new)?,
            created_at: ctx.now,
            expires_at: ctx.now + settings.device_code_ttl,
            interval: settings.device_poll_interval,
            last_polled_at: None,
            status: DeviceStatus::Pending,
            approval: None,
        };
        match ctx.store.insert_device_authorization(&record).await {
            Ok(()) => {
                services.events.record(
                    peer.event(services, kind::DEVICE_AUTHORIZATION_STARTED, Outcome::Success)
                        .client(&client.id),
                );
                return Ok(DeviceStart {
                    device_code,
                    user_code,
                    expires_in: settings.device_code_ttl,
                    interval: settings.device_poll_interval,
                });
            }
            Err(StoreError::Conflict) if tries < USER_CODE_TRIES => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// What the person is asked: which client (by the name it registered), for what.
#[derive(Debug, Clone)]
pub struct DeviceQuestion {
    /// The code as people read it, `XXXX-XXXX`.
    pub user_code: String,
    pub client_name: String,
    /// Whether an operator made the client (else its name is only its claim).
    pub verified: bool,
    /// Scope tokens in reading order.
    pub scopes: Vec<String>,
}

/// What typing a user code came to.
#[derive(Debug, Clone)]
pub enum Lookup {
    Found(DeviceQuestion),
    /// No pending request has this code (or it is malformed); counted.
    Wrong,
    /// Too many wrong codes: no code is looked at until `until`.
    Limited {
        until: UnixTime,
    },
}

/// What the person's answer came to.
#[derive(Debug, Clone)]
pub enum Decided {
    Approved,
    Denied,
    /// The code is not (or no longer) pending; counted as a wrong code.
    Wrong,
    Limited {
        until: UnixTime,
    },
}

/// The pending request of the user code the person typed, if the limits allow a look.
pub async fn look_up(
    services: &Services,
    session: &SessionRecord,
    peer: &Peer,
    typed: &str,
) -> Result<Lookup, StoreError> {
    Ok(match find(services, session, peer, typed).await? {
        Found::Pending {
            code,
            client_name,
            verified,
            scope,
            ..
        } => Lookup::Found(DeviceQuestion {
            user_code: code.display(),
            client_name,
            verified,
            scopes: scope::in_reading_order(scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned)),
        }),
        Found::Wrong => Lookup::Wrong,
        Found::Limited(until) => Lookup::Limited { until },
    })
}

/// The person approves or denies the pending request of the user code (looked up again, under
/// the same limits): approving binds it to them and their session.
pub async fn decide(
    services: &Services,
    session: &SessionRecord,
    peer: &Peer,
    typed: &str,
    approve: bool,
) -> Result<Decided, StoreError> {
    let (code, client_id) = match find(services, session, peer, typed).await? {
        Found::Pending { code, client_id, .. } => (code, client_id),
        Found::Wrong => return Ok(Decided::Wrong),
        Found::Limited(until) => return Ok(Decided::Limited { until }),
    };
    if approve {
        // A metadata-document client is recorded for operators once a person approves it.
        if let Ok(Some(client)) = super::clients::lookup(services, &client_id).await {
            if let Err(e) = super::metadata_documents::record_first_use(services, &client).await {
                tracing::warn!(client_id = %client_id, error = %e, "could not record a metadata-document client");
            }
        }
    }
    let now = services.clock.now();
    let approval = approve.then(|| DeviceApproval {
        user_id: session.user_id.clone(),
        sid: session.sid.clone(),
        auth_time: session.auth_time,
        amr: session.amr.clone(),
    });
    let hash = SecretHash::of(code.as_str());
    if !services
        .store
        .decide_device_authorization(hash.as_str(), approval.as_ref(), now)
        .await?
    {
        // Decided in another tab, or expired, since the look-up.
        return Ok(Decided::Wrong);
    }
    let (event_kind, decided) = if approve {
        (kind::DEVICE_APPROVED, Decided::Approved)
    } else {
        (kind::DEVICE_DENIED, Decided::Denied)
    };
    services.events.record(
        peer.event(services, event_kind, Outcome::Success)
            .user(&session.user_id)
            .session(&session.sid)
            .client(&client_id),
    );
    Ok(decided)
}

enum Found {
    Pending {
        code: UserCode,
        client_id: ClientId,
        client_name: String,
        verified: bool,
        scope: String,
    },
    Wrong,
    Limited(UnixTime),
}

/// The failure counters' keys: the session and the address.
fn failure_keys(session: &SessionRecord, peer: &Peer) -> [String; 2] {
    [format!("sid:{}", session.sid), format!("ip:{}", peer.limit_key())]
}

async fn find(services: &Services, session: &SessionRecord, peer: &Peer, typed: &str) -> Result<Found, StoreError> {
    let now = services.clock.now();
    let keys = failure_keys(session, peer);
    let mut until = None;
    for key in &keys {
        let (count, first) = services
            .store
            .device_code_failures(key, now - WRONG_CODE_WINDOW + 1)
            .await?;
        if count >= WRONG_CODE_LIMIT {
            let ends = first.unwrap_or(now) + WRONG_CODE_WINDOW;
            until = Some(until.map_or(ends, |u: UnixTime| u.max(ends)));
        }
    }
    if let Some(until) = until {
        return Ok(Found::Limited(until));
    }
    let pending = match UserCode::parse(typed) {
        Some(code) => {
            let hash = SecretHash::of(code.as_str());
            match services
                .store
                .find_device_authorization_by_user_code(hash.as_str(), now)
                .await?
            {
                Some(authorization) => services
                    .store
                    .find_client(&authorization.client_id)
                    .await?
                    .map(|client| (code, authorization, client)),
                None => None,
            }
        }
        None => None,
    };
    let Some((code, authorization, client)) = pending else {
        for key in &keys {
            services.store.record_device_code_failure(key, now).await?;
        }
        services.events.record(
            peer.event(services, kind::DEVICE_USER_CODE_WRONG, Outcome::Failure)
                .user(&session.user_id)
                .session(&session.sid),
        );
        return Ok(Found::Wrong);
    };
    Ok(Found::Pending {
        code,
        verified: client.is_verified(),
        client_id: client.id.clone(),
        client_name: client.name.clone(),
        scope: authorization.scope,
    })
}
