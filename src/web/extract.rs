//! Extractors of the hosted pages, for the parts every page repeats: the browser (its cookie),
//! the signed-in browser, a form whose CSRF token checked out, and where a request comes from.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, RawForm, Request};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::authorize::see_other;
use super::browser::{self, Browser};
use super::error::PageError;
use super::paths;
use super::WebState;
use crate::domain::local_path::LocalPath;
use crate::domain::user::User;
use crate::service::peer::client_ip;
use crate::service::signin::SessionRecord;
use crate::service::{Peer, Services};

/// The browser's cookie, or a new one (`fresh`) when it has none.
impl<S: Send + Sync> FromRequestParts<S> for Browser
where
    WebState: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        Ok(Self::from_headers(&parts.headers, &WebState::from_ref(state).settings))
    }
}

/// A browser with a live session, and its person. A browser without one is sent to `/login`,
/// which returns it to the page it asked for once signed in.
pub struct SignedIn {
    pub browser: Browser,
    pub session: SessionRecord,
    pub user: User,
}

impl SignedIn {
    async fn of(state: &WebState, browser: Browser, asked: &Uri) -> Result<Self, Response> {
        match browser::signed_in(state, &browser).await {
            Ok(Some((session, user))) => Ok(Self { browser, session, user }),
            Ok(None) => Err(see_other(&sign_in_returning_to(asked), &browser, state)),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

/// `/login?return_to=...` for the page asked for (a form's path answers a `GET` with its page).
fn sign_in_returning_to(asked: &Uri) -> String {
    let path = asked.path_and_query().map_or(paths::ACCOUNT, |p| p.as_str());
    match LocalPath::parse(path) {
        Some(path) => match serde_urlencoded::to_string([("return_to", path.as_str())]) {
            Ok(query) => format!("{}?{query}", paths::LOGIN),
            Err(_) => paths::LOGIN.to_owned(),
        },
        None => paths::LOGIN.to_owned(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn
where
    WebState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let state = WebState::from_ref(state);
        let browser = Browser::from_headers(&parts.headers, &state.settings);
        Self::of(&state, browser, &parts.uri).await
    }
}

/// A form post whose `csrf_token` is the token of the posting browser (checked in constant
/// time); else 403 "This form has expired". `T` is read from the same body.
pub struct CsrfForm<T> {
    pub browser: Browser,
    pub form: T,
}

/// The sign-in form's post: [`CsrfForm`], where a browser without its cookie yet presents the
/// token of the sign-in form's own cookie (`Browser::sign_in_form`).
pub struct SignInCsrfForm<T> {
    pub browser: Browser,
    pub form: T,
}

/// A CSRF-checked form post from a signed-in browser. The token is checked first: a forged
/// post is refused before the session is looked at (or touched).
pub struct SignedInForm<T> {
    pub signed_in: SignedIn,
    pub form: T,
}

#[derive(Deserialize)]
struct CsrfField {
    csrf_token: Option<String>,
}

/// What a form's CSRF token is bound to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// The browser's cookie.
    Browser,
    /// The browser's cookie, or the sign-in form's when the browser has none.
    SignInForm,
}

/// A form of no fields but the CSRF token.
#[derive(Deserialize)]
pub struct NoFields {}

/// Reads a form body (under the router's body limit) and checks its CSRF token.
async fn read_checked_form<T: DeserializeOwned, S: Send + Sync>(
    request: Request,
    state: &S,
    anchor: Anchor,
) -> Result<(WebState, Browser, T), Response>
where
    WebState: FromRef<S>,
{
    let web = WebState::from_ref(state);
    let browser = Browser::from_headers(request.headers(), &web.settings);
    let csrf_anchor = match anchor {
        Anchor::SignInForm if browser.fresh => Some(Browser::sign_in_form(request.headers(), &web.settings)),
        _ => None,
    };
    let unreadable = |status: StatusCode| {
        PageError::words(status, "error-unreadable-title", "error-unreadable-message").into_response()
    };
    let RawForm(bytes) = RawForm::from_request(request, state)
        .await
        .map_err(|rejection| unreadable(rejection.status()))?;
    let token = serde_urlencoded::from_bytes::<CsrfField>(&bytes)
        .ok()
        .and_then(|f| f.csrf_token);
    if !csrf_anchor
        .as_ref()
        .unwrap_or(&browser)
        .csrf_ok(&web.csrf_key, token.as_deref())
    {
        return Err(PageError::form_expired().into_response());
    }
    let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|_| unreadable(StatusCode::UNPROCESSABLE_ENTITY))?;
    Ok((web, browser, form))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for CsrfForm<T>
where
    WebState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let (_, browser, form) = read_checked_form(request, state, Anchor::Browser).await?;
        Ok(Self { browser, form })
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for SignInCsrfForm<T>
where
    WebState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let (_, browser, form) = read_checked_form(request, state, Anchor::SignInForm).await?;
        Ok(Self { browser, form })
    }
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for SignedInForm<T>
where
    WebState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let asked = request.uri().clone();
        let (web, browser, form) = read_checked_form(request, state, Anchor::Browser).await?;
        let signed_in = SignedIn::of(&web, browser, &asked).await?;
        Ok(Self { signed_in, form })
    }
}

/// Where the request comes from: the peer's address (or, with `trust_forwarded_for`, the one
/// our proxy put last in `X-Forwarded-For`) and the user agent (first 512 characters).
impl<S: Send + Sync> FromRequestParts<S> for Peer
where
    std::sync::Arc<Services>: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let services = std::sync::Arc::<Services>::from_ref(state);
        let connected = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        let forwarded_for = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        Ok(Self {
            ip: client_ip(services.settings.trust_forwarded_for, connected, forwarded_for).to_string(),
            user_agent: user_agent(&parts.headers),
        })
    }
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(512).collect())
}
