-- GTINs are compared as GTIN-14 (shared/gtin.py): pad the EAN-8, UPC-A and EAN-13 of the
-- purchase history, of the uncategorized lines and of the recall rules kept, so that a
-- recall naming a product in one length reaches the buyers whose orders named another.
UPDATE purchases SET gtin = lpad(gtin, 14, '0') WHERE gtin ~ '^([0-9]{8}|[0-9]{12,13})$';
UPDATE uncategorized_lines SET gtin = lpad(gtin, 14, '0') WHERE gtin ~ '^([0-9]{8}|[0-9]{12,13})$';
UPDATE rules SET rule = jsonb_set(rule, '{gtins}', (
    SELECT jsonb_agg(CASE WHEN g ~ '^([0-9]{8}|[0-9]{12,13})$' THEN lpad(g, 14, '0') ELSE g END)
    FROM jsonb_array_elements_text(rule -> 'gtins') AS g))
WHERE jsonb_typeof(rule -> 'gtins') = 'array' AND jsonb_array_length(rule -> 'gtins') > 0;
