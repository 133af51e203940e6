//! Signing in, written once and free of HTTP: the password step, the second factor, starting a
//! session, the live session of a browser, and signing out.
//!
//! - The password step looks the person up by username or email and always runs one argon2
//!   verify (against a dummy hash for unknown names), so a wrong name and a wrong password cost
//!   and answer the same. Only the lock of the name typed is checked before the password; the
//!   account's own lock only after a right one (see `lockout`).
//! - A person with a second factor (TOTP or a passkey) continues at the second-factor step
//!   (`second_factor`); only a whole sign-in forgets the failures.
//! - A session starts under a fresh browser id (no fixation): the caller makes it and passes its
//!   hash; what waited for the old one (an authorization request) follows it.
//! - A session is live until its absolute end, or until it has been unused for the idle
//!   lifetime (then it ends here, with what it started), and only while its person is enabled.
//!
//! The browser's cookie itself (its value, the CSRF tokens bound to it, `Set-Cookie`) is the
//! pages' business: here a browser is the SHA-256 of its cookie value.

use secrecy::SecretString;

use super::{lockout, notify, second_factor, Peer, Services};
use crate::crypto::tokens::random_base64url;
use crate::domain::event::{kind, Outcome};
use crate::domain::user::User;
use crate::domain::{SessionId, UnixTime};
use crate::protocol::logout::{self, LogoutError, LogoutRequest};
use crate::protocol::revocation;
use crate::protocol::token::id_token;
use crate::storage::StoreError;

pub use crate::storage::SessionRecord;

/// Last seen is kept to the minute: no write on every request.
pub const LAST_SEEN_GRANULARITY: i64 = 60;

/// A browser as the store knows it: the SHA-256 of its cookie value, and of the fresh value it
/// gets if this step signs it in (so that a cookie set before sign-in is worth nothing after).
#[derive(Debug, Clone, Copy)]
pub struct BrowserIds<'a> {
    pub current: &'a str,
    pub signed_in: &'a str,
}

/// What the password step came to.
pub enum PasswordStep {
    SignedIn(Box<NewSession>),
    /// The password was right; the second factor is next (bound to this browser).
    SecondFactor,
    Refused(Refusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Wrong name or password, or a disabled account: one answer for all.
    WrongCredentials,
    /// The name typed is locked, or (after a right password) the account.
    Locked { until: UnixTime },
    /// A right password of a person who must sign in with their passkey
    /// (`passkeys_required`).
    PasskeyRequired,
}

/// A session just started.
pub struct NewSession {
    pub user: User,
    pub session: SessionRecord,
    pub resume: Resume,
}

/// Where the browser goes once signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Nothing waits: the sign-in was for the account area.
    Nothing,
    /// The authorization request with this id waits, now bound to the new cookie.
    Request(String),
    /// The authorization request it signed in for is gone (expired, or another browser's).
    Expired,
}

/// The password step: a name (username or email) and a password.
pub async fn password_step(
    services: &Services,
    browser: BrowserIds<'_>,
    login: &str,
    password: &SecretString,
    request_id: Option<&str>,
    peer: &Peer,
) -> Result<PasswordStep, StoreError> {
    let user = services.store.find_user_by_login(login).await?;
    let name_key = lockout::name_key(login);
    // Before the password, only the name typed: its answer must not depend on the account.
    if let Some(until) = lockout::locked_until(services, &name_key).await? {
        record_login_failure(services, peer, user.as_ref(), "sign-in name locked");
        return Ok(PasswordStep::Refused(Refusal::Locked { until }));
    }
    // Always one argon2 verify: against the person's hash, or a dummy one.
    let verified = services
        .passwords
        .verify(user.as_ref().map(|u| u.password_hash.as_str()), password)
        .await;
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        other => {
            record_login_failure(services, peer, other.as_ref(), "wrong credentials");
            services.metrics.login(false);
            lockout::note_failure(services, peer, Some(&name_key), other.as_ref()).await?;
            return Ok(PasswordStep::Refused(Refusal::WrongCredentials));
        }
    };
    // After a right password, the account's own lock: only someone who knows the password
    // learns of it, whichever name they typed.
    if let Some(until) = lockout::locked_until(services, lockout::account_key(&user)).await? {
        record_login_failure(services, peer, Some(&user), "account locked");
        return Ok(PasswordStep::Refused(Refusal::Locked { until }));
    }
    // Failures are forgotten only once the whole sign-in succeeds: not here when a second
    // factor follows.
    let factors = second_factor::factors(services, &user).await?;
    // Where passkeys are required, a person who has one signs in with it: the password is
    // refused (said only to someone who knows it, and not counted as a failure).
    if factors.passkey && services.settings.passkeys_required.applies_to(&user.username) {
        record_login_failure(services, peer, Some(&user), "a passkey is required");
        return Ok(PasswordStep::Refused(Refusal::PasskeyRequired));
    }
    if factors.any() {
        second_factor::await_step(services, browser, &user, request_id, name_key).await?;
        return Ok(PasswordStep::SecondFactor);
    }
    lockout::note_success(services, Some(&name_key), &user).await?;
    let session = start_session(services, browser, user, &["pwd"], peer, request_id).await?;
    Ok(PasswordStep::SignedIn(Box::new(session)))
}

fn record_login_failure(services: &Services, peer: &Peer, user: Option<&User>, detail: &str) {
    let mut event = peer.event(services, kind::LOGIN, Outcome::Failure).detail(detail);
    if let Some(user) = user {
        event = event.user(&user.id);
    }
    services.events.record(event);
}

/// Whether the person has a live session from a browser that names itself as this one does:
/// a sign-in from any other is a new one, and the person is told by mail.
async fn seen_browser(services: &Services, user: &User, peer: &Peer, now: UnixTime) -> Result<bool, StoreError> {
    services
        .store
        .has_live_session_from(&user.id, peer.user_agent.as_deref(), now)
        .await
}

/// Signs the browser in under its new id: ends the session of its old id, stores the new
/// session, and moves the authorization request it signed in for (if any) to the new id,
/// marked as signed in. Also the end of a passkey sign-in (`passkeys`).
pub(super) async fn start_session(
    services: &Services,
    browser: BrowserIds<'_>,
    user: User,
    amr: &[&str],
    peer: &Peer,
    request_id: Option<&str>,
) -> Result<NewSession, StoreError> {
    let now = services.clock.now();
    if services.settings.mail_new_sign_in && !seen_browser(services, &user, peer, now).await? {
        notify::new_sign_in(services, &user, peer);
    }
    if let Err(e) = services.store.end_session(browser.current, now).await {
        tracing::error!(error = %e, "could not end the previous session");
    }
    let session = SessionRecord {
        id_hash: browser.signed_in.to_owned(),
        sid: SessionId::new(random_base64url(16)),
        user_id: user.id.clone(),
        auth_time: now,
        amr: amr.iter().map(|m| (*m).to_owned()).collect(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + services.settings.session_absolute_ttl,
        ip: Some(peer.ip.clone()),
        user_agent: peer.user_agent.clone(),
    };
    services.store.insert_session(&session).await?;
    services.events.record(
        peer.event(services, kind::LOGIN, Outcome::Success)
            .user(&user.id)
            .session(&session.sid)
            .detail(session.amr.join("+")),
    );
    services.metrics.login(true);
    tracing::info!(user_id = %user.id, sid = %session.sid, "signed in");
    let resume = match request_id {
        None => Resume::Nothing,
        Some(id) if carry_authorization_request(services, id, browser).await? => Resume::Request(id.to_owned()),
        Some(_) => Resume::Expired,
    };
    Ok(NewSession { user, session, resume })
}

/// Moves the pending authorization request `id` of the browser's old id to its new one,
/// marked as signed in now (the authorization service's rule); false when there is no such
/// request for this browser.
async fn carry_authorization_request(
    services: &Services,
    id: &str,
    browser: BrowserIds<'_>,
) -> Result<bool, StoreError> {
    super::authorization::signed_in(services, id, browser.current, browser.signed_in)
        .await
        .map_err(|e| match e.downcast::<StoreError>() {
            Ok(store) => store,
            Err(other) => StoreError::Unexpected(other),
        })
}

/// The name of the application a sign-in is for, to show on the sign-in page.
pub async fn client_name(services: &Services, client_id: &str) -> Result<Option<String>, StoreError> {
    Ok(services.store.find_client(client_id).await?.map(|c| c.name))
}

/// What a session is at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// In use; `touch` when its last-seen time is due to be written.
    Live { touch: bool },
    /// Unused for the idle lifetime: it ends now.
    Idle,
    /// Past its absolute end.
    Expired,
}

/// The rule of a session's lifetimes: its absolute end, and at most `idle_ttl` unused.
pub fn liveness(session: &SessionRecord, now: UnixTime, idle_ttl: i64) -> Liveness {
    if session.expires_at <= now {
        Liveness::Expired
    } else if session.last_seen_at + idle_ttl <= now {
        Liveness::Idle
    } else {
        Liveness::Live {
            touch: now - session.last_seen_at >= LAST_SEEN_GRANULARITY,
        }
    }
}

/// The live session of the browser with this cookie hash, and its person: not ended, within
/// its absolute and idle lifetimes (a session found idle ends here, with its refresh families
/// and access tokens), and the person not disabled. Notes that the session was used.
pub async fn current_session(
    services: &Services,
    browser_hash: &str,
) -> Result<Option<(SessionRecord, User)>, StoreError> {
    let now = services.clock.now();
    let Some(session) = services.store.find_live_session(browser_hash, now).await? else {
        return Ok(None);
    };
    match liveness(&session, now, services.settings.session_idle_ttl) {
        Liveness::Expired => return Ok(None),
        Liveness::Idle => {
            revocation::end_session(&services.protocol(), &session.sid, "idle_timeout").await?;
            return Ok(None);
        }
        Liveness::Live { touch: true } => services.store.touch_session(&session.id_hash, now).await?,
        Liveness::Live { touch: false } => {}
    }
    match services.store.find_user_by_id(&session.user_id).await? {
        Some(user) if !user.disabled => Ok(Some((session, user))),
        _ => Ok(None),
    }
}

/// Ends session `sid` of `user` with everything started from it (refresh families, and
/// through the revocation log its access tokens everywhere), as one security event.
pub async fn sign_out(
    services: &Services,
    user: &User,
    sid: &SessionId,
    reason: &str,
    peer: &Peer,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    revocation::end_session(&services.protocol(), sid, reason).await?;
    let mut event = peer
        .event(services, kind::LOGOUT, Outcome::Success)
        .user(&user.id)
        .session(sid);
    if let Some(detail) = detail {
        event = event.detail(detail);
    }
    services.events.record(event);
    tracing::info!(user_id = %user.id, sid = %sid, "signed out");
    Ok(())
}

/// Whether the person confirmed a logout that asked them to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    NotGiven,
    Confirmed,
    /// A confirmation whose CSRF token did not check out.
    Forged,
}

/// What a logout request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logout {
    /// The browser is signed in and the request did not name its session: ask first.
    Confirm {
        username: String,
        /// The name of the application that asked, when the request says which.
        app: Option<String>,
    },
    /// Signed out (or was not signed in); then to `redirect` when the request gave one.
    SignedOut {
        redirect: Option<String>,
    },
    Forged,
}

/// RP-Initiated Logout: checks the request (`protocol::logout`, with the `id_token_hint`
/// checks `/authorize` makes too), then ends the browser's session when the request names it
/// (by the hint's `sid`) or the person confirmed.
pub async fn logout(
    services: &Services,
    request: &LogoutRequest,
    browser_hash: Option<&str>,
    confirmation: Confirmation,
    peer: &Peer,
) -> Result<Logout, LogoutError> {
    let client_id = request.client_id.as_deref();
    let verify = |hint: &str| {
        id_token::verify_hint(&services.keys, &services.settings.issuer, hint, client_id).map_err(str::to_owned)
    };
    let valid = logout::validate(&*services.store, request, &verify).await?;
    if confirmation == Confirmation::Forged {
        return Ok(Logout::Forged);
    }
    let session = match browser_hash {
        Some(hash) => current_session(services, hash).await.map_err(LogoutError::Store)?,
        None => None,
    };
    if let Some((session, user)) = session {
        let hint_names_this_session = valid.hint_sid.as_deref() == Some(session.sid.as_str());
        if !(confirmation == Confirmation::Confirmed || hint_names_this_session) {
            let app = match &valid.client_id {
                Some(id) => client_name(services, id).await.map_err(LogoutError::Store)?,
                None => None,
            };
            return Ok(Logout::Confirm {
                username: user.username,
                app,
            });
        }
        sign_out(services, &user, &session.sid, "logout", peer, None)
            .await
            .map_err(LogoutError::Store)?;
    }
    Ok(Logout::SignedOut {
        redirect: valid.redirect,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = 1_700_000_000;
    const IDLE: i64 = 12 * 3600;

    fn session(last_seen_at: UnixTime, expires_at: UnixTime) -> SessionRecord {
        SessionRecord {
            id_hash: "hash".into(),
            sid: "sid".into(),
            user_id: "user".into(),
            auth_time: NOW - 100,
            amr: vec!["pwd".into()],
            created_at: NOW - 100,
            last_seen_at,
            expires_at,
            ip: None,
            user_agent: None,
        }
    }

    #[test]
    fn a_session_used_within_the_idle_lifetime_is_live() {
        let far = NOW + 14 * 24 * 3600;
        assert_eq!(liveness(&session(NOW, far), NOW, IDLE), Liveness::Live { touch: false });
        assert_eq!(
            liveness(&session(NOW - IDLE + 1, far), NOW, IDLE),
            Liveness::Live { touch: true },
            "one second before the idle end"
        );
    }

    #[test]
    fn last_seen_is_written_at_most_once_a_minute() {
        let far = NOW + 3600;
        assert_eq!(
            liveness(&session(NOW - 59, far), NOW, IDLE),
            Liveness::Live { touch: false }
        );
        assert_eq!(
            liveness(&session(NOW - 60, far), NOW, IDLE),
            Liveness::Live { touch: true }
        );
    }

    #[test]
    fn a_session_unused_for_the_idle_lifetime_is_idle() {
        let far = NOW + 3600;
        assert_eq!(liveness(&session(NOW - IDLE, far), NOW, IDLE), Liveness::Idle);
        assert_eq!(liveness(&session(NOW - IDLE - 1, far), NOW, IDLE), Liveness::Idle);
    }

    #[test]
    fn a_session_past_its_absolute_end_is_expired_however_recently_used() {
        assert_eq!(liveness(&session(NOW, NOW), NOW, IDLE), Liveness::Expired);
        assert_eq!(liveness(&session(NOW, NOW - 1), NOW, IDLE), Liveness::Expired);
        assert_eq!(
            liveness(&session(NOW - IDLE, NOW), NOW, IDLE),
            Liveness::Expired,
            "the absolute end wins over idleness"
        );
        assert_eq!(
            liveness(&session(NOW, NOW + 1), NOW, IDLE),
            Liveness::Live { touch: false }
        );
    }
}
