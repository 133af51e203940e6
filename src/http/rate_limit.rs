//! Per-IP token buckets (`governor`) in front of the guessable and costly endpoints (an IPv6
//! sender counted by its /64: `service::peer::limit_key`). Local to
//! each instance by design: the per-account counters in the store are what hold across
//! instances. Over the limit: 429 with `Retry-After`, as JSON for API endpoints and as a page
//! for pages.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;

use super::peer::client_ip;
use super::PageAnswers;
use crate::config::RateLimit;
use crate::domain::event::{kind, Outcome, SecurityEvent};
use crate::service::Services;

/// The limits, one bucket per address each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Sign-in, second factor, password reset (setting `rate_limit_pages`).
    Pages,
    /// Token, revocation, userinfo (`rate_limit_api`).
    Api,
    /// Introspection (`rate_limit_introspect`).
    Introspect,
    /// The authorization endpoint (`rate_limit_authorize`).
    Authorize,
    /// Dynamic client registration (`rate_limit_registration`).
    Registration,
}

impl Bucket {
    /// Whether a refusal is a page in words (else JSON).
    fn answers_with_a_page(self) -> bool {
        matches!(self, Self::Pages | Self::Authorize)
    }
}

struct Limiter {
    buckets: DefaultKeyedRateLimiter<IpAddr>,
}

impl Limiter {
    fn new(limit: RateLimit) -> Self {
        let burst = NonZeroU32::new(limit.count).unwrap_or(NonZeroU32::MIN);
        let period = limit.per / limit.count.max(1);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        Self {
            buckets: RateLimiter::keyed(quota),
        }
    }

    /// Forgets addresses whose buckets are full again, so the map does not grow without end.
    fn forget_idle(&self) {
        self.buckets.retain_recent();
    }
}

/// The limiters, built once from the settings, the tally of refusals, and what a refusal
/// records and answers with.
pub struct RateLimits {
    services: Arc<Services>,
    page_answers: PageAnswers,
    pages: Limiter,
    api: Limiter,
    introspect: Limiter,
    authorize: Limiter,
    registration: Limiter,
    refusals: RefusalTally,
}

impl RateLimits {
    pub fn new(services: Arc<Services>, page_answers: PageAnswers) -> Self {
        let settings = &services.settings;
        Self {
            pages: Limiter::new(settings.rate_limit_pages),
            api: Limiter::new(settings.rate_limit_api),
            introspect: Limiter::new(settings.rate_limit_introspect),
            authorize: Limiter::new(settings.rate_limit_authorize),
            registration: Limiter::new(settings.rate_limit_registration),
            refusals: RefusalTally::default(),
            services,
            page_answers,
        }
    }

    fn limiter(&self, bucket: Bucket) -> &Limiter {
        match bucket {
            Bucket::Pages => &self.pages,
            Bucket::Api => &self.api,
            Bucket::Introspect => &self.introspect,
            Bucket::Authorize => &self.authorize,
            Bucket::Registration => &self.registration,
        }
    }

    /// `routes` behind `bucket`'s limit.
    pub fn guard<S>(self: &Arc<Self>, bucket: Bucket, routes: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        routes.layer(axum::middleware::from_fn_with_state((self.clone(), bucket), rate_limit))
    }

    pub fn forget_idle(&self) {
        self.pages.forget_idle();
        self.api.forget_idle();
        self.introspect.forget_idle();
        self.authorize.forget_idle();
        self.registration.forget_idle();
    }

    /// Ends the current tally period: one summary event per address and route that was
    /// refused more than once in it (the first refusal was recorded when it happened).
    pub fn flush_refusals(&self, now: crate::domain::UnixTime, events: &crate::events::EventLog) {
        for ((ip, route), count) in self.refusals.take() {
            if count > 1 {
                events.record(
                    SecurityEvent::new(now, kind::RATE_LIMITED, Outcome::Failure)
                        .from_peer(Some(ip.to_string()), None)
                        .detail(format!("{route}: {} more refused", count - 1)),
                );
            }
        }
    }
}

/// Refusals per (address, route) in the current period. Unauthenticated traffic must not
/// decide how many rows we write: the first refusal of an address and route in a period is an
/// event, the rest are counted and summed up in one event when the period ends, and the map is
/// bounded (beyond it, refusals are only counted in the metrics).
#[derive(Default)]
struct RefusalTally(std::sync::Mutex<std::collections::HashMap<(IpAddr, String), u64>>);

/// The most (address, route) pairs tallied in one period.
const MAX_TALLIED: usize = 10_000;

impl RefusalTally {
    /// Counts a refusal; true when it is the first of its address and route in this period.
    fn count(&self, ip: IpAddr, route: &str) -> bool {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = map.get_mut(&(ip, route.to_owned())) {
            *count += 1;
            return false;
        }
        if map.len() >= MAX_TALLIED {
            return false;
        }
        map.insert((ip, route.to_owned()), 1);
        true
    }

    fn take(&self) -> Vec<((IpAddr, String), u64)> {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *map).into_iter().collect()
    }
}

/// The middleware, put on routes by [`RateLimits::guard`].
async fn rate_limit(
    State((limits, bucket)): State<(Arc<RateLimits>, Bucket)>,
    request: Request,
    next: Next,
) -> Response {
    let services = &limits.services;
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let ip = client_ip(services.settings.trust_forwarded_for, peer, request.headers());
    let Err(not_until) = limits
        .limiter(bucket)
        .buckets
        .check_key(&crate::service::peer::limit_key(ip))
    else {
        return next.run(request).await;
    };
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    tracing::info!(%ip, "rate limited");
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("(no route)", |m| m.as_str());
    services.metrics.rate_limited(route);
    if limits.refusals.count(ip, route) {
        services.events.record(
            SecurityEvent::new(services.clock.now(), kind::RATE_LIMITED, Outcome::Failure)
                .from_peer(Some(ip.to_string()), None)
                .detail(route),
        );
    }
    let mut response = if bucket.answers_with_a_page() {
        limits.page_answers.page(StatusCode::TOO_MANY_REQUESTS)
    } else {
        (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "error": "too_many_requests", "error_description": "slow down and retry later" })),
        )
            .into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&retry_after.max(1).to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}
