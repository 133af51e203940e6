-- An email change also leaves a link at the old address that puts it back (purpose `restore`);
-- a pending change at the new address has purpose `change`.
ALTER TABLE email_changes ADD COLUMN purpose TEXT NOT NULL DEFAULT 'change' CHECK (purpose IN ('change', 'restore'));
