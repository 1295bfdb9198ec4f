"""Ingest's SQL for retention: orders received before a cutoff once published, customers
without orders."""

from __future__ import annotations

from datetime import datetime

from shared.db import Conn

# An order is published once no outbox row as old as its receipt is left: the relay
# publishes the outbox in order.
_ORDERS = """
WITH doomed AS (
    SELECT channel, order_id FROM orders o
    WHERE received_at < $1
      AND NOT EXISTS (SELECT FROM outbox WHERE created_at <= o.received_at)
    ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED
), events AS (
    DELETE FROM order_events e USING doomed d
    WHERE e.channel = d.channel AND e.order_id = d.order_id
), gone AS (
    DELETE FROM orders o USING doomed d
    WHERE o.channel = d.channel AND o.order_id = d.order_id RETURNING 1
)
SELECT count(*) FROM gone
"""

_CUSTOMERS = """
WITH gone AS (
    DELETE FROM customers WHERE customer_id IN (
        SELECT customer_id FROM customers c
        WHERE seen_at < $1 AND updated_at < $1
          AND NOT EXISTS (SELECT FROM orders o WHERE o.customer_id = c.customer_id)
        LIMIT $2 FOR UPDATE SKIP LOCKED)
    RETURNING 1
)
SELECT count(*) FROM gone
"""


async def prune_orders(conn: Conn, cutoff: datetime, batch: int) -> int:
    """Delete up to `batch` published orders received before `cutoff`, with their events."""
    count: int = await conn.fetchval(_ORDERS, cutoff, batch)
    return count


async def prune_customers(conn: Conn, cutoff: datetime, batch: int) -> int:
    """Delete up to `batch` customer records last seen before `cutoff` with no order left."""
    count: int = await conn.fetchval(_CUSTOMERS, cutoff, batch)
    return count
