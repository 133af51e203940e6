-- Passkeys (WebAuthn discoverable credentials): one row per credential, found by its id (the
-- authenticator's credential id, base64url) when it signs in, or listed per person.
-- `credential` is the webauthn-rs `Passkey` as the library serializes it (public key, counter,
-- backup state): no secret, but only the library reads it. `aaguid` names the authenticator
-- model when it said; `backup_eligible` / `backed_up` are the BE and BS flags.
CREATE TABLE passkeys (
    credential_id   TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential      TEXT NOT NULL,
    name            TEXT NOT NULL,
    aaguid          TEXT,
    backup_eligible BOOLEAN NOT NULL,
    backed_up       BOOLEAN NOT NULL,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- The server side of a WebAuthn ceremony (registration, or authentication with or without a
-- known person): the library's state with its challenge, kept under the SHA-256 of a random
-- handle, bound to the browser that started it, taken (deleted) by its one use, 5 minutes.
CREATE TABLE webauthn_challenges (
    id_hash      TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    user_id      TEXT,
    state        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX webauthn_challenges_expires ON webauthn_challenges (expires_at);
