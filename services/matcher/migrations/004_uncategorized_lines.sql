-- Order lines in no safety category, kept apart from the purchase history: only a recall
-- (by SKU or GTIN) looks for them, so the category rules never read, index or partition
-- them. Narrow, one row per line, keyed as ingest names a line.
CREATE TABLE uncategorized_lines (
    channel text NOT NULL,
    order_id text NOT NULL,
    line_no int NOT NULL,
    customer_id text NOT NULL,
    bucket smallint NOT NULL,
    sku text NOT NULL,
    gtin text,
    title text NOT NULL DEFAULT '',
    placed_at timestamptz NOT NULL,
    active boolean NOT NULL DEFAULT true,
    PRIMARY KEY (channel, order_id, line_no)
);
CREATE INDEX uncategorized_lines_sku ON uncategorized_lines (sku);
CREATE INDEX uncategorized_lines_gtin ON uncategorized_lines (gtin) WHERE gtin IS NOT NULL;

-- Until now such a line was kept in purchases under category '': move those rows here.
INSERT INTO uncategorized_lines (channel, order_id, line_no, customer_id, bucket, sku, gtin,
    title, placed_at, active)
SELECT channel, order_id, line_no, customer_id, bucket, sku, gtin, title, placed_at, active
FROM purchases WHERE category = ''
ON CONFLICT DO NOTHING;
DELETE FROM purchases WHERE category = '';
