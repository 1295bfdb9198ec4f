-- An order's lines live in its row (jsonb), not in a table of their own: a backfill of
-- millions of orders then writes one row and one index entry per order, and the lines
-- are only ever read with their order (the audit, and resolving a cancellation).
ALTER TABLE orders ADD COLUMN lines jsonb NOT NULL DEFAULT '[]';
UPDATE orders o SET lines = l.lines
FROM (
    SELECT channel, order_id,
           jsonb_agg(jsonb_build_object(
               'line_no', line_no, 'sku', sku, 'gtin', gtin, 'title', title,
               'quantity', quantity, 'categories', to_jsonb(categories),
               'categorized_by', categorized_by) ORDER BY line_no) AS lines
    FROM order_lines GROUP BY channel, order_id
) l
WHERE o.channel = l.channel AND o.order_id = l.order_id;
DROP TABLE order_lines;
ALTER TABLE orders ALTER COLUMN lines DROP DEFAULT;
