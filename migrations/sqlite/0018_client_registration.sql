-- Dynamic client registration (RFC 7591) and its management (RFC 7592).

-- Initial access tokens: what `client_registration = token` asks a registering client for.
-- Only the SHA-256 of each token is kept; each registration takes one use, until none is left
-- or the token expired.
CREATE TABLE registration_tokens (
    hash       TEXT PRIMARY KEY,
    uses_left  BIGINT NOT NULL CHECK (uses_left >= 0),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    note       TEXT
);

-- The registration access token of each self-registered client (hashed): what it shows to
-- read, change or delete its own registration. Goes with the client.
CREATE TABLE client_registrations (
    client_id  TEXT PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
