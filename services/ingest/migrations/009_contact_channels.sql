-- The channels that may change a customer's contact (docs/ingest.md, "Who may change a
-- customer's contact"): a channel's order naming a customer it never ordered for keeps the
-- contact as it is, so that one channel's key cannot redirect another channel's customer's
-- safety mail. Filled from the orders kept so far: every channel that has ordered for them.
ALTER TABLE customers ADD COLUMN channels text[] NOT NULL DEFAULT '{}';
UPDATE customers c SET channels = ARRAY(
    SELECT DISTINCT o.channel FROM orders o WHERE o.customer_id = c.customer_id ORDER BY 1
);
