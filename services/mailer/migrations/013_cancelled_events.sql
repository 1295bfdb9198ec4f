-- Disasters their feeds cancelled (disasters.declared with cancelled: true). Their waiting
-- deliveries were cancelled when the cancellation arrived; one requested later (a fan-out
-- shard already on its way) starts cancelled.
CREATE TABLE cancelled_events (
    event_id text PRIMARY KEY,
    cancelled_at timestamptz NOT NULL
);
