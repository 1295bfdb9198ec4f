"""The mailer's Prometheus metrics: SMTP outcomes and ledger transitions."""

from __future__ import annotations

from prometheus_client import Counter

SMTP_OUTCOMES = Counter(
    "anshin_smtp_outcomes", "Mails handed to SMTP, by outcome (sent, retry, failed).", ["outcome"]
)
DELIVERIES = Counter(
    "anshin_mailer_deliveries",
    "Deliveries entering a ledger state: queued, sent, deferred (retry), failed, cancelled.",
    ["state"],
)
