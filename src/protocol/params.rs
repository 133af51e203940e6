//! Form-encoded parameters (a query string or an `application/x-www-form-urlencoded` body),
//! parsed in one linear pass under fixed caps: outside input decides how much work is done, so
//! the work must not grow faster than the input, and the input must be bounded.

use std::collections::HashSet;

use super::error::{err, OAuthError, ProtocolError};

/// The most bytes of encoded parameters any endpoint reads (query string or body).
pub const MAX_ENCODED_LEN: usize = 64 * 1024;
/// The most parameters (name/value pairs, empty ones included) a request may carry. The
/// largest legitimate requests (an authorization request with every OIDC parameter and a few
/// `resource`s) have about 20.
pub const MAX_PARAMS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamsError {
    /// More than [`MAX_ENCODED_LEN`] bytes.
    TooLarge,
    /// More than [`MAX_PARAMS`] parameters.
    TooMany,
}

impl ParamsError {
    pub fn describe(self) -> &'static str {
        match self {
            Self::TooLarge => "the request parameters are too large",
            Self::TooMany => "the request has too many parameters",
        }
    }
}

impl From<ParamsError> for ProtocolError {
    fn from(e: ParamsError) -> Self {
        err(OAuthError::InvalidRequest, e.describe())
    }
}

/// A parameter that may appear once appears more often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeated;

/// Request parameters in order, with empty values dropped (RFC 6749 §3.1: a parameter sent
/// without a value is treated as omitted).
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// Index in `pairs` of the first parameter (other than `resource`) given a second time.
    duplicate: Option<usize>,
}

impl Params {
    /// Parses `encoded` in one pass: O(length), at most [`MAX_PARAMS`] pairs.
    pub fn parse(encoded: &[u8]) -> Result<Self, ParamsError> {
        if encoded.len() > MAX_ENCODED_LEN {
            return Err(ParamsError::TooLarge);
        }
        let mut pairs = Vec::new();
        for (count, (name, value)) in url::form_urlencoded::parse(encoded).enumerate() {
            if count >= MAX_PARAMS {
                return Err(ParamsError::TooMany);
            }
            if !value.is_empty() {
                pairs.push((name.into_owned(), value.into_owned()));
            }
        }
        let mut seen = HashSet::with_capacity(pairs.len());
        // Only `resource` may repeat (RFC 8707 §2).
        let duplicate = pairs
            .iter()
            .position(|(name, _)| !seen.insert(name.as_str()) && name != "resource");
        Ok(Self { pairs, duplicate })
    }

    /// For endpoints where any repeated parameter makes the request invalid (RFC 6749 §3.2):
    /// token, introspection, revocation, userinfo.
    pub fn parse_unique(encoded: &[u8]) -> Result<Self, ProtocolError> {
        let params = Self::parse(encoded)?;
        if let Some(name) = params.duplicated() {
            return Err(err(
                OAuthError::InvalidRequest,
                format!("parameter {name} is given more than once"),
            ));
        }
        Ok(params)
    }

    /// The first parameter (other than `resource`) that the request gives more than once.
    pub fn duplicated(&self) -> Option<&str> {
        self.duplicate
            .and_then(|i| self.pairs.get(i))
            .map(|(name, _)| name.as_str())
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn take(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The value of a parameter that may appear once; `Err` when it appears more often.
    pub fn single(&self, name: &str) -> Result<Option<&str>, Repeated> {
        let mut values = self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (first, None) => Ok(first),
            (Some(_), Some(_)) | (None, Some(_)) => Err(Repeated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_omitted_and_order_is_kept() {
        let p = Params::parse(b"a=1&b=&c=3&resource=x&resource=y").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.all("resource"), vec!["x", "y"]);
        assert_eq!(p.duplicated(), None);
    }

    #[test]
    fn the_first_repeated_name_is_reported() {
        let p = Params::parse(b"a=1&b=2&b=3&a=4").unwrap();
        assert_eq!(p.duplicated(), Some("b"));
        assert_eq!(p.single("a"), Err(Repeated));
        assert_eq!(p.single("c"), Ok(None));
        assert_eq!(
            Params::parse_unique(b"a=1&a=2").unwrap_err().description,
            "parameter a is given more than once"
        );
    }

    #[test]
    fn parameter_count_is_capped() {
        let at_cap: Vec<String> = (0..MAX_PARAMS).map(|i| format!("p{i}=v")).collect();
        assert!(Params::parse(at_cap.join("&").as_bytes()).is_ok());
        let over: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("p{i}=v")).collect();
        assert_eq!(
            Params::parse(over.join("&").as_bytes()).unwrap_err(),
            ParamsError::TooMany
        );
        // Empty-valued pairs count too: they cost the same to parse.
        let empties = "e=&".repeat(MAX_PARAMS + 1);
        assert_eq!(Params::parse(empties.as_bytes()).unwrap_err(), ParamsError::TooMany);
    }

    #[test]
    fn encoded_length_is_capped() {
        let big = format!("a={}", "x".repeat(MAX_ENCODED_LEN));
        assert_eq!(Params::parse(big.as_bytes()).unwrap_err(), ParamsError::TooLarge);
        let fits = format!("a={}", "x".repeat(MAX_ENCODED_LEN - 2));
        assert!(Params::parse(fits.as_bytes()).is_ok());
    }
}
