-- Clients that introduce themselves (dynamic registration, metadata documents) and clients
-- that authenticate with a signed JWT: how each client authenticates, who made it, its public
-- keys (inline or by URL), and the logo and home page it claims. Existing clients keep what
-- they did: a secret for a confidential client, none for a public one.
ALTER TABLE clients ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'client_secret_basic'
    CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt'));
UPDATE clients SET auth_method = 'none' WHERE client_type = 'public';
ALTER TABLE clients ADD COLUMN origin TEXT NOT NULL DEFAULT 'operator'
    CHECK (origin IN ('operator', 'registered', 'metadata_document'));
ALTER TABLE clients ADD COLUMN jwks TEXT;
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
ALTER TABLE clients ADD COLUMN logo_uri TEXT;
ALTER TABLE clients ADD COLUMN client_uri TEXT;

-- Whether clients nobody vetted (registered or metadata-document ones) may ask for a token
-- for this resource server.
ALTER TABLE resource_servers ADD COLUMN open_to_self_registered BOOLEAN NOT NULL DEFAULT FALSE;
