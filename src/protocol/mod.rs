//! OAuth 2.0 / OIDC rules, free of HTTP: each RFC rule lives in exactly one file here.

pub mod access_token;
pub mod access_token_cache;
pub mod authorize;
pub mod client_assertion;
pub mod client_auth;
pub mod device;
pub mod discovery;
pub mod error;
pub mod introspect;
pub mod logout;
pub mod metadata_document;
pub mod params;
pub mod passkey;
pub mod redirect_uri;
pub mod registration;
pub mod resource;
pub mod revocation;
pub mod revoke;
pub mod token;
pub mod userinfo;

use crate::config::Settings;
use crate::crypto::keys::KeyManager;
use crate::domain::event::SecurityEvent;
use crate::domain::UnixTime;
use crate::events::EventLog;
use crate::storage::Store;

/// What a protocol operation works with: the store, the keys, the settings and the time.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub store: &'a dyn Store,
    pub keys: &'a KeyManager,
    pub settings: &'a Settings,
    pub revocations: &'a revocation::RevocationCache,
    pub access_tokens: &'a access_token_cache::AccessTokenCache,
    pub events: &'a EventLog,
    pub metrics: &'a crate::metrics::Metrics,
    pub now: UnixTime,
}

impl Context<'_> {
    pub fn record(&self, event: SecurityEvent) {
        self.events.record(event);
    }

    /// The audience that the userinfo endpoint accepts in access tokens.
    pub fn userinfo_audience(&self) -> crate::domain::Audience {
        crate::domain::Audience::new(format!("{}{}", self.settings.issuer, userinfo::PATH))
    }
}

/// An operation's failure: a protocol error for the client, or something internal (logged,
/// answered with a bare 500).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Protocol(error::ProtocolError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<error::ProtocolError> for Failure {
    fn from(e: error::ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<crate::storage::StoreError> for Failure {
    fn from(e: crate::storage::StoreError) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}

impl From<crate::crypto::keys::KeyError> for Failure {
    fn from(e: crate::crypto::keys::KeyError) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}
