-- The revocation log also carries client changes (kind `client`, subject the client id), so
-- every instance reloads a client made, changed, given a new secret or deleted elsewhere.
ALTER TABLE revocations DROP CONSTRAINT revocations_kind_check;
ALTER TABLE revocations ADD CONSTRAINT revocations_kind_check
    CHECK (kind IN ('session', 'family', 'jti', 'client'));
