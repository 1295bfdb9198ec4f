-- A stable bucket per customer (0..1023): a fan-out shard reads only its buckets' slice.
ALTER TABLE purchases
    ADD COLUMN bucket smallint GENERATED ALWAYS AS ((hashtext(customer_id) & 1023)::smallint) STORED;
DROP INDEX purchases_category_time;
CREATE INDEX purchases_category_bucket ON purchases (category, bucket, placed_at) WHERE active;
CREATE INDEX purchases_sku ON purchases (sku);
CREATE INDEX purchases_gtin ON purchases (gtin) WHERE gtin IS NOT NULL;

-- Cancellations and returns, kept so that one handled before its order still counts.
CREATE TABLE voided (
    channel text NOT NULL,
    order_id text NOT NULL,
    event text NOT NULL,
    line_nos int[] NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (channel, order_id, event, line_nos)
);

-- Long-term deliveries not yet due, one per purchase line; any replica's scheduler claims them.
CREATE TABLE schedule (
    advisory_id text NOT NULL,
    channel text NOT NULL,
    order_id text NOT NULL,
    line_no int NOT NULL,
    customer_id text NOT NULL,
    due_at timestamptz NOT NULL,
    PRIMARY KEY (advisory_id, channel, order_id, line_no)
);
CREATE INDEX schedule_due ON schedule (due_at);

-- A large audience split into shards on matcher.fanout; each shard is recorded once done.
CREATE TABLE fanout_jobs (
    job_id text PRIMARY KEY,
    advisory_id text NOT NULL,
    event_id text NOT NULL DEFAULT '',
    shards int NOT NULL,
    params jsonb NOT NULL DEFAULT '{}',
    requested_at timestamptz NOT NULL
);
CREATE TABLE fanout_done (
    job_id text NOT NULL,
    shard int NOT NULL,
    replica text NOT NULL,
    recipients int NOT NULL DEFAULT 0,
    done_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, shard)
);

-- A disaster playbook is sent once per declared event: the event is part of the match key.
ALTER TABLE matches ADD COLUMN event_id text NOT NULL DEFAULT '';
ALTER TABLE matches DROP CONSTRAINT matches_pkey;
ALTER TABLE matches ADD PRIMARY KEY (advisory_id, event_id, customer_id);
