//! Public metadata: discovery, JWKS, health and readiness; and the operators' metrics.
//!
//! Resource servers fetch the JWKS and discovery often, so both are served from bytes made
//! once (the JWKS again when the published key set changes), with a strong `ETag` that is a
//! hash of the bytes: every instance with the same keys gives the same tag, and
//! `If-None-Match` with it is answered `304 Not Modified`.

use std::sync::{Arc, PoisonError, RwLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ApiState;
use crate::config::Settings;
use crate::protocol::discovery::{self, Endpoints};

/// A JSON document as served: its bytes, its strong entity tag and the headers that go with
/// both a 200 and a 304.
#[derive(Debug)]
struct Served {
    body: Bytes,
    etag: HeaderValue,
    cache_control: HeaderValue,
    content_type: HeaderValue,
}

impl Served {
    /// Serialises `document` once (compact, as `Json` would) and tags it with the SHA-256 of
    /// the bytes.
    fn json(document: &Value, cache_control: HeaderValue, content_type: HeaderValue) -> Self {
        let body = Bytes::from(document.to_string());
        let tag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(Sha256::digest(&body)));
        // base64url is visible ASCII, always a valid header value.
        let etag = HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
        Self {
            body,
            etag,
            cache_control,
            content_type,
        }
    }

    /// 304 without a body when `If-None-Match` names our tag (or is `*`), else 200 with the
    /// bytes; the `ETag` and `Cache-Control` are the same on both.
    fn respond(&self, request: &HeaderMap) -> Response {
        if if_none_match(request, &self.etag) {
            return (
                StatusCode::NOT_MODIFIED,
                [
                    (header::ETAG, self.etag.clone()),
                    (header::CACHE_CONTROL, self.cache_control.clone()),
                ],
            )
                .into_response();
        }
        (
            [
                (header::ETAG, self.etag.clone()),
                (header::CACHE_CONTROL, self.cache_control.clone()),
                (header::CONTENT_TYPE, self.content_type.clone()),
            ],
            self.body.clone(),
        )
            .into_response()
    }
}

/// Whether an `If-None-Match` header names `etag` or is `*` (RFC 9110 §13.1.2: the weak
/// comparison, so `W/"x"` matches `"x"`). Linear in the header's length.
fn if_none_match(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    request.get_all(header::IF_NONE_MATCH).iter().any(|value| {
        value.as_bytes().split(|b| *b == b',').any(|tag| {
            let tag = tag.trim_ascii();
            tag == b"*" || tag.strip_prefix(b"W/").unwrap_or(tag) == ours
        })
    })
}

/// The discovery document's route: the document is made once, as the issuer and the endpoints
/// do not change while the server runs. `registration` is the path of dynamic client
/// registration when it is on.
pub fn discovery<S>(settings: &Settings, endpoints: &Endpoints, registration: Option<&str>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let issuer = &settings.issuer;
    let mut document = discovery::metadata(issuer, endpoints);
    if let (Some(path), Some(fields)) = (registration, document.as_object_mut()) {
        fields.insert("registration_endpoint".into(), format!("{issuer}{path}").into());
    }
    if settings.client_id_metadata_documents.enabled() {
        if let Some(members) = document.as_object_mut() {
            members.insert("client_id_metadata_document_supported".into(), Value::Bool(true));
        }
    }
    let served = Arc::new(Served::json(
        &document,
        HeaderValue::from_static("public, max-age=300"),
        HeaderValue::from_static("application/json"),
    ));
    get(move |request: HeaderMap| {
        let served = served.clone();
        async move { served.respond(&request) }
    })
}

/// The JWKS's route, public members only. Caches may keep it for less than the rotation lead,
/// so a next key is known to every resource server before anything is signed with it.
pub fn jwks<S>(settings: &Settings) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    ApiState: axum::extract::FromRef<S>,
{
    let max_age = (settings.key_rotation_lead / 4).clamp(0, 3600);
    let cache_control = if max_age == 0 {
        HeaderValue::from_static("no-cache")
    } else {
        HeaderValue::from_str(&format!("public, max-age={max_age}"))
            .unwrap_or_else(|_| HeaderValue::from_static("no-cache"))
    };
    let cache = Arc::new(JwksBytes {
        cache_control,
        current: RwLock::new(None),
    });
    get(move |State(state): State<ApiState>, request: HeaderMap| {
        let cache = cache.clone();
        async move { cache.served(&state.keys.jwks()).respond(&request) }
    })
}

/// The JWKS as served, made again only when the key manager publishes another key set (it
/// hands out the same `Arc` until then).
struct JwksBytes {
    cache_control: HeaderValue,
    /// The key set the bytes were made from, kept alive so its address is not reused.
    current: RwLock<Option<(Arc<Value>, Arc<Served>)>>,
}

impl JwksBytes {
    fn served(&self, published: &Arc<Value>) -> Arc<Served> {
        if let Some((from, served)) = &*self.current.read().unwrap_or_else(PoisonError::into_inner) {
            if Arc::ptr_eq(from, published) {
                return served.clone();
            }
        }
        let served = Arc::new(Served::json(
            published,
            self.cache_control.clone(),
            HeaderValue::from_static("application/jwk-set+json"),
        ));
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some((published.clone(), served.clone()));
        served
    }
}

pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// Ready when the store answers within two seconds.
pub async fn readyz(State(state): State<ApiState>) -> Response {
    if crate::service::admin::store_ready(&state).await {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable" })),
        )
            .into_response()
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
