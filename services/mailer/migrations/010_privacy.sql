-- A customer's erasure (docs/privacy.md). The suppression of an erased address stays, as a
-- keyed hash of the address only, so that a later import of the same address is suppressed
-- again; and an erased customer's id stays as a keyed hash with the time of the erasure, so
-- that contact data published before the erasure and taken in after it is not kept.
CREATE TABLE erased_suppressions (
    email_key bytea PRIMARY KEY,
    reason text NOT NULL,
    at timestamptz NOT NULL,
    detail text NOT NULL DEFAULT ''
);
CREATE TABLE erased_customers (
    customer_key bytea PRIMARY KEY,
    erased_at timestamptz NOT NULL
);
-- Retention makes old ledger rows pseudonymous, found by the time they were requested.
CREATE INDEX deliveries_requested ON deliveries (requested_at);
