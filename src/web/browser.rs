//! The browser: its cookie, its signed-in session, and CSRF tokens bound to it.
//!
//! Every browser gets one cookie, `__Host-keyhaven` (HttpOnly, Secure, SameSite=Lax, Path=/, no
//! Domain), holding 256 random bits. Before sign-in it only anchors CSRF tokens and pending
//! authorization requests; sign-in replaces it with a fresh value (no session fixation) whose
//! SHA-256 keys the `browser_sessions` row.

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

pub fn cookie_name(settings: &Settings) -> &'static str {
    if settings.dev_insecure_cookies {
        DEV_COOKIE
    } else {
        SECURE_COOKIE
    }
}

/// The browser's cookie value. `fresh` when this response must set it.
pub struct Browser {
    id: String,
    pub fresh: bool,
}

impl Browser {
    /// The browser's cookie, or a new one when it has none (or a malformed one).
    pub fn from_headers(headers: &HeaderMap, settings: &Settings) -> Self {
        let name = cookie_name(settings);
        let existing = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, v)| {
                *k == name && v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .map(|(_, v)| v.to_owned());
        match existing {
            Some(id) => Self { id, fresh: false },
            None => Self::new(),
        }
    }

    /// A new random cookie value (at sign-in, and for browsers that have none).
    pub fn new() -> Self {
        Self {
            id: random_base64url(32),
            fresh: true,
        }
    }

    /// A placeholder for responses that must not set the cookie (after logout clears it).
    pub fn new_unset() -> Self {
        Self {
            id: String::new(),
            fresh: false,
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
        mac.update(b"csrf:");
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
        let attributes = if settings.dev_insecure_cookies { "" } else { "; Secure" };
        let value = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{attributes}",
            cookie_name(settings),
            self.id,
            settings.session_absolute_ttl
        );
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
