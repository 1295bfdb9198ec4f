-- A declared disaster changes as its feed reports on it: JMA's 訂正 and later serials, CAP's
-- Update revise its area (revision + 1), JMA's 取消 and CAP's Cancel cancel it. Its places by
-- code (JMA municipalities, US counties, each with its level) sit beside the drawn areas.
ALTER TABLE disasters
    ADD COLUMN places jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN revision integer NOT NULL DEFAULT 1,
    -- Orders the feed's reports (JMA: serial, report time; CAP: sent): a report not above
    -- the last one applied changes nothing.
    ADD COLUMN report_order bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN revised_at timestamptz,
    ADD COLUMN cancelled_at timestamptz;
