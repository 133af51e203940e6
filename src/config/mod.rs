//! Typed settings. Sources, later ones winning: defaults, the TOML file (`--config`, else
//! `./keyhaven.toml` when present), then one `KEYHAVEN_<NAME>` environment variable per setting.
//! Any bad value stops the program with one line naming the setting.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::crypto::kek::Kek;
use crate::domain::color::Rgb;
use crate::domain::SigningAlg;

mod table;
mod third_party;
mod values;

pub use table::SETTINGS;
pub use third_party::{MetadataDocuments, RegistrationPolicy};
use values::*;
pub use values::{parse_duration, PasskeysRequired, RateLimit};

/// The most `max_connections` may be: far beyond what one process serves, but a bound.
const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

pub struct Settings {
    pub listen: SocketAddr,
    pub http_header_timeout: Duration,
    pub http_body_timeout: Duration,
    pub http_idle_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
    /// The issuer identifier, without a trailing slash.
    pub issuer: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_acquire_timeout: Duration,
    pub database_statement_timeout: Duration,
    pub kek: Option<SecretString>,
    pub kek_file: PathBuf,
    pub access_token_ttl: i64,
    /// The algorithm of access tokens for audiences not in the resource registry.
    pub access_token_alg: SigningAlg,
    pub id_token_ttl: i64,
    pub code_ttl: i64,
    pub device_code_ttl: i64,
    pub device_poll_interval: i64,
    pub refresh_idle_ttl: i64,
    pub refresh_absolute_ttl: i64,
    pub key_rotation_interval: i64,
    pub key_rotation_lead: i64,
    pub key_refresh_interval: std::time::Duration,
    pub reset_token_ttl: i64,
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    pub rate_limit_pages: RateLimit,
    pub rate_limit_api: RateLimit,
    pub rate_limit_introspect: RateLimit,
    pub rate_limit_authorize: RateLimit,
    pub trust_forwarded_for: bool,
    pub metrics_listen: Option<SocketAddr>,
    /// The bearer token `/metrics` asks for; without it or `metrics_listen`, no `/metrics`.
    pub metrics_bearer_token: Option<SecretString>,
    pub janitor_interval: std::time::Duration,
    pub event_retention: i64,
    pub refresh_reuse_grace: i64,
    pub revocation_refresh_interval: std::time::Duration,
    pub session_idle_ttl: i64,
    pub session_absolute_ttl: i64,
    /// Mail the person when their account is signed in to from a browser it has no session on.
    pub mail_new_sign_in: bool,
    /// The language of pages and mail when neither `ui_locales` nor `Accept-Language` names a
    /// shipped one.
    pub default_locale: crate::i18n::Locale,
    pub dev_insecure_cookies: bool,
    pub templates_dir: Option<PathBuf>,
    /// The product name on the pages and in the mail.
    pub brand_name: String,
    /// A PNG, SVG or WebP file shown in the pages' header (read and checked at start).
    pub brand_logo: Option<PathBuf>,
    /// The colour of buttons and links, in place of the built-in blue.
    pub brand_primary_color: Option<Rgb>,
    /// A stylesheet linked after the built-in one (read at start).
    pub brand_stylesheet: Option<PathBuf>,
    /// Offer passkeys (an issuer on a domain name is needed too).
    pub passkeys: bool,
    /// Whose password no longer signs them in once they have a passkey.
    pub passkeys_required: PasskeysRequired,
    /// A PEM file of attestation root certificates: when set, a passkey is added only from an
    /// authenticator whose attestation chains to one of them (read and checked at start).
    pub passkey_attestation_ca_file: Option<PathBuf>,
    /// The AAGUIDs allowed under those roots; empty: any. Only with the CA file.
    pub passkey_aaguids: Vec<uuid::Uuid>,
    /// Which client ids may be URLs of client metadata documents.
    pub client_id_metadata_documents: MetadataDocuments,
    /// Floor and ceiling of how long a fetched document (metadata, `jwks_uri`) is kept.
    pub metadata_cache_min: Duration,
    pub metadata_cache_max: Duration,
    pub client_registration: RegistrationPolicy,
    pub rate_limit_registration: RateLimit,
    /// The most self-registered clients open registration makes.
    pub self_registered_clients_max: usize,
    /// What clients nobody vetted (registered, metadata-document) may use and ask for.
    pub self_registered_grants: Vec<crate::domain::client::GrantType>,
    pub self_registered_scopes: crate::domain::scope::ScopeSet,
    pub client_logos: bool,
    /// Extra CA certificates (PEM) for outbound fetches.
    pub outbound_ca_file: Option<PathBuf>,
    pub dev_allow_loopback_fetch: bool,
    pub password_hash_concurrency: usize,
    pub log_format: LogFormat,
    pub log_level: String,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("issuer", &self.issuer)
            .field("data_dir", &self.data_dir)
            .field("kek", &self.kek.as_ref().map(|_| "<redacted>"))
            .field("kek_file", &self.kek_file)
            .finish_non_exhaustive()
    }
}

/// One clear line naming the setting at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("invalid setting `{setting}` ({env}): {message}")]
    Invalid {
        setting: String,
        env: String,
        message: String,
    },
    #[error("unknown setting `{setting}` in {file}")]
    Unknown { setting: String, file: String },
    #[error("cannot read the configuration file {file}: {message}")]
    File { file: String, message: String },
}

impl ConfigError {
    pub fn invalid(setting: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            setting: setting.into(),
            env: env_name(setting),
            message: message.into(),
        }
    }
}

pub fn env_name(setting: &str) -> String {
    format!("KEYHAVEN_{}", setting.to_uppercase())
}

fn is_known(name: &str) -> bool {
    SETTINGS.iter().any(|(known, _, _)| *known == name)
}

impl Settings {
    /// Loads from the file (if any) and the process environment.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        let default_file = Path::new("keyhaven.toml");
        let file = match config_file {
            Some(path) => Some(path),
            None if default_file.exists() => Some(default_file),
            None => None,
        };
        let mut raw = Raw::default();
        if let Some(path) = file {
            read_file(path, &mut raw)?;
        }
        for (name, _, _) in SETTINGS {
            if let Ok(value) = std::env::var(env_name(name)) {
                raw.0.insert(name, value);
            }
        }
        Self::resolve(&raw)
    }

    /// Builds settings from name/value pairs, through the same checks as [`Settings::load`].
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Result<Self, ConfigError> {
        let mut raw = Raw::default();
        for (name, value) in pairs {
            let known = SETTINGS
                .iter()
                .find(|(known, _, _)| *known == name)
                .map(|(known, _, _)| *known)
                .ok_or_else(|| ConfigError::Unknown {
                    setting: name.into(),
                    file: "the given settings".into(),
                })?;
            raw.0.insert(known, value);
        }
        Self::resolve(&raw)
    }

    fn resolve(raw: &Raw) -> Result<Self, ConfigError> {
        let allow_http = raw.parse("dev_allow_http_issuer", "false", parse_bool)?;
        let data_dir = PathBuf::from(raw.get("data_dir").unwrap_or("data"));
        let default_db = format!("sqlite://{}/keyhaven.db", data_dir.display());
        let database_url = raw.parse("database_url", &default_db, |url| {
            crate::storage::check_url(url)
                .map(|()| url.to_owned())
                .map_err(|e| e.to_string())
        })?;
        let key_rotation_interval = raw.seconds("key_rotation_interval", "30d", 60)?;
        let key_rotation_lead = raw.seconds("key_rotation_lead", "24h", 0)?;
        if key_rotation_lead >= key_rotation_interval {
            return Err(ConfigError::invalid(
                "key_rotation_lead",
                "must be shorter than key_rotation_interval",
            ));
        }
        let metadata_cache_min = Duration::from_secs(raw.seconds("metadata_cache_min", "5m", 0)?.unsigned_abs());
        let metadata_cache_max = Duration::from_secs(raw.seconds("metadata_cache_max", "24h", 1)?.unsigned_abs());
        if metadata_cache_min > metadata_cache_max {
            return Err(ConfigError::invalid(
                "metadata_cache_min",
                "must not exceed metadata_cache_max",
            ));
        }
        let passkeys = raw.parse("passkeys", "true", parse_bool)?;
        let passkeys_required = raw.parse("passkeys_required", "off", PasskeysRequired::parse)?;
        if passkeys_required != PasskeysRequired::Off && !passkeys {
            return Err(ConfigError::invalid("passkeys_required", "needs passkeys = true"));
        }
        let passkey_attestation_ca_file = raw.get("passkey_attestation_ca_file").map(PathBuf::from);
        let passkey_aaguids = match raw.get("passkey_aaguids") {
            None => Vec::new(),
            Some(text) => parse_aaguids(text).map_err(|m| ConfigError::invalid("passkey_aaguids", m))?,
        };
        if !passkey_aaguids.is_empty() && passkey_attestation_ca_file.is_none() {
            return Err(ConfigError::invalid(
                "passkey_aaguids",
                "needs passkey_attestation_ca_file (an AAGUID is only worth its verified attestation)",
            ));
        }
        let refresh_idle_ttl = raw.seconds("refresh_idle_ttl", "14d", 60)?;
        let refresh_absolute_ttl = raw.seconds("refresh_absolute_ttl", "30d", 60)?;
        if refresh_idle_ttl > refresh_absolute_ttl {
            return Err(ConfigError::invalid(
                "refresh_idle_ttl",
                "must not exceed refresh_absolute_ttl",
            ));
        }
        let key_refresh_secs = raw.parse("key_refresh_interval", "10s", parse_interval)?;
        let issuer = raw.parse("issuer", "http://127.0.0.1:8080", |t| parse_issuer(t, allow_http))?;
        let dev_insecure_cookies = raw.parse("dev_insecure_cookies", "false", parse_bool)?;
        if dev_insecure_cookies && !Url::parse(&issuer).is_ok_and(|u| u.scheme() == "http" && is_loopback_host(&u)) {
            return Err(ConfigError::invalid(
                "dev_insecure_cookies",
                "is only allowed with an http issuer on a loopback host",
            ));
        }
        let brand_name = raw.parse("brand_name", "Keyhaven", parse_brand_name)?;
        let session_idle_ttl = raw.seconds("session_idle_ttl", "12h", 60)?;
        let session_absolute_ttl = raw.seconds("session_absolute_ttl", "14d", 60)?;
        if session_idle_ttl > session_absolute_ttl {
            return Err(ConfigError::invalid(
                "session_idle_ttl",
                "must not exceed session_absolute_ttl",
            ));
        }
        Ok(Self {
            metrics_listen: match raw.get("metrics_listen") {
                None => None,
                Some(t) => Some(
                    t.trim()
                        .parse::<SocketAddr>()
                        .map_err(|_| ConfigError::invalid("metrics_listen", format!("`{t}` is not an address:port")))?,
                ),
            },
            metrics_bearer_token: match raw.get("metrics_bearer_token") {
                None => None,
                Some(token) => Some(SecretString::from(
                    parse_bearer_token(token).map_err(|m| ConfigError::invalid("metrics_bearer_token", m))?,
                )),
            },
            janitor_interval: raw.parse("janitor_interval", "5m", parse_interval)?,
            event_retention: raw.seconds("event_retention", "90d", 3600)?,
            reset_token_ttl: raw.seconds("reset_token_ttl", "15m", 60)?,
            smtp_url: match raw.get("smtp_url") {
                None => None,
                Some(url) => Some(SecretString::from(
                    parse_smtp_url(url).map_err(|m| ConfigError::invalid("smtp_url", m))?,
                )),
            },
            mail_from: raw.parse("mail_from", &default_mail_from(&issuer, &brand_name), |t| {
                t.parse::<lettre::message::Mailbox>()
                    .map(|_| t.to_owned())
                    .map_err(|_| format!("`{t}` is not a mailbox"))
            })?,
            rate_limit_pages: raw.parse("rate_limit_pages", "30/1m", RateLimit::parse)?,
            rate_limit_api: raw.parse("rate_limit_api", "100/1s", RateLimit::parse)?,
            rate_limit_introspect: raw.parse("rate_limit_introspect", "2000/1s", RateLimit::parse)?,
            rate_limit_authorize: raw.parse("rate_limit_authorize", "300/1m", RateLimit::parse)?,
            trust_forwarded_for: raw.parse("trust_forwarded_for", "false", parse_bool)?,
            refresh_reuse_grace: raw.seconds("refresh_reuse_grace", "0s", 0)?,
            revocation_refresh_interval: raw.parse("revocation_refresh_interval", "1s", parse_interval)?,
            session_idle_ttl,
            session_absolute_ttl,
            mail_new_sign_in: raw.parse("mail_new_sign_in", "true", parse_bool)?,
            default_locale: raw.parse("default_locale", "en", |t| t.parse::<crate::i18n::Locale>())?,
            dev_insecure_cookies,
            templates_dir: raw.get("templates_dir").map(PathBuf::from),
            brand_logo: raw.get("brand_logo").map(PathBuf::from),
            brand_primary_color: match raw.get("brand_primary_color") {
                None => None,
                Some(t) => Some(Rgb::parse(t).map_err(|m| ConfigError::invalid("brand_primary_color", m))?),
            },
            brand_stylesheet: raw.get("brand_stylesheet").map(PathBuf::from),
            brand_name,
            listen: raw.parse("listen", "127.0.0.1:8080", |t| {
                t.trim()
                    .parse::<SocketAddr>()
                    .map_err(|_| format!("`{t}` is not an address:port"))
            })?,
            http_header_timeout: raw.timeout("http_header_timeout", "10s")?,
            http_body_timeout: raw.timeout("http_body_timeout", "30s")?,
            http_idle_timeout: raw.timeout("http_idle_timeout", "60s")?,
            request_timeout: raw.timeout("request_timeout", "30s")?,
            max_connections: raw.parse("max_connections", "2048", |t| match t.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_CONNECTIONS_LIMIT).contains(&n) => Ok(n),
                _ => Err(format!("`{t}` is not a whole number from 1 to {MAX_CONNECTIONS_LIMIT}")),
            })?,
            issuer: raw.parse("issuer", "http://127.0.0.1:8080", |t| parse_issuer(t, allow_http))?,
            data_dir,
            database_url,
            database_acquire_timeout: raw.timeout("database_acquire_timeout", "3s")?,
            database_statement_timeout: raw.timeout("database_statement_timeout", "3s")?,
            kek: raw.get("kek").map(|k| SecretString::from(k.to_owned())),
            kek_file: PathBuf::from(raw.get("kek_file").unwrap_or("keys/kek")),
            access_token_ttl: raw.seconds("access_token_ttl", "15m", 1)?,
            access_token_alg: raw.parse("access_token_alg", "RS256", |t| t.trim().parse::<SigningAlg>())?,
            id_token_ttl: raw.seconds("id_token_ttl", "15m", 1)?,
            code_ttl: raw.seconds("code_ttl", "60s", 1)?,
            device_code_ttl: raw.seconds("device_code_ttl", "10m", 1)?,
            device_poll_interval: raw.seconds("device_poll_interval", "5s", 1)?,
            refresh_idle_ttl,
            refresh_absolute_ttl,
            key_rotation_interval,
            key_rotation_lead,
            key_refresh_interval: key_refresh_secs,
            passkeys,
            passkeys_required,
            passkey_attestation_ca_file,
            passkey_aaguids,
            client_id_metadata_documents: raw.parse("client_id_metadata_documents", "off", MetadataDocuments::parse)?,
            metadata_cache_min,
            metadata_cache_max,
            client_registration: raw.parse("client_registration", "off", |t| match t.trim() {
                "off" => Ok(RegistrationPolicy::Off),
                "open" => Ok(RegistrationPolicy::Open),
                "token" => Ok(RegistrationPolicy::Token),
                other => Err(format!("`{other}` is none of off, open, token")),
            })?,
            rate_limit_registration: raw.parse("rate_limit_registration", "10/1h", RateLimit::parse)?,
            self_registered_clients_max: raw.parse("self_registered_clients_max", "1000", |t| {
                t.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("`{t}` is not a whole number"))
            })?,
            self_registered_grants: raw.parse("self_registered_grants", "authorization_code refresh_token", |t| {
                t.split_whitespace()
                    .map(|g| match g {
                        "client_credentials" => Err("client_credentials is not for clients nobody vetted".to_owned()),
                        other => other.parse(),
                    })
                    .collect()
            })?,
            self_registered_scopes: raw.parse(
                "self_registered_scopes",
                "openid profile email offline_access",
                |t| crate::domain::scope::ScopeSet::parse(t).map_err(|e| e.to_string()),
            )?,
            client_logos: raw.parse("client_logos", "false", parse_bool)?,
            outbound_ca_file: raw.get("outbound_ca_file").map(PathBuf::from),
            dev_allow_loopback_fetch: raw.parse("dev_allow_loopback_fetch", "false", parse_bool)?,
            password_hash_concurrency: raw.parse("password_hash_concurrency", "0", |t| {
                t.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("`{t}` is not a whole number"))
            })?,
            log_format: raw.parse("log_format", "text", |t| match t.trim() {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                other => Err(format!("`{other}` is neither text nor json")),
            })?,
            log_level: raw.parse("log_level", "info", |t| {
                tracing_subscriber::EnvFilter::try_new(t)
                    .map(|_| t.to_owned())
                    .map_err(|e| format!("`{t}` is not a tracing filter: {e}"))
            })?,
        })
    }

    /// The key-encryption key: `kek` if set, else the file (created when missing).
    pub fn load_kek(&self) -> Result<Kek, ConfigError> {
        match &self.kek {
            Some(text) => {
                Kek::from_base64(text.expose_secret()).map_err(|e| ConfigError::invalid("kek", e.to_string()))
            }
            None => Kek::load_or_create(&self.kek_file).map_err(|e| ConfigError::invalid("kek_file", e.to_string())),
        }
    }

    /// The longest time anything signed with a key stays valid: a retired key is published that
    /// long (plus a minute of clock skew allowance).
    pub fn longest_signed_lifetime(&self) -> i64 {
        self.access_token_ttl.max(self.id_token_ttl) + 60
    }
}

fn read_file(path: &Path, raw: &mut Raw) -> Result<(), ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::File {
        file: file.clone(),
        message: e.message().to_owned(),
    })?;
    for (name, value) in table {
        let Some((known, _, _)) = SETTINGS.iter().find(|(known, _, _)| *known == name) else {
            return Err(ConfigError::Unknown { setting: name, file });
        };
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(ConfigError::invalid(
                    known,
                    format!("{} values are not accepted here", other.type_str()),
                ))
            }
        };
        raw.0.insert(known, text);
    }
    Ok(())
}

/// `KEYHAVEN_*` variables that name no setting: probably a typo, worth a warning.
pub fn unknown_env_vars() -> Vec<String> {
    std::env::vars()
        .filter_map(|(k, _)| {
            let name = k.strip_prefix("KEYHAVEN_")?.to_lowercase();
            let ours = is_known(&name) || name.starts_with("test_") || name == "config";
            (!ours).then_some(k)
        })
        .collect()
}

/// The sender when `mail_from` is not set: the brand name, `no-reply` at the issuer's host, so
/// mail says where it comes from (an IP address as a domain literal).
fn default_mail_from(issuer: &str, brand_name: &str) -> String {
    let hosts = match Url::parse(issuer).ok().and_then(|u| u.host().map(|h| h.to_owned())) {
        Some(url::Host::Domain(name)) => vec![name],
        Some(url::Host::Ipv4(ip)) => vec![ip.to_string(), format!("[{ip}]")],
        Some(url::Host::Ipv6(ip)) => vec![format!("[{ip}]"), ip.to_string()],
        None => vec![],
    };
    // Built as a mailbox, so a name with commas or quotes is quoted as it must be.
    let sender = |host: &str| {
        format!("no-reply@{host}")
            .parse::<lettre::Address>()
            .ok()
            .map(|address| lettre::message::Mailbox::new(Some(brand_name.to_owned()), address).to_string())
            .filter(|sender| sender.parse::<lettre::message::Mailbox>().is_ok())
    };
    hosts
        .iter()
        .find_map(|host| sender(host))
        .or_else(|| sender("localhost"))
        .unwrap_or_else(|| "no-reply@localhost".to_owned())
}

/// The product name: words people read in a header and a mail subject, so one line of at most
/// 60 characters.
fn parse_brand_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.chars().count() > 60 {
        return Err("must be at most 60 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("must be one line without control characters".into());
    }
    Ok(name.to_owned())
}
#[cfg(test)]
mod tests;
