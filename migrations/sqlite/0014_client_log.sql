-- The revocation log also carries client changes (kind `client`, subject the client id), so
-- every instance reloads a client made, changed, given a new secret or deleted elsewhere.
-- SQLite cannot change a CHECK constraint: the table is rebuilt with its rows and sequence.
CREATE TABLE revocations_new (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('session', 'family', 'jti', 'client')),
    subject    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
INSERT INTO revocations_new (seq, kind, subject, created_at, expires_at)
    SELECT seq, kind, subject, created_at, expires_at FROM revocations;
DROP TABLE revocations;
ALTER TABLE revocations_new RENAME TO revocations;
CREATE INDEX revocations_created ON revocations (created_at);
