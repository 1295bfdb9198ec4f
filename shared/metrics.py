"""Prometheus metrics shared by every service; each service adds its own beside these."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_HANDLED = Counter(
    "anshin_messages_handled_total",
    "Bus messages handled, by consumer and outcome.",
    ["consumer", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "anshin_handler_seconds",
    "Time spent handling one bus message.",
    ["consumer"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
)
CONSUMER_PENDING = Gauge(
    "anshin_consumer_pending",
    "Messages waiting in a durable consumer (lag).",
    ["consumer"],
)
OUTBOX_PUBLISHED = Counter(
    "anshin_outbox_published_total", "Outbox events published to the bus.", ["schema"]
)
OUTBOX_DEAD = Counter(
    "anshin_outbox_dead_total",
    "Outbox events the bus refused for good, set aside in the schema's outbox_dead table.",
    ["schema"],
)
OUTBOX_OLDEST = Gauge(
    "anshin_outbox_oldest_seconds",
    "Age of the oldest outbox event not yet published (0: the outbox is empty).",
    ["schema"],
)
HTTP_REQUESTS = Counter(
    "anshin_http_requests_total",
    "HTTP requests answered, by route and status.",
    ["route", "status"],
)
