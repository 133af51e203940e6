//! `/admin/v1/users` and `/admin/v1/sessions`: people and their sessions, through the
//! accounts service (as the command line and the account pages); a person's passkeys, listed
//! and removed through `service::passkeys`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::schema::{EmailIn, Limit, Offset, ProfileClaims, Text, UsernameIn};
use super::{Admin, AdminError, AdminPath, AdminQuery, BadRequest, FieldError, JsonBody, NotFound, Refused};
use crate::domain::user::User;
use crate::domain::SessionId;
use crate::http::ApiState;
use crate::service::accounts::{self, NewAccount};
use crate::service::admin::{self, SessionRecord};
use crate::service::passkeys::{self, PasskeyRecord};

/// A person as the admin API shows them (never a hash or secret).
#[derive(Serialize, ToSchema)]
pub struct UserOut {
    id: String,
    username: String,
    email: String,
    email_verified: bool,
    disabled: bool,
    totp: bool,
    claims: BTreeMap<String, String>,
    created_at: i64,
    updated_at: i64,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            disabled: u.disabled,
            totp: u.has_totp(),
            claims: u.claims.clone(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A page of people, in username order.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of a username or email.
    #[param(inline)]
    pub search: Option<Text<0, 200>>,
    /// How many to skip (0 when left out); more than 1,000,000 is a 400 naming `offset`.
    #[serde(default)]
    #[param(inline)]
    pub offset: Offset,
    /// How many to answer (50 when left out); outside 1 to 1000 is a 400 naming `limit`,
    /// never clamped.
    #[serde(default)]
    #[param(inline)]
    pub limit: Limit,
}

/// A person's password: the policy also refuses common ones and the username or email.
pub type Password = Text<12, 256>;

/// A new person. The password must pass the password policy.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "username": "bob", "email": "bob@example.com",
    "password": "violet kettle marmalade", "claims": { "name": "Bob" } }))]
pub struct NewUser {
    #[schema(inline)]
    pub username: UsernameIn,
    #[schema(inline)]
    pub email: EmailIn,
    #[schema(inline)]
    pub password: Password,
    #[serde(default)]
    #[schema(inline)]
    pub claims: Option<ProfileClaims>,
}

/// Changes to a person: only the members given change; `claims` replaces them all.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    #[serde(default)]
    #[schema(inline)]
    pub email: Option<EmailIn>,
    #[serde(default)]
    #[schema(inline)]
    pub claims: Option<ProfileClaims>,
}

/// The person named in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The person's id.
    pub id: String,
}

/// What an operator can do to a person.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UserAction {
    /// Refuse sign-in and end every session.
    Disable,
    Enable,
    /// Clear the failed sign-in history (ends a lockout).
    Unlock,
    /// Turn off two-step sign-in.
    ResetTotp,
    /// End every session and its refresh tokens.
    RevokeSessions,
}

impl UserAction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Enable => "enable",
            Self::Unlock => "unlock",
            Self::ResetTotp => "reset-totp",
            Self::RevokeSessions => "revoke-sessions",
        }
    }
}

/// A person and what to do to them.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserActionPath {
    /// The person's id.
    pub id: String,
    #[param(inline)]
    pub action: UserAction,
}

#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    sid: String,
    user_id: String,
    created_at: i64,
    last_seen_at: i64,
    auth_time: i64,
    amr: Vec<String>,
    ip: Option<String>,
    device: String,
}

impl From<SessionRecord> for SessionOut {
    fn from(s: SessionRecord) -> Self {
        Self {
            device: crate::domain::device::label(s.user_agent.as_deref()),
            sid: s.sid.into(),
            user_id: s.user_id.into(),
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            auth_time: s.auth_time,
            amr: s.amr,
            ip: s.ip,
        }
    }
}

/// The session named in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SessionPath {
    /// The session id (`sid` in tokens).
    pub sid: String,
}

#[utoipa::path(get, path = "/admin/v1/users", params(UserQuery), responses(
    (status = 200, description = "A page of people", body = [UserOut]), BadRequest, Refused))]
pub(super) async fn list_users(
    admin: Admin,
    State(state): State<ApiState>,
    AdminQuery(q): AdminQuery<UserQuery>,
) -> Result<Response, AdminError> {
    let search = q.search.as_ref().map(Text::as_str);
    let users = accounts::search(&state, search, q.offset.get(), q.limit.get()).await?;
    admin.record(&state, "list", "users");
    Ok(Json(users.iter().map(UserOut::from).collect::<Vec<_>>()).into_response())
}

#[utoipa::path(post, path = "/admin/v1/users", request_body = NewUser, responses(
    (status = 201, description = "Made", body = UserOut), BadRequest,
    (status = 409, description = "The username or email is taken", body = FieldError), Refused))]
pub(super) async fn create_user(
    admin: Admin,
    State(state): State<ApiState>,
    JsonBody(new): JsonBody<NewUser>,
) -> Result<Response, AdminError> {
    let NewUser {
        username: UsernameIn(username),
        email: EmailIn(email),
        password,
        claims,
    } = new;
    let new = NewAccount {
        username: username.as_str().to_owned(),
        email: email.as_str().to_owned(),
        password: SecretString::from(password.into_string()),
        claims: claims.map(|c| c.0).unwrap_or_default(),
    };
    let user = accounts::create(&state, new, &admin.0.actor()).await?;
    admin.record(&state, "create user", &user.id);
    Ok((StatusCode::CREATED, Json(UserOut::from(&user))).into_response())
}

#[utoipa::path(get, path = "/admin/v1/users/{id}", params(UserPath), responses(
    (status = 200, description = "The person", body = UserOut), NotFound, Refused))]
pub(super) async fn get_user(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<UserPath>,
) -> Result<Response, AdminError> {
    let user = accounts::find_by_id(&state, &path.id).await?;
    admin.record(&state, "get user", &path.id);
    Ok(Json(UserOut::from(&user)).into_response())
}

#[utoipa::path(patch, path = "/admin/v1/users/{id}", params(UserPath), request_body = UserChanges, responses(
    (status = 200, description = "The changed person", body = UserOut), BadRequest, NotFound, Refused))]
pub(super) async fn update_user(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<UserPath>,
    JsonBody(changes): JsonBody<UserChanges>,
) -> Result<Response, AdminError> {
    let user = accounts::find_by_id(&state, &path.id).await?;
    let email = changes.email.map(|e| e.0);
    let claims = changes.claims.map(|c| c.0);
    let user = accounts::update_by_operator(&state, &user, email.as_ref(), claims.as_ref(), &admin.0.actor()).await?;
    admin.record(&state, "update user", &path.id);
    Ok(Json(UserOut::from(&user)).into_response())
}

#[utoipa::path(post, path = "/admin/v1/users/{id}/{action}", params(UserActionPath), responses(
    (status = 200, description = "The person afterwards", body = UserOut), NotFound, Refused))]
pub(super) async fn user_action(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<UserActionPath>,
) -> Result<Response, AdminError> {
    let user = accounts::find_by_id(&state, &path.id).await?;
    let actor = admin.0.actor();
    match path.action {
        UserAction::Disable => accounts::disable(&state, &user, &actor).await?,
        UserAction::Enable => accounts::enable(&state, &user, &actor).await?,
        UserAction::Unlock => accounts::unlock(&state, &user, &actor).await?,
        UserAction::ResetTotp => accounts::reset_second_factor(&state, &user, &actor).await?,
        UserAction::RevokeSessions => accounts::end_sessions(&state, &user, &actor).await?,
    }
    admin.record(&state, path.action.as_str(), &path.id);
    let user = accounts::find_by_id(&state, &path.id).await?;
    Ok(Json(UserOut::from(&user)).into_response())
}

#[utoipa::path(get, path = "/admin/v1/users/{id}/sessions", params(UserPath), responses(
    (status = 200, description = "The person's live sessions", body = [SessionOut]), NotFound, Refused))]
pub(super) async fn list_sessions(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<UserPath>,
) -> Result<Response, AdminError> {
    let user = accounts::find_by_id(&state, &path.id).await?;
    let sessions = admin::sessions_of(&state, &user).await?;
    admin.record(&state, "list sessions of user", &path.id);
    Ok(Json(sessions.into_iter().map(SessionOut::from).collect::<Vec<_>>()).into_response())
}

#[utoipa::path(delete, path = "/admin/v1/sessions/{sid}", params(SessionPath), responses(
    (status = 204, description = "Ended, with its refresh tokens"), NotFound, Refused))]
pub(super) async fn revoke_session(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<SessionPath>,
) -> Result<Response, AdminError> {
    if !admin::end_session(&state, &SessionId::from(path.sid.as_str()), &admin.0.actor()).await? {
        return Err(AdminError::NotFound);
    }
    admin.record(&state, "revoke session", &path.sid);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A passkey as the admin API shows it (no key material).
#[derive(Serialize, ToSchema)]
pub struct PasskeyOut {
    /// The credential id, base64url.
    credential_id: String,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
    backup_eligible: bool,
    backed_up: bool,
    /// The authenticator model's AAGUID, when its attestation was verified
    /// (`passkey_attestation_ca_file`); null for a passkey added with attestation none.
    aaguid: Option<String>,
}

impl From<PasskeyRecord> for PasskeyOut {
    fn from(p: PasskeyRecord) -> Self {
        Self {
            credential_id: p.credential_id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            backup_eligible: p.backup_eligible,
            backed_up: p.backed_up,
            aaguid: p.aaguid,
        }
    }
}

/// One passkey of the person named in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PasskeyPath {
    /// The person's id.
    pub id: String,
    /// The passkey's credential id, as listed.
    pub credential_id: String,
}

#[utoipa::path(get, path = "/admin/v1/users/{id}/passkeys", params(UserPath), responses(
    (status = 200, description = "The person's passkeys, oldest first", body = [PasskeyOut]), NotFound, Refused))]
pub(super) async fn list_passkeys(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<UserPath>,
) -> Result<Response, AdminError> {
    let user = accounts::find_by_id(&state, &path.id).await?;
    let listed = passkeys::list(&state, &user.id).await?;
    admin.record(&state, "list passkeys of user", &path.id);
    Ok(Json(listed.into_iter().map(PasskeyOut::from).collect::<Vec<_>>()).into_response())
}

#[utoipa::path(delete, path = "/admin/v1/users/{id}/passkeys/{credential_id}", params(PasskeyPath), responses(
    (status = 204, description = "Removed; the person is mailed"), NotFound, Refused))]
pub(super) async fn delete_passkey(
    admin: Admin,
    State(state): State<ApiState>,
    AdminPath(path): AdminPath<PasskeyPath>,
) -> Result<Response, AdminError> {
    let user = accounts::find_by_id(&state, &path.id).await?;
    passkeys::remove_by_operator(&state, &user, &path.credential_id, &admin.0.actor()).await?;
    admin.record(&state, "delete passkey", &path.id);
    Ok(StatusCode::NO_CONTENT.into_response())
}
