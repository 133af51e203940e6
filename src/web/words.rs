//! What the pages say for things that are stored in developers' terms: event kinds and
//! outcomes, and times.

use crate::domain::event::kind;
use crate::domain::UnixTime;

/// What an event of `kind` with `outcome` means, in a sentence a person understands.
pub fn event_sentence(event_kind: &str, outcome: &str) -> &'static str {
    let failed = outcome == "failure";
    let known = kind::ALL.iter().find(|k| k.as_str() == event_kind).copied();
    let Some(k) = known else {
        return "Other account activity";
    };
    match (k, failed) {
        (kind::LOGIN, false) => "Signed in",
        (kind::LOGIN, true) => "Sign-in attempt refused",
        (kind::LOCKOUT, _) => "Sign-in locked after repeated failed attempts",
        (kind::OTP, false) => "Two-step verification code accepted",
        (kind::OTP, true) => "Wrong two-step verification code",
        (kind::RECOVERY_CODE_USED, _) => "Recovery code used",
        (kind::TOTP_ENABLED, _) => "Two-step verification turned on",
        (kind::TOTP_DISABLED, false) => "Two-step verification turned off",
        (kind::TOTP_DISABLED, true) => "Attempt to turn off two-step verification refused",
        (kind::RESET_REQUESTED, _) => "Password reset asked for",
        (kind::RESET_COMPLETED, _) => "Password reset",
        (kind::PASSWORD_CHANGED, false) => "Password changed",
        (kind::PASSWORD_CHANGED, true) => "Password change refused",
        (kind::TOKEN_ISSUED, _) => "An app was given access",
        (kind::TOKEN_REFRESHED, _) => "An app renewed its access",
        (kind::REFRESH_TOKEN_REUSE, _) => "An app's old access key was used again; that access was ended",
        (kind::TOKEN_REVOKED, _) => "An app's access was ended",
        (kind::CODE_REPLAY, _) => "A one-time sign-in code was used twice; the access it gave was ended",
        (kind::LOGOUT, _) => "Signed out",
        (kind::CLIENT_AUTH_FAILED, _) => "An app failed to prove who it is",
        (kind::RATE_LIMITED, _) => "Too many requests from one network",
        (kind::ACCOUNT_CREATED, _) => "Account created",
        (kind::ACCOUNT_DISABLED, _) => "Account turned off",
        (kind::ACCOUNT_ENABLED, _) => "Account turned on again",
        (kind::ACCOUNT_CHANGED, _) => "Account details changed",
        (kind::ACCOUNT_UNLOCKED, _) => "Account unlocked",
        (kind::CLIENT_CREATED, _) => "An app was registered",
        (kind::CLIENT_UPDATED, _) => "An app's settings were changed",
        (kind::CLIENT_SECRET_ROTATED, _) => "An app was given a new secret",
        (kind::CLIENT_DELETED, _) => "An app was removed",
        (kind::RESOURCE_CREATED, _) => "A service was registered",
        (kind::RESOURCE_UPDATED, _) => "A service's settings were changed",
        (kind::RESOURCE_DELETED, _) => "A service was removed",
        (kind::ADMIN_ACTION, _) => "An administrator made a change",
        _ => "Other account activity",
    }
}

/// An event's outcome in a word.
pub fn outcome_word(outcome: &str) -> &'static str {
    if outcome == "failure" {
        "Failed"
    } else {
        "Succeeded"
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A time as people read it: "5 December 2026, 14:03 UTC".
pub fn readable_time(at: UnixTime) -> String {
    let days = at.div_euclid(86_400);
    let seconds = at.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let month_name = usize::try_from(month - 1)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .copied()
        .unwrap_or("?");
    format!(
        "{day} {month_name} {year}, {:02}:{:02} UTC",
        seconds / 3600,
        (seconds % 3600) / 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_words() {
        assert_eq!(readable_time(1_796_479_380), "5 December 2026, 14:03 UTC");
        assert_eq!(readable_time(0), "1 January 1970, 00:00 UTC");
        assert_eq!(readable_time(951_782_400), "29 February 2000, 00:00 UTC");
    }

    #[test]
    fn every_event_kind_has_a_sentence_of_its_own() {
        assert_eq!(kind::ALL.len(), 30, "a new kind needs words here");
        for k in kind::ALL {
            for outcome in ["success", "failure"] {
                let sentence = event_sentence(k.as_str(), outcome);
                assert_ne!(sentence, "Other account activity", "{k}");
                assert!(!sentence.contains('_'), "{k}: {sentence}");
            }
        }
        assert_eq!(event_sentence("something_new", "success"), "Other account activity");
    }
}
