# What pages say for stored terms: event kinds and outcomes, times, scopes.

## Events (src/web/words.rs)
event-other = Other account activity
event-login = Signed in
event-login-failed = Sign-in attempt refused
event-lockout = Sign-in locked after repeated failed attempts
event-otp = Two-step verification code accepted
event-otp-failed = Wrong two-step verification code
event-recovery-code-used = Recovery code used
event-totp-enabled = Two-step verification turned on
event-totp-disabled = Two-step verification turned off
event-totp-disabled-failed = Attempt to turn off two-step verification refused
event-reset-requested = Password reset asked for
event-reset-completed = Password reset
event-password-changed = Password changed
event-password-changed-failed = Password change refused
event-token-issued = An app was given access
event-token-refreshed = An app renewed its access
event-refresh-token-reuse = An app's old access key was used again; that access was ended
event-token-revoked = An app's access was ended
event-code-replay = A one-time sign-in code was used twice; the access it gave was ended
event-logout = Signed out
event-client-auth-failed = An app failed to prove who it is
event-rate-limited = Too many requests from one network
event-account-created = Account created
event-account-disabled = Account turned off
event-account-enabled = Account turned on again
event-account-changed = Account details changed
event-account-unlocked = Account unlocked
event-client-created = An app was registered
event-client-updated = An app's settings were changed
event-client-secret-rotated = An app was given a new secret
event-client-deleted = An app was removed
event-resource-created = A service was registered
event-resource-updated = A service's settings were changed
event-resource-deleted = A service was removed
event-admin-action = An administrator made a change
event-device-authorization-started = A device asked to be signed in
event-device-approved = A device was allowed access with a code
event-device-denied = A device was refused access
event-device-user-code-wrong = A wrong device code was typed
event-device-code-redeemed = A device was given access
event-client-registered = An app registered itself
event-client-registration-updated = An app changed its own registration
event-client-registration-deleted = An app removed its own registration
event-registration-token-created = A registration token was made
event-registration-token-refused = A registration token was refused
event-passkey-registered = A passkey was added
event-passkey-registered-failed = Adding a passkey was refused
event-passkey-used = A passkey was used to sign in
event-passkey-used-failed = A passkey sign-in was refused
event-passkey-removed = A passkey was removed
event-passkey-removed-failed = Removing a passkey was refused
outcome-failed = Failed
outcome-succeeded = Succeeded

## Times, in UTC ("5 December 2026, 14:03 UTC")
date-time = { $day } { $month } { $year }, { $time } UTC
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

## What a scope lets an app do (consent page, apps with access)
scope-openid = Confirm who you are
scope-profile = See your name and profile details
scope-email = See your email address
scope-address = See your postal address
scope-phone = See your phone number
scope-offline_access = Stay connected when you are away
scope-other = Access to “{ $scope }”

## Devices (the account's devices page)
device-browser-on = { $browser } on { $os }
device-unknown = Unknown device
