-- A customer's bucket (0..1023): the first 16 bits of md5 of the id, masked. The same formula
-- is services.matcher.rules.bucket_of; fan-out shards take contiguous ranges of buckets.
CREATE FUNCTION customer_bucket(customer_id text) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (('x' || substr(md5(customer_id), 1, 4))::bit(16)::int & 1023)::smallint $$;

-- Purchases partitioned by bucket range: a shard reads its own partition's pages, not a
-- scattering of rows across the whole table. Customer first in the key: one index serves
-- both a customer's history and idempotent inserts.
ALTER TABLE purchases RENAME TO purchases_001;
ALTER INDEX purchases_pkey RENAME TO purchases_001_pkey;
ALTER INDEX purchases_category_time RENAME TO purchases_001_category_time;
ALTER INDEX purchases_customer RENAME TO purchases_001_customer;
CREATE TABLE purchases (
    customer_id text NOT NULL,
    bucket smallint NOT NULL,
    channel text NOT NULL,
    order_id text NOT NULL,
    line_no int NOT NULL,
    category text NOT NULL,
    sku text NOT NULL,
    gtin text,
    title text NOT NULL DEFAULT '',
    placed_at timestamptz NOT NULL,
    country text NOT NULL,
    region text,
    lat double precision,
    lon double precision,
    active boolean NOT NULL DEFAULT true,
    PRIMARY KEY (customer_id, channel, order_id, line_no, category, bucket)
) PARTITION BY RANGE (bucket);
DO $$
BEGIN
    FOR k IN 0..15 LOOP
        EXECUTE format('CREATE TABLE purchases_%s PARTITION OF purchases FOR VALUES FROM (%s) TO (%s)',
                       lpad(k::text, 2, '0'), k * 64, (k + 1) * 64);
    END LOOP;
END $$;
INSERT INTO purchases (customer_id, bucket, channel, order_id, line_no, category, sku, gtin,
    title, placed_at, country, region, lat, lon, active)
SELECT customer_id, customer_bucket(customer_id), channel, order_id, line_no, category, sku,
    gtin, title, placed_at, country, region, lat, lon, active
FROM purchases_001;
DROP TABLE purchases_001;
-- New purchases are recent: time after category keeps inserts at the end of each range.
CREATE INDEX purchases_category_time ON purchases (category, placed_at, bucket) WHERE active;
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
