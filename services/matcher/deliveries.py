"""Delivery requests: new (advisory, customer) matches, batched into the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, cast

import msgspec

# The module, not its names: the rules of each kind request deliveries through this one.
from services.matcher import rules, store
from services.matcher.audience import Where
from shared import bus
from shared import messages as m
from shared.bus import channels
from shared.db import Conn
from shared.outbox import enqueue_encoded

BATCH_RECIPIENTS = 500


class Requested(NamedTuple):
    """What one call requested, counted in the metrics once the transaction commits."""

    kind: m.Kind
    recipients: int
    batches: int


async def request(
    conn: Conn,
    advisory_id: str,
    kind: m.Kind,
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
    ids = [r.customer_id for r in recipients]
    new_ids = await store.new_matches(conn, advisory_id, event_id, ids, now)
    fresh = []
    for r in recipients:
        if r.customer_id in new_ids:
            new_ids.discard(r.customer_id)  # a customer listed twice is requested once
            fresh.append((r.customer_id, r))
    return await _enqueue(conn, advisory_id, kind, fresh, now, event_id)


async def request_matching(
    conn: Conn,
    advisory_id: str,
    kind: m.Kind,
    w: Where,
    reason: str,
    now: datetime,
    event_id: str = "",
    fold: store.Fold | None = None,
) -> Requested:
    """Match every customer under the clause (their latest purchase) not matched yet (nor
    held back by `fold`), and put delivery batches for them in the outbox.

    PostgreSQL builds the recipients' JSON: a shard of thousands costs no Python object per
    customer.
    """
    fresh = await store.match_all(conn, advisory_id, event_id, w, reason, now, fold)
    return await _enqueue(conn, advisory_id, kind, fresh, now, event_id)


async def _enqueue(
    conn: Conn,
    advisory_id: str,
    kind: m.Kind,
    fresh: Sequence[tuple[str, m.Recipient | msgspec.Raw]],
    now: datetime,
    event_id: str,
) -> Requested:
    def batch_of(chunk: Sequence[tuple[str, m.Recipient | msgspec.Raw]]) -> m.DeliveryBatch:
        return m.DeliveryBatch(
            batch_id=f"{advisory_id}:{event_id}:{chunk[0][0]}:{len(chunk)}",
            advisory_id=advisory_id,
            kind=kind,
            priority=rules.PRIORITY[kind],
            requested_at=now,
            # msgspec writes a Raw recipient as the JSON it already is.
            recipients=cast(list[m.Recipient], [r for _, r in chunk]),
            event_id=event_id,
        )

    # By count, and by size: 500 recipients of a combination, each with a purchase per group
    # and its long title, took megabytes, and NATS refuses a message over 1 MiB.
    channel = channels.DELIVERIES_REQUESTED
    events = [
        (channel.subject, channel.msg_id(batch_of(chunk)), payload)
        for chunk, payload in bus.split(
            fresh, lambda chunk: m.encode(batch_of(chunk)), most=BATCH_RECIPIENTS
        )
    ]
    await enqueue_encoded(conn, events)
    return Requested(kind, len(fresh), len(events))
