//! A person's email address changes: a link to the new address confirms it; the old address is
//! told, with a link that puts it back; the account page shows a change waiting for its link.

use super::accounts::{invalid, AccountError};
use super::notify;
use super::{Peer, Services};
use crate::crypto::tokens::{prefix, OpaqueSecret, SecretHash};
use crate::domain::event::{kind, Outcome, SecurityEvent};
use crate::domain::user::{Email, User};
use crate::domain::UserId;
use crate::i18n::Arg;
use crate::mail::Mail;
use crate::protocol::revocation;
use crate::storage::StoreError;

/// How long a link confirming a new email address works.
const EMAIL_CHANGE_TTL: i64 = 3600;

/// Sends a link to `email`; the address becomes the person's when it is opened. Whether
/// another account has the address shows only then, to whoever holds the link.
pub async fn request_email_change(services: &Services, user: &User, email: &str) -> Result<(), AccountError> {
    let email = Email::parse(email).map_err(|_| invalid("email", "That is not an email address."))?;
    let now = services.clock.now();
    let token = OpaqueSecret::generate("khe_");
    services
        .store
        .replace_email_change(
            &user.id,
            token.hash().as_str(),
            email.as_str(),
            now,
            now + EMAIL_CHANGE_TTL,
        )
        .await?;
    let lang = notify::language(services);
    services.mailer.send(Mail {
        to: email.as_str().to_owned(),
        subject: lang.text_with(
            "mail-email-confirm-subject",
            &[("brand", Arg::Str(&services.settings.brand_name))],
        ),
        body: notify::paragraphs(&[
            lang.text_with("mail-email-confirm-body", &[("username", Arg::Str(&user.username))]),
            format!("{}/account/email/confirm/{}", services.settings.issuer, token.expose()),
            lang.text("mail-email-confirm-ignore"),
        ]),
        kind: "email_change",
    });
    Ok(())
}

/// Spends an email-change link and gives the person the new address. `NotFound` when the link
/// is unknown, used or expired; `Taken` when another account has the address now.
///
/// The old address is told, with a link that puts it back ([`restore_email`]) for
/// [`EMAIL_RESTORE_TTL`]: whoever took the account over by changing the address can no longer
/// receive a reset link, and the owner of the old one can still undo it.
pub async fn confirm_email_change(services: &Services, token: &str) -> Result<(), AccountError> {
    let now = services.clock.now();
    let (user_id, email) = services
        .store
        .consume_email_change(SecretHash::of(token).as_str(), now)
        .await?
        .ok_or(AccountError::NotFound)?;
    let before = services.store.find_user_by_id(&user_id).await?;
    services.store.set_user_email(&user_id, &email, now).await?;
    services.events.record(
        SecurityEvent::new(now, kind::ACCOUNT_CHANGED, Outcome::Success)
            .user(UserId::new(user_id.clone()))
            .detail("email address changed"),
    );
    let Some(before) = before.filter(|u| !u.email.is_empty() && u.email != email) else {
        return Ok(());
    };
    let restore = OpaqueSecret::generate(prefix::EMAIL_RESTORE);
    services
        .store
        .insert_email_restore(
            &user_id,
            restore.hash().as_str(),
            &before.email,
            now,
            now + EMAIL_RESTORE_TTL,
        )
        .await?;
    let link = format!(
        "{}/account/email/restore/{}",
        services.settings.issuer,
        restore.expose()
    );
    notify::email_changed(services, &before, &email, Some(&link));
    Ok(())
}

/// The address the person asked to change to and has not confirmed yet (its link unexpired).
pub async fn pending_email_change(services: &Services, user: &User) -> Result<Option<String>, StoreError> {
    services
        .store
        .find_pending_email_change(&user.id, services.clock.now())
        .await
}

/// How long the link left at the old address puts it back.
pub const EMAIL_RESTORE_TTL: i64 = 7 * 24 * 3600;

/// The owner of the old address undoes an email change: the address comes back, every session
/// of the account ends (with its refresh families and access tokens), and pending email changes
/// and reset links are void. `NotFound` when the link is unknown, used or expired; `Taken` when
/// another account has the old address now.
pub async fn restore_email(services: &Services, token: &str, peer: &Peer) -> Result<String, AccountError> {
    let ctx = services.protocol();
    let (user_id, email) = services
        .store
        .consume_email_restore(SecretHash::of(token).as_str(), ctx.now)
        .await?
        .ok_or(AccountError::NotFound)?;
    let user_id = UserId::new(user_id);
    match services.store.set_user_email(&user_id, &email, ctx.now).await {
        Err(StoreError::Conflict) => return Err(AccountError::Taken),
        other => other?,
    }
    revocation::end_user_sessions(&ctx, &user_id, None, "email_restored").await?;
    services.events.record(
        peer.event(services, kind::ACCOUNT_CHANGED, Outcome::Success)
            .user(&user_id)
            .detail("email address put back from the link sent to the old address; every session signed out"),
    );
    Ok(email)
}
