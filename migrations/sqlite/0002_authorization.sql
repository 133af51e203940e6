-- The signing algorithm of a client's ID tokens (OIDC Registration id_token_signed_response_alg).
ALTER TABLE clients ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'RS256';

-- A signed-in browser. The cookie holds a random id; only its SHA-256 is stored here. `sid` is
-- the public session id that tokens carry (never the cookie value).
CREATE TABLE browser_sessions (
    id_hash      TEXT PRIMARY KEY,
    sid          TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    BIGINT NOT NULL,
    amr          TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ip           TEXT,
    user_agent   TEXT,
    ended_at     BIGINT
);
CREATE INDEX browser_sessions_user ON browser_sessions (user_id);

-- An authorization request waiting for the person to sign in or consent, bound to the browser
-- that started it. Its id travels in page URLs; only the hash is stored.
CREATE TABLE pending_authorizations (
    id_hash       TEXT PRIMARY KEY,
    browser_hash  TEXT NOT NULL,
    request       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    login_done_at BIGINT,
    consent_done  BOOLEAN NOT NULL
);

-- What a person allowed a client, remembered so they are asked again only when scopes grow.
CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE authorization_codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    sid            TEXT NOT NULL,
    redirect_uri   TEXT,
    code_challenge TEXT NOT NULL,
    nonce          TEXT,
    scope          TEXT NOT NULL,
    claims         TEXT,
    audience       TEXT NOT NULL,
    auth_time      BIGINT NOT NULL,
    amr            TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    consumed_at    BIGINT,
    family_id      TEXT
);

-- A grant family: everything issued from one code redemption (its access tokens carry the
-- family id as `fid`, its refresh tokens point here). Revoking it ends them all.
CREATE TABLE grant_families (
    id             TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    sid            TEXT NOT NULL,
    scope          TEXT NOT NULL,
    claims         TEXT,
    audience       TEXT NOT NULL,
    auth_time      BIGINT NOT NULL,
    amr            TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_reason TEXT
);
CREATE INDEX grant_families_user ON grant_families (user_id);
CREATE INDEX grant_families_sid ON grant_families (sid);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL REFERENCES grant_families (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    rotated_at  BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
