"""Mailer: the delivery ledger, rendering, policy and SMTP delivery."""
