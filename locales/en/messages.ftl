# Words the pages build in Rust (src/web): error pages, notices, refusals.

## Error pages
error-failed-title = Something went wrong
error-failed-message = Please try again later.
error-unavailable-title = Temporarily unavailable
error-unavailable-message = The service is temporarily unavailable. Please try again in a few seconds.
error-form-expired-title = This form has expired
error-form-expired-message = For your security the form could not be accepted. Go back, reload the page and try again.
error-timeout-title = Request timed out
error-timeout-message = The form took too long to arrive. Please try again.
error-too-many-requests-title = Too many requests
error-too-many-requests-message = Too many attempts from your network. Try again in about a minute.
error-not-found-title = Page not found
error-not-found-message = There is no page at this address. Check the address, or start again from your account.
error-method-title = This page cannot do that
error-method-message = Open the page from a link or its form, and try again.
error-incomplete-title = This address is incomplete
error-incomplete-message = The link you followed is missing something or is damaged. Go back to the application, or to your account, and start again.
error-unreadable-title = This form cannot be read
error-unreadable-message = Go back, reload the page and try again.
next-account = Go to your account
next-sign-in-again = Sign in again

## Authorization and sign-in
authorize-refused-title = This request cannot be completed
authorize-expired-title = This sign-in request has expired
authorize-expired-message = Go back to the application and start again.
login-wrong-credentials = Wrong username or password.
login-passkey-required = Your account signs in with a passkey only: use “Sign in with a passkey”.
login-too-many-attempts = Too many attempts. { $try_again } Resetting your password unlocks your account at once.
try-again-in =
    { $minutes ->
        [one] Try again in about 1 minute.
       *[other] Try again in about { $minutes } minutes.
    }
otp-start-again-title = Sign in again
otp-start-again-message = This sign-in has expired or had too many wrong codes. Sign in again, or go back to the application and start again.
otp-wrong-code = Wrong code. Try again.
too-many-attempts-title = Too many attempts
logout-refused-title = This sign-out request cannot be completed
signed-out-title = Signed out
signed-out-message = You are signed out.

## Links and addresses
link-invalid-title = This link is no longer valid
email-changed-title = Email address changed
email-changed-message = Your account now uses the new address.
email-link-invalid-message = Ask for a new confirmation link from your account.
address-taken-title = Address in use
address-taken-message = Another account uses this address.
reset-link-invalid-message = Reset links work once, for a short time, and only the newest one. Ask for a new link.
reset-ask-new-link = Ask for a new link
restore-done-title = Your email address is back
restore-done-message = The account uses { $email } again, and every session of it was signed out. Now choose a new password: ask for a reset link, it comes to this address.
restore-link-invalid-message = It was used already or is more than 7 days old. Ask your administrator for help.
restore-taken-message = Another account uses this address now. Ask your administrator for help.

## Account area
password-locked = Too many wrong passwords: changing the password is locked. { $try_again } Resetting your password unlocks your account at once.
security-start-again = Start the set-up again.
security-wrong-code = That code is not right. Check the time on your device and try again.
security-wrong-password-or-code = Wrong password or code.
security-turn-on-first = Turn on two-step verification first.

## Notices (shown once after a form)
notice-saved = Saved.
notice-email-sent = We sent a confirmation link to the new address. Your address changes when you open it.
notice-password-changed = Password changed. Every other device was signed out.
notice-device-signed-out = Signed out.
notice-others-signed-out = Every other device was signed out.
notice-access-removed = Access removed.
notice-totp-on = Two-step verification is on.
notice-totp-off = Two-step verification is off.
notice-reset-sent = If an account exists for that address, we sent a link. It works for a short time, once.
notice-reset-done = Password changed, and every session was signed out. Sign in with the new password.
notice-signed-out = You are signed out.
notice-already-signed-in = You are signed in. That sign-in request is finished: continue in the application, or here in your account.

## Refusals written by the services and protocol rules (src/web/words.rs maps them here)
refusal-too-large = The request is too large or has too many parameters.
refusal-malformed = The request is malformed.
refusal-not-registered = The application that sent you here is not registered.
refusal-no-longer-registered = The application that sent you here is no longer registered.
refusal-no-client = The application did not say who it is.
refusal-two-clients = The application named itself more than once.
refusal-two-redirects = The application named more than one address to return to.
refusal-redirect-gone = The address this application returns to is no longer registered.
refusal-redirect-unregistered = The application asked to return to an address it has not registered.
refusal-no-redirect = This application has no registered address to return to.
refusal-which-redirect = The application did not say which of its addresses to return to.
refusal-logout-too-long = The application sent a sign-out request that is too long.
refusal-logout-unverified = The application sent a sign-out request we cannot verify. Go back to the application and sign out from there again.
refusal-logout-two-clients = The sign-out request names two different applications.
refusal-logout-no-client = The sign-out request asks to return to an address without saying which application it is for.
refusal-logout-unregistered = The sign-out request asks to return to an address this application has not registered.
problem-not-an-email = That is not an email address.
problem-passwords-differ = The two passwords differ.
problem-current-password-wrong = The current password is wrong.
problem-name-too-long = Use at most { $max } characters for your name.
problem-password-short = Use at least 12 characters.
problem-password-long = Use at most 256 characters.
problem-password-personal = Do not use your username or email address.
problem-password-common = This password is too common or too simple.
