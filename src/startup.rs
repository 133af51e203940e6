//! Wiring: settings -> store -> keys -> router -> listener.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::config::{ConfigError, Settings};
use crate::crypto::keys::{KeyError, KeyManager, KeyPolicy};
use crate::crypto::password::PasswordHasher;
use crate::domain::Clock;
use crate::http::{error, metadata, routes};
use crate::storage::{self, Store};

/// Everything a handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub keys: Arc<KeyManager>,
    pub clock: Arc<dyn Clock>,
    pub passwords: PasswordHasher,
}

/// Why the server could not start; each message names the setting to fix.
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

/// Opens the store named by the settings (and migrates it).
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, ConfigError> {
    storage::connect(&settings.database_url)
        .await
        .map_err(|e| ConfigError::invalid("database_url", e.to_string()))
}

/// The store, the KEK and a key manager that has run one maintenance pass (so keys exist).
pub async fn open_keys(
    settings: &Settings,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> Result<Arc<KeyManager>, StartupError> {
    let kek = Arc::new(settings.load_kek()?);
    let policy = KeyPolicy {
        rotation_interval: settings.key_rotation_interval,
        lead: settings.key_rotation_lead,
        retired_for: settings.longest_signed_lifetime(),
    };
    let keys = Arc::new(KeyManager::new(store, kek, clock, policy));
    keys.maintain().await.map_err(|e| match e {
        KeyError::Kek { .. } => StartupError::Config(ConfigError::invalid(
            if settings.kek.is_some() {
                "kek"
            } else {
                "kek_file"
            },
            format!("{e} (is this the key-encryption key the keys were made with?)"),
        )),
        other => StartupError::Keys(other.to_string()),
    })?;
    Ok(keys)
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartupError::Listen {
                    addr: settings.listen,
                    source,
                })?;
        Self::build_on(settings, clock, listener).await
    }

    /// Builds on a listener bound by the caller (tests bind port 0 first, to know the issuer).
    pub async fn build_on(
        settings: Settings,
        clock: Arc<dyn Clock>,
        listener: TcpListener,
    ) -> Result<Self, StartupError> {
        let store = open_store(&settings).await?;
        let keys = open_keys(&settings, store.clone(), clock.clone()).await?;
        let passwords = PasswordHasher::new(settings.password_hash_concurrency)
            .map_err(|e| StartupError::Passwords(e.to_string()))?;
        let state = AppState {
            settings: Arc::new(settings),
            store,
            keys,
            clock,
            passwords,
        };
        Ok(Self {
            listener,
            router: router(state.clone()),
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM, with the key schedule running beside it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let maintenance = tokio::spawn(run_key_maintenance(self.state.clone()));
        let addr = self.listener.local_addr()?;
        tracing::info!(%addr, issuer = %self.state.settings.issuer, "keyhaven listening");
        let result = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await;
        maintenance.abort();
        result
    }
}

async fn run_key_maintenance(state: AppState) {
    let mut tick = tokio::time::interval(state.settings.key_refresh_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = state.keys.maintain().await {
            tracing::error!(error = %e, "key maintenance failed; serving with the keys loaded before");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(routes::OIDC_DISCOVERY, get(metadata::discovery))
        .route(routes::OAUTH_METADATA, get(metadata::discovery))
        .route(routes::JWKS, get(metadata::jwks))
        .route(routes::HEALTHZ, get(metadata::healthz))
        .route(routes::READYZ, get(metadata::readyz))
        .fallback(error::not_found)
        .with_state(state)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let request_id = request
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or_default();
                    // The path only: query strings carry codes and tokens.
                    tracing::info_span!("request", request_id, method = %request.method(), path = %request.uri().path())
                })
                .on_request(())
                .on_response(
                    tower_http::trace::DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Millis),
                ),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
