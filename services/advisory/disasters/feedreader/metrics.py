"""The feed reader's Prometheus metrics (deploy/prometheus/alerts.yaml: AnshinFeedStale)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

LAST_SUCCESS = Gauge(
    "anshin_feed_last_success_timestamp_seconds",
    "When each feed was last read whole (Unix time; 0: not yet since this replica polls).",
    ["feed"],
)
ENTRIES = Counter(
    "anshin_feed_entries_total",
    "Feed entries taken for the first time, by what they did (declared, revised, cancelled,"
    " duplicate, stale, unknown, heard, refused).",
    ["feed", "outcome"],
)
DECLARED = Counter(
    "anshin_feed_disasters_declared_total",
    "Disasters declared from a feed's entries.",
    ["feed"],
)
ERRORS = Counter(
    "anshin_feed_errors_total",
    "Polls of a feed that failed (network, status, size, a malformed feed).",
    ["feed"],
)
