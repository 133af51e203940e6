-- The registry of resource servers: the audience value, a name, and the algorithm its access
-- tokens are signed with (audiences not listed get the `access_token_alg` setting).
CREATE TABLE resource_servers (
    uri              TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    access_token_alg TEXT NOT NULL CHECK (access_token_alg IN ('RS256', 'ES256', 'EdDSA')),
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
