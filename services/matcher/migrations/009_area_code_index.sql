-- A disaster declared by municipality (JIS X 0402) or county (FIPS) finds its customers by
-- their purchases' area_code (migration 007): a quake names a few hundred codes out of some
-- 1,900 municipalities, so the index reads a small part of the history. Category and time
-- follow, as a playbook's audience asks for them too. NULL codes (unlocated, or recorded
-- before 007) are never looked up by code.
CREATE INDEX purchases_area_code ON purchases (area_code, category, placed_at)
    WHERE active AND area_code IS NOT NULL;
