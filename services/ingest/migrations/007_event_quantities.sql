-- A cancellation or return may name part of a line (`quantities`, per line of line_nos, 0
-- for a whole line; empty: each line whole) and carry the channel's id of the event (`ref`):
-- each distinct (event, lines, quantities, ref) is one fact, recorded once.
ALTER TABLE order_events ADD COLUMN quantities int[] NOT NULL DEFAULT '{}';
ALTER TABLE order_events ADD COLUMN ref text NOT NULL DEFAULT '';
ALTER TABLE order_events DROP CONSTRAINT order_events_once;
ALTER TABLE order_events ADD CONSTRAINT order_events_once
    UNIQUE (channel, order_id, event, line_nos, quantities, ref);
