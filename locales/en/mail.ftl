# Mail (src/service/notify.rs, accounts.rs, lockout.rs). Each message is one paragraph; the
# code puts a blank line between paragraphs. Plain text: no markup.

mail-not-you = If it was not you, reset your password now at { $issuer }/reset and tell your administrator.
mail-password-changed-subject = Your { $brand } password was changed
mail-password-changed-others = The password of the account { $username } was just changed, and every other session of it was signed out.
mail-password-changed-all = The password of the account { $username } was just changed, and every session of it was signed out.
mail-password-changed-passkeys-kept = { $count ->
    [one] Your passkey was not removed: it still signs you in.
   *[other] Your { $count } passkeys were not removed: they still sign you in.
} If you lost one, or someone else may have it, remove it at { $issuer }/account/security.
mail-email-changed-subject = The email address of your { $brand } account was changed
mail-email-changed-body = The email address of the account { $username } was changed to { $new_email }. Mail about the account now goes there, not here.
mail-email-changed-undo = If it was not you, open this link within 7 days to put this address back and sign out every session of the account:
mail-email-changed-then = Then reset your password and tell your administrator.
mail-email-changed-no-undo = If it was not you, tell your administrator at once.
mail-totp-on-subject = Two-step sign-in is on for your { $brand } account
mail-totp-on-body = Two-step sign-in was turned on: signing in now needs a code from the authenticator app as well as the password.
mail-totp-off-subject = Two-step sign-in is off for your { $brand } account
mail-totp-off-body = Two-step sign-in was turned off: signing in now needs only the password.
mail-totp-account = Account { $username }: { $what }
mail-by-operator = An administrator made this change.
mail-passkey-added-subject = A passkey was added to your { $brand } account
mail-passkey-added-body = Account { $username }: the passkey "{ $name }" was added. It can now sign in to the account without the password.
mail-passkey-removed-subject = A passkey was removed from your { $brand } account
mail-passkey-removed-body = Account { $username }: the passkey "{ $name }" was removed. It can no longer sign in to the account.
mail-recovery-subject = A recovery code was used to sign in to your { $brand } account
mail-recovery-body = Someone signed in to the account { $username } with a recovery code instead of a code from the authenticator app ({ $device }, from { $address }). Each recovery code works once. If you no longer have the authenticator app, set up two-step sign-in again from your account's security page.
mail-new-sign-in-subject = New sign-in to your { $brand } account
mail-new-sign-in-body = The account { $username } was just signed in to from { $device }, at address { $address }.
mail-new-sign-in-was-you = If it was you, there is nothing to do.
mail-device-named = a browser that calls itself "{ $agent }"
mail-device-unnamed = a browser that did not name itself
mail-email-confirm-subject = Confirm your new { $brand } email address
mail-email-confirm-body = To make this the email address of the account { $username }, open this link within an hour:
mail-email-confirm-ignore = If you did not ask for it, ignore this message.
mail-reset-subject = Reset your { $brand } password
mail-reset-asked = Someone asked to reset the password of the account { $username }.
mail-reset-open =
    { $minutes ->
        [one] To choose a new password, open this link within 1 minute:
       *[other] To choose a new password, open this link within { $minutes } minutes:
    }
mail-reset-not-you = If it was not you, ignore this message: your password stays as it is.
mail-locked-subject = Your { $brand } account was locked
mail-locked-body = The account { $username } was locked after repeated failed attempts to sign in or to confirm its password (wrong passwords or codes).
mail-locked-until = It stays locked until { $until } (UTC).
mail-locked-advice = If it was you, wait until then. If it was not, someone may be guessing your password: resetting your password at { $issuer }/reset unlocks the account at once and signs out every session.
