"""Mailer's SQL for the delivery ledger's intake and its reach: batches in, counts out.

What a claim does with the rows is in `ledger.py`, what their answers do in `fence.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from shared import messages as m
from shared.db import Conn


async def add_deliveries(conn: Conn, batch: m.DeliveryBatch, now: datetime) -> int:
    """Add a batch to the ledger in one statement; a key already there is skipped.

    The key is (advisory, event, customer): a disaster playbook's delivery names the declared
    event, so the next disaster reaches the customer again; every other delivery has event
    ''. A delivery of a withdrawn advisory or a cancelled disaster starts cancelled, one to
    a suppressed address starts suppressed: neither is ever claimed.
    """
    encode = msgspec.json.encode
    n = len(batch.recipients)
    # Only a playbook is sent once per event: a stray event id never repeats a recall.
    event_id = batch.event_id if batch.kind == "disaster" else ""
    status = await conn.fetch(
        "INSERT INTO deliveries (advisory_id, event_id, customer_id, priority, kind, reason,"
        " purchases, requested_at, next_attempt_at, queued_at, state)"
        " SELECT u.*, u.next_attempt_at, CASE WHEN a.withdrawn_at IS NOT NULL"
        "   OR e.event_id IS NOT NULL THEN 'cancelled'"
        "   WHEN s.email IS NOT NULL THEN 'suppressed' ELSE 'queued' END"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[],"
        "   $7::jsonb[], $8::timestamptz[], $9::timestamptz[])"
        "   AS u(advisory_id, event_id, customer_id, priority, kind, reason, purchases,"
        "   requested_at, next_attempt_at)"
        " LEFT JOIN advisories a ON a.advisory_id = u.advisory_id"
        " LEFT JOIN cancelled_events e ON e.event_id = u.event_id AND u.event_id <> ''"
        " LEFT JOIN contacts c ON c.customer_id = u.customer_id"
        " LEFT JOIN suppressions s ON s.email = c.email"
        " ON CONFLICT DO NOTHING RETURNING 1",
        [batch.advisory_id] * n,
        [event_id] * n,
        [r.customer_id for r in batch.recipients],
        [batch.priority] * n,
        [batch.kind] * n,
        [r.reason for r in batch.recipients],
        [encode(r.purchases).decode() for r in batch.recipients],
        [batch.requested_at] * n,
        [now] * n,
    )
    return len(status)


async def reach(conn: Conn, advisory_id: str) -> tuple[dict[str, int], list[Any]]:
    """Deliveries of an advisory by state, overall and by UTC day (sent, else requested).

    A disaster playbook's rows of every declared event count together: its whole reach.
    Corrections and withdrawal notices (notices.py) are not the advice reaching anyone new.
    """
    rows = await conn.fetch(
        "SELECT to_char(coalesce(sent_at, requested_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        " AS day, state, count(*) AS n FROM deliveries WHERE advisory_id = $1 AND notice = ''"
        " GROUP BY 1, 2 ORDER BY 1, 2",
        advisory_id,
    )
    counts: dict[str, int] = {}
    days: dict[str, dict[str, int]] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + r["n"]
        days.setdefault(r["day"], {})[r["state"]] = r["n"]
    return counts, sorted(days.items())


async def waits(conn: Conn, advisory_id: str) -> list[m.Wait]:
    """Why an advisory's deferred deliveries wait: per reason (and, for quiet hours, per zone)
    the number and the earliest time one is due again."""
    rows = await conn.fetch(
        "SELECT d.hold, CASE WHEN d.hold = 'quiet' THEN coalesce(c.timezone, 'UTC')"
        " ELSE 'UTC' END AS zone, min(d.next_attempt_at) AS until, count(*) AS n"
        " FROM deliveries d LEFT JOIN contacts c ON c.customer_id = d.customer_id"
        " WHERE d.advisory_id = $1 AND d.state = 'deferred' AND d.hold IS NOT NULL"
        " GROUP BY 1, 2 ORDER BY 3 LIMIT 20",
        advisory_id,
    )
    return [
        m.Wait(reason=r["hold"], until=r["until"], timezone=r["zone"], deliveries=r["n"])
        for r in rows
    ]


async def waiting_by_domain(conn: Conn, advisory_id: str) -> dict[str, int]:
    """An advisory's deliveries still on their way, by recipient domain (as rates key them)."""
    rows = await conn.fetch(
        "SELECT lower(regexp_replace(c.email, '^.*@', '')) AS domain, count(*) AS n"
        " FROM deliveries d JOIN contacts c ON c.customer_id = d.customer_id"
        " WHERE d.advisory_id = $1 AND d.state IN ('queued', 'deferred', 'sending')"
        " GROUP BY 1",
        advisory_id,
    )
    return {r["domain"]: r["n"] for r in rows}
