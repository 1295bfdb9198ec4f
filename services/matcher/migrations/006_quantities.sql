-- Returns and cancellations honour quantity: a line of two with one returned is still owned.
-- Each line keeps its quantity; a void keeps, per line of line_nos, how many it took back
-- (0: the whole line; empty: each line whole) and the channel's id of the event, so two
-- returns of one unit each are two rows. A line is owned while its quantity exceeds what
-- the voids of it add up to.
ALTER TABLE purchases ADD COLUMN quantity int NOT NULL DEFAULT 1;
ALTER TABLE uncategorized_lines ADD COLUMN quantity int NOT NULL DEFAULT 1;
ALTER TABLE voided ADD COLUMN quantities int[] NOT NULL DEFAULT '{}';
ALTER TABLE voided ADD COLUMN ref text NOT NULL DEFAULT '';
ALTER TABLE voided DROP CONSTRAINT voided_pkey;
ALTER TABLE voided ADD PRIMARY KEY (channel, order_id, event, line_nos, quantities, ref);
