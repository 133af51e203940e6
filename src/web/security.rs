//! `/account/security`: turning TOTP on (QR code, confirmed by a first code, ten recovery codes
//! shown until the person says they saved them) and off (password and a current code), and new
//! recovery codes. Every form that succeeds answers 303 to the page (Post/Redirect/Get): the
//! set-up in progress is shown from the secret set aside in the store, the new recovery codes
//! from a sealed cookie bound to the browser that Done clears. The flows are in
//! `service::security`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::json;
use tera::Context;

use super::authorize::see_other;
use super::browser::Browser;
use super::error::PageError;
use super::extract::{NoFields, SignedIn, SignedInForm};
use super::flash::{Flash, Notice, CODES};
use super::locale::t;
use super::paths;
use super::words::readable_time;
use super::WebState;
use crate::crypto::totp::Enrollment;
use crate::domain::user::User;
use crate::service::passkeys::{self, PasskeyError};
use crate::service::security::{self, TotpConfirmation};
use crate::service::Peer;

/// Not `Debug`: it carries a code and maybe a password.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

/// What the page shows besides the state of TOTP.
#[derive(Default)]
struct Shown {
    notice: Option<String>,
    error: Option<String>,
    enrollment: Option<Enrollment>,
    recovery_codes: Option<Vec<String>>,
    /// The passkey whose removal asked for the password and got a wrong one: its step stays
    /// open, to try again.
    removing: Option<String>,
}

async fn page(
    state: &WebState,
    browser: &Browser,
    user: &User,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut context = Context::new();
    let available = passkeys::available(state);
    context.insert("passkeys_available", &available);
    if available {
        let listed: Vec<_> = passkeys::list(state, &user.id)
            .await?
            .into_iter()
            .map(|p| {
                json!({
                    "id": p.credential_id,
                    "name": p.name,
                    "created": readable_time(p.created_at),
                    "last_used": p.last_used_at.map(readable_time),
                })
            })
            .collect();
        context.insert("passkeys", &listed);
        context.insert(
            "passkeys_required",
            &state.settings.passkeys_required.applies_to(&user.username),
        );
    }
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("section", "security");
    context.insert("username", &user.username);
    context.insert("signed_in_as", &user.username);
    context.insert("enabled", &user.has_totp());
    context.insert("notice", &shown.notice);
    context.insert("removing", &shown.removing);
    context.insert("error", &shown.error);
    if let Some(e) = &shown.enrollment {
        context.insert(
            "enrollment",
            &json!({ "qr_svg": e.qr_svg, "key_groups": in_groups_of_four(&e.base32), "uri": e.uri }),
        );
    }
    if let Some(codes) = &shown.recovery_codes {
        context.insert("codes_download", &download_link(codes));
    }
    context.insert("recovery_codes", &shown.recovery_codes);
    Ok(state.pages.render(status, "security.html", &context))
}

/// The codes as a `data:` link of a text file (a download, which the CSP does not govern).
fn download_link(codes: &[String]) -> String {
    let text = codes.join("\n") + "\n";
    let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    format!("data:text/plain;charset=utf-8,{}", encoded.replace('+', "%20"))
}

/// The key as people type it: groups of four characters.
fn in_groups_of_four(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The page with the catalogue's message `key` as its error.
fn error(key: &str) -> Shown {
    Shown {
        error: Some(t(key)),
        ..Shown::default()
    }
}

/// The 303 back to the security page.
fn to_page(state: &WebState, browser: &Browser) -> Response {
    see_other(paths::ACCOUNT_SECURITY, browser, state)
}

/// The page: new recovery codes until Done, else a set-up in progress, else the state.
pub async fn show(
    State(state): State<WebState>,
    headers: HeaderMap,
    flash: Flash,
    SignedIn { browser, user, .. }: SignedIn,
) -> Result<Response, PageError> {
    let recovery_codes = CODES
        .read(&state, &headers, &codes_bound_to(&browser, &user))
        .filter(|_| user.has_totp())
        .map(|codes| codes.split(',').map(str::to_owned).collect());
    let enrollment = match recovery_codes {
        Some(_) => None,
        None => security::pending_enrollment(&state, &user).await?,
    };
    let shown = Shown {
        notice: flash.text(),
        enrollment,
        recovery_codes,
        ..Shown::default()
    };
    page(&state, &browser, &user, shown, StatusCode::OK).await
}

/// New recovery codes are bound to the browser and the person they were made for.
fn codes_bound_to(browser: &Browser, user: &User) -> String {
    format!("{}:{}", browser.hash(), user.id)
}

fn show_codes(state: &WebState, browser: &Browser, user: &User, codes: &[String]) -> Response {
    let response = to_page(state, browser);
    CODES.set(state, &codes_bound_to(browser, user), &codes.join(","), response)
}

pub async fn start(
    State(state): State<WebState>,
    SignedInForm { signed_in, .. }: SignedInForm<NoFields>,
) -> Result<Response, PageError> {
    security::start_totp(&state, &signed_in.user).await?;
    Ok(to_page(&state, &signed_in.browser))
}

pub async fn confirm(
    State(state): State<WebState>,
    peer: Peer,
    SignedInForm { signed_in, form }: SignedInForm<CodeForm>,
) -> Result<Response, PageError> {
    let SignedIn { browser, user, .. } = signed_in;
    let (shown, status) = match security::confirm_totp(&state, &user, &form.code, &peer).await? {
        TotpConfirmation::NotStarted => (error("security-start-again"), StatusCode::BAD_REQUEST),
        TotpConfirmation::WrongCode(enrollment) => (
            Shown {
                enrollment,
                ..error("security-wrong-code")
            },
            StatusCode::BAD_REQUEST,
        ),
        TotpConfirmation::Enabled { recovery_codes } => {
            return Ok(show_codes(&state, &browser, &user, &recovery_codes));
        }
    };
    page(&state, &browser, &user, shown, status).await
}

pub async fn disable(
    State(state): State<WebState>,
    peer: Peer,
    SignedInForm { signed_in, form }: SignedInForm<CodeForm>,
) -> Result<Response, PageError> {
    let SignedIn { browser, user, .. } = signed_in;
    let password = SecretString::from(form.password);
    let code = SecretString::from(form.code);
    if !security::disable_totp(&state, &user, &password, &code, &peer).await? {
        let shown = error("security-wrong-password-or-code");
        return page(&state, &browser, &user, shown, StatusCode::UNAUTHORIZED).await;
    }
    let response = Notice::TotpOff.on(&state, to_page(&state, &browser));
    Ok(CODES.clear(&state.settings, response))
}

/// New recovery codes (the old ones stop working), shown until Done.
pub async fn regenerate_recovery_codes(
    State(state): State<WebState>,
    SignedInForm { signed_in, .. }: SignedInForm<NoFields>,
) -> Result<Response, PageError> {
    let SignedIn { browser, user, .. } = signed_in;
    let Some(codes) = security::replace_recovery_codes(&state, &user).await? else {
        let shown = error("security-turn-on-first");
        return page(&state, &browser, &user, shown, StatusCode::BAD_REQUEST).await;
    };
    Ok(show_codes(&state, &browser, &user, &codes))
}

/// Not `Debug`: it may carry a password.
#[derive(Deserialize)]
pub struct PasskeyForm {
    #[serde(default)]
    credential_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// Renames one of the person's passkeys.
pub async fn rename_passkey(
    State(state): State<WebState>,
    SignedInForm { signed_in, form }: SignedInForm<PasskeyForm>,
) -> Result<Response, PageError> {
    let SignedIn { browser, user, .. } = signed_in;
    match passkeys::rename(&state, &user, &form.credential_id, &form.name).await {
        Ok(()) | Err(PasskeyError::NotFound) => Ok(to_page(&state, &browser)),
        Err(PasskeyError::BadName) => {
            page(
                &state,
                &browser,
                &user,
                error("passkeys-bad-name"),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(PageError::failed(e, "renaming a passkey")),
    }
}

/// Removes one of the person's passkeys: a recent sign-in, and the password for the last one.
pub async fn remove_passkey(
    State(state): State<WebState>,
    peer: Peer,
    SignedInForm { signed_in, form }: SignedInForm<PasskeyForm>,
) -> Result<Response, PageError> {
    let SignedIn { browser, user, session } = signed_in;
    let password = Some(SecretString::from(form.password)).filter(|p| !p.expose_secret().is_empty());
    let removed = passkeys::remove(
        &state,
        &user,
        session.auth_time,
        &form.credential_id,
        password.as_ref(),
        &peer,
    )
    .await;
    let (shown, status) = match removed {
        Ok(()) | Err(PasskeyError::NotFound) => return Ok(to_page(&state, &browser)),
        Err(PasskeyError::SignInAgain) => (error("passkeys-sign-in-again"), StatusCode::FORBIDDEN),
        Err(PasskeyError::WrongPassword) => (
            Shown {
                removing: Some(form.credential_id),
                ..error("passkeys-wrong-password")
            },
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => return Err(PageError::failed(e, "removing a passkey")),
    };
    page(&state, &browser, &user, shown, status).await
}

/// Done: the person saved the codes; the page stops showing them.
pub async fn recovery_codes_saved(
    State(state): State<WebState>,
    SignedInForm { signed_in, .. }: SignedInForm<NoFields>,
) -> Response {
    let response = Notice::TotpOn.on(&state, to_page(&state, &signed_in.browser));
    CODES.clear(&state.settings, response)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_key_reads_in_groups_of_four() {
        assert_eq!(super::in_groups_of_four("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
