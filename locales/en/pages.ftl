# The hosted pages (templates/*.html). Messages used with `fluent_html` may hold markup; their
# variables are escaped.

## Shared
base-sign-out = Sign out of { $brand }
sign-out = Sign out
not-you = Not you?
cancel = Cancel
save = Save
back-to-sign-in = Back to sign in
field-password = Password
field-new-password = New password (at least 12 characters)
field-repeat = Repeat it
field-email = Email address

## Sign-in
login-title = Sign in
login-continue-to = to continue to <strong>{ $client }</strong>
login-name = Username or email
login-remember = Keep me signed in
login-submit = Sign in
login-forgot = Forgot your password?
login-passkey = Sign in with a passkey
login-passkey-failed = The passkey did not sign you in. Try again, or use your password.

## Second factor
otp-title = Two-step verification
otp-lead = Enter the 6-digit code from your authenticator app, or one of your recovery codes.
otp-code = Code
otp-submit = Verify
otp-lead-passkey = Confirm it is you with your passkey.
otp-passkey = Use your passkey
otp-passkey-failed = The passkey was not accepted. Try again.
otp-lead-or-code = Or enter the 6-digit code from your authenticator app, or one of your recovery codes.
otp-passkey-needs-script = Your passkey needs JavaScript, which is off in this browser. Turn it on, or sign in on a device with your passkey.

## Consent
consent-title = Allow access?
consent-heading = Allow { $client } to access your account?
consent-lead = Signed in as <strong>{ $username }</strong>. { $client } asks to:
consent-allow = Allow
consent-deny = Deny
consent-return = After you choose, you go back to { $host }.
consent-remove-later = You can remove this access later from your account.
consent-heading-unverified = Allow an unverified application to access your account?
consent-unverified = Unverified
consent-lead-unverified = Signed in as <strong>{ $username }</strong>. An application that says it is <strong>{ $client }</strong> asks to:
consent-unverified-explained = Nobody running this service has checked this application: its name is only what it says about itself. Allow it only if you trust where you came from.
consent-client-id-host = The application describes itself at <strong>{ $host }</strong>.
consent-return-unverified = After you choose, you go back to <strong>{ $host }</strong>.
consent-asked-each-time = You are asked each time this application wants access.

## Sign-out
logout-title = Sign out?
logout-app-asks = <strong>{ $app }</strong> asks you to sign out.
logout-lead = You are signed in as <strong>{ $username }</strong>. Signing out ends this session and the access of the applications you used in it.

## Password reset
reset-title = Reset your password
reset-no-mail = No mail after a few minutes? Check the address and send another link.
reset-lead = Enter the email address of your account. We will send you a link to choose a new password.
reset-send = Send the link
reset-send-another = Send another link
reset-form-title = Choose a new password
reset-form-submit = Set the new password

## Putting the email address back
restore-title = Put your email address back
restore-lead = The email address of your account was changed. If it was not you, put this address back: every session of the account is signed out, and pending changes and password reset links stop working.
restore-submit = Put my address back and sign out everywhere
restore-it-was-me = It was me: go to sign in

## Account area
nav-label = Account
nav-profile = Profile
nav-password = Password
nav-security = Security
nav-devices = Devices
nav-apps = Apps
nav-activity = Activity
profile-username = Username: <strong>{ $username }</strong>
profile-name = Name
profile-email = Email address (now { $email })
profile-change-email = Change email
profile-pending-email = Waiting for confirmation: <strong>{ $email }</strong>. Open the link we sent there within an hour; until then your account keeps its current address.
password-heading = Change your password
password-current = Current password
password-submit = Change password
password-fine = Changing your password signs out every other device.
devices-heading = Where you are signed in
devices-this = This device
devices-last-seen = last seen { $at }
devices-signed-in = signed in { $at }
devices-sign-out-label = Sign out { $device }
devices-sign-out-confirm = Sign out { $device }? The apps used there lose their access.
devices-yes-sign-out-label = Yes, sign out { $device }
devices-yes-sign-out = Yes, sign out
devices-others = Sign out everywhere else
devices-others-confirm = Sign out every other device? Only this one stays signed in.
devices-others-yes = Yes, sign out everywhere else
apps-heading = Apps with access
apps-remove-label = Remove access of { $app }
apps-remove = Remove access
apps-remove-confirm = { $app } will be signed out and must ask again.
apps-yes-remove-label = Yes, remove access of { $app }
apps-yes-remove = Yes, remove access
apps-none = No app has access to your account.
activity-heading = Recent activity
activity-when = When
activity-what = What
activity-result = Result
activity-from = From

## Two-step verification settings
security-codes-lead = Two-step verification is on. Keep these recovery codes somewhere safe: each works once in place of a code. They are shown only until you press Done.
security-copy = Copy
security-download = Download
security-codes-done = Done, I saved them
security-scan = Scan this code with your authenticator app, or type the key, then enter the 6-digit code it shows.
security-qr-label = QR code of your authenticator key
security-key = Key:
security-on-this-device = On this device?
security-open-app = Open your authenticator app
security-to-add-key = to add the key.
security-code-from-app = Code from the app
security-turn-on = Turn on
security-is-on = Two-step verification is <strong>on</strong> for { $username }.
security-new-codes = Make new recovery codes
security-new-codes-confirm = Your current recovery codes stop working.
security-new-codes-yes = Yes, make new codes
security-turn-off = Turn off two-step verification
security-current-code = Current code
security-turn-off-yes = Yes, turn off
security-is-off = Two-step verification is <strong>off</strong> for { $username }.
security-set-up = Set up an authenticator app

## Signing in a device with a code (/device)
device-title = Connect a device
device-heading = Connect a device
device-lead = Type the code your device shows.
device-code = Code
device-submit = Continue
device-wrong-code = That code is not right, or it has expired. Check the code on your device and type it again.
device-too-many = Too many wrong codes.
device-confirm-heading = Allow this device?
device-confirm-lead = A device showing the code { $code } says it is { $client }. If you allow it, it can:
device-confirm-scopes = Only allow it if you started this on a device of yours and the code is the one it shows.
device-confirm-warning = Never type a code someone else gave you.
device-approve = Allow
device-deny = Deny
device-approved-heading = Device connected
device-approved-lead = You can close this page and return to your device.
device-denied-heading = Device refused
device-denied-lead = The device was not given access. You can close this page and return to your device.
passkeys-title = Passkeys
passkeys-none = No passkeys yet. A passkey signs you in with your device's screen lock instead of your password.
passkeys-second-step = A passkey signs you in without your password. When you sign in with your password, you confirm with a passkey too.
passkeys-required-add = Your administrator asks you to add a passkey. Once you have one, you sign in with it, and your password alone no longer signs you in.
passkeys-required-on = You sign in with a passkey: your password alone no longer signs you in.
passkeys-name = Name
passkeys-created = Added
passkeys-last-used = Last used
passkeys-never = Never
passkeys-rename = Rename
passkeys-rename-yes = Save name
passkeys-remove = Remove
passkeys-remove-yes = Yes, remove it
passkeys-remove-last = This is your last passkey: type your password to remove it.
passkeys-add = Add a passkey
passkeys-default-name = My passkey
passkeys-add-failed = The passkey was not added. Try again.
passkeys-sign-in-again = For your security, sign in again (within the last 5 minutes) to change passkeys.
passkeys-recent = Adding or removing a passkey needs a sign-in within the last 5 minutes.
passkeys-sign-in-link = Sign in again
passkeys-wrong-password = Wrong password: the passkey was not removed.
passkeys-bad-name = A passkey's name has 1 to 64 characters.
