"""Ingest's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter

RECORDS = Counter(
    "anshin_ingest_records",
    "Orders and order events received, by outcome (accepted, duplicate, rejected).",
    ["outcome"],
)
