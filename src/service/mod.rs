//! The flows, written once and free of HTTP: every face (hosted pages, the token endpoints, the
//! admin API, the command line) calls these. Each submodule is one flow or aggregate; they take
//! [`Services`] — the store, the keys, the clock and the settings — and return typed outcomes.

use std::sync::Arc;

use crate::config::{ConfigError, Settings};
use crate::crypto::kek::Kek;
use crate::crypto::keys::{KeyError, KeyManager, KeyPolicy};
use crate::crypto::password::PasswordHasher;
use crate::domain::event::{EventKind, Outcome, SecurityEvent};
use crate::domain::Clock;
use crate::events::EventLog;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::protocol::access_token_cache::AccessTokenCache;
use crate::protocol::introspect::UsernameCache;
use crate::protocol::revocation::RevocationCache;
use crate::storage::{self, Store};

pub mod accounts;
pub mod admin;
pub mod apps;
pub mod authorization;
pub mod client_cache;
pub mod clients;
pub mod device;
pub mod email_change;
pub mod failure;
pub mod lockout;
pub mod metadata_documents;
pub mod notify;
pub mod passkeys;
pub mod peer;
pub mod registration;
pub mod resources;
pub mod second_factor;
pub mod security;
pub mod sessions;
pub mod signin;
pub mod tokens;

/// Where a request came from, for security events.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    pub ip: String,
    pub user_agent: Option<String>,
}

impl Peer {
    /// The key of per-address counters: the /64 of an IPv6 address ([`peer::limit_key`]).
    pub fn limit_key(&self) -> String {
        match self.ip.parse::<std::net::IpAddr>() {
            Ok(ip) => peer::limit_key(ip).to_string(),
            Err(_) => self.ip.clone(),
        }
    }

    pub fn event(&self, services: &Services, kind: EventKind, outcome: Outcome) -> SecurityEvent {
        SecurityEvent::new(services.clock.now(), kind, outcome)
            .from_peer(Some(self.ip.clone()), self.user_agent.clone())
    }
}

/// Who asks for a change: the person themself (from a browser), an operator through the
/// admin API (its client id), or the command line. Named in the security event.
#[derive(Debug, Clone)]
pub enum Actor {
    Person(Peer),
    AdminClient(crate::domain::ClientId),
    CommandLine,
    /// A client registering itself or managing its own registration (RFC 7591/7592).
    Registrant(Peer),
}

impl Actor {
    /// A security event of this kind, naming who acted.
    pub(crate) fn action(&self, services: &Services, kind: EventKind) -> SecurityEvent {
        match self {
            Self::Person(peer) | Self::Registrant(peer) => peer.event(services, kind, Outcome::Success),
            Self::AdminClient(client_id) => SecurityEvent::new(services.clock.now(), kind, Outcome::Success)
                .client(client_id)
                .detail("admin API"),
            Self::CommandLine => {
                SecurityEvent::new(services.clock.now(), kind, Outcome::Success).detail("command line")
            }
        }
    }

    /// A security event of this kind about a person, naming who acted.
    pub(crate) fn event(&self, services: &Services, kind: EventKind, user_id: &str) -> SecurityEvent {
        self.action(services, kind).user(user_id)
    }

    /// Who acted, in words, for an event's detail.
    pub(crate) fn describe(&self) -> &str {
        match self {
            Self::Person(_) => "the person",
            Self::AdminClient(_) => "admin API",
            Self::CommandLine => "command line",
            Self::Registrant(_) => "the client itself (dynamic registration)",
        }
    }
}

/// Everything the flows work with. One per process, shared behind an `Arc`.
pub struct Services {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub keys: Arc<KeyManager>,
    pub clock: Arc<dyn Clock>,
    pub passwords: PasswordHasher,
    /// Seals TOTP secrets (signing keys are sealed by the key manager).
    pub kek: Arc<Kek>,
    pub revocations: Arc<RevocationCache>,
    /// Every registered client, for client authentication without a store read.
    pub client_cache: Arc<client_cache::ClientCache>,
    /// Access tokens already verified, by hash (introspection, userinfo, the admin API).
    pub access_tokens: Arc<AccessTokenCache>,
    pub usernames: Arc<UsernameCache>,
    pub events: EventLog,
    pub mailer: Mailer,
    pub metrics: Arc<Metrics>,
    /// Every outbound fetch of a URL an outsider names (metadata documents, `jwks_uri`).
    pub fetcher: crate::fetch::Fetcher,
    /// Client metadata documents fetched, by URL (the client id).
    pub client_documents: Arc<crate::fetch::DocumentCache>,
    /// Clients' `jwks_uri` documents fetched, by URL.
    pub client_jwks: Arc<crate::fetch::DocumentCache>,
    /// The attestation roots (and AAGUIDs) a new passkey must be attested under; None:
    /// attestation none, any authenticator (`passkey_attestation_ca_file`).
    pub passkey_attestation: Option<webauthn_rs::prelude::AttestationCaList>,
}

/// Why the services could not start; each message names the setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr} (setting `listen`, KEYHAVEN_LISTEN): {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("signing keys: {0}")]
    Keys(String),
    #[error("password hasher: {0}")]
    Passwords(String),
}

impl Services {
    /// Opens the store (migrating it), the keys (running one maintenance pass, so keys exist),
    /// the password hasher, the event log and the mailer, and reads the revocation log and then
    /// every client once.
    pub async fn open(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let store = open_store(&settings).await?;
        let (keys, kek) = open_keys(&settings, store.clone(), clock.clone()).await?;
        let passwords = PasswordHasher::new(settings.password_hash_concurrency)
            .map_err(|e| StartupError::Passwords(e.to_string()))?;
        let mailer = Mailer::start(&settings).map_err(|e| ConfigError::invalid("smtp_url", e))?;
        let fetcher = open_fetcher(&settings)?;
        let passkey_attestation = passkeys::read_attestation_roots(&settings)?;
        let cache_policy = crate::fetch::CachePolicy {
            floor: settings.metadata_cache_min,
            ceiling: settings.metadata_cache_max,
            ..Default::default()
        };
        let services = Self {
            client_documents: Arc::new(crate::fetch::DocumentCache::new(
                fetcher.clone(),
                cache_policy.clone(),
                &["application/json"],
            )),
            client_jwks: Arc::new(crate::fetch::DocumentCache::new(
                fetcher.clone(),
                cache_policy,
                &["application/json", "application/jwk-set+json"],
            )),
            fetcher,
            passkey_attestation,
            settings: Arc::new(settings),
            events: EventLog::start(store.clone(), clock.clone()),
            store,
            keys,
            clock,
            passwords,
            kek,
            revocations: Arc::new(RevocationCache::default()),
            client_cache: Arc::new(client_cache::ClientCache::default()),
            access_tokens: Arc::new(AccessTokenCache::default()),
            usernames: Arc::new(UsernameCache::default()),
            mailer,
            metrics: Arc::new(Metrics::new()),
        };
        services
            .revocations
            .refresh(&*services.store, services.clock.now())
            .await
            .map_err(|e| ConfigError::invalid("database_url", format!("cannot read the revocation log: {e}")))?;
        services
            .client_cache
            .load_all(&*services.store, services.clock.now())
            .await
            .map_err(|e| ConfigError::invalid("database_url", format!("cannot read the clients: {e}")))?;
        Ok(services)
    }

    /// Writes out what is still queued (security events, mail): a command-line process calls
    /// it before it exits.
    pub async fn finish(&self) {
        self.events.flush().await;
        self.mailer.flush(std::time::Duration::from_secs(10)).await;
    }

    /// What the protocol layer works with, at this instant.
    pub fn protocol(&self) -> crate::protocol::Context<'_> {
        crate::protocol::Context {
            store: &*self.store,
            keys: &self.keys,
            settings: &self.settings,
            revocations: &self.revocations,
            access_tokens: &self.access_tokens,
            events: &self.events,
            metrics: &self.metrics,
            now: self.clock.now(),
        }
    }
}

/// The outbound fetcher the settings describe: the development setting and the extra CAs.
pub fn open_fetcher(settings: &Settings) -> Result<crate::fetch::Fetcher, ConfigError> {
    let extra_roots = match &settings.outbound_ca_file {
        Some(path) => crate::fetch::FetchPolicy::read_roots(path)
            .map_err(|message| ConfigError::invalid("outbound_ca_file", message))?,
        None => Vec::new(),
    };
    crate::fetch::Fetcher::new(crate::fetch::FetchPolicy {
        allow_loopback: settings.dev_allow_loopback_fetch,
        extra_roots,
        ..Default::default()
    })
    .map_err(|e| ConfigError::invalid("outbound_ca_file", e.to_string()))
}

/// Applies pending migrations to the store the settings name (`keyhaven migrate`).
pub async fn migrate(settings: &Settings) -> Result<(), ConfigError> {
    open_store(settings).await.map(|_| ())
}

/// Opens the store named by the settings (and migrates it).
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, ConfigError> {
    let timeouts = storage::Timeouts {
        acquire: settings.database_acquire_timeout,
        statement: settings.database_statement_timeout,
    };
    storage::connect_with(&settings.database_url, timeouts)
        .await
        .map_err(|e| ConfigError::invalid("database_url", e.to_string()))
}

/// The KEK and a key manager that has run one maintenance pass (so keys exist).
pub async fn open_keys(
    settings: &Settings,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> Result<(Arc<KeyManager>, Arc<Kek>), StartupError> {
    let kek = Arc::new(settings.load_kek()?);
    let policy = KeyPolicy {
        rotation_interval: settings.key_rotation_interval,
        lead: settings.key_rotation_lead,
        retired_for: settings.longest_signed_lifetime(),
        default_access_token_alg: settings.access_token_alg,
    };
    let keys = Arc::new(KeyManager::new(store, kek.clone(), clock, policy));
    keys.maintain().await.map_err(|e| match e {
        KeyError::Kek { .. } => StartupError::Config(ConfigError::invalid(
            if settings.kek.is_some() { "kek" } else { "kek_file" },
            format!("{e} (is this the key-encryption key the keys were made with?)"),
        )),
        other => StartupError::Keys(format!("{:#}", anyhow::Error::from(other))),
    })?;
    Ok((keys, kek))
}
