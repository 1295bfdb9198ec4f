-- Aftershocks are not a flood: a playbook reaches a customer at most once per fold period
-- (ANSHIN_MATCHER_DISASTER_FOLD_HOURS) for disasters of the same hazard. The hazard of each
-- declared disaster, what a fold compares; the customers a fold held back, once per
-- (advisory, event), what the report counts; and the matches by customer, which the fold
-- looks up for every customer of a disaster's audience.
CREATE TABLE disaster_events (
    event_id text PRIMARY KEY,
    hazard text NOT NULL,
    declared_at timestamptz NOT NULL
);
CREATE TABLE folds (
    advisory_id text NOT NULL,
    event_id text NOT NULL,
    customer_id text NOT NULL,
    folded_at timestamptz NOT NULL,
    PRIMARY KEY (advisory_id, event_id, customer_id)
);
CREATE INDEX matches_customer ON matches (advisory_id, customer_id, matched_at);
-- An erasure finds a customer's folds (docs/privacy.md).
CREATE INDEX folds_by_customer ON folds (customer_id);
