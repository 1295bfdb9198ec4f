"""Advisory's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter

PUBLISHED = Counter("anshin_advisories_published", "Advisories published at their embargo time.")
DISASTERS = Counter(
    "anshin_disasters", "Disaster events received, by outcome (declared, duplicate).", ["outcome"]
)
