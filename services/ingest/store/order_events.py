"""Ingest's SQL for cancellations and returns, recorded once each, with their bus events."""

from __future__ import annotations

from datetime import datetime

import msgspec

from services.ingest import publishing
from shared.db import Conn
from shared.outbox import enqueue_encoded


class Known(msgspec.Struct, frozen=True):
    """What an event needs to know of its order: the customer, each line's SKU and quantity."""

    customer_id: str
    skus: list[str]  # skus[n - 1] is line n
    quantities: list[int]  # quantities[n - 1] is line n's


class Resolved(msgspec.Struct, frozen=True, kw_only=True):
    """An event with its order found and its lines named by number."""

    event: str
    channel: str
    order_id: str
    customer_id: str
    at: datetime
    line_nos: list[int]
    quantities: list[int] = []  # per line_nos, 0 for a whole line; empty: each line whole
    ref: str = ""  # the channel's id of the event: two returns of the same are two facts


async def known_orders(conn: Conn, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Known]:
    """Return the known orders among `keys` with their lines."""
    rows = await conn.fetch(
        "SELECT channel, order_id, customer_id,"
        " ARRAY(SELECT l->>'sku' FROM json_array_elements(lines) l ORDER BY (l->>'line_no')::int)"
        " AS skus,"
        " ARRAY(SELECT coalesce((l->>'quantity')::int, 1) FROM json_array_elements(lines) l"
        " ORDER BY (l->>'line_no')::int) AS quantities"
        " FROM orders"
        " WHERE (channel, order_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {
        (r["channel"], r["order_id"]): Known(
            r["customer_id"], list(r["skus"]), list(r["quantities"])
        )
        for r in rows
    }


async def record(conn: Conn, batch: list[Resolved]) -> list[bool]:
    """Record events not seen before and put them in the outbox; return which were new."""
    inserted = await conn.fetch(
        "INSERT INTO order_events (channel, order_id, event, line_nos, quantities, ref, at)"
        " SELECT channel, order_id, event, line_nos::int[], quantities::int[], ref, at"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
        " $7::timestamptz[]) AS t(channel, order_id, event, line_nos, quantities, ref, at)"
        " ON CONFLICT DO NOTHING RETURNING channel, order_id, event, line_nos, quantities, ref",
        [e.channel for e in batch],
        [e.order_id for e in batch],
        [e.event for e in batch],
        # Lists travel as array literals: unnest cannot yield arrays of arrays.
        [_literal(e.line_nos) for e in batch],
        [_literal(e.quantities) for e in batch],
        [e.ref for e in batch],
        [e.at for e in batch],
    )
    fresh = {
        (r["channel"], r["order_id"], r["event"], tuple(r["line_nos"]), tuple(r["quantities"]),
         r["ref"])
        for r in inserted
    }  # fmt: skip
    new = []
    for e in batch:
        key = (e.channel, e.order_id, e.event, tuple(e.line_nos), tuple(e.quantities), e.ref)
        new.append(key in fresh)
        fresh.discard(key)
    await enqueue_encoded(
        conn, [publishing.order_event(e) for e, is_new in zip(batch, new, strict=True) if is_new]
    )
    return new


def _literal(numbers: list[int]) -> str:
    return "{" + ",".join(map(str, numbers)) + "}"
