"""Ingest's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter

from services.ingest import areas

RECORDS = Counter(
    "anshin_ingest_records",
    "Orders and order events received, by outcome (accepted, duplicate, rejected).",
    ["outcome"],
)

CONTACTS_KEPT = Counter(
    "anshin_ingest_contacts_kept",
    "New orders, by channel, naming an existing customer with other contact data that were"
    " accepted with the contact kept: the channel has no orders of that customer. Many from"
    " one channel: its key is misused, or the shop's customer ids are shared across channels"
    " where they should not be.",
    ["channel"],
)

AREAS = Counter(
    "anshin_ingest_areas",
    "New orders to Japan and the US by what their postal code told of the municipality or"
    " county: found, unknown (a code the data does not know), ambiguous (several"
    " municipalities), mismatch (outside the order's region), none (no postal code).",
    ["country", "outcome"],
)
for _country in areas.COUNTRIES:
    for _outcome in areas.OUTCOMES:
        AREAS.labels(_country, _outcome)  # every series from the start, at 0
