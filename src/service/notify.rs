//! The mail a person gets when something about their account's security changes: the
//! password (any path), the email address (told to the old address, with a link that puts it
//! back), the second factor turned on or off, a recovery code used, and a sign-in from a
//! browser the account has no session on (the `mail_new_sign_in` setting). Each is written
//! here once, whatever face caused the change, and sent off the request path.
//!
//! Every such mail ends with what to do when it was not the person: reset the password (the
//! reset link goes to the address the account has) and tell the administrator.

use crate::domain::user::User;
use crate::mail::Mail;
use crate::service::{Peer, Services};

/// Who made a change, as the mail says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangedBy {
    /// The person, signed in (or through a link mailed to them).
    Person,
    /// An administrator (admin API or command line).
    Operator,
}

fn send(services: &Services, to: &str, subject: &str, body: String, kind: &'static str) {
    if to.is_empty() {
        return;
    }
    services.mailer.send(Mail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        body,
        kind,
    });
}

/// The product name the mail calls the account by (`brand_name`).
fn brand(services: &Services) -> &str {
    &services.settings.brand_name
}

/// The closing paragraph of every security mail.
fn not_you(services: &Services) -> String {
    format!(
        "If it was not you, reset your password now at {}/reset and tell your administrator.\n",
        services.settings.issuer
    )
}

/// The password was changed; `kept_this_session` when the person changed it from a session
/// that stays signed in.
pub fn password_changed(services: &Services, user: &User, kept_this_session: bool) {
    let signed_out = if kept_this_session {
        "every other session of it was signed out"
    } else {
        "every session of it was signed out"
    };
    send(
        services,
        &user.email,
        &format!("Your {} password was changed", brand(services)),
        format!(
            "The password of the account {} was just changed, and {signed_out}.\n\n{}",
            user.username,
            not_you(services)
        ),
        "password_changed",
    );
}

/// The account's address changed from `user.email` to `new_email`: the old address is told,
/// with `restore_link` (a page that puts the old address back and signs every session out),
/// when there is one.
pub fn email_changed(services: &Services, user: &User, new_email: &str, restore_link: Option<&str>) {
    let undo = match restore_link {
        Some(link) => format!(
            "If it was not you, open this link within 7 days to put this address back and sign out every session of the account:\n\n{link}\n\nThen reset your password and tell your administrator.\n"
        ),
        None => "If it was not you, tell your administrator at once.\n".to_owned(),
    };
    send(
        services,
        &user.email,
        &format!("The email address of your {} account was changed", brand(services)),
        format!(
            "The email address of the account {} was changed to {}. Mail about the account now goes there, not here.\n\n{undo}",
            user.username,
            mask_email(new_email),
        ),
        "email_changed",
    );
}

/// The second factor (TOTP) was turned on or off.
pub fn second_factor_changed(services: &Services, user: &User, on: bool, by: ChangedBy) {
    let (subject, what) = if on {
        (
            format!("Two-step sign-in is on for your {} account", brand(services)),
            "Two-step sign-in was turned on: signing in now needs a code from the authenticator app as well as the password.",
        )
    } else {
        (
            format!("Two-step sign-in is off for your {} account", brand(services)),
            "Two-step sign-in was turned off: signing in now needs only the password.",
        )
    };
    let who = match by {
        ChangedBy::Person => "",
        ChangedBy::Operator => " An administrator made this change.",
    };
    send(
        services,
        &user.email,
        &subject,
        format!("Account {}: {what}{who}\n\n{}", user.username, not_you(services)),
        if on { "totp_enabled" } else { "totp_disabled" },
    );
}

/// A recovery code was used to sign in.
pub fn recovery_code_used(services: &Services, user: &User, peer: &Peer) {
    send(
        services,
        &user.email,
        &format!("A recovery code was used to sign in to your {} account", brand(services)),
        format!(
            "Someone signed in to the account {} with a recovery code instead of a code from the authenticator app ({}, from {}). Each recovery code works once. If you no longer have the authenticator app, set up two-step sign-in again from your account's security page.\n\n{}",
            user.username,
            device(peer),
            peer.ip,
            not_you(services)
        ),
        "recovery_code_used",
    );
}

/// A sign-in from a browser the account has no live session on.
pub fn new_sign_in(services: &Services, user: &User, peer: &Peer) {
    send(
        services,
        &user.email,
        &format!("New sign-in to your {} account", brand(services)),
        format!(
            "The account {} was just signed in to from {}, at address {}.\n\nIf it was you, there is nothing to do. {}",
            user.username,
            device(peer),
            peer.ip,
            not_you(services)
        ),
        "new_sign_in",
    );
}

fn device(peer: &Peer) -> String {
    match peer.user_agent.as_deref() {
        Some(agent) if !agent.is_empty() => format!("a browser that calls itself \"{}\"", truncate(agent, 120)),
        _ => "a browser that did not name itself".to_owned(),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max_chars).collect()
}

/// `jane.doe@example.com` -> `ja...@example.com`: the old address learns where mail now goes
/// without the whole new address being sent around.
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let shown: String = local.chars().take(2).collect();
            format!("{shown}...@{domain}")
        }
        None => "another address".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_addresses_are_masked_to_their_domain() {
        assert_eq!(mask_email("jane.doe@example.com"), "ja...@example.com");
        assert_eq!(mask_email("j@example.com"), "j...@example.com");
        assert_eq!(mask_email("nonsense"), "another address");
    }

    #[test]
    fn user_agents_lose_control_characters_and_length() {
        let peer = Peer {
            ip: "192.0.2.1".into(),
            user_agent: Some(format!("Evil\r\nBcc: x@y{}", "a".repeat(500))),
        };
        let text = device(&peer);
        assert!(!text.contains('\n') && !text.contains('\r'));
        assert!(text.chars().count() < 160);
    }
}
