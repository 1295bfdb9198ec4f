"""Ingest's SQL for a customer's rights: linked ids, erasure, its requests and an export."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from shared.db import Conn


async def linked_customers(conn: Conn, customer_id: str) -> list[str]:
    """The customer and every other id the shop links to it by e-mail address, that one first."""
    rows = await conn.fetch(
        "SELECT DISTINCT o.customer_id FROM customers c"
        " JOIN customers o ON o.email_key = c.email_key"
        " WHERE c.customer_id = $1 AND o.customer_id <> $1 ORDER BY o.customer_id",
        customer_id,
    )
    return [customer_id, *(r["customer_id"] for r in rows)]


async def erase_customers(
    conn: Conn, customer_ids: list[str], subjects: list[str]
) -> dict[str, int]:
    """Delete the customers' orders, their events, the customer records and contact data
    still waiting in the outbox (`subjects`); return how many of each went."""
    events = await conn.fetchval(
        "WITH gone AS (DELETE FROM order_events e USING orders o"
        " WHERE e.channel = o.channel AND e.order_id = o.order_id"
        " AND o.customer_id = ANY($1::text[]) RETURNING 1) SELECT count(*) FROM gone",
        customer_ids,
    )
    orders = await conn.fetchval(
        "WITH gone AS (DELETE FROM orders WHERE customer_id = ANY($1::text[]) RETURNING 1)"
        " SELECT count(*) FROM gone",
        customer_ids,
    )
    customers = await conn.fetchval(
        "WITH gone AS (DELETE FROM customers WHERE customer_id = ANY($1::text[]) RETURNING 1)"
        " SELECT count(*) FROM gone",
        customer_ids,
    )
    await conn.execute("DELETE FROM outbox WHERE subject = ANY($1::text[])", subjects)
    return {"orders": orders, "order_events": events, "customers": customers}


async def record_request(
    conn: Conn, request_id: str, customer_key: bytes, customers: int, at: datetime
) -> None:
    """Keep an erasure request, its customer only as a keyed hash."""
    await conn.execute(
        "INSERT INTO erasure_requests (request_id, customer_key, customers, requested_at)"
        " VALUES ($1, $2, $3, $4)",
        request_id,
        customer_key,
        customers,
        at,
    )


async def record_confirmation(
    conn: Conn, request_id: str, service: str, erased: dict[str, int], at: datetime
) -> bool:
    """Keep an eraser's confirmation once; whether it was new (False for a repeat or a request
    this ingest never made)."""
    done = await conn.fetchval(
        "INSERT INTO erasure_confirmations (request_id, service, erased, confirmed_at)"
        " SELECT $1, $2, $3::jsonb, $4 WHERE EXISTS"
        " (SELECT FROM erasure_requests WHERE request_id = $1)"
        " ON CONFLICT DO NOTHING RETURNING true",
        request_id,
        service,
        json.dumps(erased),
        at,
    )
    return bool(done)


async def erasure(
    conn: Conn, request_id: str, customer_key: bytes
) -> tuple[asyncpg.Record, list[asyncpg.Record]] | None:
    """An erasure request of this customer with its confirmations; None if there is none."""
    request = await conn.fetchrow(
        "SELECT request_id, customers, requested_at FROM erasure_requests"
        " WHERE request_id = $1 AND customer_key = $2",
        request_id,
        customer_key,
    )
    if request is None:
        return None
    confirmations = await conn.fetch(
        "SELECT service, erased, confirmed_at FROM erasure_confirmations"
        " WHERE request_id = $1 ORDER BY confirmed_at, service",
        request_id,
    )
    return request, confirmations


async def customer_orders(conn: Conn, customer_ids: list[str]) -> list[dict[str, Any]]:
    """The customers' orders as ingest normalized them, each with its lines and events."""
    rows = await conn.fetch(
        "SELECT o.channel, o.order_id, o.customer_id, o.placed_at, o.received_at, o.country,"
        " o.region, o.postal_code, o.lat, o.lon, o.geo_source, o.lines,"
        " coalesce((SELECT json_agg(json_build_object('event', e.event, 'line_nos', e.line_nos,"
        " 'quantities', e.quantities, 'at', e.at) ORDER BY e.at, e.event)"
        " FROM order_events e WHERE e.channel = o.channel AND e.order_id = o.order_id),"
        " '[]'::json) AS events"
        " FROM orders o WHERE o.customer_id = ANY($1::text[])"
        " ORDER BY o.placed_at, o.channel, o.order_id",
        customer_ids,
    )
    return [
        {
            **dict(r),
            "lines": msgspec.json.decode(r["lines"]),
            "events": msgspec.json.decode(r["events"]),
        }
        for r in rows
    ]


async def oldest_pending(conn: Conn, erasers: tuple[str, ...]) -> datetime | None:
    """When the oldest request still missing an eraser's confirmation was made; None if none."""
    when: datetime | None = await conn.fetchval(
        "SELECT min(r.requested_at) FROM erasure_requests r WHERE"
        " (SELECT count(*) FROM erasure_confirmations c"
        "  WHERE c.request_id = r.request_id AND c.service = ANY($1::text[])) < cardinality($1)",
        list(erasers),
    )
    return when
