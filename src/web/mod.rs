//! Hosted pages: the authorization endpoint's front channel, sign-in, consent, the account
//! area, errors. Server-rendered (tera), working without JavaScript (one small script of ours
//! adds "Show" buttons to password fields), CSRF-protected forms, strict headers (set by layers
//! in [`router`]).

pub mod account;
pub mod authorize;
pub mod brand;
pub mod browser;
pub mod consent;
pub mod device;
pub mod error;
pub mod extract;
pub mod flash;
pub mod locale;
pub mod login;
pub mod logout;
pub mod otp;
pub mod pages;
pub mod passkeys;
pub mod paths;
pub mod reset;
pub mod restore;
pub mod security;
pub mod words;

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use zeroize::Zeroizing;

use crate::service::Services;

/// What the pages work with: the services, the templates and the CSRF key. Cheap to clone.
#[derive(Clone)]
pub struct WebState(Arc<WebContext>);

pub struct WebContext {
    pub services: Arc<Services>,
    pub pages: pages::Pages,
    /// Key of the CSRF tokens, derived from the KEK so every instance shares it.
    pub csrf_key: Zeroizing<[u8; 32]>,
}

impl WebState {
    pub fn new(services: Arc<Services>, pages: pages::Pages) -> Self {
        let csrf_key = services.kek.derive("keyhaven csrf v1");
        Self(Arc::new(WebContext {
            services,
            pages,
            csrf_key,
        }))
    }
}

impl Deref for WebState {
    type Target = WebContext;
    fn deref(&self) -> &WebContext {
        &self.0
    }
}

impl Deref for WebContext {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.services
    }
}

/// The groups of pages that a per-address rate limit guards (the composition in `app` owns
/// the limits and puts them on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarded {
    /// Sign-in, the second factor and password reset: what a guesser aims at.
    SignIn,
    /// The authorization endpoint's front channel.
    Authorize,
}

/// The hosted pages, with their error pages and headers. `guard` puts the rate limit of a
/// group on its routes.
pub fn router<S>(state: &WebState, guard: impl Fn(Guarded, Router<S>) -> Router<S>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    WebState: FromRef<S>,
    Arc<Services>: FromRef<S>,
{
    let sign_in = Router::new()
        .route(paths::LOGIN, get(login::show).post(login::submit))
        .route(paths::LOGIN_OTP, get(otp::show).post(otp::submit))
        .route(paths::LOGIN_PASSKEY_START, post(passkeys::start))
        .route(paths::LOGIN_PASSKEY_FINISH, post(passkeys::finish))
        .route(paths::LOGIN_OTP_PASSKEY_START, post(passkeys::second_start))
        .route(paths::LOGIN_OTP_PASSKEY_FINISH, post(passkeys::second_finish))
        .route(paths::RESET, get(reset::show_request).post(reset::submit_request))
        .route(paths::RESET_LINK, get(reset::show_link).post(reset::submit_link))
        // A user code is what a guesser aims at here.
        .route(paths::DEVICE, get(device::show).post(device::submit))
        .route(paths::DEVICE_DECIDE, page_of(paths::DEVICE).post(device::decide));
    let authorize = Router::new()
        .route(
            paths::AUTHORIZE,
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route(paths::AUTHORIZE_RESUME, get(authorize::resume));
    let branding = state.pages.brand();
    let mut assets = Router::new();
    // Brand files only when set: without them their paths are unknown (404).
    if branding.logo.is_some() {
        assets = assets.route(paths::BRAND_LOGO, get(brand::logo));
    }
    if branding.css.is_some() {
        assets = assets.route(paths::BRAND_STYLESHEET, get(brand::stylesheet));
    }
    if branding.extra_css.is_some() {
        assets = assets.route(paths::BRAND_EXTRA_STYLESHEET, get(brand::extra_stylesheet));
    }
    Router::new()
        .merge(guard(Guarded::SignIn, sign_in))
        .route(paths::ACCOUNT_SECURITY, get(security::show))
        .route(
            paths::TOTP_START,
            page_of(paths::ACCOUNT_SECURITY).post(security::start),
        )
        .route(
            paths::TOTP_CONFIRM,
            page_of(paths::ACCOUNT_SECURITY).post(security::confirm),
        )
        .route(
            paths::TOTP_DISABLE,
            page_of(paths::ACCOUNT_SECURITY).post(security::disable),
        )
        .route(paths::PASSKEY_ADD_START, post(passkeys::add_start))
        .route(paths::PASSKEY_ADD_FINISH, post(passkeys::add_finish))
        .route(
            paths::PASSKEY_RENAME,
            page_of(paths::ACCOUNT_SECURITY).post(security::rename_passkey),
        )
        .route(
            paths::PASSKEY_REMOVE,
            page_of(paths::ACCOUNT_SECURITY).post(security::remove_passkey),
        )
        .route(
            paths::RECOVERY_CODES,
            page_of(paths::ACCOUNT_SECURITY).post(security::regenerate_recovery_codes),
        )
        .route(
            paths::RECOVERY_CODES_DONE,
            page_of(paths::ACCOUNT_SECURITY).post(security::recovery_codes_saved),
        )
        .route(paths::ACCOUNT, get(account::profile))
        .route(
            paths::ACCOUNT_PROFILE,
            page_of(paths::ACCOUNT).post(account::update_profile),
        )
        .route(
            paths::ACCOUNT_EMAIL,
            page_of(paths::ACCOUNT).post(account::change_email),
        )
        .route(paths::ACCOUNT_EMAIL_CONFIRM, get(account::confirm_email))
        .route(paths::ACCOUNT_EMAIL_RESTORE, get(restore::show).post(restore::submit))
        .route(
            paths::ACCOUNT_PASSWORD,
            get(account::password_page).post(account::change_password),
        )
        .route(paths::ACCOUNT_DEVICES, get(account::devices))
        .route(
            paths::ACCOUNT_DEVICE_REVOKE,
            page_of(paths::ACCOUNT_DEVICES).post(account::revoke_device),
        )
        .route(
            paths::ACCOUNT_DEVICES_REVOKE_OTHERS,
            page_of(paths::ACCOUNT_DEVICES).post(account::revoke_other_devices),
        )
        .route(paths::ACCOUNT_APPS, get(account::apps))
        .route(
            paths::ACCOUNT_APP_REMOVE,
            page_of(paths::ACCOUNT_APPS).post(account::remove_app),
        )
        .route(paths::ACCOUNT_ACTIVITY, get(account::activity))
        .merge(guard(Guarded::Authorize, authorize))
        .route(paths::CONSENT, get(consent::show).post(consent::submit))
        .route(paths::DEVICE_DONE, get(device::done))
        .route(paths::LOGOUT, get(logout::logout_get).post(logout::logout_post))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::render_error_pages,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), flash::clear_shown))
        .layer(axum::middleware::from_fn_with_state(state.clone(), locale::choose))
        // Kept when a page sets its own (the consent page showing a client's logo).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ))
        .layer(page_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(page_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(page_header(header::CACHE_CONTROL, "no-store"))
        // The stylesheet, the script and the icon are no pages: cacheable, and without the
        // pages' headers.
        .route(paths::STYLESHEET, get(pages::stylesheet))
        .route(paths::SCRIPT, get(pages::script))
        .route(paths::SHOW_PASSWORD_SCRIPT, get(pages::show_password_script))
        .route(paths::PASSKEY_SCRIPT, get(pages::passkey_script))
        .route(paths::FAVICON, get(pages::favicon))
        .route(paths::FAVICON_SVG, get(pages::favicon))
        .merge(assets)
}

/// A `GET` on a path that only takes a form post goes to the page of that form (303), not 405.
fn page_of<S>(page: &'static str) -> axum::routing::MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    get(move || async move { (axum::http::StatusCode::SEE_OTHER, [(header::LOCATION, page)]) })
}

/// Content-Security-Policy of the hosted pages: scripts and styles only from our own files (no
/// inline script), never framed; `fetch` only to our own origin (the passkey ceremonies' posts).
/// No `form-action`: browsers apply it to the redirect that follows a form post, which goes to
/// the client.
pub const PAGE_CSP: &str =
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/// [`PAGE_CSP`] with images from any https origin: the consent page when it shows the logo a
/// client claims (`client_logos`), and no other page.
pub const CONSENT_LOGO_CSP: &str =
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'";

fn page_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

/// What the page layers of [`router`] add, for pages answered outside them.
pub fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
