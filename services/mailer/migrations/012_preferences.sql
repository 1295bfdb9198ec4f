-- What a customer chose on the preference page (/u/{token}), by address like suppressions:
-- the families of advice the address turned off ('short_term', 'long_term', 'combination',
-- 'disaster'). "Stop all" is a suppression (reason 'unsubscribe'), not a row here.
CREATE TABLE preferences (
    email text PRIMARY KEY,
    off text[] NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL
);
-- Why a delivery in state 'suppressed' was not sent, where the state alone does not say:
-- 'preference' (its address turned the advisory's family off). NULL for the rest.
ALTER TABLE deliveries ADD COLUMN suppressed_by text;
