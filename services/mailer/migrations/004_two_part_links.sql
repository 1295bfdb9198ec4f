-- Two-part unsubscribe links named no address: whoever kept an old mailbox could unsubscribe
-- the customer's new address with one. From here on a contact records since when it has its
-- address; NULL is "since before this migration", when two-part links may still have been
-- mailed to it. Such a link acts only on an address held since then, and only for a while
-- after the moment recorded here (services/mailer/api.py, LEGACY_LINK_DAYS).
ALTER TABLE contacts ADD COLUMN email_since timestamptz;

CREATE TABLE epochs (
    name text PRIMARY KEY,
    at timestamptz NOT NULL
);
INSERT INTO epochs (name, at) VALUES ('two_part_links_retired', now());
