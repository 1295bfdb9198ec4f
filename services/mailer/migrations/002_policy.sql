-- Why a delivery waits (state 'deferred'): 'cap', 'quiet' or 'retry'.
ALTER TABLE deliveries ADD COLUMN hold text;

-- Claims take queued and deferred rows alike once their time has come.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (priority DESC, next_attempt_at)
    WHERE state IN ('queued', 'deferred');

-- The cap counts a customer's recent routine mails; an address gets an advisory once.
CREATE INDEX deliveries_by_customer ON deliveries (customer_id);
CREATE INDEX contacts_by_email ON contacts (email);

-- Token buckets shared by every mailer replica: '' is the overall rate, a domain its own.
CREATE TABLE rate_buckets (
    key text PRIMARY KEY,
    tokens double precision NOT NULL,
    updated_at timestamptz NOT NULL
);

-- A claim's lease runs on the database clock, so moving the service clock in a test never
-- makes a mail in flight look abandoned.
ALTER TABLE deliveries ADD COLUMN lease_until timestamptz;
DROP INDEX deliveries_sending;
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE state = 'sending';
