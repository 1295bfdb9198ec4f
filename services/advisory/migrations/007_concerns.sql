-- What each advisory concerns, whatever its kind (shared/messages/rules.py `Concerns`): the
-- categories, SKUs and GTINs a product page looks it up by, and whether it concerns them only
-- while a declared disaster names it. Written with the rule; product notices read only these.
ALTER TABLE advisories
    ADD COLUMN concern_categories text[] NOT NULL DEFAULT '{}',
    ADD COLUMN concern_skus text[] NOT NULL DEFAULT '{}',
    ADD COLUMN concern_gtins text[] NOT NULL DEFAULT '{}',
    ADD COLUMN concern_while_declared boolean NOT NULL DEFAULT false;

-- The advisories kept before: their concerns as each kind's `concerns()` computes them. This
-- once, SQL names the kinds; the flat rules of then carry every kind's fields.
UPDATE advisories SET
    concern_categories = CASE
        WHEN kind IN ('short_term', 'long_term', 'disaster') THEN ARRAY(
            SELECT jsonb_array_elements_text(COALESCE(rule -> 'categories', '[]')))
        WHEN kind = 'combination' THEN ARRAY(
            SELECT DISTINCT c FROM jsonb_array_elements(COALESCE(rule -> 'groups', '[]')) g,
                jsonb_array_elements_text(g) c ORDER BY c)
        ELSE '{}' END,
    concern_skus = CASE WHEN kind = 'recall' THEN ARRAY(
        SELECT jsonb_array_elements_text(COALESCE(rule -> 'skus', '[]'))) ELSE '{}' END,
    concern_gtins = CASE WHEN kind = 'recall' THEN ARRAY(
        SELECT jsonb_array_elements_text(COALESCE(rule -> 'gtins', '[]'))) ELSE '{}' END,
    concern_while_declared = kind = 'disaster';

CREATE INDEX advisories_concern_categories ON advisories USING gin (concern_categories);
CREATE INDEX advisories_concern_skus ON advisories USING gin (concern_skus);
CREATE INDEX advisories_concern_gtins ON advisories USING gin (concern_gtins);
