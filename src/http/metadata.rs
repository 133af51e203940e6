//! Public metadata: discovery, JWKS, health and readiness; and the operators' metrics.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Json;
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ApiState;
use crate::protocol::discovery::{self, Endpoints};

/// The discovery document's route: the document is made once, as the issuer and the endpoints
/// do not change while the server runs.
pub fn discovery<S>(issuer: &str, endpoints: &Endpoints) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let doc = Arc::new(discovery::metadata(issuer, endpoints));
    get(move || {
        let doc = doc.clone();
        async move {
            (
                [(header::CACHE_CONTROL, "public, max-age=300")],
                Json(doc.as_ref().clone()),
            )
                .into_response()
        }
    })
}

/// The JWKS, public members only. Caches may keep it for less than the rotation lead, so a
/// next key is known to every resource server before anything is signed with it.
pub async fn jwks(State(state): State<ApiState>) -> Response {
    let max_age = (state.settings.key_rotation_lead / 4).clamp(0, 3600);
    let cache = if max_age == 0 {
        "no-cache".to_owned()
    } else {
        format!("public, max-age={max_age}")
    };
    (
        [
            (header::CACHE_CONTROL, cache),
            (header::CONTENT_TYPE, "application/jwk-set+json".to_owned()),
        ],
        Json(state.keys.jwks().as_ref().clone()),
    )
        .into_response()
}

pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// Ready when the store answers within two seconds.
pub async fn readyz(State(state): State<ApiState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => Json(json!({ "status": "ready" })).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = format!("{e:#}"), "readiness check: store unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable" })),
            )
                .into_response()
        }
        Err(_) => {
            tracing::warn!("readiness check: store timed out");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable" })),
            )
                .into_response()
        }
    }
}

/// Prometheus text exposition; with `metrics_bearer_token` set, only for requests bearing it.
pub async fn metrics(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.settings.metrics_bearer_token {
        if !bears_token(&headers, expected.expose_secret()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"keyhaven-metrics\"")],
            )
                .into_response();
        }
    }
    let (entries, refreshed_at) = state.revocations.stats();
    let age = if refreshed_at == 0 {
        0
    } else {
        state.clock.now() - refreshed_at
    };
    let body = state.metrics.render(state.events.dropped(), entries, age);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Whether `Authorization: Bearer` carries `expected`, compared in constant time (over SHA-256
/// digests, so the length is not revealed either).
fn bears_token(headers: &HeaderMap, expected: &str) -> bool {
    let presented = super::extract::bearer_credential(headers).unwrap_or_default();
    let digest = |text: &str| Sha256::digest(text.as_bytes());
    !presented.is_empty() && bool::from(digest(presented).as_slice().ct_eq(digest(expected).as_slice()))
}
