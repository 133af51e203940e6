//! People who sign in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::UnixTime;

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

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    /// argon2id PHC string.
    pub password_hash: String,
    pub disabled: bool,
    pub claims: ProfileClaims,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

#[cfg(test)]
mod tests {
    use super::*;

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
