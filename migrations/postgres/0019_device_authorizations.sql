-- The device authorization grant (RFC 8628): one row per device_authorization request. Both
-- codes are bearer secrets, kept only as SHA-256 hashes. `status` is pending, approved, denied
-- or redeemed; the person's part (user_id .. amr) is set when they approve. `poll_interval`
-- grows by 5 s on every poll sooner than it after `last_polled_at` (RFC 8628 §3.5), and
-- `polled_too_fast` says whether the last poll was one, so the answer comes from the same
-- atomic update.
CREATE TABLE device_authorizations (
    device_code_hash TEXT PRIMARY KEY,
    user_code_hash   TEXT NOT NULL UNIQUE,
    client_id        TEXT NOT NULL,
    scope            TEXT NOT NULL,
    audience         TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    poll_interval    BIGINT NOT NULL,
    last_polled_at   BIGINT,
    polled_too_fast  BOOLEAN NOT NULL DEFAULT FALSE,
    status           TEXT NOT NULL,
    user_id          TEXT,
    sid              TEXT,
    auth_time        BIGINT,
    amr              TEXT,
    decided_at       BIGINT
);
CREATE INDEX device_authorizations_expires ON device_authorizations (expires_at);

-- Wrong user codes typed at /device, one row each, counted per key (a session, an address)
-- over a window; `id` lets the housekeeping pass delete old rows in bounded batches.
CREATE TABLE device_code_failures (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    failure_key TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX device_code_failures_key ON device_code_failures (failure_key, at);
CREATE INDEX device_code_failures_at ON device_code_failures (at);
