-- Every claim carries a token: a row in flight ('sending') changes state only under the token
-- of the claim that holds it, so a claim whose lease ran out (swept, claimed and sent again
-- by another) cannot overwrite what the new claim recorded. Rows in flight at the upgrade
-- have no token: their lease runs out and they are sent again, as before.
ALTER TABLE deliveries ADD COLUMN claim_token uuid;
CREATE INDEX deliveries_claims ON deliveries (claim_token) WHERE state = 'sending';
