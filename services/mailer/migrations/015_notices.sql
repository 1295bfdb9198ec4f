-- Corrections and withdrawal notices (docs/mailer.md): a delivery that tells a customer who
-- received an advisory that it was corrected ('correction', under the key's event
-- 'correction:v{version}': one per amendment) or withdrawn ('withdrawal', event
-- 'withdrawal'). '' is the advice itself, as every row written before this.
ALTER TABLE deliveries ADD COLUMN notice text NOT NULL DEFAULT ''
    CHECK (notice IN ('', 'correction', 'withdrawal'));
