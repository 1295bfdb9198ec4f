-- What a customer did with the mail, on the delivery's own row and nowhere else: when they
-- first opened the safety page through the mail's signed link, and when they first answered
-- one of its two action links ('checked': I have checked my product; 'gone': I no longer
-- have it). Only the first of each counts; nothing else about the person is kept.
ALTER TABLE deliveries ADD COLUMN read_at timestamptz;
ALTER TABLE deliveries ADD COLUMN acted_at timestamptz;
ALTER TABLE deliveries ADD COLUMN acted text CHECK (acted IN ('checked', 'gone'));
-- When the mailer took the delivery into its ledger (an advisory's evidence: `queued`); rows
-- taken in before this have none, and their evidence starts at the matcher's request.
ALTER TABLE deliveries ADD COLUMN queued_at timestamptz;
