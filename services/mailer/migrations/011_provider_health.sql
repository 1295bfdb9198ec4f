-- Provider health (services/mailer/health.py) reads the mail sent and the reports taken
-- within a rolling window: both by time, and only the recent rows, each read every few seconds.
CREATE INDEX deliveries_sent_at ON deliveries (sent_at) WHERE state = 'sent';
CREATE INDEX deliveries_feedback_at ON deliveries (feedback_at) WHERE feedback IS NOT NULL;
