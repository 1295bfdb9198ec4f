-- An advisory's end, as its agency set it (AdvisoryPublished.expires_at): a mail still waiting
-- then (held back by the cap, quiet hours, a retry or a paused path) is not sent, and the
-- reach counts it as 'expired'. Advisories stored before this have none: they never expire.
ALTER TABLE advisories ADD COLUMN expires_at timestamptz;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check CHECK (state IN
    ('queued', 'sending', 'deferred', 'sent', 'suppressed', 'failed', 'cancelled', 'expired'));
