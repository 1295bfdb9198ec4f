-- A customer's erasure and export (docs/privacy.md) find their rows by customer: purchases
-- already lead with it; matches, the schedule and uncategorized lines get an index.
CREATE INDEX matches_by_customer ON matches (customer_id);
CREATE INDEX schedule_by_customer ON schedule (customer_id);
CREATE INDEX uncategorized_lines_by_customer ON uncategorized_lines (customer_id);
-- Retention prunes purchases and uncategorized lines by the time of purchase.
CREATE INDEX purchases_placed ON purchases (placed_at);
CREATE INDEX uncategorized_lines_placed ON uncategorized_lines (placed_at);
