//! Prometheus metrics (`prometheus-client`), one registry per server (no global recorder), in
//! the text exposition format at `/metrics`.

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NameLabels {
    name: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: HistogramFamily<RouteLabels>,
    tokens_issued: Family<NameLabels, Counter>,
    refresh_rotations: Counter,
    refresh_reuse: Counter,
    introspections: Family<NameLabels, Counter>,
    logins: Family<NameLabels, Counter>,
    lockouts: Counter,
    rate_limited: Family<RouteLabels, Counter>,
    store_seconds: HistogramFamily<NameLabels>,
    events_dropped: Gauge,
    revocation_entries: Gauge,
    revocation_age: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("keyhaven");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            http_requests.clone(),
        );
        let http_seconds: HistogramFamily<RouteLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            http_seconds.clone(),
        );
        let tokens_issued = Family::<NameLabels, Counter>::default();
        registry.register(
            "tokens_issued",
            "Token responses by grant (name)",
            tokens_issued.clone(),
        );
        let refresh_rotations = Counter::default();
        registry.register("refresh_rotations", "Refresh tokens rotated", refresh_rotations.clone());
        let refresh_reuse = Counter::default();
        registry.register(
            "refresh_reuse_detected",
            "Rotated refresh tokens presented again (family revoked)",
            refresh_reuse.clone(),
        );
        let introspections = Family::<NameLabels, Counter>::default();
        registry.register(
            "introspections",
            "Introspection answers by result (name = active | inactive)",
            introspections.clone(),
        );
        let logins = Family::<NameLabels, Counter>::default();
        registry.register(
            "logins",
            "Sign-in attempts by outcome (name = success | failure)",
            logins.clone(),
        );
        let lockouts = Counter::default();
        registry.register("lockouts", "Accounts locked after repeated failures", lockouts.clone());
        let rate_limited = Family::<RouteLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused by the per-IP limits",
            rate_limited.clone(),
        );
        let store_seconds: HistogramFamily<NameLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "store_query_duration_seconds",
            "Store round trips of background work by operation (name)",
            store_seconds.clone(),
        );
        let events_dropped = Gauge::default();
        registry.register(
            "security_events_dropped",
            "Security events dropped because the queue was full",
            events_dropped.clone(),
        );
        let revocation_entries = Gauge::default();
        registry.register(
            "revocation_cache_entries",
            "Revoked sessions, families and jtis held in memory",
            revocation_entries.clone(),
        );
        let revocation_age = Gauge::default();
        registry.register(
            "revocation_cache_age_seconds",
            "Seconds since the revocation set was last read from the store",
            revocation_age.clone(),
        );
        Self {
            registry,
            http_requests,
            http_seconds,
            tokens_issued,
            refresh_rotations,
            refresh_reuse,
            introspections,
            logins,
            lockouts,
            rate_limited,
            store_seconds,
            events_dropped,
            revocation_entries,
            revocation_age,
        }
    }

    pub fn http_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let labels = HttpLabels {
            route: route.to_owned(),
            method: method.to_owned(),
            status,
        };
        self.http_requests.get_or_create(&labels).inc();
        self.http_seconds
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn token_issued(&self, grant: &str) {
        self.tokens_issued
            .get_or_create(&NameLabels { name: grant.to_owned() })
            .inc();
        if grant == "refresh_token" {
            self.refresh_rotations.inc();
        }
    }

    pub fn refresh_reuse(&self) {
        self.refresh_reuse.inc();
    }

    pub fn introspection(&self, active: bool) {
        let name = if active { "active" } else { "inactive" };
        self.introspections
            .get_or_create(&NameLabels { name: name.into() })
            .inc();
    }

    pub fn login(&self, success: bool) {
        let name = if success { "success" } else { "failure" };
        self.logins.get_or_create(&NameLabels { name: name.into() }).inc();
    }

    pub fn lockout(&self) {
        self.lockouts.inc();
    }

    pub fn rate_limited(&self, route: &str) {
        self.rate_limited
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .inc();
    }

    pub fn store_query(&self, operation: &str, elapsed: Duration) {
        self.store_seconds
            .get_or_create(&NameLabels {
                name: operation.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The exposition text, with the gauges read now.
    pub fn render(&self, events_dropped: u64, revocation_entries: usize, revocation_age: i64) -> String {
        self.events_dropped
            .set(i64::try_from(events_dropped).unwrap_or(i64::MAX));
        self.revocation_entries
            .set(i64::try_from(revocation_entries).unwrap_or(i64::MAX));
        self.revocation_age.set(revocation_age);
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            tracing::error!("cannot encode metrics");
        }
        out
    }
}
