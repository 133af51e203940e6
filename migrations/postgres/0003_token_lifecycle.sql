-- Where a client may send people after logout (OIDC RP-Initiated Logout), what else it may do
-- (e.g. "introspect"), and whether its introspection is limited to tokens for its audiences.
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN permissions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN introspect_any_audience BOOLEAN NOT NULL DEFAULT FALSE;

-- A rotated refresh token points at the token that replaced it.
ALTER TABLE refresh_tokens ADD COLUMN successor_hash TEXT;

-- The revocation log: every instance replays it into its in-memory revocation set, so
-- introspection needs no query per call. Entries are needed until the tokens they kill expire.
CREATE TABLE revocations (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('session', 'family', 'jti')),
    subject    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revocations_created ON revocations (created_at);

-- Append-only record of security events. `detail` never holds a secret.
CREATE TABLE security_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    user_id    TEXT,
    client_id  TEXT,
    sid        TEXT,
    ip         TEXT,
    user_agent TEXT,
    detail     TEXT
);
CREATE INDEX security_events_at ON security_events (at);
CREATE INDEX security_events_user ON security_events (user_id, at);
CREATE INDEX security_events_kind ON security_events (kind, at);
