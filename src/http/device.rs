//! `POST /device_authorization` (RFC 8628 §3.1): an authenticated client's form (a public
//! client sends `client_id`, as at the token endpoint), one call, the codes. Errors are
//! RFC 6749 §5.2 JSON.

use axum::extract::State;
use axum::Json;

use super::error::ApiError;
use super::extract::ClientRequest;
use super::ApiState;
use crate::protocol::device::DeviceAuthorizationResponse;
use crate::service::{device, Peer};

pub async fn device_authorization(
    State(state): State<ApiState>,
    peer: Peer,
    ClientRequest { client, params }: ClientRequest,
) -> Result<Json<DeviceAuthorizationResponse>, ApiError> {
    let scope = params.take("scope");
    let resources: Vec<String> = params.all("resource").into_iter().map(str::to_owned).collect();
    let started = device::start(&state, &client, scope.as_deref(), &resources, &peer).await?;
    Ok(Json(DeviceAuthorizationResponse::new(
        &state.settings.issuer,
        started.device_code.expose(),
        &started.user_code,
        started.expires_in,
        started.interval,
    )))
}
