-- Each purchase keeps the municipality (JIS X 0402) or county (FIPS) code of the order's
-- ship-to, as ingest derived it from the postal code; NULL where it named none, and for the
-- purchases recorded before (their orders carried no such code). Adding a nullable column
-- rewrites nothing.
ALTER TABLE purchases ADD COLUMN area_code text;
