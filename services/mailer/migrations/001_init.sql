-- Contact data: the only place e-mail addresses live.
CREATE TABLE contacts (
    customer_id text PRIMARY KEY,
    email text NOT NULL,
    locale text NOT NULL DEFAULT 'en',
    timezone text NOT NULL DEFAULT 'UTC',
    name text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Published advisory content as the mailer renders it.
CREATE TABLE advisories (
    advisory_id text PRIMARY KEY,
    version int NOT NULL,
    kind text NOT NULL,
    agency_name text NOT NULL,
    title jsonb NOT NULL,
    body jsonb NOT NULL,
    source_url text NOT NULL DEFAULT '',
    published_at timestamptz NOT NULL,
    withdrawn_at timestamptz
);

-- The delivery ledger: its key, not the broker, is what stops a second mail.
CREATE TABLE deliveries (
    advisory_id text NOT NULL,
    customer_id text NOT NULL,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sending', 'deferred', 'sent', 'suppressed', 'failed', 'cancelled')),
    priority int NOT NULL,
    kind text NOT NULL,
    reason text NOT NULL,
    purchases jsonb NOT NULL DEFAULT '[]',
    requested_at timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts int NOT NULL DEFAULT 0,
    claimed_at timestamptz,
    sent_at timestamptz,
    message_id text,
    error text,
    PRIMARY KEY (advisory_id, customer_id)
);
CREATE INDEX deliveries_due ON deliveries (priority DESC, next_attempt_at) WHERE state = 'queued';
CREATE INDEX deliveries_sending ON deliveries (claimed_at) WHERE state = 'sending';

-- Addresses never to be mailed again: unsubscribed or bounced.
CREATE TABLE suppressions (
    email text PRIMARY KEY,
    reason text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
