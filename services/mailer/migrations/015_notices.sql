-- Corrections and withdrawal notices (docs/mailer.md): a delivery that tells a customer who
-- received an advisory that it was corrected ('correction', under the key's event
-- 'correction:v{version}': one per amendment) or withdrawn ('withdrawal', event
-- 'withdrawal'). '' is the advice itself, as every row written before this.
ALTER TABLE deliveries ADD COLUMN notice text NOT NULL DEFAULT ''
    CHECK (notice IN ('', 'correction', 'withdrawal'));
-- The advisory's version a mail carried, set when it is claimed (the claim reads the text
-- under a share lock): a correction goes to those who received an earlier one. Rows before
-- this have none and count as earlier.
ALTER TABLE deliveries ADD COLUMN version int;
