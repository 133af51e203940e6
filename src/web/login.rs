//! `GET`/`POST /login`: username or email and password. Wrong username and wrong password get
//! the same page, status and time; a locked name or account gets only "too many attempts" (the
//! rules are in `service::signin` and `service::lockout`). A person with TOTP continues at
//! `/login/otp`. Signed in, the browser goes back to the authorization request it came from,
//! else to the local page it asked for (`return_to`), else to the account. A browser without
//! its cookie gets none from this page: its form is anchored to the sign-in form's cookie
//! (`Browser::sign_in_form`).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::SecretString;
use serde::Deserialize;
use tera::Context;

use super::authorize::{expired_for, expired_signed_in, load_pending, see_other};
use super::browser::{self, Browser};
use super::error::PageError;
use super::extract::SignInCsrfForm;
use super::flash::Flash;
use super::locale::{t, t_with};
use super::paths;
use super::words::try_again_in;
use super::WebState;
use crate::domain::local_path::LocalPath;
use crate::domain::UnixTime;
use crate::i18n::Arg;
use crate::service::signin::{self, BrowserIds, NewSession, PasswordStep, Refusal, Resume};
use crate::service::{passkeys, Peer};

#[derive(Deserialize)]
pub struct LoginQuery {
    request: Option<String>,
    return_to: Option<String>,
}

/// The sign-in form. Not `Debug`: it carries the password.
#[derive(Deserialize)]
pub struct LoginForm {
    request: Option<String>,
    return_to: Option<String>,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    /// "Keep me signed in": the cookie outlives the browser session.
    remember: Option<String>,
}

/// What a locked sign-in says: when to try again, and how to get in at once. The same for a
/// right and a wrong password (the lock of the name typed is checked before the password).
pub fn too_many_attempts(until: UnixTime, now: UnixTime) -> String {
    let try_again = try_again_in(until, now);
    t_with("login-too-many-attempts", &[("try_again", Arg::Str(&try_again))])
}

/// The "form has expired" page, rendered now (for the consent page; the others take
/// `CsrfForm`).
pub fn forbidden(state: &WebState) -> Response {
    PageError::form_expired().render(&state.pages)
}

/// A `return_to` that is a local path; anything else is dropped (never an open redirect).
pub fn return_to(input: Option<&str>) -> Option<LocalPath> {
    input.and_then(LocalPath::parse)
}

/// `path` with `?return_to=...` when there is one.
pub fn with_return_to(path: &str, return_to: Option<&LocalPath>) -> String {
    match return_to.and_then(|r| serde_urlencoded::to_string([("return_to", r.as_str())]).ok()) {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    }
}

/// What the sign-in page shows besides the form.
#[derive(Default)]
struct LoginPage<'a> {
    request_id: Option<&'a str>,
    return_to: Option<&'a LocalPath>,
    notice: Option<&'a str>,
    /// The name typed in the last attempt, kept in its field.
    login: Option<&'a str>,
    error: Option<&'a str>,
    remember: bool,
}

async fn login_page(
    state: &WebState,
    browser: &Browser,
    headers: &HeaderMap,
    page: LoginPage<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    // A browser without its cookie does not get one here: its form's token is anchored to the
    // sign-in form's cookie.
    let anchor = if browser.fresh {
        Browser::sign_in_form(headers, &state.settings)
    } else {
        Browser::from_headers(headers, &state.settings)
    };
    let mut context = Context::new();
    context.insert("csrf_token", &anchor.csrf_token(&state.csrf_key));
    context.insert("error", &page.error);
    context.insert("notice", &page.notice);
    context.insert("remember", &page.remember);
    context.insert("return_to", &page.return_to.map(LocalPath::as_str));
    context.insert("passkeys", &crate::service::passkeys::available(state));
    let mut login_hint: Option<String> = page.login.map(str::to_owned);
    let mut client_name: Option<String> = None;
    if let Some(id) = page.request_id {
        let request = match load_pending(state, browser, id).await {
            Ok(Some((_, request))) => request,
            Ok(None) => {
                // "Back" from the application to a request that is finished: a signed-in
                // person continues to the account.
                let signed_in = browser::signed_in(state, browser).await?.is_some();
                return Ok(expired_for(state, browser, signed_in));
            }
            Err(response) => return Ok(response),
        };
        login_hint = login_hint.or_else(|| request.login_hint.clone());
        // The name is a courtesy: the page shows without it.
        client_name = signin::client_name(state, &request.client_id).await.ok().flatten();
        context.insert("request_id", id);
    }
    context.insert("login_hint", &login_hint);
    context.insert("client_name", &client_name);
    let response = state.pages.render(status, "login.html", &context);
    Ok(anchor.with_cookie(response, &state.settings))
}

pub async fn show(
    State(state): State<WebState>,
    browser: Browser,
    flash: Flash,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let return_to = return_to(query.return_to.as_deref());
    let notice = flash.text();
    let page = LoginPage {
        request_id: query.request.as_deref(),
        return_to: return_to.as_ref(),
        notice: notice.as_deref(),
        ..LoginPage::default()
    };
    login_page(&state, &browser, &headers, page, StatusCode::OK).await
}

pub async fn submit(
    State(state): State<WebState>,
    peer: Peer,
    headers: HeaderMap,
    SignInCsrfForm { browser, form }: SignInCsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    let request_id = form.request.as_deref().filter(|r| !r.is_empty());
    let return_to = return_to(form.return_to.as_deref());
    let remember = form.remember.is_some();
    let fresh = Browser::signing_in(remember);
    let ids = BrowserIds {
        current: &browser.hash(),
        signed_in: &fresh.hash(),
    };
    let password = SecretString::from(form.password);
    let (error, status) = match signin::password_step(&state, ids, &form.login, &password, request_id, &peer).await? {
        PasswordStep::SignedIn(session) => return Ok(signed_in(&state, &fresh, &session, return_to.as_ref())),
        PasswordStep::SecondFactor => {
            let mut otp = with_return_to(paths::LOGIN_OTP, return_to.as_ref());
            if remember {
                otp.push(if otp.contains('?') { '&' } else { '?' });
                otp.push_str("remember=yes");
            }
            return Ok(see_other(&otp, &browser, &state));
        }
        PasswordStep::Refused(Refusal::WrongCredentials) => (t("login-wrong-credentials"), StatusCode::UNAUTHORIZED),
        PasswordStep::Refused(Refusal::PasskeyRequired) => (t("login-passkey-required"), StatusCode::UNAUTHORIZED),
        PasswordStep::Refused(Refusal::Locked { until }) => (
            too_many_attempts(until, state.clock.now()),
            StatusCode::TOO_MANY_REQUESTS,
        ),
    };
    let page = LoginPage {
        request_id,
        return_to: return_to.as_ref(),
        login: Some(form.login.trim()).filter(|l| !l.is_empty()),
        error: Some(&error),
        remember,
        ..LoginPage::default()
    };
    login_page(&state, &browser, &headers, page, status).await
}

/// Where a browser goes once signed in under its fresh cookie (303): back to the
/// authorization request it signed in for, else to the page it asked for, else the account.
pub fn signed_in(state: &WebState, fresh: &Browser, new: &NewSession, return_to: Option<&LocalPath>) -> Response {
    match &new.resume {
        Resume::Request(id) => see_other(&format!("{}?request={id}", paths::AUTHORIZE_RESUME), fresh, state),
        Resume::Expired => fresh.with_cookie(expired_signed_in(state), &state.settings),
        // A person asked to add a passkey who signed in with their password (so has none yet)
        // goes to where they add one.
        Resume::Nothing if passkey_asked(state, new) => see_other(paths::ACCOUNT_SECURITY, fresh, state),
        Resume::Nothing => see_other(return_to.map_or(paths::ACCOUNT, LocalPath::as_str), fresh, state),
    }
}

/// Whether `passkeys_required` names the person who just signed in with their password.
fn passkey_asked(state: &WebState, new: &NewSession) -> bool {
    passkeys::available(state)
        && new.session.amr.iter().any(|m| m == "pwd")
        && state.settings.passkeys_required.applies_to(&new.user.username)
}
