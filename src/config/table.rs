//! Every setting: name, default (as written in the file), meaning. The README's table lists the
//! same names; a test keeps the two in step.

/// Every setting: name, default (as written in the file), meaning. The README's table lists the
/// same names; a test keeps the two in step.
pub const SETTINGS: &[(&str, &str, &str)] = &[
    ("listen", "127.0.0.1:8080", "address and port the HTTP server binds"),
    (
        "http_header_timeout",
        "10s",
        "time to send a request's line and headers, counted from when the server waits for them (also between requests on a kept-alive connection)",
    ),
    (
        "http_body_timeout",
        "30s",
        "time to send a whole request body, from the end of its headers; later is a 408",
    ),
    (
        "http_idle_timeout",
        "60s",
        "a connection that moves no byte for this long while no request is being handled is closed",
    ),
    (
        "request_timeout",
        "30s",
        "a request not answered this long after its headers arrived gets a 503 with Retry-After",
    ),
    (
        "max_connections",
        "2048",
        "open connections at most; beyond it a new connection gets a 503 and is closed",
    ),
    (
        "issuer",
        "http://127.0.0.1:8080",
        "public base URL; the `iss` of every token (https, or http on a loopback host)",
    ),
    (
        "dev_allow_http_issuer",
        "false",
        "allow an http issuer on a non-loopback host (development only)",
    ),
    (
        "data_dir",
        "data",
        "folder for the SQLite database and other run-time files (owner only)",
    ),
    (
        "database_url",
        "sqlite://<data_dir>/keyhaven.db",
        "`sqlite:` file (created on first start) or `postgres://` URL",
    ),
    (
        "database_acquire_timeout",
        "3s",
        "how long a request waits for a free database connection before a 503",
    ),
    (
        "database_statement_timeout",
        "3s",
        "how long one statement (or a wait for a lock) may take before a 503: PostgreSQL statement and lock timeouts, SQLite busy timeout",
    ),
    (
        "kek",
        "(unset)",
        "key-encryption key, 32 bytes base64url; overrides kek_file",
    ),
    (
        "kek_file",
        "keys/kek",
        "file holding the key-encryption key; created 0600 on first start",
    ),
    ("access_token_ttl", "15m", "access token lifetime"),
    (
        "access_token_alg",
        "RS256",
        "signing algorithm of access tokens for audiences not in the resource registry, and for Keyhaven's own: RS256, ES256 or EdDSA",
    ),
    ("id_token_ttl", "15m", "ID token lifetime"),
    ("code_ttl", "60s", "authorization code lifetime"),
    (
        "device_code_ttl",
        "10m",
        "lifetime of a device authorization (RFC 8628): its device code and user code",
    ),
    (
        "device_poll_interval",
        "5s",
        "how long a device waits between polls of /token (RFC 8628 `interval`); each poll sooner adds 5s",
    ),
    (
        "refresh_idle_ttl",
        "14d",
        "refresh token idle lifetime (slides with rotation)",
    ),
    ("refresh_absolute_ttl", "30d", "refresh family absolute lifetime"),
    (
        "key_rotation_interval",
        "30d",
        "how long a signing key signs before the next takes over",
    ),
    (
        "key_rotation_lead",
        "24h",
        "how long a next key is published before it signs (0 allowed)",
    ),
    (
        "refresh_reuse_grace",
        "0s",
        "a retry of the previous refresh token within this time fails without revoking its family",
    ),
    (
        "revocation_refresh_interval",
        "1s",
        "how often each instance reads the revocation log",
    ),
    ("reset_token_ttl", "15m", "how long a password reset link works"),
    (
        "smtp_url",
        "(unset)",
        "smtp:// (STARTTLS) or smtps:// (TLS) URL with credentials; unset writes mail to <data_dir>/outbox",
    ),
    (
        "mail_from",
        "BRAND <no-reply@HOST>, BRAND the brand_name, HOST the issuer's host",
        "sender address of the mail Keyhaven sends",
    ),
    (
        "rate_limit_pages",
        "30/1m",
        "per-IP limit on /login, /login/otp and /reset: requests per period",
    ),
    (
        "rate_limit_api",
        "100/1s",
        "per-IP limit on /token, /revoke, /userinfo and /device_authorization",
    ),
    ("rate_limit_introspect", "2000/1s", "per-IP limit on /introspect"),
    (
        "rate_limit_authorize",
        "300/1m",
        "per-IP limit on /authorize (each request may store a pending sign-in)",
    ),
    (
        "trust_forwarded_for",
        "false",
        "take the client IP from X-Forwarded-For (only behind a proxy that sets it)",
    ),
    (
        "janitor_interval",
        "5m",
        "how often the housekeeping pass deletes expired rows (one instance at a time)",
    ),
    ("event_retention", "90d", "security events older than this are deleted"),
    (
        "metrics_listen",
        "(unset)",
        "serve /metrics on this address:port only, instead of on the main listener (port 0: a free port, logged at start)",
    ),
    (
        "metrics_bearer_token",
        "(unset)",
        "serve /metrics on the main listener to requests bearing this token (32+ visible ASCII characters); required on metrics_listen too when set",
    ),
    (
        "session_idle_ttl",
        "12h",
        "a browser session ends after this long unused",
    ),
    (
        "session_absolute_ttl",
        "14d",
        "a browser session ends this long after sign-in, used or not",
    ),
    (
        "mail_new_sign_in",
        "true",
        "mail the person when their account is signed in to from a browser (user agent) it has no live session on",
    ),
    (
        "default_locale",
        "en",
        "language of pages and mail when neither the request's `ui_locales` nor `Accept-Language` names a shipped one: `en` or `de`",
    ),
    (
        "dev_insecure_cookies",
        "false",
        "drop Secure and the __Host- prefix from cookies (only with a loopback http issuer)",
    ),
    (
        "templates_dir",
        "(unset)",
        "folder of tera templates overriding the built-in pages, file by file",
    ),
    (
        "brand_name",
        "Keyhaven",
        "product name in the pages' header and titles, in mail subjects and the default sender",
    ),
    (
        "brand_logo",
        "(unset)",
        "PNG, SVG or WebP file (at most 256 KiB) shown in the pages' header, served at /static/brand-logo",
    ),
    (
        "brand_primary_color",
        "(unset)",
        "#rrggbb colour of buttons and links; button text is black or white, whichever contrasts more",
    ),
    (
        "brand_stylesheet",
        "(unset)",
        "CSS file (at most 256 KiB) linked after the built-in stylesheet, served at /static/brand-extra.css",
    ),
    (
        "passkeys",
        "true",
        "offer passkeys: sign-in without a password, and adding them on /account/security (needs an issuer whose host is a domain name)",
    ),
    (
        "passkeys_required",
        "off",
        "whose password stops signing them in once they have a passkey: `off`, `everyone`, or usernames (`alice bob`); until their first passkey they sign in as before and are asked to add one",
    ),
    (
        "passkey_attestation_ca_file",
        "(unset)",
        "PEM file of attestation root certificates (read at start): a passkey is added only from an authenticator whose verified attestation chains to one of them; unset, attestation none and any authenticator",
    ),
    (
        "passkey_aaguids",
        "(unset)",
        "AAGUIDs (UUIDs, space- or comma-separated) allowed under passkey_attestation_ca_file's roots; unset, any AAGUID under them",
    ),
    (
        "client_id_metadata_documents",
        "off",
        "client ids that are https URLs of a client metadata document: `off`, `on`, or host patterns (`tools.example *.agents.example`) allowed",
    ),
    (
        "metadata_cache_min",
        "5m",
        "a fetched client metadata document or jwks_uri is kept at least this long, whatever its Cache-Control says",
    ),
    (
        "metadata_cache_max",
        "24h",
        "... and at most this long",
    ),
    (
        "client_registration",
        "off",
        "dynamic client registration (RFC 7591) at /register: `off`, `open` (anyone), or `token` (an initial access token from `keyhaven client registration-token`)",
    ),
    (
        "self_registered_clients_max",
        "1000",
        "with `client_registration = open`, registrations are refused (403) once this many self-registered clients exist",
    ),
    (
        "rate_limit_registration",
        "10/1h",
        "dynamic client registrations per client IP",
    ),
    (
        "self_registered_grants",
        "authorization_code refresh_token",
        "grants a registered or metadata-document client may use (of authorization_code, refresh_token, device_code)",
    ),
    (
        "self_registered_scopes",
        "openid profile email offline_access",
        "scopes a registered or metadata-document client may ask for",
    ),
    (
        "client_logos",
        "false",
        "show the logo a client names (https only) on consent; the pages then allow images from any https host",
    ),
    (
        "outbound_ca_file",
        "(unset)",
        "PEM file of extra CA certificates trusted for every outbound fetch (metadata documents, jwks_uri), beside the system's",
    ),
    (
        "dev_allow_loopback_fetch",
        "false",
        "development and tests only: outbound fetches may use http to loopback hosts and reach loopback and private addresses",
    ),
    (
        "key_refresh_interval",
        "10s",
        "how often each instance reloads keys and runs the key schedule",
    ),
    (
        "password_hash_concurrency",
        "0",
        "argon2 worker threads (hashes at once, each reusing one 19 MiB block); 0 = one per core",
    ),
    ("log_format", "text", "`text` or `json`"),
    ("log_level", "info", "tracing filter, e.g. `info` or `keyhaven=debug`"),
];
