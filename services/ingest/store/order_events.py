"""Ingest's SQL for cancellations and returns, recorded once each, with their bus events."""

from __future__ import annotations

from datetime import datetime

import msgspec

from services.ingest import publishing
from shared.db import Conn
from shared.outbox import enqueue_encoded


class Known(msgspec.Struct, frozen=True):
    """What an event needs to know of its order: the customer and the SKU of each line."""

    customer_id: str
    skus: list[str]  # skus[n - 1] is line n


class Resolved(msgspec.Struct, frozen=True, kw_only=True):
    """An event with its order found and its lines named by number."""

    event: str
    channel: str
    order_id: str
    customer_id: str
    at: datetime
    line_nos: list[int]


async def known_orders(conn: Conn, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Known]:
    """Return the known orders among `keys` with their lines."""
    rows = await conn.fetch(
        "SELECT channel, order_id, customer_id,"
        " ARRAY(SELECT l->>'sku' FROM json_array_elements(lines) l ORDER BY (l->>'line_no')::int)"
        " AS skus FROM orders"
        " WHERE (channel, order_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r["channel"], r["order_id"]): Known(r["customer_id"], list(r["skus"])) for r in rows}


async def record(conn: Conn, batch: list[Resolved]) -> list[bool]:
    """Record events not seen before and put them in the outbox; return which were new."""
    inserted = await conn.fetch(
        "INSERT INTO order_events (channel, order_id, event, line_nos, at)"
        " SELECT channel, order_id, event, line_nos::int[], at"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])"
        " AS t(channel, order_id, event, line_nos, at)"
        " ON CONFLICT DO NOTHING RETURNING channel, order_id, event, line_nos",
        [e.channel for e in batch],
        [e.order_id for e in batch],
        [e.event for e in batch],
        # Line lists travel as array literals: unnest cannot yield arrays of arrays.
        ["{" + ",".join(map(str, e.line_nos)) + "}" for e in batch],
        [e.at for e in batch],
    )
    fresh = {(r["channel"], r["order_id"], r["event"], tuple(r["line_nos"])) for r in inserted}
    new = []
    for e in batch:
        key = (e.channel, e.order_id, e.event, tuple(e.line_nos))
        new.append(key in fresh)
        fresh.discard(key)
    await enqueue_encoded(
        conn,
        [
            publishing.order_event(e.event, e.channel, e.order_id, e.customer_id, e.at, e.line_nos)
            for e, is_new in zip(batch, new, strict=True)
            if is_new
        ],
    )
    return new
