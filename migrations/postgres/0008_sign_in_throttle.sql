-- The second-factor step remembers the counter key of the login name typed at the password
-- step, so a wrong code counts against it too and only a whole sign-in clears it.
ALTER TABLE pending_logins ADD COLUMN name_key TEXT;
