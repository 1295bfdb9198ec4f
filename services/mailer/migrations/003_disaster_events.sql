-- A disaster playbook is sent each time a matching disaster is declared: the declared event
-- joins the ledger's key. Every other delivery, and every row written before this migration,
-- has event_id '' and keeps its key, its state and its Message-ID.
ALTER TABLE deliveries ADD COLUMN event_id text NOT NULL DEFAULT '';
ALTER TABLE deliveries DROP CONSTRAINT deliveries_pkey;
ALTER TABLE deliveries ADD PRIMARY KEY (advisory_id, event_id, customer_id);
