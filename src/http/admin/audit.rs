//! `/admin/v1/events` and `/admin/v1/keys`: the security event log and the signing keys.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::schema::{Limit, Offset, Text};
use super::{Admin, AdminError, AdminQuery, BadRequest, Refused};
use crate::crypto::keys::{KeyState, KeySummary};
use crate::domain::event::{EventFilter, SecurityEvent};
use crate::domain::SigningAlg;
use crate::http::ApiState;
use crate::service::admin;

/// A page of security events, newest first.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only this person's (their id).
    #[param(inline)]
    pub user: Option<Text<1, 200>>,
    /// Only this kind, e.g. `login` or `admin_action`.
    #[param(inline)]
    pub kind: Option<Text<1, 64>>,
    /// Only those at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// How many to skip (0 when left out); more than 1,000,000 is a 400 naming `offset`.
    #[serde(default)]
    #[param(inline)]
    pub offset: Offset,
    /// How many to answer (50 when left out); outside 1 to 1000 is a 400 naming `limit`,
    /// never clamped.
    #[serde(default)]
    #[param(inline)]
    pub limit: Limit,
}

/// A security event.
#[derive(Serialize, ToSchema)]
pub struct EventOut {
    at: i64,
    kind: String,
    /// `success` or `failure`.
    outcome: String,
    user_id: Option<String>,
    client_id: Option<String>,
    sid: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: Option<String>,
}

impl From<SecurityEvent> for EventOut {
    fn from(e: SecurityEvent) -> Self {
        // Destructured whole, so that a new member of the event is a compile error here.
        let SecurityEvent {
            at,
            kind,
            outcome,
            user_id,
            client_id,
            sid,
            ip,
            user_agent,
            detail,
        } = e;
        Self {
            at,
            kind,
            outcome,
            user_id,
            client_id,
            sid,
            ip,
            user_agent,
            detail,
        }
    }
}

/// A signing key as an operator sees it (never its private part).
#[derive(Serialize, ToSchema)]
pub struct KeyOut {
    kid: String,
    alg: SigningAlg,
    state: KeyState,
    created_at: i64,
    activates_at: i64,
    activated_at: Option<i64>,
    retire_until: Option<i64>,
}

impl From<KeySummary> for KeyOut {
    fn from(k: KeySummary) -> Self {
        let KeySummary {
            kid,
            alg,
            state,
            created_at,
            activates_at,
            activated_at,
            retire_until,
        } = k;
        Self {
            kid,
            alg,
            state,
            created_at,
            activates_at,
            activated_at,
            retire_until,
        }
    }
}

#[utoipa::path(get, path = "/admin/v1/events", params(EventQuery), responses(
    (status = 200, description = "A page of events", body = [EventOut]), BadRequest, Refused))]
pub(super) async fn list_events(
    admin: Admin,
    State(state): State<ApiState>,
    AdminQuery(q): AdminQuery<EventQuery>,
) -> Result<Response, AdminError> {
    let filter = EventFilter {
        user_id: q.user.map(Text::into_string),
        kind: q.kind.map(Text::into_string),
        since: q.since,
        limit: q.limit.get(),
        offset: q.offset.get(),
    };
    let events = admin::events(&state, &filter).await?;
    admin.record(&state, "list", "events");
    Ok(Json(events.into_iter().map(EventOut::from).collect::<Vec<_>>()).into_response())
}

fn keys(keys: Vec<KeySummary>) -> Response {
    Json(keys.into_iter().map(KeyOut::from).collect::<Vec<_>>()).into_response()
}

#[utoipa::path(get, path = "/admin/v1/keys", responses(
    (status = 200, description = "Every signing key", body = [KeyOut]), Refused))]
pub(super) async fn list_keys(admin: Admin, State(state): State<ApiState>) -> Result<Response, AdminError> {
    let summaries = state.keys.summaries().await?;
    admin.record(&state, "list", "keys");
    Ok(keys(summaries))
}

#[utoipa::path(post, path = "/admin/v1/keys/rotate", responses(
    (status = 200, description = "Every signing key, with a next key per algorithm", body = [KeyOut]), Refused))]
pub(super) async fn rotate_keys(admin: Admin, State(state): State<ApiState>) -> Result<Response, AdminError> {
    let summaries = state.keys.rotate().await?;
    admin.record(&state, "rotate", "keys");
    Ok(keys(summaries))
}
