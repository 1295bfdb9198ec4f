-- A customer's bucket (0..1023): the first 16 bits of md5 of the id, masked. The same formula
-- is services.matcher.rules.bucket_of, so writers that COPY can compute it too (002 used
-- hashtext, which Python cannot reproduce and a partition key cannot be generated from).
CREATE FUNCTION customer_bucket(customer_id text) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (('x' || substr(md5(customer_id), 1, 4))::bit(16)::int & 1023)::smallint $$;

-- Purchases partitioned by bucket range: a fan-out shard reads its own partition's pages,
-- not rows scattered over the whole table. Customer first in the key: one index serves both
-- a customer's history and idempotent inserts.
ALTER TABLE purchases RENAME TO purchases_002;
ALTER INDEX purchases_pkey RENAME TO purchases_002_pkey;
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
FROM purchases_002;
DROP TABLE purchases_002;
-- New purchases are recent: time after category keeps inserts at the end of each range.
CREATE INDEX purchases_category_time ON purchases (category, placed_at, bucket) WHERE active;
CREATE INDEX purchases_sku ON purchases (sku);
CREATE INDEX purchases_gtin ON purchases (gtin) WHERE gtin IS NOT NULL;
