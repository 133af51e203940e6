-- TOTP (RFC 6238): the secret sealed under the KEK like the signing keys; a secret being
-- enrolled until its first code confirms it; the last time step accepted (replay guard).
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- Single-use recovery codes, stored as SHA-256 (each has 100 bits of entropy).
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Password reset links: SHA-256 of the token; a newer request deletes the older ones.
CREATE TABLE reset_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX reset_tokens_user ON reset_tokens (user_id);

-- Failed sign-ins per account (or per unknown login name, so unknown accounts lock alike),
-- shared by every instance.
CREATE TABLE login_throttle (
    account_key  TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT,
    lockouts     BIGINT NOT NULL
);

-- A password that was right, waiting for the second factor; bound to the browser.
CREATE TABLE pending_logins (
    browser_hash TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    request_id   TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    failures     BIGINT NOT NULL
);
