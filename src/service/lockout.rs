//! The sign-in throttle, written once for every face that checks a password or a code
//! (`/login`, `/login/otp`, `/account/password`, reset, the admin API).
//!
//! Two counters (rows of the store's `login_throttle`):
//! - the *name key*: the login name as typed, normalised and hashed, for known and unknown
//!   names alike. It is the only lock the password page checks before the password, so a
//!   name's answer says nothing about which account (if any) it belongs to, or which other
//!   names share that account.
//! - the *account key* (the user id): checked only after a right password (so only someone who
//!   knows the password learns that the account is locked), at the second factor and at
//!   `/account/password`. Every wrong password through any name of the account counts here too.
//!
//! Failures and lockouts outlive the steps of one sign-in: only a whole sign-in (password, and
//! second factor when it is on) forgets the failures, and it keeps the back-off.

use super::{notify, Peer, Services};
use crate::crypto::tokens::SecretHash;
use crate::domain::event::{kind, Outcome};
use crate::domain::user::User;
use crate::domain::UnixTime;
use crate::i18n::Arg;
use crate::mail::Mail;
use crate::storage::StoreError;

/// The counter key of a login name as typed (trimmed, lowercased, hashed), known or not.
pub fn name_key(login: &str) -> String {
    format!("name:{}", SecretHash::of(&login.trim().to_lowercase()).as_str())
}

/// The counter key of an account.
pub fn account_key(user: &User) -> &str {
    &user.id
}

/// Until when `key` is locked, if it is.
pub async fn locked_until(state: &Services, key: &str) -> Result<Option<UnixTime>, StoreError> {
    state.store.login_locked_until(key, state.clock.now()).await
}

/// Counts one failed attempt (a wrong password or code) against the login name typed, if any,
/// and against the account, if there is one. When this locks either, records one lockout event;
/// when it locks the account, mails its owner. Returns the end of the account's lock when this
/// failure started one.
pub async fn note_failure(
    state: &Services,
    peer: &Peer,
    name_key: Option<&str>,
    user: Option<&User>,
) -> Result<Option<UnixTime>, StoreError> {
    let now = state.clock.now();
    let name_locked = match name_key {
        Some(key) => state.store.record_login_failure(key, now).await?,
        None => None,
    };
    let account_locked = match (user, name_key) {
        (Some(user), _) => state.store.record_login_failure(account_key(user), now).await?,
        // An unknown name costs the same two writes as a known one, so time does not tell
        // them apart; this stand-in counter is never checked.
        (None, Some(name_key)) => {
            state
                .store
                .record_login_failure(&format!("nobody:{name_key}"), now)
                .await?;
            None
        }
        (None, None) => None,
    };
    let detail = match (account_locked, name_locked) {
        (Some(until), _) => format!("account locked until {until}"),
        (None, Some(until)) => format!("sign-in name locked until {until}"),
        (None, None) => return Ok(None),
    };
    let mut event = peer.event(state, kind::LOCKOUT, Outcome::Failure).detail(detail);
    if let Some(user) = user {
        event = event.user(&user.id);
    }
    state.events.record(event);
    state.metrics.lockout();
    tracing::warn!("sign-in locked after repeated failures");
    if let (Some(until), Some(user)) = (account_locked, user) {
        mail_lockout(state, user, until);
    }
    Ok(account_locked)
}

/// After a whole successful sign-in: forgets the failures of the name and the account, keeping
/// the back-off (an attacker who knows the password must not get a fresh back-off each time
/// the owner signs in).
pub async fn note_success(state: &Services, name_key: Option<&str>, user: &User) -> Result<(), StoreError> {
    if let Some(key) = name_key {
        state.store.forget_login_failures(key).await?;
    }
    state.store.forget_login_failures(account_key(user)).await
}

/// Lifts every lock of the person and forgets the back-off: their account and the names they
/// sign in with. For a password reset and an administrator's unlock.
pub async fn unlock(state: &Services, user: &User) -> Result<(), StoreError> {
    state.store.clear_login_failures(account_key(user)).await?;
    state.store.clear_login_failures(&name_key(&user.username)).await?;
    if !user.email.is_empty() {
        state.store.clear_login_failures(&name_key(&user.email)).await?;
    }
    Ok(())
}

/// When a lock that lasts `until` lets the person try again, as a sentence: "Try again in
/// about N minutes." (at least one minute, rounded up).
pub fn try_again_in(until: UnixTime, now: UnixTime) -> String {
    let minutes = ((until - now).max(1) + 59) / 60;
    if minutes == 1 {
        "Try again in about 1 minute.".to_owned()
    } else {
        format!("Try again in about {minutes} minutes.")
    }
}

/// An RFC 3339 time in UTC, for people.
pub fn when(at: UnixTime) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(at).unwrap_or(0)),
    )
    .to_string()
}

fn mail_lockout(state: &Services, user: &User, until: UnixTime) {
    if user.email.is_empty() || user.disabled {
        return;
    }
    let lang = notify::language(state);
    state.mailer.send(Mail {
        to: user.email.clone(),
        subject: lang.text_with(
            "mail-locked-subject",
            &[("brand", Arg::Str(&state.settings.brand_name))],
        ),
        body: notify::paragraphs(&[
            lang.text_with("mail-locked-body", &[("username", Arg::Str(&user.username))]),
            lang.text_with("mail-locked-until", &[("until", Arg::Str(&when(until)))]),
            lang.text_with("mail-locked-advice", &[("issuer", Arg::Str(&state.settings.issuer))]),
        ]),
        kind: "account_locked",
    });
}

#[cfg(test)]
mod tests {
    use super::try_again_in;

    #[test]
    fn the_wait_is_said_in_whole_minutes_rounded_up() {
        assert_eq!(try_again_in(1060, 1000), "Try again in about 1 minute.");
        assert_eq!(try_again_in(1000, 1000), "Try again in about 1 minute.");
        assert_eq!(try_again_in(1061, 1000), "Try again in about 2 minutes.");
        assert_eq!(try_again_in(4600, 1000), "Try again in about 60 minutes.");
    }
}
