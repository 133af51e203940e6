//! The mail a person gets when something about their account's security changes: the
//! password (any path), the email address (told to the old address, with a link that puts it
//! back), the second factor turned on or off, a passkey added or removed, a recovery code
//! used, and a sign-in from a browser the account has no session on (the `mail_new_sign_in`
//! setting). Each is written here once, whatever face caused the change, and sent off the
//! request path.
//!
//! Every such mail ends with what to do when it was not the person: reset the password (the
//! reset link goes to the address the account has) and tell the administrator.

use crate::domain::user::User;
use crate::i18n::{Arg, Locale};
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

/// The language of mail: the default one (no language is stored per person, so a mail cannot
/// follow the language of the page that caused it).
pub fn language(services: &Services) -> Locale {
    services.settings.default_locale
}

/// Paragraphs of a mail: a blank line between them, a newline at the end.
pub fn paragraphs(parts: &[String]) -> String {
    parts.join("\n\n") + "\n"
}

/// The closing paragraph of every security mail.
fn not_you(services: &Services) -> String {
    language(services).text_with("mail-not-you", &[("issuer", Arg::Str(&services.settings.issuer))])
}

/// The password was changed; `kept_this_session` when the person changed it from a session
/// that stays signed in; `passkeys_kept` the passkeys a reset left in place (said, so that a
/// person who lost one removes it).
pub fn password_changed(services: &Services, user: &User, kept_this_session: bool, passkeys_kept: usize) {
    let lang = language(services);
    let body = if kept_this_session {
        "mail-password-changed-others"
    } else {
        "mail-password-changed-all"
    };
    let mut parts = vec![lang.text_with(body, &[("username", Arg::Str(&user.username))])];
    if passkeys_kept > 0 {
        parts.push(lang.text_with(
            "mail-password-changed-passkeys-kept",
            &[
                ("count", Arg::Num(i64::try_from(passkeys_kept).unwrap_or(i64::MAX))),
                ("issuer", Arg::Str(&services.settings.issuer)),
            ],
        ));
    }
    parts.push(not_you(services));
    send(
        services,
        &user.email,
        &lang.text_with("mail-password-changed-subject", &[("brand", Arg::Str(brand(services)))]),
        paragraphs(&parts),
        "password_changed",
    );
}

/// The account's address changed from `user.email` to `new_email`: the old address is told,
/// with `restore_link` (a page that puts the old address back and signs every session out),
/// when there is one.
pub fn email_changed(services: &Services, user: &User, new_email: &str, restore_link: Option<&str>) {
    let lang = language(services);
    let masked = mask_email(new_email);
    let mut parts = vec![lang.text_with(
        "mail-email-changed-body",
        &[("username", Arg::Str(&user.username)), ("new_email", Arg::Str(&masked))],
    )];
    match restore_link {
        Some(link) => parts.extend([
            lang.text("mail-email-changed-undo"),
            link.to_owned(),
            lang.text("mail-email-changed-then"),
        ]),
        None => parts.push(lang.text("mail-email-changed-no-undo")),
    }
    send(
        services,
        &user.email,
        &lang.text_with("mail-email-changed-subject", &[("brand", Arg::Str(brand(services)))]),
        paragraphs(&parts),
        "email_changed",
    );
}

/// The second factor (TOTP) was turned on or off.
pub fn second_factor_changed(services: &Services, user: &User, on: bool, by: ChangedBy) {
    let lang = language(services);
    let (subject, what) = if on {
        ("mail-totp-on-subject", "mail-totp-on-body")
    } else {
        ("mail-totp-off-subject", "mail-totp-off-body")
    };
    let what = lang.text(what);
    let line = lang.text_with(
        "mail-totp-account",
        &[("username", Arg::Str(&user.username)), ("what", Arg::Str(&what))],
    );
    let kind = if on { "totp_enabled" } else { "totp_disabled" };
    send_change(services, user, subject, line, by, kind);
}

/// The mail of a change to how the person signs in: `line` (with who made the change when it
/// was an operator), then what to do if it was not them.
fn send_change(services: &Services, user: &User, subject: &str, mut line: String, by: ChangedBy, kind: &'static str) {
    let lang = language(services);
    if by == ChangedBy::Operator {
        line.push(' ');
        line.push_str(&lang.text("mail-by-operator"));
    }
    send(
        services,
        &user.email,
        &lang.text_with(subject, &[("brand", Arg::Str(brand(services)))]),
        paragraphs(&[line, not_you(services)]),
        kind,
    );
}

/// A passkey named `name` was added (`added`) or removed.
pub fn passkey_changed(services: &Services, user: &User, name: &str, added: bool, by: ChangedBy) {
    let lang = language(services);
    let (subject, body) = if added {
        ("mail-passkey-added-subject", "mail-passkey-added-body")
    } else {
        ("mail-passkey-removed-subject", "mail-passkey-removed-body")
    };
    let name = truncate(name, 64);
    let line = lang.text_with(
        body,
        &[("username", Arg::Str(&user.username)), ("name", Arg::Str(&name))],
    );
    let kind = if added { "passkey_added" } else { "passkey_removed" };
    send_change(services, user, subject, line, by, kind);
}

/// A recovery code was used to sign in.
pub fn recovery_code_used(services: &Services, user: &User, peer: &Peer) {
    let lang = language(services);
    let device = device(lang, peer);
    send(
        services,
        &user.email,
        &lang.text_with("mail-recovery-subject", &[("brand", Arg::Str(brand(services)))]),
        paragraphs(&[
            lang.text_with(
                "mail-recovery-body",
                &[
                    ("username", Arg::Str(&user.username)),
                    ("device", Arg::Str(&device)),
                    ("address", Arg::Str(&peer.ip)),
                ],
            ),
            not_you(services),
        ]),
        "recovery_code_used",
    );
}

/// A sign-in from a browser the account has no live session on.
pub fn new_sign_in(services: &Services, user: &User, peer: &Peer) {
    let lang = language(services);
    let device = device(lang, peer);
    send(
        services,
        &user.email,
        &lang.text_with("mail-new-sign-in-subject", &[("brand", Arg::Str(brand(services)))]),
        paragraphs(&[
            lang.text_with(
                "mail-new-sign-in-body",
                &[
                    ("username", Arg::Str(&user.username)),
                    ("device", Arg::Str(&device)),
                    ("address", Arg::Str(&peer.ip)),
                ],
            ),
            format!("{} {}", lang.text("mail-new-sign-in-was-you"), not_you(services)),
        ]),
        "new_sign_in",
    );
}

fn device(lang: Locale, peer: &Peer) -> String {
    match peer.user_agent.as_deref() {
        Some(agent) if !agent.is_empty() => {
            lang.text_with("mail-device-named", &[("agent", Arg::Str(&truncate(agent, 120)))])
        }
        _ => lang.text("mail-device-unnamed"),
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
        let text = device(Locale::En, &peer);
        assert!(!text.contains('\n') && !text.contains('\r'));
        assert!(text.chars().count() < 160);
    }
}
