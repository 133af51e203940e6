//! The account area (`/account/...`): profile and email, password, devices, apps, activity.
//! Every page needs a signed-in session (`SignedIn`); every form carries the CSRF token
//! (`SignedInForm`). A form that succeeds answers 303 to its page with a notice (Post/Redirect/
//! Get); a refused one shows its page again with the problem. The flows are in
//! `service::{accounts, sessions, apps}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use tera::Context;

use super::authorize::see_other;
use super::error::PageError;
use super::extract::{NoFields, SignedIn, SignedInForm};
use super::flash::{Flash, Notice};
use super::locale::t;
use super::paths;
use super::words::{self, readable_time};
use super::WebState;
use crate::domain::scope;
use crate::service::accounts::{self, AccountError, OwnPasswordChange};
use crate::service::email_change;
use crate::service::{apps, sessions, Peer};

/// What a page of the account area shows besides the person.
#[derive(Default)]
struct Shown {
    notice: Option<String>,
    problems: Vec<String>,
    /// The field the problems are about: it takes the focus and points at them.
    error_field: Option<&'static str>,
    devices: Option<Vec<serde_json::Value>>,
    apps: Option<Vec<serde_json::Value>>,
    events: Option<Vec<serde_json::Value>>,
    /// The address an unconfirmed email change would set.
    pending_email: Option<String>,
}

impl Shown {
    fn problems(problems: Vec<String>, field: &'static str) -> Self {
        Self {
            problems,
            error_field: Some(field),
            ..Self::default()
        }
    }
}

fn render(state: &WebState, signed_in: &SignedIn, section: &str, shown: Shown, status: StatusCode) -> Response {
    let user = &signed_in.user;
    let mut context = Context::new();
    context.insert("csrf_token", &signed_in.browser.csrf_token(&state.csrf_key));
    context.insert("section", section);
    context.insert("username", &user.username);
    context.insert("signed_in_as", &user.username);
    context.insert("email", &user.email);
    context.insert("name", user.claims.get("name").map(String::as_str).unwrap_or_default());
    context.insert("notice", &shown.notice);
    context.insert("error_field", &shown.error_field);
    context.insert("pending_email", &shown.pending_email);
    if !shown.problems.is_empty() {
        let problems: Vec<String> = shown.problems.iter().map(|p| words::from_service(p)).collect();
        context.insert("problems", &problems);
    }
    for (name, list) in [
        ("devices", shown.devices),
        ("apps", shown.apps),
        ("events", shown.events),
    ] {
        if let Some(list) = list {
            context.insert(name, &list);
        }
    }
    state.pages.render(status, "account.html", &context)
}

/// The words of a refused field, on the page (400); any other failure is a `PageError`.
fn refused(state: &WebState, signed_in: &SignedIn, section: &str, e: AccountError) -> Result<Response, PageError> {
    match e {
        AccountError::Invalid { message, field } => Ok(render(
            state,
            signed_in,
            section,
            Shown::problems(vec![message], field),
            StatusCode::BAD_REQUEST,
        )),
        other => Err(other.into()),
    }
}

/// The 303 of a form that succeeded: to `page`, which says `notice` once.
fn done(state: &WebState, signed_in: &SignedIn, page: &str, notice: Notice) -> Response {
    notice.on(state, see_other(page, &signed_in.browser, state))
}

pub async fn profile(State(state): State<WebState>, signed_in: SignedIn, flash: Flash) -> Result<Response, PageError> {
    let shown = Shown {
        pending_email: email_change::pending_email_change(&state, &signed_in.user).await?,
        ..shown(&flash)
    };
    Ok(render(&state, &signed_in, "profile", shown, StatusCode::OK))
}

fn shown(flash: &Flash) -> Shown {
    Shown {
        notice: flash.text(),
        ..Shown::default()
    }
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
}

pub async fn update_profile(
    State(state): State<WebState>,
    SignedInForm { signed_in, form }: SignedInForm<ProfileForm>,
) -> Result<Response, PageError> {
    if let Err(e) = accounts::set_name(&state, &signed_in.user, &form.name).await {
        return refused(&state, &signed_in, "profile", e);
    }
    Ok(done(&state, &signed_in, paths::ACCOUNT, Notice::Saved))
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// Sends a confirmation link to the new address; the address changes when it is opened. The
/// answer is the same whether or not another account has the address.
pub async fn change_email(
    State(state): State<WebState>,
    SignedInForm { signed_in, form }: SignedInForm<EmailForm>,
) -> Result<Response, PageError> {
    if let Err(e) = email_change::request_email_change(&state, &signed_in.user, &form.email).await {
        return refused(&state, &signed_in, "profile", e);
    }
    Ok(done(&state, &signed_in, paths::ACCOUNT, Notice::EmailSent))
}

pub async fn confirm_email(State(state): State<WebState>, Path(token): Path<String>) -> Result<Response, PageError> {
    match email_change::confirm_email_change(&state, &token).await {
        Ok(()) => Ok(state.pages.message(
            &t("email-changed-title"),
            &t("email-changed-message"),
            (paths::ACCOUNT, &t("next-account")),
        )),
        Err(AccountError::NotFound) => Err(PageError::words(
            StatusCode::BAD_REQUEST,
            "link-invalid-title",
            "email-link-invalid-message",
        )),
        Err(AccountError::Taken) => Err(PageError::words(
            StatusCode::CONFLICT,
            "address-taken-title",
            "address-taken-message",
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn password_page(State(state): State<WebState>, signed_in: SignedIn, flash: Flash) -> Response {
    render(&state, &signed_in, "password", shown(&flash), StatusCode::OK)
}

/// Not `Debug`: passwords.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(state): State<WebState>,
    peer: Peer,
    SignedInForm { signed_in, form }: SignedInForm<PasswordForm>,
) -> Result<Response, PageError> {
    let [current, password, confirm] = [form.current, form.password, form.confirm].map(SecretString::from);
    let (user, sid) = (&signed_in.user, &signed_in.session.sid);
    let (shown, status) =
        match accounts::change_own_password(&state, user, sid, &current, &password, &confirm, &peer).await? {
            OwnPasswordChange::Changed => {
                return Ok(done(
                    &state,
                    &signed_in,
                    paths::ACCOUNT_PASSWORD,
                    Notice::PasswordChanged,
                ))
            }
            OwnPasswordChange::Locked { until } => (
                Shown::problems(vec![words::password_locked(until, state.clock.now())], "current"),
                StatusCode::TOO_MANY_REQUESTS,
            ),
            OwnPasswordChange::Refused { problems } => {
                let field = if problems.iter().any(|p| p == accounts::CURRENT_PASSWORD_WRONG) {
                    "current"
                } else {
                    "password"
                };
                (Shown::problems(problems, field), StatusCode::BAD_REQUEST)
            }
        };
    Ok(render(&state, &signed_in, "password", shown, status))
}

async fn devices_page(state: &WebState, signed_in: &SignedIn, notice: Option<String>) -> Result<Response, PageError> {
    let devices = sessions::devices(state, &signed_in.user).await?;
    let list = devices
        .iter()
        .map(|s| {
            json!({
                "sid": s.sid,
                "label": words::device_label(s.user_agent.as_deref()),
                "ip": s.ip.clone().unwrap_or_default(),
                "last_seen": readable_time(s.last_seen_at),
                "created": readable_time(s.created_at),
                "current": s.sid == signed_in.session.sid,
            })
        })
        .collect();
    let shown = Shown {
        notice,
        devices: Some(list),
        ..Shown::default()
    };
    Ok(render(state, signed_in, "devices", shown, StatusCode::OK))
}

pub async fn devices(State(state): State<WebState>, signed_in: SignedIn, flash: Flash) -> Result<Response, PageError> {
    devices_page(&state, &signed_in, flash.text()).await
}

#[derive(Deserialize)]
pub struct SidForm {
    #[serde(default)]
    sid: crate::domain::SessionId,
}

pub async fn revoke_device(
    State(state): State<WebState>,
    peer: Peer,
    SignedInForm { signed_in, form }: SignedInForm<SidForm>,
) -> Result<Response, PageError> {
    sessions::sign_out_device(&state, &signed_in.user, &form.sid, &peer).await?;
    if form.sid == signed_in.session.sid {
        return Ok(Notice::SignedOut.on(&state, see_other(paths::LOGIN, &signed_in.browser, &state)));
    }
    Ok(done(
        &state,
        &signed_in,
        paths::ACCOUNT_DEVICES,
        Notice::DeviceSignedOut,
    ))
}

pub async fn revoke_other_devices(
    State(state): State<WebState>,
    peer: Peer,
    SignedInForm { signed_in, .. }: SignedInForm<NoFields>,
) -> Result<Response, PageError> {
    sessions::sign_out_other_devices(&state, &signed_in.user, &signed_in.session.sid, &peer).await?;
    Ok(done(
        &state,
        &signed_in,
        paths::ACCOUNT_DEVICES,
        Notice::OthersSignedOut,
    ))
}

async fn apps_page(state: &WebState, signed_in: &SignedIn, notice: Option<String>) -> Result<Response, PageError> {
    let list = apps::connected_apps(state, &signed_in.user)
        .await?
        .into_iter()
        .map(|a| {
            let access: Vec<String> = scope::in_reading_order(a.scope.split_whitespace().map(str::to_owned))
                .iter()
                .map(|s| words::scope_description(s))
                .collect();
            json!({ "client_id": a.client_id, "name": a.name, "access": access })
        })
        .collect();
    let shown = Shown {
        notice,
        apps: Some(list),
        ..Shown::default()
    };
    Ok(render(state, signed_in, "apps", shown, StatusCode::OK))
}

pub async fn apps(State(state): State<WebState>, signed_in: SignedIn, flash: Flash) -> Result<Response, PageError> {
    apps_page(&state, &signed_in, flash.text()).await
}

#[derive(Deserialize)]
pub struct ClientForm {
    #[serde(default)]
    client_id: String,
}

/// Revokes every grant family the person has with the client and forgets their consent.
pub async fn remove_app(
    State(state): State<WebState>,
    peer: Peer,
    SignedInForm { signed_in, form }: SignedInForm<ClientForm>,
) -> Result<Response, PageError> {
    apps::remove_access(&state, &signed_in.user, &form.client_id, &peer).await?;
    Ok(done(&state, &signed_in, paths::ACCOUNT_APPS, Notice::AccessRemoved))
}

pub async fn activity(State(state): State<WebState>, signed_in: SignedIn, flash: Flash) -> Result<Response, PageError> {
    let rows = accounts::recent_activity(&state, &signed_in.user)
        .await?
        .iter()
        .map(|e| {
            json!({
                "at": readable_time(e.at),
                "what": words::event_sentence(&e.kind, &e.outcome),
                "outcome": words::outcome_word(&e.outcome),
                "ip": e.ip.clone().unwrap_or_default(),
            })
        })
        .collect();
    let shown = Shown {
        events: Some(rows),
        ..shown(&flash)
    };
    Ok(render(&state, &signed_in, "activity", shown, StatusCode::OK))
}
