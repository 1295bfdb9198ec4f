-- Each agency's own time zone (IANA name): the portal shows and reads its times in it, with
-- UTC beside them; a Tokyo agency's embargo typed as 10:00 is 01:00 UTC. Agencies from
-- before it read UTC, as the portal did.
ALTER TABLE agencies ADD COLUMN timezone text NOT NULL DEFAULT 'UTC';
