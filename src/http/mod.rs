//! axum glue: routes, endpoint handlers, middleware.

pub mod admin;
pub mod deadline;
pub mod device;
pub mod error;
pub mod extract;
pub mod form;
pub mod metadata;
pub mod peer;
pub mod rate_limit;
pub mod registration;
pub mod routes;
pub mod server;
pub mod token;
pub mod userinfo;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};

use crate::config::RegistrationPolicy;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use self::rate_limit::{Bucket, RateLimits};
use crate::config::Settings;
use crate::protocol::discovery::Endpoints;

/// What the JSON endpoints work with: the services, nothing of the pages.
pub type ApiState = std::sync::Arc<crate::service::Services>;

/// The JSON endpoints, the metadata and the admin API, behind their rate limits and with their
/// headers. Discovery advertises `endpoints`.
pub fn router<S>(services: &ApiState, limits: &Arc<RateLimits>, endpoints: &Endpoints) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    ApiState: FromRef<S>,
{
    let oauth = Router::new()
        .route(routes::TOKEN, post(token::token))
        .route(routes::DEVICE_AUTHORIZATION, post(device::device_authorization))
        .route(routes::REVOKE, post(token::revoke))
        .route(routes::USERINFO, get(userinfo::userinfo).post(userinfo::userinfo));
    let introspect = Router::new().route(routes::INTROSPECT, post(token::introspect));
    let oauth = limits
        .guard(Bucket::Api, oauth)
        .merge(limits.guard(Bucket::Introspect, introspect))
        .layer(set_header(header::CACHE_CONTROL, "no-store"))
        .layer(set_header(header::PRAGMA, "no-cache"));
    let registration = registration_router(services, limits);
    let registration_endpoint =
        (services.settings.client_registration != RegistrationPolicy::Off).then_some(routes::REGISTER);
    let discovery = metadata::discovery(&services.settings, endpoints, registration_endpoint);
    Router::new()
        .merge(oauth)
        .merge(registration)
        .route(routes::OIDC_DISCOVERY, discovery.clone())
        .route(routes::OAUTH_METADATA, discovery)
        .route(routes::JWKS, metadata::jwks(&services.settings))
        .route(routes::HEALTHZ, get(metadata::healthz))
        .route(routes::READYZ, get(metadata::readyz))
        .merge(metrics_router(&services.settings))
        .merge(admin::router().layer(set_header(header::CACHE_CONTROL, "no-store")))
}

/// `/register` (behind `rate_limit_registration`) and `/register/{client_id}` (behind the API
/// limit) unless `client_registration` is `off`: then they are unknown paths (404).
fn registration_router<S>(services: &ApiState, limits: &Arc<RateLimits>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    ApiState: FromRef<S>,
{
    if services.settings.client_registration == RegistrationPolicy::Off {
        return Router::new();
    }
    let register = Router::new().route(routes::REGISTER, post(registration::register));
    let manage = Router::new().route(
        routes::REGISTER_CLIENT,
        get(registration::read)
            .put(registration::update)
            .delete(registration::delete),
    );
    limits
        .guard(Bucket::Registration, register)
        .merge(limits.guard(Bucket::Api, manage))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::protocol::registration::MAX_BODY_BYTES,
        ))
        .layer(set_header(header::CACHE_CONTROL, "no-store"))
        .layer(set_header(header::PRAGMA, "no-cache"))
}

/// `/metrics` on the main listener only behind `metrics_bearer_token`, and never when
/// `metrics_listen` gives it a listener of its own: without either setting it is not served
/// (a 404), so nothing about the server's traffic is public by default.
fn metrics_router<S>(settings: &Settings) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    ApiState: FromRef<S>,
{
    if settings.metrics_listen.is_none() && settings.metrics_bearer_token.is_some() {
        Router::new().route(routes::METRICS, get(metadata::metrics))
    } else {
        Router::new()
    }
}

/// `/metrics` alone, for the listener of its own that `metrics_listen` gives it.
pub fn metrics_listener_router(services: ApiState) -> Router {
    Router::new()
        .route(routes::METRICS, get(metadata::metrics))
        .with_state(services)
}

/// A layer that sets `name` on every response, replacing what the handler set.
pub fn set_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

/// How the layers in front of every face (deadlines, rate limits) answer a request for a
/// hosted page: as a page in words, not JSON. The pages' face knows which paths are pages and
/// how a page is rendered; `app` hands both over, so `http` needs nothing of `web`.
#[derive(Clone)]
pub struct PageAnswers {
    prefixes: &'static [&'static str],
    render: Arc<dyn Fn(StatusCode) -> Response + Send + Sync>,
}

impl PageAnswers {
    /// Every path at or under one of `prefixes` is a page; `render` makes the page for a
    /// status (408, 429, 503) with every header a page has.
    pub fn new(
        prefixes: &'static [&'static str],
        render: impl Fn(StatusCode) -> Response + Send + Sync + 'static,
    ) -> Self {
        Self {
            prefixes,
            render: Arc::new(render),
        }
    }

    /// Whether `path` is a hosted page (answered in HTML); everything else answers JSON.
    pub fn is_page(&self, path: &str) -> bool {
        self.prefixes.iter().any(|prefix| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    /// The page for `status`.
    pub fn page(&self, status: StatusCode) -> Response {
        (self.render)(status)
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    #[test]
    fn a_page_is_a_prefix_or_a_path_under_it() {
        let answers = PageAnswers::new(&["/login", "/account"], |status| status.into_response());
        for page in ["/login", "/login/otp", "/account", "/account/security/totp/start"] {
            assert!(answers.is_page(page), "{page}");
        }
        for api in ["/loginx", "/accounts", "/token", "/", ""] {
            assert!(!answers.is_page(api), "{api}");
        }
        assert_eq!(
            answers.page(StatusCode::TOO_MANY_REQUESTS).status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
