-- Returned mail (bounces, complaints) names its mail by the VERP token's reference: the
-- first 10 bytes of the SHA-256 of the Message-ID, set by the claim with the Message-ID
-- (services/mailer/bounces/verp.py). Rows sent before this have none: a late bounce of such
-- a mail still arrives through a webhook that names the address.
ALTER TABLE deliveries ADD COLUMN mail_ref bytea;
-- What came back about the mail, later than SMTP's answer: 'hard', 'soft', 'complaint' or
-- 'ignored' (a delay warning, a policy refusal), when, and the report's words.
ALTER TABLE deliveries ADD COLUMN feedback text;
ALTER TABLE deliveries ADD COLUMN feedback_at timestamptz;
ALTER TABLE deliveries ADD COLUMN feedback_detail text;
CREATE INDEX deliveries_by_mail_ref ON deliveries (mail_ref) WHERE mail_ref IS NOT NULL;
CREATE INDEX deliveries_by_message_id ON deliveries (message_id) WHERE message_id IS NOT NULL;

-- Soft bounces of an address: enough of them within the window suppress it.
CREATE TABLE soft_bounces (
    email text NOT NULL,
    at timestamptz NOT NULL,
    detail text NOT NULL DEFAULT ''
);
CREATE INDEX soft_bounces_by_email ON soft_bounces (email, at);

-- Every report taken, by an id of its intake's: a relay's retry or a replayed webhook counts
-- once.
CREATE TABLE feedback_events (
    id text PRIMARY KEY,
    intake text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
