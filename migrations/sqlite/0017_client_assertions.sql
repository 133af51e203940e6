-- private_key_jwt (RFC 7523 §3): the `jti` of every client assertion accepted, kept until the
-- assertion expires, so that each is used once across every instance (the unique key decides).
CREATE TABLE client_assertions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    UNIQUE (client_id, jti)
);
CREATE INDEX client_assertions_expires ON client_assertions (expires_at);
