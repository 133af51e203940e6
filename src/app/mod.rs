//! The application: the services, the pages and the limits behind one `Arc`, the router that
//! puts every face (hosted pages, JSON endpoints, admin API) on one listener, and the layers
//! that run for all of them (deadlines, rate limits, request metrics, headers).

pub mod deadline;
pub mod rate_limit;

use std::ops::Deref;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{header, HeaderName, HeaderValue, Request};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use self::rate_limit::{rate_limit, Limiter, RateLimits};
use crate::config::{ConfigError, Settings};
use crate::domain::Clock;
use crate::http::server::{self, ConnectionLimits};
use crate::http::{error, metadata, routes, token, userinfo};
use crate::protocol::discovery::Endpoints;
use crate::service::Services;
pub use crate::service::StartupError;
use crate::web::error::render_error_pages;
use crate::web::pages::{self, Pages};
use crate::web::{account, authorize, consent, login, logout, otp, paths, reset, security, WebState};

/// Everything the server holds, behind one `Arc`; cheap to clone. Handlers take the part they
/// need (`State<WebState>` for pages, `State<ApiState>` for JSON endpoints).
#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    pub services: Arc<Services>,
    pub web: WebState,
    pub limits: RateLimits,
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl Deref for App {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.services
    }
}

impl FromRef<AppState> for Arc<Services> {
    fn from_ref(state: &AppState) -> Self {
        state.services.clone()
    }
}

impl FromRef<AppState> for WebState {
    fn from_ref(state: &AppState) -> Self {
        state.web.clone()
    }
}

/// The data folder (the SQLite database by default, the mail outbox) is owner only: made so
/// when the outbox needs it, and refused when group or others may read or write it.
fn check_data_dir(settings: &Settings) -> Result<(), ConfigError> {
    let dir = &settings.data_dir;
    if settings.smtp_url.is_none() {
        crate::private_files::create_dir(dir)
            .map_err(|e| ConfigError::invalid("data_dir", format!("cannot create {}: {e}", dir.display())))?;
    }
    crate::private_files::check(dir).map_err(|line| ConfigError::invalid("data_dir", line))
}

/// Connections at once on `metrics_listen`: a scraper or two.
const METRICS_MAX_CONNECTIONS: usize = 32;

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(settings.listen)
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
        check_data_dir(&settings)?;
        let pages =
            Pages::load(settings.templates_dir.as_deref()).map_err(|e| ConfigError::invalid("templates_dir", e))?;
        let limits = RateLimits::new(&settings);
        let services = Arc::new(Services::open(settings, clock).await?);
        let state = AppState(Arc::new(App {
            web: WebState::new(services.clone(), pages),
            services,
            limits,
        }));
        Ok(Self {
            listener,
            router: router(state.clone()),
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM, with the key schedule running beside it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let settings = &self.state.settings;
        let connection_limits = ConnectionLimits {
            header_timeout: settings.http_header_timeout,
            idle_timeout: settings.http_idle_timeout,
            max_connections: settings.max_connections,
            // Requests in flight cannot last longer than the request timeout.
            drain_timeout: settings.request_timeout + std::time::Duration::from_secs(1),
        };
        server::raise_open_files_limit(
            settings.max_connections + settings.metrics_listen.map_or(0, |_| METRICS_MAX_CONNECTIONS),
        );
        let maintenance = tokio::spawn(run_key_maintenance(self.state.services.clone()));
        let revocations = tokio::spawn(run_revocation_refresh(self.state.services.clone()));
        let janitor = tokio::spawn(crate::janitor::run(self.state.services.clone()));
        let metrics_server = match self.state.settings.metrics_listen {
            Some(addr) => {
                let listener = TcpListener::bind(addr).await?;
                let app = Router::new()
                    .route(routes::METRICS, get(metadata::metrics))
                    .with_state(self.state.services.clone());
                let limits = ConnectionLimits {
                    max_connections: METRICS_MAX_CONNECTIONS,
                    ..connection_limits
                };
                Some(tokio::spawn(server::serve(
                    listener,
                    app,
                    limits,
                    std::future::pending(),
                )))
            }
            None => None,
        };
        let limits_state = self.state.clone();
        let forget = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                let limits = &limits_state.limits;
                limits.forget_idle();
                limits.flush_refusals(limits_state.clock.now(), &limits_state.events);
            }
        });
        let addr = self.listener.local_addr()?;
        tracing::info!(%addr, issuer = %self.state.settings.issuer, "keyhaven listening");
        let result = server::serve(self.listener, self.router, connection_limits, shutdown_signal()).await;
        maintenance.abort();
        revocations.abort();
        janitor.abort();
        if let Some(server) = metrics_server {
            server.abort();
        }
        forget.abort();
        self.state.events.flush().await;
        result
    }
}

async fn run_key_maintenance(state: Arc<Services>) {
    let mut tick = tokio::time::interval(state.settings.key_refresh_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = state.keys.maintain().await {
            tracing::error!(error = %e, "key maintenance failed; serving with the keys loaded before");
        }
    }
}

async fn run_revocation_refresh(state: Arc<Services>) {
    let mut tick = tokio::time::interval(state.settings.revocation_refresh_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let started = std::time::Instant::now();
        let refreshed = state.revocations.refresh(&*state.store, state.clock.now()).await;
        state.metrics.store_query("revocation_log", started.elapsed());
        if let Err(e) = refreshed {
            tracing::error!(error = %e, "revocation log refresh failed; serving with the set read before");
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

fn header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

/// Content-Security-Policy of the hosted pages: no script at all, styles from our own sheet,
/// never framed. No `form-action`: browsers apply it to the redirect that follows a form
/// post, which goes to the client.
pub(crate) const PAGE_CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/// `/metrics` on the main listener only behind `metrics_bearer_token`, and never when
/// `metrics_listen` gives it a listener of its own: without either setting it is not served
/// (a 404), so nothing about the server's traffic is public by default.
fn metrics_router(state: &AppState) -> Router<AppState> {
    let settings = &state.settings;
    if settings.metrics_listen.is_none() && settings.metrics_bearer_token.is_some() {
        Router::new().route(routes::METRICS, get(metadata::metrics))
    } else {
        Router::new()
    }
}

/// `Strict-Transport-Security` for an https issuer: two years, subdomains included.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Counts every request by route template, method and status, with its latency.
async fn count_request(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "(no route)".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .http_request(&route, &method, response.status().as_u16(), started.elapsed());
    response
}

/// The endpoints discovery advertises: the faces' own paths.
fn endpoints() -> Endpoints {
    Endpoints {
        authorization: paths::AUTHORIZE,
        token: routes::TOKEN,
        userinfo: routes::USERINFO,
        jwks: routes::JWKS,
        introspection: routes::INTROSPECT,
        revocation: routes::REVOKE,
        end_session: paths::LOGOUT,
    }
}

pub fn router(state: AppState) -> Router {
    let https = state.settings.issuer.starts_with("https://");
    let discovery = metadata::discovery(&state.settings.issuer, &endpoints());
    let limited =
        |limiter: &Arc<Limiter>| axum::middleware::from_fn_with_state((state.clone(), limiter.clone()), rate_limit);
    let guarded_pages = Router::new()
        .route(paths::LOGIN, get(login::show).post(login::submit))
        .route(paths::LOGIN_OTP, get(otp::show).post(otp::submit))
        .route(paths::RESET, get(reset::show_request).post(reset::submit_request))
        .route(paths::RESET_LINK, get(reset::show_link).post(reset::submit_link))
        .layer(limited(&state.limits.pages));
    let pages = Router::new()
        .merge(guarded_pages)
        .route(paths::ACCOUNT_SECURITY, get(security::show))
        .route(paths::TOTP_START, post(security::start))
        .route(paths::TOTP_CONFIRM, post(security::confirm))
        .route(paths::TOTP_DISABLE, post(security::disable))
        .route(paths::RECOVERY_CODES, post(security::regenerate_recovery_codes))
        .route(paths::ACCOUNT, get(account::profile))
        .route(paths::ACCOUNT_PROFILE, post(account::update_profile))
        .route(paths::ACCOUNT_EMAIL, post(account::change_email))
        .route(paths::ACCOUNT_EMAIL_CONFIRM, get(account::confirm_email))
        .route(
            paths::ACCOUNT_PASSWORD,
            get(account::password_page).post(account::change_password),
        )
        .route(paths::ACCOUNT_DEVICES, get(account::devices))
        .route(paths::ACCOUNT_DEVICE_REVOKE, post(account::revoke_device))
        .route(
            paths::ACCOUNT_DEVICES_REVOKE_OTHERS,
            post(account::revoke_other_devices),
        )
        .route(paths::ACCOUNT_APPS, get(account::apps))
        .route(paths::ACCOUNT_APP_REMOVE, post(account::remove_app))
        .route(paths::ACCOUNT_ACTIVITY, get(account::activity))
        .merge(
            Router::new()
                .route(
                    paths::AUTHORIZE,
                    get(authorize::authorize_get).post(authorize::authorize_post),
                )
                .route(paths::AUTHORIZE_RESUME, get(authorize::resume))
                .layer(limited(&state.limits.authorize)),
        )
        .route(paths::CONSENT, get(consent::show).post(consent::submit))
        .route(paths::LOGOUT, get(logout::logout_get).post(logout::logout_post))
        .layer(axum::middleware::from_fn_with_state(
            state.web.clone(),
            render_error_pages,
        ))
        .layer(header(header::CONTENT_SECURITY_POLICY, PAGE_CSP))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::CACHE_CONTROL, "no-store"));
    let api = Router::new()
        .route(routes::TOKEN, post(token::token))
        .route(routes::REVOKE, post(token::revoke))
        .route(routes::USERINFO, get(userinfo::userinfo).post(userinfo::userinfo))
        .layer(limited(&state.limits.api))
        .route(
            routes::INTROSPECT,
            post(token::introspect).layer(limited(&state.limits.introspect)),
        )
        .layer(header(header::CACHE_CONTROL, "no-store"))
        .layer(header(header::PRAGMA, "no-cache"));
    let app = Router::new()
        .merge(pages)
        .merge(api)
        .route(routes::OIDC_DISCOVERY, discovery.clone())
        .route(routes::OAUTH_METADATA, discovery)
        .route(routes::JWKS, get(metadata::jwks))
        .route(paths::STYLESHEET, get(pages::stylesheet))
        .route(routes::HEALTHZ, get(metadata::healthz))
        .merge(metrics_router(&state))
        .merge(crate::http::admin::router().layer(header(header::CACHE_CONTROL, "no-store")))
        .route(routes::READYZ, get(metadata::readyz))
        .fallback(error::not_found)
        // Every body is bounded (forms, OAuth requests, admin JSON): what an endpoint may read
        // is the same cap its parameters are parsed under.
        .layer(DefaultBodyLimit::max(crate::protocol::params::MAX_ENCODED_LEN))
        .layer(axum::middleware::from_fn_with_state(state.clone(), deadline::deadlines))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let request_id = request
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or_default();
                    // The route template only (`/reset/{token}`): query strings and some
                    // path segments carry codes and tokens.
                    let route = request
                        .extensions()
                        .get::<axum::extract::MatchedPath>()
                        .map_or("(no route)", |m| m.as_str());
                    tracing::info_span!("request", request_id, method = %request.method(), route = %route)
                })
                .on_request(())
                .on_response(
                    tower_http::trace::DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Millis),
                ),
        )
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    // On every response, errors and 404s included; an http issuer (loopback development)
    // must not pin browsers to https.
    if https {
        app.layer(header(header::STRICT_TRANSPORT_SECURITY, HSTS))
    } else {
        app
    }
}
