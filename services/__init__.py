"""The four Anshin services: ingest, advisory, matcher, mailer."""
