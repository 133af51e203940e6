//! `/admin/v1/registration-tokens`: initial access tokens for dynamic client registration
//! (`client_registration = token`), through the registration service (as the command line).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema::{Int, Text};
use super::{Admin, AdminError, BadRequest, JsonBody, Refused};
use crate::http::ApiState;
use crate::service::registration;

/// How many registrations a token allows.
pub type TokenUses = Int<1, 1_000_000>;
/// How long a token is good for, in seconds (at most a year).
pub type TokenLifetime = Int<1, 31_536_000>;
pub type TokenNote = Text<1, 200>;

/// A new initial access token: one use for a day unless said otherwise.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "uses": 5, "expires_in": 86400, "note": "partner onboarding" }))]
pub struct NewRegistrationToken {
    #[serde(default)]
    #[schema(inline)]
    pub uses: Option<TokenUses>,
    /// Seconds (default 86400).
    #[serde(default)]
    #[schema(inline)]
    pub expires_in: Option<TokenLifetime>,
    /// Who it is for, for the operator's own memory.
    #[serde(default)]
    #[schema(inline)]
    pub note: Option<TokenNote>,
}

/// The token, shown this once: a registering client sends it as `Authorization: Bearer`.
#[derive(Serialize, ToSchema)]
pub struct RegistrationTokenOut {
    token: String,
    uses: u32,
    expires_at: i64,
}

#[utoipa::path(post, path = "/admin/v1/registration-tokens", request_body = NewRegistrationToken, responses(
    (status = 201, description = "Made; the token is shown only now", body = RegistrationTokenOut),
    BadRequest, Refused))]
pub(super) async fn create_registration_token(
    admin: Admin,
    State(state): State<ApiState>,
    JsonBody(new): JsonBody<NewRegistrationToken>,
) -> Result<Response, AdminError> {
    let uses = new.uses.map_or(1, |u| u32::try_from(u.get()).unwrap_or(1));
    let expires_in = new
        .expires_in
        .map_or(86_400, |e| u64::try_from(e.get()).unwrap_or(86_400));
    let made = registration::issue_token(
        &state,
        uses,
        expires_in,
        new.note.as_ref().map(Text::as_str),
        &admin.0.actor(),
    )
    .await?;
    admin.record(&state, "create registration token", &format!("{uses} use(s)"));
    let out = RegistrationTokenOut {
        token: made.token.expose().to_owned(),
        uses: made.uses,
        expires_at: made.expires_at,
    };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}
