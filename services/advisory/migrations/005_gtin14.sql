-- A recall's GTINs are kept as GTIN-14 (shared/gtin.py), as the catalog keeps them: pad the
-- EAN-8, UPC-A and EAN-13 of the advisories kept, so a product page finds its recall. The
-- versions stay as they were submitted.
UPDATE advisories SET rule = jsonb_set(rule, '{gtins}', (
    SELECT jsonb_agg(CASE WHEN g ~ '^([0-9]{8}|[0-9]{12,13})$' THEN lpad(g, 14, '0') ELSE g END)
    FROM jsonb_array_elements_text(rule -> 'gtins') AS g))
WHERE jsonb_typeof(rule -> 'gtins') = 'array' AND jsonb_array_length(rule -> 'gtins') > 0;
