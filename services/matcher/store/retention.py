"""Matcher's SQL for retention: purchases, uncategorized lines and voids older than a cutoff."""

from __future__ import annotations

from datetime import datetime

from shared.db import Conn

_PURCHASES = """
WITH doomed AS (
    SELECT customer_id, channel, order_id, line_no, category, bucket FROM purchases
    WHERE placed_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM purchases p USING doomed d
    WHERE p.customer_id = d.customer_id AND p.channel = d.channel AND p.order_id = d.order_id
      AND p.line_no = d.line_no AND p.category = d.category AND p.bucket = d.bucket
    RETURNING 1
)
SELECT count(*) FROM gone
"""

_LINES = """
WITH gone AS (
    DELETE FROM uncategorized_lines WHERE (channel, order_id, line_no) IN (
        SELECT channel, order_id, line_no FROM uncategorized_lines
        WHERE placed_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
    RETURNING 1
)
SELECT count(*) FROM gone
"""

# A void outlives its order's lines only until they are pruned too.
_VOIDS = """
WITH gone AS (
    DELETE FROM voided WHERE (channel, order_id, event, line_nos, quantities, ref) IN (
        SELECT channel, order_id, event, line_nos, quantities, ref FROM voided v
        WHERE at < $1
          AND NOT EXISTS (SELECT FROM purchases p
                          WHERE p.channel = v.channel AND p.order_id = v.order_id)
          AND NOT EXISTS (SELECT FROM uncategorized_lines u
                          WHERE u.channel = v.channel AND u.order_id = v.order_id)
        LIMIT $2 FOR UPDATE SKIP LOCKED)
    RETURNING 1
)
SELECT count(*) FROM gone
"""


async def prune_purchases(conn: Conn, cutoff: datetime, batch: int) -> int:
    """Delete up to `batch` purchase rows bought before `cutoff`."""
    count: int = await conn.fetchval(_PURCHASES, cutoff, batch)
    return count


async def prune_uncategorized(conn: Conn, cutoff: datetime, batch: int) -> int:
    """Delete up to `batch` uncategorized lines bought before `cutoff`."""
    count: int = await conn.fetchval(_LINES, cutoff, batch)
    return count


async def prune_voids(conn: Conn, cutoff: datetime, batch: int) -> int:
    """Delete up to `batch` voids recorded before `cutoff` whose order has no line left."""
    count: int = await conn.fetchval(_VOIDS, cutoff, batch)
    return count
