"""Matcher's SQL for a customer's rights: erase and export what it derived from their orders."""

from __future__ import annotations

from typing import Any

from shared.db import Conn

# The customers' order keys, from both tables of lines: their voids are keyed by order.
_ORDERS = (
    "SELECT channel, order_id FROM purchases WHERE customer_id = ANY($1::text[])"
    " UNION SELECT channel, order_id FROM uncategorized_lines WHERE customer_id = ANY($1::text[])"
)


async def _deleted(conn: Conn, sql: str, *args: Any) -> int:
    count: int = await conn.fetchval(
        f"WITH gone AS ({sql} RETURNING 1) SELECT count(*) FROM gone", *args
    )
    return count


async def erase(conn: Conn, customer_ids: list[str]) -> dict[str, int]:
    """Delete the customers' purchases, uncategorized lines, voids, matches, folds (a
    disaster playbook held back) and schedule entries; return how many of each went."""
    voided = await _deleted(
        conn,
        f"DELETE FROM voided v USING ({_ORDERS}) o"
        " WHERE v.channel = o.channel AND v.order_id = o.order_id",
        customer_ids,
    )
    erased = {"voided": voided}
    for table in ("purchases", "uncategorized_lines", "matches", "folds", "schedule"):
        erased[table] = await _deleted(
            conn, f"DELETE FROM {table} WHERE customer_id = ANY($1::text[])", customer_ids
        )
    return erased


async def export(conn: Conn, customer_ids: list[str]) -> dict[str, Any]:
    """The customers' purchases as the matcher derived them (categories by line) and the
    categories in all."""
    rows = await conn.fetch(
        "SELECT customer_id, channel, order_id, line_no, category, sku, gtin, placed_at,"
        " country, region, area_code, quantity, active FROM purchases"
        " WHERE customer_id = ANY($1::text[])"
        " ORDER BY placed_at, channel, order_id, line_no, category",
        customer_ids,
    )
    purchases = [dict(r) for r in rows]
    return {
        "purchases": purchases,
        "categories": sorted({p["category"] for p in purchases}),
    }
