-- Each new pending authorization prunes the oldest of its browser: find them by browser.
CREATE INDEX pending_authorizations_by_browser ON pending_authorizations (browser_hash, created_at);
