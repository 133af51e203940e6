-- One instance at a time runs the housekeeping pass: it holds this lease until `expires_at`.
CREATE TABLE janitor_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
