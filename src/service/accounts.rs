//! People's accounts, written once for the hosted pages, the admin API and the command line:
//! made, disabled and enabled, given a new password. Each operation does everything it
//! implies, whoever calls it:
//! - every new password meets the password policy;
//! - a new password ends every session of the person (but the one it was changed from) with
//!   its refresh families and access tokens, and tells the person by mail;
//! - disabling ends every session, family and access token at once (through the revocation
//!   log, so introspection refuses them within a second on every instance);
//! - each is a security event naming who did it.
//!
//! The account area's own flows are here too: the person's name and email address, their
//! password change (under the sign-in throttle), a reset by link, their activity.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::notify::{self, ChangedBy};
pub use super::Actor;
use super::{lockout, Peer, Services};
use crate::crypto::tokens::{prefix, OpaqueSecret, SecretHash};
use crate::domain::event::{kind, EventFilter, Outcome, SecurityEvent};
use crate::domain::password_policy;
use crate::domain::user::{is_settable_claim, Email, ProfileClaims, User, Username};
use crate::domain::UnixTime;
use crate::domain::{SessionId, UserId};
use crate::i18n::Arg;
use crate::mail::Mail;
use crate::protocol::revocation;
use crate::storage::StoreError;

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

pub(super) fn invalid(field: &'static str, message: impl Into<String>) -> AccountError {
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

/// Profile claims a person may be given: the OIDC Core §5.1 claims but the verified ones.
fn check_claims(claims: &ProfileClaims) -> Result<(), AccountError> {
    match claims.keys().find(|name| !is_settable_claim(name)) {
        Some(name) => Err(invalid(
            "claims",
            format!("`{name}` is not a profile claim (OIDC Core 5.1)"),
        )),
        None => Ok(()),
    }
}

/// Makes an account. Its email is not verified until the person follows a link.
pub async fn create(services: &Services, new: NewAccount, actor: &Actor) -> Result<User, AccountError> {
    let username = Username::parse(&new.username).map_err(|e| invalid("username", e))?;
    let email = Email::parse(&new.email).map_err(|e| invalid("email", e))?;
    check_claims(&new.claims)?;
    check_password(&new.password, username.as_str(), email.as_str())?;
    let password_hash = services.passwords.hash(&new.password).await?;
    let now = services.clock.now();
    let user = User {
        id: UserId::new(uuid::Uuid::new_v4().to_string()),
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

/// Every person, in username order (the command line's list).
pub async fn list(services: &Services) -> Result<Vec<User>, AccountError> {
    Ok(services.store.list_users().await?)
}

/// The person with this id.
pub async fn find_by_id(services: &Services, id: &str) -> Result<User, AccountError> {
    services.store.find_user_by_id(id).await?.ok_or(AccountError::NotFound)
}

/// A page of people in username order, those whose username or email contains `search`.
pub async fn search(
    services: &Services,
    search: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<User>, AccountError> {
    Ok(services.store.search_users(search, offset, limit).await?)
}

/// Lifts a lockout (an operator's action): the failed sign-in history of the account and of
/// the names it signs in with is forgotten.
pub async fn unlock(services: &Services, user: &User, actor: &Actor) -> Result<(), AccountError> {
    lockout::unlock(services, user).await?;
    services
        .events
        .record(actor.event(services, kind::ACCOUNT_UNLOCKED, &user.id));
    Ok(())
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

/// An operator's change to a person (admin API): a new email address, taken at once (the
/// operator vouches for it), and profile claims replacing the old ones. Returns the person as
/// changed.
pub async fn update_by_operator(
    services: &Services,
    user: &User,
    email: Option<&Email>,
    claims: Option<&ProfileClaims>,
    actor: &Actor,
) -> Result<User, AccountError> {
    let now = services.clock.now();
    if let Some(email) = email {
        match services.store.set_user_email(&user.id, email.as_str(), now).await {
            Err(StoreError::Conflict) => return Err(invalid("email", "another account has this address")),
            other => other?,
        }
    }
    if let Some(claims) = claims {
        check_claims(claims)?;
        services.store.update_user_claims(&user.id, claims, now).await?;
    }
    services
        .events
        .record(actor.event(services, kind::ACCOUNT_CHANGED, &user.id));
    find(services, &user.id).await
}

/// Turns off the person's second factor (they lost the device): an operator's action.
pub async fn reset_second_factor(services: &Services, user: &User, actor: &Actor) -> Result<(), AccountError> {
    services.store.disable_totp(&user.id).await?;
    services
        .events
        .record(actor.event(services, kind::TOTP_DISABLED, &user.id));
    if user.has_totp() {
        notify::second_factor_changed(services, user, false, ChangedBy::Operator);
    }
    Ok(())
}

/// Ends every session of the person, with its refresh families and access tokens.
pub async fn end_sessions(services: &Services, user: &User, actor: &Actor) -> Result<(), AccountError> {
    revocation::end_user_sessions(&services.protocol(), &user.id, None, "revoked_by_admin").await?;
    services.events.record(actor.event(services, kind::LOGOUT, &user.id));
    Ok(())
}

/// Why a password changes: it decides what else happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChange<'a> {
    /// The person changed it while signed in: the session it was changed from stays.
    ByPerson { keep_sid: &'a SessionId },
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
    // A reset keeps the person's passkeys (they are not the password); the mail says so, with
    // where to remove one that was lost or taken.
    let passkeys_kept = if keep_sid.is_none() {
        services.store.list_passkeys(&user.id).await?.len()
    } else {
        0
    };
    notify::password_changed(services, user, keep_sid.is_some(), passkeys_kept);
    Ok(())
}

/// The longest display name, in characters.
const MAX_NAME_CHARS: usize = 200;

/// Sets the person's display name (the `name` claim), or removes it when blank; returns the
/// person as changed.
pub async fn set_name(services: &Services, user: &User, name: &str) -> Result<User, AccountError> {
    let name = name.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            "name",
            format!("Use at most {MAX_NAME_CHARS} characters for your name."),
        ));
    }
    let mut user = user.clone();
    if name.is_empty() {
        user.claims.remove("name");
    } else {
        user.claims.insert("name".into(), name.to_owned());
    }
    services
        .store
        .update_user_claims(&user.id, &user.claims, services.clock.now())
        .await?;
    Ok(user)
}

/// Why a new password (typed twice) may not be the person's, in words (empty when it may).
fn new_password_problems(user: &User, password: &SecretString, confirm: &SecretString) -> Vec<&'static str> {
    let mut problems = password_problems(password, &user.username, &user.email);
    if password.expose_secret() != confirm.expose_secret() {
        problems.push("The two passwords differ.");
    }
    problems
}

/// What a person's own password change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnPasswordChange {
    /// Changed; every other session was signed out.
    Changed,
    /// The account is locked by the sign-in throttle: nothing was checked.
    Locked { until: UnixTime },
    /// Not changed, for these reasons (in words).
    Refused { problems: Vec<String> },
}

/// What the password page says when the current password was wrong.
pub const CURRENT_PASSWORD_WRONG: &str = "The current password is wrong.";

/// Why changing the password is refused while the account is locked, in words.
pub fn password_locked_message(until: UnixTime, now: UnixTime) -> String {
    format!(
        "Too many wrong passwords: changing the password is locked. {} Resetting your password unlocks your account at once.",
        lockout::try_again_in(until, now)
    )
}

/// The person changes their password from session `sid`, giving the current one. Guessing the
/// current password from a session is guessing the password: the sign-in throttle of the
/// account holds here too (a wrong current password counts; a locked account is refused). The
/// session stays; every other one is signed out.
pub async fn change_own_password(
    services: &Services,
    user: &User,
    sid: &SessionId,
    current: &SecretString,
    password: &SecretString,
    confirm: &SecretString,
    peer: &Peer,
) -> Result<OwnPasswordChange, AccountError> {
    if let Some(until) = lockout::locked_until(services, lockout::account_key(user)).await? {
        services.events.record(
            peer.event(services, kind::PASSWORD_CHANGED, Outcome::Failure)
                .user(&user.id)
                .session(sid)
                .detail("account locked"),
        );
        return Ok(OwnPasswordChange::Locked { until });
    }
    let current_ok = services.passwords.verify(Some(&user.password_hash), current).await;
    let locked_now = if current_ok {
        None
    } else {
        lockout::note_failure(services, peer, None, Some(user)).await?
    };
    let mut problems: Vec<String> = Vec::new();
    if !current_ok {
        problems.push(CURRENT_PASSWORD_WRONG.to_owned());
    }
    problems.extend(
        new_password_problems(user, password, confirm)
            .into_iter()
            .map(str::to_owned),
    );
    if let Some(until) = locked_now {
        problems.push(password_locked_message(until, services.clock.now()));
    }
    if !problems.is_empty() {
        let mut event = peer
            .event(services, kind::PASSWORD_CHANGED, Outcome::Failure)
            .user(&user.id);
        if !current_ok {
            event = event.detail("wrong current password");
        }
        services.events.record(event);
        return Ok(OwnPasswordChange::Refused { problems });
    }
    let change = PasswordChange::ByPerson { keep_sid: sid };
    set_password(services, user, password, change, &Actor::Person(peer.clone())).await?;
    Ok(OwnPasswordChange::Changed)
}

/// Asks for a password reset link for `email`. The caller answers at once, the same whether
/// or not an account has the address: the work (lookup, link, mail) runs in a task of its own,
/// so an existing and a missing account cost the request the same.
pub fn request_reset(services: Arc<Services>, email: String, peer: Peer) {
    tokio::spawn(async move {
        if let Err(e) = send_reset_link(&services, &email, &peer).await {
            tracing::error!(error = %e, "password reset request failed");
        }
    });
}

async fn send_reset_link(services: &Services, email: &str, peer: &Peer) -> Result<(), StoreError> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let user = services.store.find_user_by_login(email.as_str()).await?;
    let Some(user) = user.filter(|u| u.email == email.as_str() && !u.disabled) else {
        services.events.record(
            peer.event(services, kind::RESET_REQUESTED, Outcome::Failure)
                .detail("no such account"),
        );
        return Ok(());
    };
    let now = services.clock.now();
    let ttl = services.settings.reset_token_ttl;
    let token = OpaqueSecret::generate(prefix::RESET_TOKEN);
    services
        .store
        .replace_reset_token(&user.id, token.hash().as_str(), now, now + ttl)
        .await?;
    let lang = notify::language(services);
    services.mailer.send(Mail {
        to: user.email.clone(),
        subject: lang.text_with(
            "mail-reset-subject",
            &[("brand", Arg::Str(&services.settings.brand_name))],
        ),
        body: notify::paragraphs(&[
            lang.text_with("mail-reset-asked", &[("username", Arg::Str(&user.username))]),
            lang.text_with("mail-reset-open", &[("minutes", Arg::Num(ttl / 60))]),
            format!("{}/reset/{}", services.settings.issuer, token.expose()),
            lang.text("mail-reset-not-you"),
        ]),
        kind: "password_reset",
    });
    services.events.record(
        peer.event(services, kind::RESET_REQUESTED, Outcome::Success)
            .user(&user.id),
    );
    Ok(())
}

/// The username of a reset link's person if the link works now (the newest of its person,
/// unused and unexpired): the form names the account to the browser's password manager.
pub async fn reset_link_username(services: &Services, token: &str) -> Result<Option<String>, StoreError> {
    let hash = SecretHash::of(token);
    let Some(user_id) = services
        .store
        .find_reset_token(hash.as_str(), services.clock.now())
        .await?
    else {
        return Ok(None);
    };
    Ok(services.store.find_user_by_id(&user_id).await?.map(|u| u.username))
}

/// What using a reset link came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reset {
    /// The password was changed, every session signed out and the account unlocked.
    Done,
    /// The link does not work (unknown, used, superseded or expired).
    LinkInvalid,
    /// Not changed, for these reasons (in words); the link still works.
    Refused {
        problems: Vec<&'static str>,
        username: String,
    },
}

/// Sets a new password through a reset link, which works once.
pub async fn reset_password(
    services: &Services,
    token: &str,
    password: &SecretString,
    confirm: &SecretString,
    peer: &Peer,
) -> Result<Reset, AccountError> {
    let hash = SecretHash::of(token);
    let now = services.clock.now();
    let Some(user_id) = services.store.find_reset_token(hash.as_str(), now).await? else {
        return Ok(Reset::LinkInvalid);
    };
    let Some(user) = services.store.find_user_by_id(&user_id).await? else {
        return Ok(Reset::LinkInvalid);
    };
    let problems = new_password_problems(&user, password, confirm);
    if !problems.is_empty() {
        return Ok(Reset::Refused {
            problems,
            username: user.username,
        });
    }
    // Spend the link first: of two submissions, one wins.
    if services.store.consume_reset_token(hash.as_str(), now).await?.is_none() {
        return Ok(Reset::LinkInvalid);
    }
    services.events.record(
        peer.event(services, kind::RESET_COMPLETED, Outcome::Success)
            .user(&user.id),
    );
    set_password(
        services,
        &user,
        password,
        PasswordChange::Reset,
        &Actor::Person(peer.clone()),
    )
    .await?;
    Ok(Reset::Done)
}

/// The person's newest security events (at most 50), for their activity page.
pub async fn recent_activity(services: &Services, user: &User) -> Result<Vec<SecurityEvent>, StoreError> {
    let filter = EventFilter {
        user_id: Some(user.id.to_string()),
        kind: None,
        since: None,
        limit: 50,
        offset: 0,
    };
    services.store.list_events(&filter).await
}
