//! The account area (`/account/...`): profile and email, password, devices, apps, activity.
//! Every page needs a signed-in session; every form carries the CSRF token.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use tera::Context;

use super::authorize::see_other;
use super::browser::Browser;
use super::login::{internal, peer_of};
use super::security::{signed_in_page, signed_in_post};
use super::WebState;
use crate::crypto::tokens::{OpaqueSecret, SecretHash};
use crate::domain::event::{kind, EventFilter, Outcome};
use crate::domain::password_policy;
use crate::domain::user::{Email, User};
use crate::domain::UnixTime;
use crate::mail::Mail;
use crate::protocol::revocation;
use crate::service::accounts::{self, Actor, PasswordChange};
use crate::service::lockout;
use crate::storage::{SessionRecord, StoreError};

const EMAIL_CHANGE_TTL: i64 = 3600;

fn when(at: UnixTime) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(at).unwrap_or(0)),
    )
    .to_string()
}

fn render(
    state: &WebState,
    browser: &Browser,
    user: &User,
    section: &str,
    fill: impl FnOnce(&mut Context),
    status: StatusCode,
) -> Response {
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("section", section);
    context.insert("username", &user.username);
    context.insert("email", &user.email);
    context.insert("name", user.claims.get("name").map(String::as_str).unwrap_or_default());
    fill(&mut context);
    state.pages.render(status, "account.html", &context)
}

macro_rules! or_respond {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(response) => return response,
        }
    };
}

pub async fn profile(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let (browser, _, user) = or_respond!(signed_in_page(&state, &headers).await);
    render(&state, &browser, &user, "profile", |_| {}, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct ProfileForm {
    csrf_token: Option<String>,
    #[serde(default)]
    name: String,
}

pub async fn update_profile(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<ProfileForm>,
) -> Response {
    let (browser, _, mut user) = or_respond!(signed_in_post(&state, &headers, form.csrf_token.as_deref()).await);
    let name = form.name.trim();
    if name.chars().count() > 200 {
        return render(
            &state,
            &browser,
            &user,
            "profile",
            |c| c.insert("problems", &["Use at most 200 characters for your name."]),
            StatusCode::BAD_REQUEST,
        );
    }
    if name.is_empty() {
        user.claims.remove("name");
    } else {
        user.claims.insert("name".into(), name.to_owned());
    }
    if let Err(e) = state
        .store
        .update_user_claims(&user.id, &user.claims, state.clock.now())
        .await
    {
        return internal(&state, e);
    }
    render(
        &state,
        &browser,
        &user,
        "profile",
        |c| c.insert("notice", "Saved."),
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct EmailForm {
    csrf_token: Option<String>,
    #[serde(default)]
    email: String,
}

/// Sends a confirmation link to the new address; the address changes when it is opened. The
/// answer is the same whether or not another account has the address.
pub async fn change_email(State(state): State<WebState>, headers: HeaderMap, Form(form): Form<EmailForm>) -> Response {
    let (browser, _, user) = or_respond!(signed_in_post(&state, &headers, form.csrf_token.as_deref()).await);
    let Ok(email) = Email::parse(&form.email) else {
        return render(
            &state,
            &browser,
            &user,
            "profile",
            |c| c.insert("problems", &["That is not an email address."]),
            StatusCode::BAD_REQUEST,
        );
    };
    let now = state.clock.now();
    let token = OpaqueSecret::generate("khe_");
    if let Err(e) = state
        .store
        .replace_email_change(
            &user.id,
            token.hash().as_str(),
            email.as_str(),
            now,
            now + EMAIL_CHANGE_TTL,
        )
        .await
    {
        return internal(&state, e);
    }
    state.mailer.send(Mail {
        to: email.as_str().to_owned(),
        subject: "Confirm your new Keyhaven email address".into(),
        body: format!(
            "To make this the email address of the account {}, open this link within an hour:\n\n{}/account/email/confirm/{}\n\nIf you did not ask for it, ignore this message.\n",
            user.username,
            state.settings.issuer,
            token.expose()
        ),
        kind: "email_change",
    });
    render(
        &state,
        &browser,
        &user,
        "profile",
        |c| c.insert("notice", "We sent a confirmation link to the new address."),
        StatusCode::OK,
    )
}

pub async fn confirm_email(State(state): State<WebState>, Path(token): Path<String>) -> Response {
    let now = state.clock.now();
    let (user_id, email) = match state
        .store
        .consume_email_change(SecretHash::of(&token).as_str(), now)
        .await
    {
        Ok(Some(found)) => found,
        Ok(None) => {
            return state.pages.error(
                StatusCode::BAD_REQUEST,
                "This link is no longer valid",
                "Ask for a new confirmation link from your account.",
            )
        }
        Err(e) => return internal(&state, e),
    };
    match state.store.set_user_email(&user_id, &email, now).await {
        Ok(()) => state
            .pages
            .message("Email address changed", "Your account now uses the new address."),
        Err(StoreError::Conflict) => state.pages.error(
            StatusCode::CONFLICT,
            "Address in use",
            "Another account uses this address.",
        ),
        Err(e) => internal(&state, e),
    }
}

pub async fn password_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let (browser, _, user) = or_respond!(signed_in_page(&state, &headers).await);
    render(&state, &browser, &user, "password", |_| {}, StatusCode::OK)
}

/// Not `Debug`: passwords.
#[derive(Deserialize)]
pub struct PasswordForm {
    csrf_token: Option<String>,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let (browser, session, user) = or_respond!(signed_in_post(&state, &headers, form.csrf_token.as_deref()).await);
    let peer = peer_of(&state, peer, &headers);
    // Guessing the current password from a session is guessing the password: the sign-in
    // throttle of the account holds here too. The session stays.
    let locked = match lockout::locked_until(&state.services, lockout::account_key(&user)).await {
        Ok(locked) => locked,
        Err(e) => return internal(&state, e),
    };
    if let Some(until) = locked {
        state.events.record(
            peer.event(&state.services, kind::PASSWORD_CHANGED, Outcome::Failure)
                .user(&user.id)
                .session(&session.sid)
                .detail("account locked"),
        );
        return render(
            &state,
            &browser,
            &user,
            "password",
            |c| c.insert("problems", &[locked_message(until)]),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let current = SecretString::from(form.current);
    let password = SecretString::from(form.password);
    let mut problems = Vec::new();
    let current_ok = state.passwords.verify(Some(&user.password_hash), &current).await;
    let mut locked_now = None;
    if !current_ok {
        problems.push("The current password is wrong.".to_owned());
        locked_now = match lockout::note_failure(&state.services, &peer, None, Some(&user)).await {
            Ok(locked) => locked,
            Err(e) => return internal(&state, e),
        };
    }
    problems.extend(
        password_policy::problems(password.expose_secret(), &user.username, &user.email)
            .into_iter()
            .map(str::to_owned),
    );
    if password.expose_secret() != form.confirm.as_str() {
        problems.push("The two passwords differ.".to_owned());
    }
    if let Some(until) = locked_now {
        problems.push(locked_message(until));
    }
    if !problems.is_empty() {
        let mut event = peer
            .event(&state, kind::PASSWORD_CHANGED, Outcome::Failure)
            .user(&user.id);
        if !current_ok {
            event = event.detail("wrong current password");
        }
        state.events.record(event);
        return render(
            &state,
            &browser,
            &user,
            "password",
            |c| c.insert("problems", &problems),
            StatusCode::BAD_REQUEST,
        );
    }
    let change = PasswordChange::ByPerson { keep_sid: &session.sid };
    if let Err(e) = accounts::set_password(&state, &user, &password, change, &Actor::Person(peer)).await {
        return internal(&state, e);
    }
    render(
        &state,
        &browser,
        &user,
        "password",
        |c| c.insert("notice", "Password changed. Every other device was signed out."),
        StatusCode::OK,
    )
}

fn locked_message(until: UnixTime) -> String {
    format!(
        "Too many wrong passwords: changing the password is locked until {} (UTC). A password reset unlocks it at once.",
        lockout::when(until)
    )
}

pub async fn devices(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let (browser, current, user) = or_respond!(signed_in_page(&state, &headers).await);
    devices_page(&state, &browser, &current, &user, None).await
}

async fn devices_page(
    state: &WebState,
    browser: &Browser,
    current: &SessionRecord,
    user: &User,
    notice: Option<&str>,
) -> Response {
    let sessions = match state.store.list_live_sessions(&user.id, state.clock.now()).await {
        Ok(sessions) => sessions,
        Err(e) => return internal(state, e),
    };
    let idle_limit = state.clock.now() - state.settings.session_idle_ttl;
    let list: Vec<_> = sessions
        .iter()
        .filter(|s| s.last_seen_at > idle_limit)
        .map(|s| {
            json!({
                "sid": s.sid,
                "label": crate::domain::device::label(s.user_agent.as_deref()),
                "ip": s.ip.clone().unwrap_or_default(),
                "last_seen": when(s.last_seen_at),
                "created": when(s.created_at),
                "current": s.sid == current.sid,
            })
        })
        .collect();
    render(
        state,
        browser,
        user,
        "devices",
        |c| {
            c.insert("devices", &list);
            c.insert("notice", &notice);
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct SidForm {
    csrf_token: Option<String>,
    #[serde(default)]
    sid: String,
}

pub async fn revoke_device(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SidForm>,
) -> Response {
    let (browser, current, user) = or_respond!(signed_in_post(&state, &headers, form.csrf_token.as_deref()).await);
    let owned = match state.store.find_session_by_sid(&form.sid).await {
        Ok(found) => found.is_some_and(|s| s.user_id == user.id),
        Err(e) => return internal(&state, e),
    };
    if owned {
        let ctx = state.protocol();
        if let Err(e) = revocation::end_session(&ctx, &form.sid, "signed_out_from_account").await {
            return internal(&state, e);
        }
        let peer = peer_of(&state, peer, &headers);
        state.events.record(
            peer.event(&state.services, kind::LOGOUT, Outcome::Success)
                .user(&user.id)
                .session(&form.sid)
                .detail("from the devices page"),
        );
    }
    if form.sid == current.sid {
        return see_other(crate::http::routes::LOGIN, &browser, &state);
    }
    devices_page(&state, &browser, &current, &user, Some("Signed out.")).await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf_token: Option<String>,
}

pub async fn revoke_other_devices(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let (browser, current, user) = or_respond!(signed_in_post(&state, &headers, form.csrf_token.as_deref()).await);
    let ctx = state.protocol();
    if let Err(e) =
        revocation::end_user_sessions(&ctx, &user.id, Some(&current.sid), "signed_out_everywhere_else").await
    {
        return internal(&state, e);
    }
    let peer = peer_of(&state, peer, &headers);
    state.events.record(
        peer.event(&state.services, kind::LOGOUT, Outcome::Success)
            .user(&user.id)
            .detail("everywhere else"),
    );
    devices_page(
        &state,
        &browser,
        &current,
        &user,
        Some("Every other device was signed out."),
    )
    .await
}

pub async fn apps(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let (browser, _, user) = or_respond!(signed_in_page(&state, &headers).await);
    apps_page(&state, &browser, &user, None).await
}

async fn apps_page(state: &WebState, browser: &Browser, user: &User, notice: Option<&str>) -> Response {
    let now = state.clock.now();
    let (consents, families) = match (
        state.store.list_consents(&user.id).await,
        state.store.list_live_families(&user.id, now).await,
    ) {
        (Ok(c), Ok(f)) => (c, f),
        (Err(e), _) | (_, Err(e)) => return internal(state, e),
    };
    let mut client_ids: BTreeSet<String> = consents.iter().map(|(c, _, _)| c.clone()).collect();
    client_ids.extend(families.iter().map(|f| f.client_id.clone()));
    let mut list = Vec::new();
    for id in client_ids {
        let name = match state.store.find_client(&id).await {
            Ok(Some(client)) => client.name,
            Ok(None) => continue,
            Err(e) => return internal(state, e),
        };
        let scope = consents
            .iter()
            .find(|(c, _, _)| *c == id)
            .map(|(_, s, _)| s.clone())
            .or_else(|| families.iter().find(|f| f.client_id == id).map(|f| f.scope.clone()))
            .unwrap_or_default();
        list.push(json!({ "client_id": id, "name": name, "scope": scope }));
    }
    render(
        state,
        browser,
        user,
        "apps",
        |c| {
            c.insert("apps", &list);
            c.insert("notice", &notice);
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct ClientForm {
    csrf_token: Option<String>,
    #[serde(default)]
    client_id: String,
}

/// Revokes every grant family the person has with the client and forgets their consent.
pub async fn remove_app(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ClientForm>,
) -> Response {
    let (browser, _, user) = or_respond!(signed_in_post(&state, &headers, form.csrf_token.as_deref()).await);
    let ctx = state.protocol();
    let result = async {
        for family in ctx
            .store
            .revoke_client_families(&user.id, &form.client_id, ctx.now, "access_removed")
            .await?
        {
            revocation::record_family_revoked(&ctx, &family).await?;
        }
        ctx.store.delete_consent(&user.id, &form.client_id).await
    }
    .await;
    if let Err(e) = result {
        return internal(&state, e);
    }
    let peer = peer_of(&state, peer, &headers);
    state.events.record(
        peer.event(&state.services, kind::TOKEN_REVOKED, Outcome::Success)
            .user(&user.id)
            .client(&form.client_id)
            .detail("access removed by the person"),
    );
    apps_page(&state, &browser, &user, Some("Access removed.")).await
}

pub async fn activity(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let (browser, _, user) = or_respond!(signed_in_page(&state, &headers).await);
    let filter = EventFilter {
        user_id: Some(user.id.clone()),
        kind: None,
        since: None,
        limit: 50,
        offset: 0,
    };
    let events = match state.store.list_events(&filter).await {
        Ok(events) => events,
        Err(e) => return internal(&state, e),
    };
    let rows: Vec<_> = events
        .iter()
        .map(|e| json!({ "at": when(e.at), "kind": e.kind, "outcome": e.outcome, "ip": e.ip.clone().unwrap_or_default() }))
        .collect();
    render(
        &state,
        &browser,
        &user,
        "activity",
        |c| c.insert("events", &rows),
        StatusCode::OK,
    )
}
