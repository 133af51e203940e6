//! Extractors for what the OAuth endpoints repeat: the authenticated client (token,
//! introspection, revocation) and the bearer token (userinfo).

use axum::extract::{FromRef, FromRequest, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

use super::error::ApiError;
use super::form::FormBody;
use super::ApiState;
use crate::domain::client::Client;
use crate::protocol::client_assertion;
use crate::protocol::client_auth::Credentials;
use crate::protocol::error::{err, OAuthError, ProtocolError};
use crate::protocol::params::Params;
use crate::service::tokens;

/// A client-authenticated request (RFC 6749 §2.3): its form, where no parameter but `resource`
/// repeats, and the client it proves — by `Authorization: Basic`, by `client_secret` in the
/// form, by a signed `client_assertion` (`private_key_jwt`, RFC 7523 §2.2), or, for a public
/// client, by `client_id` alone. A failure is `invalid_client` (401
/// with `WWW-Authenticate`), logged and recorded as a security event.
pub struct ClientRequest {
    pub client: Client,
    pub params: Params,
}

impl<S> FromRequest<S> for ClientRequest
where
    ApiState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let authorization = request.headers().get(AUTHORIZATION).cloned();
        let path = request.uri().path().to_owned();
        let FormBody(body) = FormBody::from_request(request, state).await?;
        let params = Params::parse_unique(&body)?;
        let credentials = credentials(authorization.as_ref(), &params)?.called_at(&path);
        let client = tokens::authenticate_client(&ApiState::from_ref(state), &credentials).await?;
        Ok(Self { client, params })
    }
}

/// The credentials of an `Authorization` header of this scheme, with the scheme matched without
/// regard to case (RFC 9110 §11.1: `bearer x` is `Bearer x`).
pub fn credential_of<'h>(value: &'h str, scheme: &str) -> Option<&'h str> {
    let (name, rest) = value.split_once(' ')?;
    name.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// The token of an `Authorization: Bearer` header (RFC 6750 §2.1).
pub fn bearer_credential(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    credential_of(value, "Bearer")
}

/// The client's credentials, from the `Authorization` header (Basic) or the form (a secret or
/// an assertion), only one of them (RFC 6749 §2.3).
pub fn credentials(authorization: Option<&HeaderValue>, form: &Params) -> Result<Credentials, ProtocolError> {
    let body_id = form.take("client_id");
    let body_secret = form.take("client_secret");
    let assertion_type = form.take("client_assertion_type");
    let assertion = form.take("client_assertion");
    if assertion_type.is_some() || assertion.is_some() {
        if authorization.is_some() || body_secret.is_some() {
            return Err(err(
                OAuthError::InvalidRequest,
                "use one client authentication method, not two",
            ));
        }
        let (Some(assertion_type), Some(assertion)) = (assertion_type, assertion) else {
            return Err(err(
                OAuthError::InvalidRequest,
                "client_assertion and client_assertion_type go together",
            ));
        };
        if assertion_type != client_assertion::ASSERTION_TYPE {
            return Err(err(OAuthError::InvalidClient, "unsupported client_assertion_type"));
        }
        let client_id = body_id.or_else(|| client_assertion::claimed_client(&assertion));
        return Ok(Credentials::Assertion {
            client_id,
            assertion,
            endpoint: None,
        });
    }
    let basic = match authorization {
        None => None,
        Some(value) => {
            let bad = || err(OAuthError::InvalidClient, "malformed Basic credentials");
            let text = value.to_str().map_err(|_| bad())?;
            let encoded = credential_of(text, "Basic").ok_or_else(bad)?;
            let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
            let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
            let unescape = |s: &str| -> String {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some((unescape(id), unescape(secret)))
        }
    };
    match (basic, body_id, body_secret) {
        (Some(_), _, Some(_)) => Err(err(
            OAuthError::InvalidRequest,
            "use one client authentication method, not two",
        )),
        (Some((id, _)), Some(body), None) if body != id => Err(err(
            OAuthError::InvalidRequest,
            "client_id in the body differs from the authenticated client",
        )),
        (Some((client_id, secret)), _, None) => Ok(Credentials::Basic { client_id, secret }),
        (None, Some(client_id), Some(secret)) => Ok(Credentials::Post { client_id, secret }),
        (None, Some(client_id), None) => Ok(Credentials::IdOnly { client_id }),
        (None, None, _) => Ok(Credentials::Missing),
    }
}

/// The access token of a request to a protected resource (RFC 6750): `Authorization: Bearer`
/// (§2.1) or, in a POSTed form, `access_token` (§2.2); never both. The refusals carry
/// `WWW-Authenticate: Bearer` (§3).
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequest<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let from_header = bearer_credential(request.headers()).map(str::to_owned);
        let is_form = request.method() == Method::POST
            && request
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        // Read in every case, so every body is held to the same limit.
        let FormBody(body) = FormBody::from_request(request, state).await?;
        let from_body = match is_form.then(|| Params::parse_unique(&body)) {
            None => None,
            Some(Ok(form)) => form.take("access_token"),
            Some(Err(_)) => return Err(bearer_challenge(StatusCode::BAD_REQUEST, Some(MALFORMED)).into()),
        };
        match (from_header, from_body) {
            (Some(_), Some(_)) => Err(bearer_challenge(StatusCode::BAD_REQUEST, Some(TWICE)).into()),
            (Some(token), None) | (None, Some(token)) => Ok(Self(token)),
            (None, None) => Err(bearer_challenge(StatusCode::UNAUTHORIZED, None).into()),
        }
    }
}

const MALFORMED: (&str, &str) = ("invalid_request", "malformed form body");
const TWICE: (&str, &str) = ("invalid_request", "send the token in one place only");

/// An RFC 6750 §3 refusal: the error in `WWW-Authenticate: Bearer` and in the JSON body; with no
/// error (no token sent), the challenge alone.
pub fn bearer_challenge(status: StatusCode, error: Option<(&str, &str)>) -> Response {
    let header = match error {
        Some((code, description)) => {
            format!("Bearer realm=\"keyhaven\", error=\"{code}\", error_description=\"{description}\"")
        }
        None => "Bearer realm=\"keyhaven\"".to_owned(),
    };
    let body = match error {
        Some((code, description)) => json!({ "error": code, "error_description": description }),
        None => json!({ "error": "invalid_token", "error_description": "an access token is required" }),
    };
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&header) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}
