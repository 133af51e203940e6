//! What the pages say for things that are stored in developers' terms: event kinds and
//! outcomes, and times.

use super::locale::{self, t, t_with};
use crate::domain::device::{self, DeviceName};
use crate::domain::event::kind;
use crate::domain::UnixTime;
use crate::i18n::Arg;

/// What an event of `kind` with `outcome` means, in a sentence a person understands (the key
/// of its message).
pub fn event_sentence_key(event_kind: &str, outcome: &str) -> &'static str {
    let failed = outcome == "failure";
    let known = kind::ALL.iter().find(|k| k.as_str() == event_kind).copied();
    let Some(k) = known else {
        return "event-other";
    };
    match (k, failed) {
        (kind::LOGIN, false) => "event-login",
        (kind::LOGIN, true) => "event-login-failed",
        (kind::LOCKOUT, _) => "event-lockout",
        (kind::OTP, false) => "event-otp",
        (kind::OTP, true) => "event-otp-failed",
        (kind::RECOVERY_CODE_USED, _) => "event-recovery-code-used",
        (kind::TOTP_ENABLED, _) => "event-totp-enabled",
        (kind::TOTP_DISABLED, false) => "event-totp-disabled",
        (kind::TOTP_DISABLED, true) => "event-totp-disabled-failed",
        (kind::RESET_REQUESTED, _) => "event-reset-requested",
        (kind::RESET_COMPLETED, _) => "event-reset-completed",
        (kind::PASSWORD_CHANGED, false) => "event-password-changed",
        (kind::PASSWORD_CHANGED, true) => "event-password-changed-failed",
        (kind::TOKEN_ISSUED, _) => "event-token-issued",
        (kind::TOKEN_REFRESHED, _) => "event-token-refreshed",
        (kind::REFRESH_TOKEN_REUSE, _) => "event-refresh-token-reuse",
        (kind::TOKEN_REVOKED, _) => "event-token-revoked",
        (kind::CODE_REPLAY, _) => "event-code-replay",
        (kind::LOGOUT, _) => "event-logout",
        (kind::CLIENT_AUTH_FAILED, _) => "event-client-auth-failed",
        (kind::RATE_LIMITED, _) => "event-rate-limited",
        (kind::ACCOUNT_CREATED, _) => "event-account-created",
        (kind::ACCOUNT_DISABLED, _) => "event-account-disabled",
        (kind::ACCOUNT_ENABLED, _) => "event-account-enabled",
        (kind::ACCOUNT_CHANGED, _) => "event-account-changed",
        (kind::ACCOUNT_UNLOCKED, _) => "event-account-unlocked",
        (kind::CLIENT_CREATED, _) => "event-client-created",
        (kind::CLIENT_UPDATED, _) => "event-client-updated",
        (kind::CLIENT_SECRET_ROTATED, _) => "event-client-secret-rotated",
        (kind::CLIENT_DELETED, _) => "event-client-deleted",
        (kind::RESOURCE_CREATED, _) => "event-resource-created",
        (kind::RESOURCE_UPDATED, _) => "event-resource-updated",
        (kind::RESOURCE_DELETED, _) => "event-resource-deleted",
        (kind::ADMIN_ACTION, _) => "event-admin-action",
        (kind::DEVICE_AUTHORIZATION_STARTED, _) => "event-device-authorization-started",
        (kind::DEVICE_APPROVED, _) => "event-device-approved",
        (kind::DEVICE_DENIED, _) => "event-device-denied",
        (kind::DEVICE_USER_CODE_WRONG, _) => "event-device-user-code-wrong",
        (kind::DEVICE_CODE_REDEEMED, _) => "event-device-code-redeemed",
        (kind::CLIENT_REGISTERED, _) => "event-client-registered",
        (kind::CLIENT_REGISTRATION_UPDATED, _) => "event-client-registration-updated",
        (kind::CLIENT_REGISTRATION_DELETED, _) => "event-client-registration-deleted",
        (kind::REGISTRATION_TOKEN_CREATED, _) => "event-registration-token-created",
        (kind::REGISTRATION_TOKEN_REFUSED, _) => "event-registration-token-refused",
        (kind::PASSKEY_REGISTERED, false) => "event-passkey-registered",
        (kind::PASSKEY_REGISTERED, true) => "event-passkey-registered-failed",
        (kind::PASSKEY_USED, false) => "event-passkey-used",
        (kind::PASSKEY_USED, true) => "event-passkey-used-failed",
        (kind::PASSKEY_REMOVED, false) => "event-passkey-removed",
        (kind::PASSKEY_REMOVED, true) => "event-passkey-removed-failed",
        _ => "event-other",
    }
}

/// The sentence of [`event_sentence_key`] in the page's language.
pub fn event_sentence(event_kind: &str, outcome: &str) -> String {
    t(event_sentence_key(event_kind, outcome))
}

/// An event's outcome in a word.
pub fn outcome_word(outcome: &str) -> String {
    t(if outcome == "failure" {
        "outcome-failed"
    } else {
        "outcome-succeeded"
    })
}

/// A time as people read it, in UTC: "5 December 2026, 14:03 UTC".
pub fn readable_time(at: UnixTime) -> String {
    locale::current().unwrap_or_default().readable_time(at)
}

/// What a scope lets an application do, in words a person understands. A scope we have no
/// words for is named, quoted, rather than hidden.
pub fn scope_description(scope: &str) -> String {
    match scope {
        "openid" | "profile" | "email" | "address" | "phone" | "offline_access" => t(&format!("scope-{scope}")),
        other => t_with("scope-other", &[("scope", Arg::Str(other))]),
    }
}

/// "Try again in about N minutes." for a lock that lasts `until` (at least one minute,
/// rounded up).
pub fn try_again_in(until: UnixTime, now: UnixTime) -> String {
    let minutes = ((until - now).max(1) + 59) / 60;
    t_with("try-again-in", &[("minutes", Arg::Num(minutes))])
}

/// The device of a user agent as people name it: "Firefox on Linux".
pub fn device_label(user_agent: Option<&str>) -> String {
    match device::name(user_agent) {
        DeviceName::BrowserOn { browser, os } => t_with(
            "device-browser-on",
            &[("browser", Arg::Str(&browser)), ("os", Arg::Str(&os))],
        ),
        DeviceName::Browser(browser) => browser,
        DeviceName::Unknown => t("device-unknown"),
    }
}

/// What a locked password change says (the page's own words for
/// `accounts::password_locked_message`).
pub fn password_locked(until: UnixTime, now: UnixTime) -> String {
    let try_again = try_again_in(until, now);
    t_with("password-locked", &[("try_again", Arg::Str(&try_again))])
}

/// The sentences the services and protocol rules refuse with (in English, for logs and the
/// command line), and their messages for the pages.
const SERVICE_SENTENCES: &[(&str, &str)] = &[
    ("The request is too large or has too many parameters.", "refusal-too-large"),
    ("The request is malformed.", "refusal-malformed"),
    ("The application that sent you here is not registered.", "refusal-not-registered"),
    ("The application that sent you here is no longer registered.", "refusal-no-longer-registered"),
    ("The application did not say who it is.", "refusal-no-client"),
    ("The application named itself more than once.", "refusal-two-clients"),
    ("The application named more than one address to return to.", "refusal-two-redirects"),
    ("The address this application returns to is no longer registered.", "refusal-redirect-gone"),
    ("The application asked to return to an address it has not registered.", "refusal-redirect-unregistered"),
    ("This application has no registered address to return to.", "refusal-no-redirect"),
    ("The application did not say which of its addresses to return to.", "refusal-which-redirect"),
    ("The application sent a sign-out request that is too long.", "refusal-logout-too-long"),
    (
        "The application sent a sign-out request we cannot verify. Go back to the application and sign out from there again.",
        "refusal-logout-unverified",
    ),
    ("The sign-out request names two different applications.", "refusal-logout-two-clients"),
    (
        "The sign-out request asks to return to an address without saying which application it is for.",
        "refusal-logout-no-client",
    ),
    (
        "The sign-out request asks to return to an address this application has not registered.",
        "refusal-logout-unregistered",
    ),
    ("That is not an email address.", "problem-not-an-email"),
    ("The two passwords differ.", "problem-passwords-differ"),
    ("The current password is wrong.", "problem-current-password-wrong"),
    ("Use at least 12 characters.", "problem-password-short"),
    ("Use at most 256 characters.", "problem-password-long"),
    ("Do not use your username or email address.", "problem-password-personal"),
    ("This password is too common or too simple.", "problem-password-common"),
];

/// A sentence written by a service (a refusal, a problem with a form) in the page's language;
/// one we have no message for stays as it is.
pub fn from_service(sentence: &str) -> String {
    if let Some((_, key)) = SERVICE_SENTENCES.iter().find(|(english, _)| *english == sentence) {
        return t(key);
    }
    let name_limit = sentence
        .strip_prefix("Use at most ")
        .and_then(|rest| rest.strip_suffix(" characters for your name."))
        .and_then(|n| n.parse::<i64>().ok());
    if let Some(max) = name_limit {
        return t_with("problem-name-too-long", &[("max", Arg::Num(max))]);
    }
    if let Some(rest) = sentence.strip_prefix(PASSWORD_LOCKED_START) {
        // "... locked. Try again in about N minutes. Resetting ...": the minutes are in it.
        let minutes = rest.split_whitespace().find_map(|w| w.parse::<i64>().ok()).unwrap_or(1);
        let try_again = t_with("try-again-in", &[("minutes", Arg::Num(minutes))]);
        return t_with("password-locked", &[("try_again", Arg::Str(&try_again))]);
    }
    sentence.to_owned()
}

const PASSWORD_LOCKED_START: &str = "Too many wrong passwords: changing the password is locked.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn every_event_kind_has_a_sentence_of_its_own() {
        assert_eq!(kind::ALL.len(), 43, "a new kind needs words here");
        for k in kind::ALL {
            for outcome in ["success", "failure"] {
                let key = event_sentence_key(k.as_str(), outcome);
                assert_ne!(key, "event-other", "{k}");
                let sentence = Locale::En.text(key);
                assert!(!sentence.contains('_'), "{k}: {sentence}");
            }
        }
        assert_eq!(event_sentence_key("something_new", "success"), "event-other");
        assert_eq!(event_sentence("something_new", "success"), "Other account activity");
    }

    #[test]
    fn scopes_read_as_words() {
        assert_eq!(scope_description("openid"), "Confirm who you are");
        assert_eq!(scope_description("offline_access"), "Stay connected when you are away");
        assert_eq!(
            scope_description("calendar.read"),
            "Access to \u{201c}calendar.read\u{201d}"
        );
    }

    #[test]
    fn lock_times_round_up_to_minutes() {
        assert_eq!(try_again_in(1060, 1000), "Try again in about 1 minute.");
        assert_eq!(try_again_in(1000, 1000), "Try again in about 1 minute.");
        assert_eq!(try_again_in(1061, 1000), "Try again in about 2 minutes.");
        assert_eq!(try_again_in(4600, 1000), "Try again in about 60 minutes.");
    }

    /// The English of each service sentence is its English message, word for word, so a
    /// page in English says what the service wrote.
    #[test]
    fn service_sentences_are_their_english_messages() {
        for (english, key) in SERVICE_SENTENCES {
            assert_eq!(Locale::En.text(key), *english);
            assert_eq!(from_service(english), *english);
        }
        assert_eq!(
            from_service("Use at most 200 characters for your name."),
            "Use at most 200 characters for your name."
        );
        let locked = crate::service::accounts::password_locked_message(1300, 1000);
        assert_eq!(from_service(&locked), locked);
        assert_eq!(from_service("Something new."), "Something new.");
    }
}
