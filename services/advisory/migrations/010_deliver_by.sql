-- The time by which an agency needs its advisory's mail delivered (optional): the report,
-- the console and an alert compare it with the finish the send rates allow.
ALTER TABLE advisories ADD COLUMN deliver_by timestamptz;
