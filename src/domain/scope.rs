//! Scopes (RFC 6749 §3.3). The grammar and the subset relation come from oxide-auth's `Scope`,
//! which gets them right; see `shared/design.md`.

use std::fmt;
use std::str::FromStr;

use oxide_auth::primitives::scope::Scope;

/// A non-empty set of scope tokens, each of the RFC 6749 `scope-token` grammar.
#[derive(Clone, PartialEq, Eq)]
pub struct ScopeSet(Scope);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("scope must be one or more space-separated tokens of visible ASCII other than '\"' and '\\'")]
pub struct InvalidScope;

impl ScopeSet {
    pub fn parse(raw: &str) -> Result<Self, InvalidScope> {
        if raw.trim().is_empty() {
            return Err(InvalidScope);
        }
        Scope::from_str(raw).map(Self).map_err(|_| InvalidScope)
    }

    /// Builds a set from separate tokens (as a CLI receives them), checking each one.
    pub fn from_tokens<I, S>(tokens: I) -> Result<Self, InvalidScope>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined: Vec<String> = tokens.into_iter().map(|t| t.as_ref().to_owned()).collect();
        if joined.iter().any(|t| t.is_empty() || t.contains(' ')) {
            return Err(InvalidScope);
        }
        Self::parse(&joined.join(" "))
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.iter().any(|t| t == token)
    }

    /// True when every token of `self` is also in `other`.
    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.0 <= other.0
    }

    /// The tokens in a stable (sorted) order.
    pub fn tokens(&self) -> Vec<String> {
        let mut tokens: Vec<String> = self.0.iter().map(str::to_owned).collect();
        tokens.sort();
        tokens
    }
}

/// The scopes a person is asked about, in the order they read them: who they are first, then
/// the standard claims, staying connected, and any other scope alphabetically.
pub fn in_reading_order<I: IntoIterator<Item = String>>(tokens: I) -> Vec<String> {
    const FIXED: [&str; 6] = ["openid", "profile", "email", "address", "phone", "offline_access"];
    let rank = |t: &str| FIXED.iter().position(|f| *f == t).unwrap_or(FIXED.len());
    let mut tokens: Vec<String> = tokens.into_iter().collect();
    tokens.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    tokens.dedup();
    tokens
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tokens().join(" "))
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScopeSet({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tokens_and_checks_subsets() {
        let wide = ScopeSet::parse("openid profile email").unwrap();
        let narrow = ScopeSet::parse("openid email").unwrap();
        assert!(narrow.is_subset_of(&wide));
        assert!(!wide.is_subset_of(&narrow));
        assert_eq!(wide.to_string(), "email openid profile");
    }

    #[test]
    fn refuses_bad_grammar() {
        for bad in ["", "   ", "a\"b", "a\\b", "caf\u{e9}"] {
            assert_eq!(ScopeSet::parse(bad), Err(InvalidScope), "{bad:?}");
        }
        assert_eq!(ScopeSet::from_tokens(["a b"]), Err(InvalidScope));
    }

    #[test]
    fn scopes_read_in_a_fixed_order_then_alphabetically() {
        let tokens = [
            "zeta",
            "offline_access",
            "email",
            "alpha",
            "openid",
            "phone",
            "profile",
            "address",
        ];
        assert_eq!(
            in_reading_order(tokens.map(str::to_owned)),
            [
                "openid",
                "profile",
                "email",
                "address",
                "phone",
                "offline_access",
                "alpha",
                "zeta"
            ]
        );
    }
}
