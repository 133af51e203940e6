//! What a page says once after a form post (Post/Redirect/Get), and what a browser carries
//! between two pages of a flow, in short-lived cookies sealed with a key derived from the KEK.
//!
//! - The notice (`FLASH`): a form post answers 303 with a [`Notice`] (one of a fixed list,
//!   never a secret or anything typed), the page it leads to shows it, and [`clear_shown`] (a
//!   layer) clears it once a page has been shown.
//! - New recovery codes (`CODES`): shown on the security page until the person presses Done
//!   (or ten minutes pass), bound to the browser's cookie.
//! - Where a password reset started from an app returns to (`RESUME`), bound to the browser.

use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::convert::Infallible;

use super::WebState;
use crate::config::Settings;
use crate::domain::UnixTime;

/// One of the cookies of this module: its name (with `__Host-` unless cookies are insecure for
/// development), what its sealing is bound to, and how long it lives.
pub struct SealedCookie {
    name: &'static str,
    context: &'static str,
    max_age: i64,
}

pub const FLASH: SealedCookie = SealedCookie {
    name: "keyhaven-flash",
    context: "keyhaven flash v1",
    max_age: 120,
};

pub const CODES: SealedCookie = SealedCookie {
    name: "keyhaven-codes",
    context: "keyhaven recovery codes v1",
    max_age: 600,
};

pub const RESUME: SealedCookie = SealedCookie {
    name: "keyhaven-resume",
    context: "keyhaven resume v1",
    max_age: 3600,
};

impl SealedCookie {
    fn cookie_name(&self, settings: &Settings) -> String {
        if settings.dev_insecure_cookies {
            self.name.to_owned()
        } else {
            format!("__Host-{}", self.name)
        }
    }

    fn header(&self, settings: &Settings, value: &str, max_age: i64) -> Option<HeaderValue> {
        let secure = if settings.dev_insecure_cookies { "" } else { "; Secure" };
        let cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.cookie_name(settings)
        );
        HeaderValue::from_str(&cookie).ok()
    }

    /// `response` setting this cookie to `value` (sealed, bound to `bound_to`, with its expiry).
    pub fn set(&self, state: &WebState, bound_to: &str, value: &str, mut response: Response) -> Response {
        let expires = state.clock.now() + self.max_age;
        let sealed = state.kek.seal(
            &format!("{}:{bound_to}", self.context),
            format!("{expires}|{value}").as_bytes(),
        );
        match sealed.ok().and_then(|s| self.header(&state.settings, &s, self.max_age)) {
            Some(header) => {
                response.headers_mut().append(SET_COOKIE, header);
            }
            None => tracing::warn!(cookie = self.name, "could not seal a cookie"),
        }
        response
    }

    /// `response` clearing this cookie.
    pub fn clear(&self, settings: &Settings, mut response: Response) -> Response {
        if let Some(header) = self.header(settings, "", 0) {
            response.headers_mut().append(SET_COOKIE, header);
        }
        response
    }

    fn raw<'h>(&self, headers: &'h HeaderMap, settings: &Settings) -> Option<&'h str> {
        let name = self.cookie_name(settings);
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, v)| *k == name && !v.is_empty())
            .map(|(_, v)| v)
    }

    /// The value of this cookie, if it is present, opens (bound to `bound_to`) and is live.
    pub fn read(&self, state: &WebState, headers: &HeaderMap, bound_to: &str) -> Option<String> {
        let raw = self.raw(headers, &state.settings)?;
        let opened = state.kek.open(&format!("{}:{bound_to}", self.context), raw).ok()?;
        let text = std::str::from_utf8(&opened).ok()?;
        let (expires, value) = text.split_once('|')?;
        let expires: UnixTime = expires.parse().ok()?;
        (state.clock.now() < expires).then(|| value.to_owned())
    }

    fn present(&self, headers: &HeaderMap, settings: &Settings) -> bool {
        self.raw(headers, settings).is_some()
    }
}

/// What a page says once after a form post. Fixed words: the cookie names one by its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Saved,
    EmailSent,
    PasswordChanged,
    DeviceSignedOut,
    OthersSignedOut,
    AccessRemoved,
    TotpOn,
    TotpOff,
    ResetSent,
    ResetDone,
    SignedOut,
    AlreadySignedIn,
}

/// Each notice, its code in the cookie and the key of its words (`notice-<code>`).
const NOTICES: &[(Notice, &str, &str)] = &[
    (Notice::Saved, "saved", "notice-saved"),
    (Notice::EmailSent, "email-sent", "notice-email-sent"),
    (Notice::PasswordChanged, "password-changed", "notice-password-changed"),
    (Notice::DeviceSignedOut, "device-signed-out", "notice-device-signed-out"),
    (Notice::OthersSignedOut, "others-signed-out", "notice-others-signed-out"),
    (Notice::AccessRemoved, "access-removed", "notice-access-removed"),
    (Notice::TotpOn, "totp-on", "notice-totp-on"),
    (Notice::TotpOff, "totp-off", "notice-totp-off"),
    (Notice::ResetSent, "reset-sent", "notice-reset-sent"),
    (Notice::ResetDone, "reset-done", "notice-reset-done"),
    (Notice::SignedOut, "signed-out", "notice-signed-out"),
    (Notice::AlreadySignedIn, "already-signed-in", "notice-already-signed-in"),
];

impl Notice {
    fn code(self) -> &'static str {
        NOTICES
            .iter()
            .find(|(n, ..)| *n == self)
            .map_or("", |(_, code, _)| code)
    }

    fn from_code(code: &str) -> Option<Self> {
        NOTICES.iter().find(|(_, c, _)| *c == code).map(|(n, ..)| *n)
    }

    /// The words the page shows, in its language.
    pub fn text(self) -> String {
        NOTICES
            .iter()
            .find(|(n, ..)| *n == self)
            .map_or_else(String::new, |(.., key)| super::locale::t(key))
    }

    /// `response` (a 303) carrying this notice to the page it leads to.
    pub fn on(self, state: &WebState, response: Response) -> Response {
        FLASH.set(state, "", self.code(), response)
    }
}

/// The notice a page shows, if the browser brought one.
pub struct Flash(pub Option<Notice>);

impl Flash {
    pub fn text(&self) -> Option<String> {
        self.0.map(Notice::text)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Flash
where
    WebState: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let state = WebState::from_ref(state);
        Ok(Self(
            FLASH
                .read(&state, &parts.headers, "")
                .and_then(|code| Notice::from_code(&code)),
        ))
    }
}

/// The layer that clears the notice once a page (200) has been shown with it.
pub async fn clear_shown(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let had_notice = FLASH.present(request.headers(), &state.settings);
    let response = next.run(request).await;
    let sets_one = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains(FLASH.name)));
    if had_notice && !sets_one && response.status() == StatusCode::OK {
        return FLASH.clear(&state.settings, response);
    }
    response
}
