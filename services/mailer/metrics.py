"""The mailer's Prometheus metrics: SMTP outcomes, ledger transitions, paused mail paths."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SMTP_OUTCOMES = Counter(
    "anshin_smtp_outcomes",
    "Mails handed to SMTP, by outcome (sent, retry, bounced, failed).",
    ["outcome"],
)
DELIVERIES = Counter(
    "anshin_mailer_deliveries",
    "Deliveries entering a ledger state: queued, sent, deferred, failed, cancelled, expired.",
    ["state"],
)
PATH_PAUSED = Gauge(
    "anshin_mailer_path_paused",
    "1 while a mail path (the relay, or domain:NAME) is paused by its breaker, with the reply"
    " code that paused it; 0 once it works again.",
    ["path", "code"],
)
PATH_PAUSES = Counter(
    "anshin_mailer_path_pauses",
    "Times a mail path was paused by its breaker, by path and reply code.",
    ["path", "code"],
)
FEEDBACK = Counter(
    "anshin_mailer_feedback",
    "Returned mail and relay events by intake (smtp, ses, sendgrid, postmark) and outcome:"
    " accepted (taken, whatever it did), refused (bad or forged: nothing done), suppressed"
    " (an address suppressed by it).",
    ["intake", "outcome"],
)
