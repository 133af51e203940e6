//! The application: the services, the pages and the limits behind one `Arc`, and the
//! composition of the faces: the router that puts the hosted pages (`web::router`), the JSON
//! endpoints and the admin API (`http::router`) on one listener, and the layers that run for
//! all of them (deadlines and rate limits from `http`, told the pages' paths and their answers
//! here; request metrics, headers).

use std::ops::Deref;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{header, Request};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::{ConfigError, Settings};
use crate::domain::Clock;
use crate::http::deadline::{deadlines, Deadlines};
use crate::http::rate_limit::{Bucket, RateLimits};
use crate::http::server::{self, ConnectionLimits};
use crate::http::{error, routes, set_header, PageAnswers};
use crate::protocol::discovery::Endpoints;
use crate::service::Services;
pub use crate::service::StartupError;
use crate::web::brand::Brand;
use crate::web::pages::Pages;
use crate::web::{paths, Guarded, WebState};

/// Everything the server holds, behind one `Arc`; cheap to clone. Handlers take the part they
/// need (`State<WebState>` for pages, `State<ApiState>` for JSON endpoints).
#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    pub services: Arc<Services>,
    pub web: WebState,
    pub limits: Arc<RateLimits>,
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
    /// `/metrics` on a listener of its own (`metrics_listen`), bound with the main one.
    metrics_listener: Option<TcpListener>,
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
        let metrics_listener = match settings.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|e| ConfigError::invalid("metrics_listen", format!("cannot listen on {addr}: {e}")))?,
            ),
            None => None,
        };
        let brand = Brand::load(&settings)?;
        let pages = Pages::load(settings.templates_dir.as_deref(), brand, settings.default_locale)
            .map_err(|e| ConfigError::invalid("templates_dir", e))?;
        let services = Arc::new(Services::open(settings, clock).await?);
        let web = WebState::new(services.clone(), pages);
        let limits = Arc::new(RateLimits::new(services.clone(), page_answers(&web)));
        let state = AppState(Arc::new(App { services, web, limits }));
        Ok(Self {
            listener,
            metrics_listener,
            router: router(state.clone()),
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Where `/metrics` is served when `metrics_listen` gives it a listener of its own (with
    /// port 0 there, the port the system chose).
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
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
        let metrics_server = match self.metrics_listener {
            Some(listener) => {
                let addr = listener.local_addr()?;
                tracing::info!(%addr, "metrics listening");
                let app = crate::http::metrics_listener_router(self.state.services.clone());
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
        let refreshed = crate::service::client_cache::refresh(&state).await;
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
        device_authorization: routes::DEVICE_AUTHORIZATION,
    }
}

/// How the layers in front of every face answer the hosted pages: with the pages' own.
fn page_answers(web: &WebState) -> PageAnswers {
    let web = web.clone();
    PageAnswers::new(paths::PAGE_PREFIXES, move |status| {
        crate::web::error::answer_page(&web.pages, status)
    })
}

/// No route: a page in words for a browser (its `Accept` names HTML), else the JSON
/// `{"error":"not_found"}` of the API.
async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let browser = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"));
    if browser {
        crate::web::error::not_found_page(&state.web.pages, &headers)
    } else {
        error::not_found().await
    }
}

/// Every face on one router: the hosted pages (`web`), the JSON endpoints, metadata and admin
/// API (`http`), and the layers that run for all of them.
pub fn router(state: AppState) -> Router {
    let https = state.settings.issuer.starts_with("https://");
    let limits = &state.limits;
    let pages = crate::web::router(&state.web, |group, routes| {
        let bucket = match group {
            Guarded::SignIn => Bucket::Pages,
            Guarded::Authorize => Bucket::Authorize,
        };
        limits.guard(bucket, routes)
    });
    let api = crate::http::router(&state.services, limits, &endpoints());
    let deadlines_state = Deadlines {
        body: state.settings.http_body_timeout,
        answer: state.settings.request_timeout,
        pages: page_answers(&state.web),
    };
    let app = Router::new()
        .merge(pages)
        .merge(api)
        .fallback(not_found)
        // Every body is bounded (forms, OAuth requests, admin JSON): what an endpoint may read
        // is the same cap its parameters are parsed under.
        .layer(DefaultBodyLimit::max(crate::protocol::params::MAX_ENCODED_LEN))
        .layer(axum::middleware::from_fn_with_state(deadlines_state, deadlines))
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
        .layer(set_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    // On every response, errors and 404s included; an http issuer (loopback development)
    // must not pin browsers to https.
    if https {
        app.layer(set_header(header::STRICT_TRANSPORT_SECURITY, HSTS))
    } else {
        app
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use crate::http::PageAnswers;
    use crate::web::paths::PAGE_PREFIXES;

    #[test]
    fn pages_are_told_from_the_api_by_path() {
        let answers = PageAnswers::new(PAGE_PREFIXES, |status| status.into_response());
        for page in [
            "/login",
            "/login/otp",
            "/reset",
            "/reset/khp_x",
            "/account",
            "/account/security/totp/start",
            "/authorize",
            "/authorize/resume",
            "/consent",
            "/logout",
        ] {
            assert!(answers.is_page(page), "{page}");
        }
        for api in [
            "/token",
            "/userinfo",
            "/admin/v1/users",
            "/loginx",
            "/jwks",
            "/healthz",
            "/",
        ] {
            assert!(!answers.is_page(api), "{api}");
        }
    }
}
