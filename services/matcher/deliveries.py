"""Delivery requests: new (advisory, customer) matches, batched into the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from services.matcher.rules import PRIORITY
from shared import messages as m
from shared.bus import Subjects
from shared.db import Conn
from shared.outbox import enqueue_encoded

BATCH_RECIPIENTS = 500


class Requested(NamedTuple):
    """What one call requested, counted in the metrics once the transaction commits."""

    kind: str
    recipients: int
    batches: int


async def request(
    conn: Conn,
    advisory_id: str,
    kind: str,
    recipients: list[m.Recipient],
    now: datetime,
    *,
    event_id: str = "",
) -> Requested:
    """Record new matches and put delivery batches for them in the outbox.

    Customers already matched for this advisory (and disaster event) are skipped: the
    matches table, not the broker, is what makes a redelivered order or shard harmless.
    """
    if not recipients:
        return Requested(kind, 0, 0)
    new_ids = {
        r["customer_id"]
        for r in await conn.fetch(
            "INSERT INTO matches (advisory_id, event_id, customer_id, matched_at)"
            " SELECT $1, $2, unnest($3::text[]), $4 ON CONFLICT DO NOTHING RETURNING customer_id",
            advisory_id,
            event_id,
            [r.customer_id for r in recipients],
            now,
        )
    }
    fresh = []
    for r in recipients:
        if r.customer_id in new_ids:
            new_ids.discard(r.customer_id)  # a customer listed twice is requested once
            fresh.append(r)
    events = []
    for start in range(0, len(fresh), BATCH_RECIPIENTS):
        chunk = fresh[start : start + BATCH_RECIPIENTS]
        batch_id = f"{advisory_id}:{event_id}:{chunk[0].customer_id}:{len(chunk)}"
        batch = m.DeliveryBatch(
            batch_id=batch_id,
            advisory_id=advisory_id,
            kind=kind,
            priority=PRIORITY[kind],
            requested_at=now,
            recipients=chunk,
            event_id=event_id,
        )
        events.append((Subjects.DELIVERIES_REQUESTED, f"deliveries:{batch_id}", m.encode(batch)))
    await enqueue_encoded(conn, events)
    return Requested(kind, len(fresh), len(events))
