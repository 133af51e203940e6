//! `/account/security`: turning TOTP on (QR code, confirmed by a first code, ten recovery codes
//! shown once) and off (password and a current code), and new recovery codes. The flows are in
//! `service::security`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use tera::Context;

use super::browser::Browser;
use super::error::PageError;
use super::extract::{NoFields, SignedIn, SignedInForm};
use super::WebState;
use crate::crypto::totp::Enrollment;
use crate::domain::user::User;
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
    error: Option<&'static str>,
    enrollment: Option<Enrollment>,
    recovery_codes: Option<Vec<String>>,
}

fn page(state: &WebState, browser: &Browser, user: &User, shown: Shown, status: StatusCode) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("username", &user.username);
    context.insert("enabled", &user.has_totp());
    context.insert("error", &shown.error);
    if let Some(e) = &shown.enrollment {
        context.insert(
            "enrollment",
            &json!({ "qr_svg": e.qr_svg, "key_groups": in_groups_of_four(&e.base32), "uri": e.uri }),
        );
    }
    context.insert("recovery_codes", &shown.recovery_codes);
    state.pages.render(status, "security.html", &context)
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

fn error(message: &'static str) -> Shown {
    Shown {
        error: Some(message),
        ..Shown::default()
    }
}

pub async fn show(State(state): State<WebState>, SignedIn { browser, user, .. }: SignedIn) -> Response {
    page(&state, &browser, &user, Shown::default(), StatusCode::OK)
}

pub async fn start(
    State(state): State<WebState>,
    SignedInForm { signed_in, .. }: SignedInForm<NoFields>,
) -> Result<Response, PageError> {
    let SignedIn { browser, user, .. } = signed_in;
    let enrollment = security::start_totp(&state, &user).await?;
    let shown = Shown {
        enrollment,
        ..Shown::default()
    };
    Ok(page(&state, &browser, &user, shown, StatusCode::OK))
}

pub async fn confirm(
    State(state): State<WebState>,
    peer: Peer,
    SignedInForm { signed_in, form }: SignedInForm<CodeForm>,
) -> Result<Response, PageError> {
    let SignedIn { browser, user, .. } = signed_in;
    let (shown, status) = match security::confirm_totp(&state, &user, &form.code, &peer).await? {
        TotpConfirmation::NotStarted => (error("Start the set-up again."), StatusCode::BAD_REQUEST),
        TotpConfirmation::WrongCode(enrollment) => (
            Shown {
                enrollment,
                ..error("That code is not right. Check the time on your device and try again.")
            },
            StatusCode::BAD_REQUEST,
        ),
        TotpConfirmation::Enabled { recovery_codes } => (
            Shown {
                recovery_codes: Some(recovery_codes),
                ..Shown::default()
            },
            StatusCode::OK,
        ),
    };
    Ok(page(&state, &browser, &user, shown, status))
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
        let shown = error("Wrong password or code.");
        return Ok(page(&state, &browser, &user, shown, StatusCode::UNAUTHORIZED));
    }
    let user = User {
        totp_secret: None,
        totp_pending: None,
        ..user
    };
    Ok(page(&state, &browser, &user, Shown::default(), StatusCode::OK))
}

/// New recovery codes (the old ones stop working), shown once.
pub async fn regenerate_recovery_codes(
    State(state): State<WebState>,
    SignedInForm { signed_in, .. }: SignedInForm<NoFields>,
) -> Result<Response, PageError> {
    let SignedIn { browser, user, .. } = signed_in;
    let Some(codes) = security::replace_recovery_codes(&state, &user).await? else {
        let shown = error("Turn on two-step verification first.");
        return Ok(page(&state, &browser, &user, shown, StatusCode::BAD_REQUEST));
    };
    let shown = Shown {
        recovery_codes: Some(codes),
        ..Shown::default()
    };
    Ok(page(&state, &browser, &user, shown, StatusCode::OK))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_key_reads_in_groups_of_four() {
        assert_eq!(super::in_groups_of_four("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
