"""Ingest's SQL for operators: how an order was understood."""

from __future__ import annotations

from typing import Any

import msgspec

from shared.db import Conn


async def order_audit(conn: Conn, channel: str, order_id: str) -> dict[str, Any] | None:
    """The stored order with each line's categories and how they were found; None if unknown."""
    order = await conn.fetchrow(
        "SELECT channel, order_id, customer_id, placed_at, received_at, country, region,"
        " postal_code, lat, lon, geo_source, lines"
        " FROM orders WHERE channel = $1 AND order_id = $2",
        channel,
        order_id,
    )
    if order is None:
        return None
    events = await conn.fetch(
        "SELECT event, line_nos, quantities, ref, at FROM order_events"
        " WHERE channel = $1 AND order_id = $2"
        " ORDER BY at, event",
        channel,
        order_id,
    )
    return {
        **dict(order),
        "lines": msgspec.json.decode(order["lines"]),
        "events": [
            {**dict(r), "line_nos": list(r["line_nos"]), "quantities": list(r["quantities"])}
            for r in events
        ],
    }
