//! The browser: its cookie, its signed-in session, and CSRF tokens bound to it.
//!
//! A browser's cookie is `__Host-keyhaven` (HttpOnly, Secure, SameSite=Lax, Path=/, no Domain),
//! holding 256 random bits. Before sign-in it only anchors CSRF tokens and pending
//! authorization requests, and lasts the browser session; sign-in replaces it with a fresh
//! value (no session fixation) whose SHA-256 keys the `browser_sessions` row, lasting the
//! browser session too unless the person asked to stay signed in (then `Max-Age` is the
//! session's absolute lifetime; the server ends it on its idle and absolute expiry either way).
//!
//! The sign-in page shown to a browser without that cookie does not set it: its form's CSRF
//! token is anchored to a cookie of its own, `__Host-keyhaven-form`, that means nothing else.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::WebState;
use crate::config::Settings;
use crate::crypto::tokens::{random_base64url, SecretHash};
use crate::domain::user::User;
use crate::service::signin::{self, SessionRecord};

pub const SECURE_COOKIE: &str = "__Host-keyhaven";
/// Only with `dev_insecure_cookies`, on a loopback http issuer.
pub const DEV_COOKIE: &str = "keyhaven";
/// The cookie that anchors the CSRF token of a sign-in form shown to a browser without
/// [`SECURE_COOKIE`].
pub const SECURE_FORM_COOKIE: &str = "__Host-keyhaven-form";
pub const DEV_FORM_COOKIE: &str = "keyhaven-form";

pub fn cookie_name(settings: &Settings) -> &'static str {
    if settings.dev_insecure_cookies {
        DEV_COOKIE
    } else {
        SECURE_COOKIE
    }
}

fn form_cookie_name(settings: &Settings) -> &'static str {
    if settings.dev_insecure_cookies {
        DEV_FORM_COOKIE
    } else {
        SECURE_FORM_COOKIE
    }
}

/// Which cookie a [`Browser`] value is, and how long it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The browser's cookie; `persistent` outlives the browser session.
    Browser { persistent: bool },
    /// The sign-in form's CSRF anchor (browser session).
    SignInForm,
}

/// The browser's cookie value. `fresh` when this response must set it.
pub struct Browser {
    id: String,
    pub fresh: bool,
    kind: Kind,
}

fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| {
            *k == name && v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(|(_, v)| v.to_owned())
}

impl Browser {
    /// The browser's cookie, or a new one when it has none (or a malformed one).
    pub fn from_headers(headers: &HeaderMap, settings: &Settings) -> Self {
        match read_cookie(headers, cookie_name(settings)) {
            Some(id) => Self {
                id,
                fresh: false,
                kind: Kind::Browser { persistent: false },
            },
            None => Self::new(),
        }
    }

    /// The sign-in form's cookie, or a new one: the CSRF anchor of a browser that has no
    /// browser cookie yet.
    pub fn sign_in_form(headers: &HeaderMap, settings: &Settings) -> Self {
        match read_cookie(headers, form_cookie_name(settings)) {
            Some(id) => Self {
                id,
                fresh: false,
                kind: Kind::SignInForm,
            },
            None => Self {
                id: random_base64url(32),
                fresh: true,
                kind: Kind::SignInForm,
            },
        }
    }

    /// A new random cookie value for a browser that has none, for the browser session.
    pub fn new() -> Self {
        Self::signing_in(false)
    }

    /// The new cookie of a browser signing in: kept across browser restarts when the person
    /// asked to stay signed in, else for the browser session.
    pub fn signing_in(stay_signed_in: bool) -> Self {
        Self {
            id: random_base64url(32),
            fresh: true,
            kind: Kind::Browser {
                persistent: stay_signed_in,
            },
        }
    }

    /// A placeholder for responses that must not set the cookie (after logout clears it).
    pub fn new_unset() -> Self {
        Self {
            id: String::new(),
            fresh: false,
            kind: Kind::Browser { persistent: false },
        }
    }

    /// SHA-256 of the cookie value: the only form the store sees.
    pub fn hash(&self) -> String {
        SecretHash::of(&self.id).as_str().to_owned()
    }

    /// The synchronizer token for forms: HMAC-SHA256(csrf key, cookie value).
    pub fn csrf_token(&self, key: &[u8; 32]) -> String {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
            return String::new();
        };
        mac.update(match self.kind {
            Kind::Browser { .. } => b"csrf:".as_slice(),
            Kind::SignInForm => b"csrf-sign-in-form:".as_slice(),
        });
        mac.update(self.id.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Constant-time check of a form's token. A browser that just got its cookie has no form.
    pub fn csrf_ok(&self, key: &[u8; 32], presented: Option<&str>) -> bool {
        match presented {
            Some(token) if !self.fresh => bool::from(self.csrf_token(key).as_bytes().ct_eq(token.as_bytes())),
            _ => false,
        }
    }

    pub fn set_cookie(&self, settings: &Settings) -> HeaderValue {
        let secure = if settings.dev_insecure_cookies { "" } else { "; Secure" };
        let (name, max_age) = match self.kind {
            Kind::Browser { persistent: true } => (
                cookie_name(settings),
                format!("; Max-Age={}", settings.session_absolute_ttl),
            ),
            Kind::Browser { persistent: false } => (cookie_name(settings), String::new()),
            Kind::SignInForm => (form_cookie_name(settings), String::new()),
        };
        let value = format!("{name}={}; Path=/; HttpOnly; SameSite=Lax{max_age}{secure}", self.id);
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// `response`, setting the cookie when it is new.
    pub fn with_cookie(&self, mut response: Response, settings: &Settings) -> Response {
        if self.fresh {
            response.headers_mut().append(SET_COOKIE, self.set_cookie(settings));
        }
        response
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

pub fn clear_cookie(settings: &Settings) -> HeaderValue {
    let secure = if settings.dev_insecure_cookies { "" } else { "; Secure" };
    let value = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(settings)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The signed-in session of this browser with its person, if it is live
/// (`service::signin::current_session`). Pages take the `SignedIn` extractor; this stays for
/// the authorization pages.
pub async fn signed_in(state: &WebState, browser: &Browser) -> anyhow::Result<Option<(SessionRecord, User)>> {
    if browser.fresh {
        return Ok(None);
    }
    Ok(signin::current_session(state, &browser.hash()).await?)
}
