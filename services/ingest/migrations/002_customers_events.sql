-- Customers as ingest knows them: no e-mail address (only the mailer keeps those), a keyed
-- hash of it to link a marketplace buyer to the shop's customer, and a hash of the contact
-- data so that customers.upserted is published when it changes, not with every order.
CREATE TABLE customers (
    customer_id text PRIMARY KEY,
    email_key bytea NOT NULL,
    contact_key bytea NOT NULL,
    seen_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_email_key ON customers (email_key, seen_at);

-- Where an order's coordinates came from: order, postal_code, region or none.
ALTER TABLE orders ADD COLUMN geo_source text NOT NULL DEFAULT 'order';

-- A cancellation or return may name some lines, and another may follow for other lines:
-- each distinct (event, lines) is recorded once; empty line_nos means the whole order.
ALTER TABLE order_events DROP CONSTRAINT order_events_pkey;
ALTER TABLE order_events ADD CONSTRAINT order_events_once UNIQUE (channel, order_id, event, line_nos);
ALTER TABLE order_events ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();
