//! People's accounts, written once for the hosted pages, the admin API and the command line:
//! made, disabled and enabled, given a new password. Each operation does everything it
//! implies, whoever calls it:
//! - every new password meets the password policy;
//! - a new password ends every session of the person (but the one it was changed from) with
//!   its refresh families and access tokens, and tells the person by mail;
//! - disabling ends every session, family and access token at once (through the revocation
//!   log, so introspection refuses them within a second on every instance);
//! - each is a security event naming who did it.

use secrecy::{ExposeSecret, SecretString};

use super::{lockout, Peer, Services};
use crate::domain::event::{kind, Outcome, SecurityEvent};
use crate::domain::password_policy;
use crate::domain::user::{is_settable_claim, Email, ProfileClaims, User, Username};
use crate::mail::Mail;
use crate::protocol::revocation;
use crate::storage::StoreError;

/// Who asks for a change: the person themself (from a browser), an operator through the
/// admin API (its client id), or the command line. Named in the security event.
#[derive(Debug, Clone)]
pub enum Actor {
    Person(Peer),
    AdminClient(String),
    CommandLine,
}

impl Actor {
    fn event(&self, services: &Services, kind: &str, user_id: &str) -> SecurityEvent {
        let event = match self {
            Self::Person(peer) => peer.event(services, kind, Outcome::Success),
            Self::AdminClient(client_id) => SecurityEvent::new(services.clock.now(), kind, Outcome::Success)
                .client(client_id)
                .detail("admin API"),
            Self::CommandLine => {
                SecurityEvent::new(services.clock.now(), kind, Outcome::Success).detail("command line")
            }
        };
        event.user(user_id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A field is wrong; the message says how, in words a person understands.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("that username or email is already taken")]
    Taken,
    #[error("no such person")]
    NotFound,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<crate::crypto::password::PasswordError> for AccountError {
    fn from(e: crate::crypto::password::PasswordError) -> Self {
        Self::Failed(e.into())
    }
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Taken,
            StoreError::NotFound => Self::NotFound,
            other => Self::Failed(other.into()),
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> AccountError {
    AccountError::Invalid {
        field,
        message: message.into(),
    }
}

/// What a new account is made from; the password is checked against the policy.
pub struct NewAccount {
    pub username: String,
    pub email: String,
    pub password: SecretString,
    pub claims: ProfileClaims,
}

/// Why `password` may not be the password of the person with this username and email, in
/// words (empty when it may).
pub fn password_problems(password: &SecretString, username: &str, email: &str) -> Vec<&'static str> {
    password_policy::problems(password.expose_secret(), username, email)
}

fn check_password(password: &SecretString, username: &str, email: &str) -> Result<(), AccountError> {
    let problems = password_problems(password, username, email);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid("password", problems.join(" ")))
    }
}

/// Makes an account. Its email is not verified until the person follows a link.
pub async fn create(services: &Services, new: NewAccount, actor: &Actor) -> Result<User, AccountError> {
    let username = Username::parse(&new.username).map_err(|e| invalid("username", e))?;
    let email = Email::parse(&new.email).map_err(|e| invalid("email", e))?;
    if let Some(name) = new.claims.keys().find(|name| !is_settable_claim(name)) {
        return Err(invalid(
            "claims",
            format!("`{name}` is not a profile claim (OIDC Core 5.1)"),
        ));
    }
    check_password(&new.password, username.as_str(), email.as_str())?;
    let password_hash = services.passwords.hash(&new.password).await?;
    let now = services.clock.now();
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        username: username.as_str().to_owned(),
        email: email.as_str().to_owned(),
        email_verified: false,
        password_hash,
        disabled: false,
        claims: new.claims,
        totp_secret: None,
        totp_pending: None,
        created_at: now,
        updated_at: now,
    };
    services.store.insert_user(&user).await?;
    services
        .events
        .record(actor.event(services, kind::ACCOUNT_CREATED, &user.id));
    Ok(user)
}

/// The person `who` names: an id, a username or an email.
pub async fn find(services: &Services, who: &str) -> Result<User, AccountError> {
    if let Some(user) = services.store.find_user_by_id(who).await? {
        return Ok(user);
    }
    services
        .store
        .find_user_by_login(who)
        .await?
        .ok_or(AccountError::NotFound)
}

/// Disables the account and ends everything it was signed in with: sessions, refresh families
/// and (through the revocation log) access tokens.
pub async fn disable(services: &Services, user: &User, actor: &Actor) -> Result<(), AccountError> {
    let ctx = services.protocol();
    if !services.store.set_user_disabled(&user.id, true, ctx.now).await? {
        return Err(AccountError::NotFound);
    }
    revocation::end_user_sessions(&ctx, &user.id, None, "disabled").await?;
    services
        .events
        .record(actor.event(services, kind::ACCOUNT_DISABLED, &user.id));
    Ok(())
}

pub async fn enable(services: &Services, user: &User, actor: &Actor) -> Result<(), AccountError> {
    if !services
        .store
        .set_user_disabled(&user.id, false, services.clock.now())
        .await?
    {
        return Err(AccountError::NotFound);
    }
    services
        .events
        .record(actor.event(services, kind::ACCOUNT_ENABLED, &user.id));
    Ok(())
}

/// Why a password changes: it decides what else happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChange<'a> {
    /// The person changed it while signed in: the session it was changed from stays.
    ByPerson { keep_sid: &'a str },
    /// Through a reset link: the account is unlocked as well.
    Reset,
    /// An operator set it (admin API, command line): the account is unlocked as well.
    ByOperator,
}

/// Gives the person a new password (checked against the policy), ends every other session with
/// its refresh families and access tokens, records the change and tells the person by mail.
pub async fn set_password(
    services: &Services,
    user: &User,
    password: &SecretString,
    change: PasswordChange<'_>,
    actor: &Actor,
) -> Result<(), AccountError> {
    check_password(password, &user.username, &user.email)?;
    let hash = services.passwords.hash(password).await?;
    let ctx = services.protocol();
    if !services.store.set_user_password(&user.id, &hash, ctx.now).await? {
        return Err(AccountError::NotFound);
    }
    let keep_sid = match change {
        PasswordChange::ByPerson { keep_sid } => Some(keep_sid),
        PasswordChange::Reset | PasswordChange::ByOperator => None,
    };
    revocation::end_user_sessions(&ctx, &user.id, keep_sid, "password_changed").await?;
    if keep_sid.is_none() {
        lockout::unlock(services, user).await?;
    }
    let how = match change {
        PasswordChange::ByPerson { .. } => "changed",
        PasswordChange::Reset => "reset",
        PasswordChange::ByOperator => "set by an administrator",
    };
    services
        .events
        .record(actor.event(services, kind::PASSWORD_CHANGED, &user.id).detail(how));
    mail_password_changed(services, user, keep_sid.is_some());
    Ok(())
}

fn mail_password_changed(services: &Services, user: &User, kept_this_session: bool) {
    if user.email.is_empty() {
        return;
    }
    let signed_out = if kept_this_session {
        "every other session of it was signed out"
    } else {
        "every session of it was signed out"
    };
    services.mailer.send(Mail {
        to: user.email.clone(),
        subject: "Your Keyhaven password was changed".into(),
        body: format!(
            "The password of the account {} was just changed, and {signed_out}.\n\nIf it was not you, reset your password now at {}/reset and tell your administrator.\n",
            user.username, services.settings.issuer
        ),
        kind: "password_changed",
    });
}
