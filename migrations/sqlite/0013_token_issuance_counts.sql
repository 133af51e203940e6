-- client_credentials issuance, one row per client and minute instead of one security event per
-- token: `minute` is the Unix time the minute starts at, `first_at`/`last_at` the first and last
-- issuance in it. Each instance adds its counts to the row (count + count, earliest first,
-- latest last). `id` lets the housekeeping pass delete old rows in bounded batches.
CREATE TABLE token_issuance_counts (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL,
    minute    BIGINT NOT NULL,
    count     BIGINT NOT NULL,
    first_at  BIGINT NOT NULL,
    last_at   BIGINT NOT NULL,
    UNIQUE (client_id, minute)
);
CREATE INDEX token_issuance_counts_minute ON token_issuance_counts (minute);
