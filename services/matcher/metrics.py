"""The matcher's own Prometheus metrics, beside the shared ones."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import Counter

if TYPE_CHECKING:  # the kinds' rules count through here, and request through deliveries
    from services.matcher.deliveries import Requested

MATCHES = Counter(
    "anshin_matcher_matches_total", "New (advisory, customer) matches, by rule kind.", ["kind"]
)
DELIVERY_BATCHES = Counter(
    "anshin_matcher_delivery_batches_total",
    "deliveries.requested messages written to the outbox, by rule kind.",
    ["kind"],
)
ORDERS = Counter("anshin_matcher_orders_total", "Order events evaluated against the rules.")
SHARDS = Counter(
    "anshin_matcher_fanout_shards_total", "Fan-out shards handled, by outcome.", ["outcome"]
)
SCHEDULED = Counter(
    "anshin_matcher_scheduled_total", "Long-term deliveries put on the durable schedule."
)


def count(done: Iterable[Requested]) -> None:
    """Count what committed transactions requested."""
    for r in done:
        if r.recipients:
            MATCHES.labels(r.kind).inc(r.recipients)
            DELIVERY_BATCHES.labels(r.kind).inc(r.batches)
