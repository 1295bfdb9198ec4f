-- Disasters their feeds cancelled: no fan-out starts for them any more, and the shards of
-- their jobs not yet run request nothing.
CREATE TABLE cancelled_events (
    event_id text PRIMARY KEY,
    cancelled_at timestamptz NOT NULL
);
