-- Why an address is suppressed, beyond its reason: the relay's reply to a bounce (the code
-- that condemned it), so that an operator can tell a dead mailbox from a relay's mistake.
ALTER TABLE suppressions ADD COLUMN detail text NOT NULL DEFAULT '';
CREATE INDEX suppressions_by_time ON suppressions (at DESC);
