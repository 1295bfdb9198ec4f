-- A customer's erasure requests (docs/privacy.md): the customer only as a keyed hash, so that
-- the request outlives the data it erased without naming whose it was; and each eraser's
-- confirmation, once per (request, eraser), with what it erased.
CREATE TABLE erasure_requests (
    request_id uuid PRIMARY KEY,
    customer_key bytea NOT NULL,
    customers int NOT NULL,
    requested_at timestamptz NOT NULL
);
CREATE TABLE erasure_confirmations (
    request_id uuid NOT NULL REFERENCES erasure_requests (request_id),
    service text NOT NULL,
    erased jsonb NOT NULL DEFAULT '{}',
    confirmed_at timestamptz NOT NULL,
    PRIMARY KEY (request_id, service)
);
-- A customer's orders, found by customer for an erasure or an export.
CREATE INDEX orders_customer ON orders (customer_id);
-- Retention prunes orders by the time they were received.
CREATE INDEX orders_received ON orders (received_at);
