//! RP-Initiated Logout 1.0: which session the request names, and where the person may be sent
//! afterwards. Ending the session is `revocation::end_session`.

use serde_json::Value;

use super::redirect_uri;
use crate::domain::client::Client;
use crate::storage::{Store, StoreError};

/// The parameters of a logout request. `id_token_hint` is checked by the caller's verifier.
#[derive(Debug, Clone, Default)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// A logout request that may be carried out.
#[derive(Debug, Clone, Default)]
pub struct ValidLogout {
    /// `sid` of the session the hint was issued in.
    pub hint_sid: Option<String>,
    /// Where to send the person afterwards, `state` included.
    pub redirect: Option<String>,
    /// The client that asked, named by the request or its hint.
    pub client_id: Option<String>,
}

pub enum LogoutError {
    /// Shown to the person; never redirected.
    Refused(&'static str),
    Store(StoreError),
}

/// Claims of a hint whose signature and issuer checked out (expiry does not matter for a hint).
pub type HintClaims = serde_json::Map<String, Value>;

pub async fn validate(
    store: &dyn Store,
    request: &LogoutRequest,
    verify_hint: &(dyn Fn(&str) -> Result<HintClaims, String> + Sync),
) -> Result<ValidLogout, LogoutError> {
    // The state is echoed in the redirect: bounded like the authorization request's.
    if request
        .state
        .as_ref()
        .is_some_and(|s| s.len() > super::authorize::MAX_ECHOED_LEN)
    {
        return Err(LogoutError::Refused(
            "The application sent a sign-out request that is too long.",
        ));
    }
    let hint = match &request.id_token_hint {
        Some(token) => Some(
            verify_hint(token)
                .map_err(|_| LogoutError::Refused("The application sent a sign-out request we cannot verify. Go back to the application and sign out from there again."))?,
        ),
        None => None,
    };
    let hint_client = hint.as_ref().and_then(|c| match c.get("aud") {
        Some(Value::String(aud)) => Some(aud.clone()),
        Some(Value::Array(auds)) => auds.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    });
    let client_id = match (&request.client_id, &hint_client) {
        (Some(a), Some(b)) if a != b => {
            return Err(LogoutError::Refused(
                "The sign-out request names two different applications.",
            ))
        }
        (Some(id), _) | (None, Some(id)) => Some(id.clone()),
        (None, None) => None,
    };
    let redirect = match &request.post_logout_redirect_uri {
        None => None,
        Some(uri) => {
            let Some(client_id) = client_id.clone() else {
                return Err(LogoutError::Refused(
                    "The sign-out request asks to return to an address without saying which application it is for.",
                ));
            };
            let client: Option<Client> = store.find_client(&client_id).await.map_err(LogoutError::Store)?;
            let registered = client.is_some_and(|c| redirect_uri::post_logout_registered(&c, uri));
            if !registered {
                return Err(LogoutError::Refused(
                    "The sign-out request asks to return to an address this application has not registered.",
                ));
            }
            let mut params = Vec::new();
            if let Some(state) = &request.state {
                params.push(("state", state.as_str()));
            }
            Some(redirect_uri::redirect_with(uri, &params))
        }
    };
    let hint_sid = hint
        .as_ref()
        .and_then(|c| c.get("sid"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(ValidLogout {
        hint_sid,
        redirect,
        client_id,
    })
}
