-- Every suppression an operator lifted, for the audit: when, why the address was suppressed,
-- from where it was lifted (cli, console) and how many deliveries went back to the queue.
-- Never the address: the audit tells nothing about a customer.
CREATE TABLE suppression_lifts (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    reason text NOT NULL,
    by text NOT NULL,
    requeued int NOT NULL DEFAULT 0
);
