//! The values settings take: durations, rates, URLs, booleans, each parsed with a message that
//! names what is wrong (the caller adds the setting).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use url::{Host, Url};

use super::ConfigError;

/// The raw text of each setting that a source gave.
#[derive(Default)]
pub(super) struct Raw(pub(super) BTreeMap<&'static str, String>);

impl Raw {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub(super) fn parse<T>(
        &self,
        name: &str,
        default: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        parse(self.get(name).unwrap_or(default)).map_err(|m| ConfigError::invalid(name, m))
    }

    pub(super) fn seconds(&self, name: &str, default: &str, min: i64) -> Result<i64, ConfigError> {
        self.parse(name, default, |text| {
            let secs = parse_duration(text)?;
            if secs < min {
                return Err(format!("must be at least {min}s"));
            }
            Ok(secs)
        })
    }

    /// A timeout: whole seconds, at least one.
    pub(super) fn timeout(&self, name: &str, default: &str) -> Result<Duration, ConfigError> {
        let secs = self.seconds(name, default, 1)?;
        Ok(Duration::from_secs(u64::try_from(secs).unwrap_or(1)))
    }
}

/// A duration: whole seconds (`900`) or humantime (`15m`, `14d`, `1h 30m`).
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let secs = match text.parse::<u64>() {
        Ok(secs) => secs,
        Err(_) => humantime::parse_duration(text)
            .map_err(|_| format!("`{text}` is not a duration (seconds, or e.g. 15m, 24h, 30d)"))?
            .as_secs(),
    };
    i64::try_from(secs).map_err(|_| format!("`{text}` is too long"))
}

/// A rate limit: `count` requests per `per`, written `30/1m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub count: u32,
    pub per: std::time::Duration,
}

impl RateLimit {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a rate such as 30/1m");
        let (count, per) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let per = parse_interval(per).map_err(|_| bad())?;
        if count == 0 {
            return Err("the count must be at least 1".into());
        }
        Ok(Self { count, per })
    }
}

/// Checks an SMTP URL's shape without echoing it (it may hold a password).
pub(super) fn parse_smtp_url(text: &str) -> Result<String, String> {
    let url = Url::parse(text.trim()).map_err(|_| "is not a URL".to_owned())?;
    if !matches!(url.scheme(), "smtp" | "smtps") || url.host().is_none() {
        return Err("must be smtp://host[:port] (STARTTLS) or smtps://host[:port] (TLS)".into());
    }
    Ok(text.trim().to_owned())
}

/// A bearer token an operator chose: long enough not to be guessed, and sendable in a header.
/// The message never echoes it.
pub(super) fn parse_bearer_token(text: &str) -> Result<String, String> {
    if !text.chars().all(|c| c.is_ascii_graphic()) {
        return Err("must be visible ASCII characters only (no spaces)".into());
    }
    if text.len() < 32 {
        return Err("must be at least 32 characters (e.g. `openssl rand -base64 32`)".into());
    }
    Ok(text.to_owned())
}

/// A timer interval: more than zero, sub-second values allowed (`100ms`).
pub(super) fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .or_else(|_| text.trim().parse::<u64>().map(std::time::Duration::from_secs))
        .map_err(|_| format!("`{text}` is not a duration"))?;
    if d.is_zero() {
        return Err("must be more than 0".into());
    }
    Ok(d)
}

pub(super) fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(format!("`{other}` is not true or false")),
    }
}

pub(super) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

pub(super) fn parse_issuer(text: &str, allow_http: bool) -> Result<String, String> {
    let url = Url::parse(text.trim()).map_err(|_| format!("`{text}` is not an absolute URL"))?;
    if url.host().is_none() {
        return Err(format!("`{text}` has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment (OIDC Discovery §3)".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&url) || allow_http => {}
        "http" => {
            return Err(
                "http is only allowed on a loopback host; use https, or set dev_allow_http_issuer for development"
                    .into(),
            )
        }
        other => return Err(format!("scheme `{other}` is not https")),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// `passkeys_required`: whose password no longer signs them in once they have a passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeysRequired {
    Off,
    Everyone,
    /// These usernames (compared without regard to ASCII case).
    Users(Vec<String>),
}

impl PasskeysRequired {
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "off" => return Ok(Self::Off),
            "everyone" => return Ok(Self::Everyone),
            _ => {}
        }
        let users: Vec<String> = text
            .split([' ', ','])
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect();
        if users.is_empty() || users.iter().any(|u| u.chars().any(char::is_control)) {
            return Err("give `off`, `everyone`, or usernames separated by spaces".into());
        }
        Ok(Self::Users(users))
    }

    /// Whether the person named `username` must sign in with a passkey.
    pub fn applies_to(&self, username: &str) -> bool {
        match self {
            Self::Off => false,
            Self::Everyone => true,
            Self::Users(users) => users.iter().any(|u| u.eq_ignore_ascii_case(username)),
        }
    }
}

/// `passkey_aaguids`: AAGUIDs (UUIDs) separated by spaces or commas, at least one; the same one
/// twice is kept once.
pub(super) fn parse_aaguids(text: &str) -> Result<Vec<uuid::Uuid>, String> {
    let mut aaguids = Vec::new();
    for word in text.split([' ', ',', '\t', '\n']).filter(|w| !w.is_empty()) {
        let aaguid = uuid::Uuid::parse_str(word).map_err(|_| format!("`{word}` is not an AAGUID (a UUID)"))?;
        if !aaguids.contains(&aaguid) {
            aaguids.push(aaguid);
        }
    }
    if aaguids.is_empty() {
        return Err("give AAGUIDs (UUIDs) separated by spaces or commas".into());
    }
    Ok(aaguids)
}
