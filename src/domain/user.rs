//! People who sign in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{UnixTime, UserId};

/// A username: 1-64 characters of letters, digits, `.`, `_`, `-`, stored lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim().to_lowercase();
        let valid_chars = value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if value.is_empty() || value.chars().count() > 64 || !valid_chars {
            return Err("username must be 1 to 64 letters, digits, '.', '_' or '-'".into());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, trimmed and lowercased. Only the shape is checked here; ownership is
/// proven by a link sent to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim().to_lowercase();
        let shape_ok = match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control())
                    && value.matches('@').count() == 1
            }
            None => false,
        };
        if !shape_ok || value.len() > 254 {
            return Err(format!("`{raw}` is not an email address"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Standard OIDC profile claims a person may have (OIDC Core §5.1), stored as JSON.
pub type ProfileClaims = BTreeMap<String, String>;

/// The claims each OIDC scope releases (OIDC Core §5.4).
pub fn scope_claims(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        "email" => &["email", "email_verified"],
        "address" => &["address"],
        "phone" => &["phone_number", "phone_number_verified"],
        _ => &[],
    }
}

/// Scopes that release claims about the person.
pub const CLAIM_SCOPES: &[&str] = &["profile", "email", "address", "phone"];

/// Whether `name` is a standard claim (OIDC Core §5.1) about the person.
pub fn is_standard_claim(name: &str) -> bool {
    CLAIM_SCOPES.iter().any(|scope| scope_claims(scope).contains(&name))
}

/// Whether an operator may set `name` as a profile claim: a standard claim that is not kept
/// in a column of its own (email, verification flags, updated_at).
pub fn is_settable_claim(name: &str) -> bool {
    is_standard_claim(name)
        && !matches!(
            name,
            "email" | "email_verified" | "phone_number_verified" | "updated_at"
        )
}

#[derive(Clone)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    /// argon2id PHC string.
    pub password_hash: String,
    pub disabled: bool,
    pub claims: ProfileClaims,
    /// The TOTP secret, sealed under the KEK; None when the second factor is off.
    pub totp_secret: Option<String>,
    /// A secret being enrolled, sealed, until a first code confirms it.
    pub totp_pending: Option<String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// The password hash and the sealed TOTP secrets never print.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .field("password_hash", &super::REDACTED)
            .field("disabled", &self.disabled)
            .field("claims", &self.claims)
            .field("totp_secret", &self.totp_secret.as_ref().map(|_| super::REDACTED))
            .field("totp_pending", &self.totp_pending.as_ref().map(|_| super::REDACTED))
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

impl User {
    pub fn has_totp(&self) -> bool {
        self.totp_secret.is_some()
    }
}

/// Account lockout (OWASP ASVS 2.2.1): after `MAX_FAILURES` wrong passwords or codes within
/// `WINDOW` seconds the account is locked for `BASE` seconds, doubling with each lockout up to
/// `CAP`. Counters live in the store so every instance sees them. A whole successful sign-in
/// forgets the failures but not the back-off; the back-off is forgotten `MEMORY` seconds after
/// the last lock ended, or by a password reset.
pub mod lockout {
    pub const MAX_FAILURES: i64 = 5;
    pub const WINDOW: i64 = 15 * 60;
    pub const BASE: i64 = 60;
    pub const CAP: i64 = 3600;
    /// How long a counter that locked is kept after its lock ended (the housekeeping pass
    /// deletes it then; `storage::housekeeping` spells the same number).
    pub const MEMORY: i64 = 24 * 3600;

    /// How long the `n`-th lockout (0-based) lasts.
    pub fn duration(previous_lockouts: i64) -> i64 {
        let doublings = u32::try_from(previous_lockouts.clamp(0, 16)).unwrap_or(16);
        BASE.saturating_mul(1_i64 << doublings).min(CAP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_up_to_an_hour() {
        let durations: Vec<i64> = (0..8).map(lockout::duration).collect();
        assert_eq!(durations, vec![60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[test]
    fn usernames_and_emails_are_normalised() {
        assert_eq!(Username::parse(" Alice ").unwrap().as_str(), "alice");
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("").is_err());
        assert_eq!(Email::parse("A@Example.COM").unwrap().as_str(), "a@example.com");
        for bad in ["a", "a@b", "@b.c", "a@@b.c", "a b@c.d", "a@.c"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_password_hash_or_totp_secrets() {
        let user = User {
            id: "u1".into(),
            username: "alice".into(),
            email: "alice@example.com".into(),
            email_verified: true,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            disabled: false,
            claims: ProfileClaims::new(),
            totp_secret: Some("sealed-secret".into()),
            totp_pending: Some("sealed-pending".into()),
            created_at: 0,
            updated_at: 0,
        };
        let printed = format!("{user:?}");
        assert!(printed.contains("alice"));
        for secret in ["argon2id", "sealed-secret", "sealed-pending"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
