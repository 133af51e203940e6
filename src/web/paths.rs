//! Paths of the hosted pages: the router mounts these and the pages link and redirect to them.
//! Discovery advertises two of them (`AUTHORIZE`, `LOGOUT`), through the endpoints `app` gives it.

pub const AUTHORIZE: &str = "/authorize";
pub const AUTHORIZE_RESUME: &str = "/authorize/resume";
pub const LOGOUT: &str = "/logout";
pub const LOGIN: &str = "/login";
pub const LOGIN_OTP: &str = "/login/otp";
/// Signing in with a passkey (`static/passkeys.js` posts here; JSON answers).
pub const LOGIN_PASSKEY_START: &str = "/login/passkey/start";
pub const LOGIN_PASSKEY_FINISH: &str = "/login/passkey/finish";
/// A passkey as the second factor after a password (`static/passkeys.js`; JSON answers).
pub const LOGIN_OTP_PASSKEY_START: &str = "/login/otp/passkey/start";
pub const LOGIN_OTP_PASSKEY_FINISH: &str = "/login/otp/passkey/finish";
pub const RESET: &str = "/reset";
pub const RESET_LINK: &str = "/reset/{token}";
pub const ACCOUNT: &str = "/account";
pub const ACCOUNT_PROFILE: &str = "/account/profile";
pub const ACCOUNT_EMAIL: &str = "/account/email";
pub const ACCOUNT_EMAIL_CONFIRM: &str = "/account/email/confirm/{token}";
pub const ACCOUNT_EMAIL_RESTORE: &str = "/account/email/restore/{token}";
pub const ACCOUNT_PASSWORD: &str = "/account/password";
pub const ACCOUNT_DEVICES: &str = "/account/devices";
pub const ACCOUNT_DEVICE_REVOKE: &str = "/account/devices/revoke";
pub const ACCOUNT_DEVICES_REVOKE_OTHERS: &str = "/account/devices/revoke-others";
pub const ACCOUNT_APPS: &str = "/account/apps";
pub const ACCOUNT_APP_REMOVE: &str = "/account/apps/remove";
pub const ACCOUNT_ACTIVITY: &str = "/account/activity";
pub const RECOVERY_CODES: &str = "/account/security/recovery-codes";
pub const RECOVERY_CODES_DONE: &str = "/account/security/recovery-codes/done";
pub const ACCOUNT_SECURITY: &str = "/account/security";
pub const TOTP_START: &str = "/account/security/totp/start";
pub const TOTP_CONFIRM: &str = "/account/security/totp/confirm";
pub const TOTP_DISABLE: &str = "/account/security/totp/disable";
pub const PASSKEY_ADD_START: &str = "/account/security/passkeys/start";
pub const PASSKEY_ADD_FINISH: &str = "/account/security/passkeys/finish";
pub const PASSKEY_RENAME: &str = "/account/security/passkeys/rename";
pub const PASSKEY_REMOVE: &str = "/account/security/passkeys/remove";
pub const CONSENT: &str = "/consent";
/// Where a person types a device's user code (RFC 8628 `verification_uri`).
pub const DEVICE: &str = crate::protocol::device::VERIFICATION_PATH;
pub const DEVICE_DECIDE: &str = "/device/decide";
pub const DEVICE_DONE: &str = "/device/done";
pub const STYLESHEET: &str = "/static/keyhaven.css";
pub const SCRIPT: &str = "/static/keyhaven.js";
pub const FAVICON: &str = "/favicon.ico";
pub const FAVICON_SVG: &str = "/static/favicon.svg";
pub const SHOW_PASSWORD_SCRIPT: &str = "/static/show-password.js";
pub const PASSKEY_SCRIPT: &str = "/static/passkeys.js";
pub const BRAND_LOGO: &str = "/static/brand-logo";
pub const BRAND_STYLESHEET: &str = "/static/brand.css";
pub const BRAND_EXTRA_STYLESHEET: &str = "/static/brand-extra.css";

/// Every path at or under one of these is a hosted page, answered in HTML even by the layers
/// in front of every face (deadlines, rate limits); everything else answers JSON.
pub const PAGE_PREFIXES: &[&str] = &[LOGIN, RESET, ACCOUNT, AUTHORIZE, CONSENT, LOGOUT, DEVICE];
