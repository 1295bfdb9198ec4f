-- An order's lines are written once and read rarely (events, audit): stored as json, the
-- text as it came, PostgreSQL no longer converts each one to jsonb, a third of its work
-- in a backfill.
ALTER TABLE orders ALTER COLUMN lines TYPE json USING lines::json;
