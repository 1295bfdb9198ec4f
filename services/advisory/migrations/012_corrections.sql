-- Corrections after publication: an amendment of a published advisory is a new version.
-- Without a new embargo it goes public at once (corrected_at); with one (pending_until in
-- the future) it stays in advisory_versions, unseen, until the keeper applies it then.
ALTER TABLE advisories
    ADD COLUMN corrected_at timestamptz,
    ADD COLUMN pending_version int,
    ADD COLUMN pending_until timestamptz;
CREATE INDEX advisories_pending ON advisories (pending_until) WHERE pending_until IS NOT NULL;
