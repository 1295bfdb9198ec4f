"""Matcher's SQL for purchase history: orders' lines, cancellations and returns."""

from __future__ import annotations

from collections.abc import Sequence

from shared import gtin
from shared import messages as m
from shared.db import Conn

LineKey = tuple[str, str, int]


def _owned(t: str) -> str:
    """Whether line `t` is still owned: its quantity exceeds what cancellations and returns
    took back of it (one naming no lines, or the line without a quantity, takes it all)."""
    return f"""{t}.quantity > (
    SELECT coalesce(sum(CASE WHEN cardinality(v.line_nos) = 0 THEN {t}.quantity ELSE coalesce(
        nullif(v.quantities[array_position(v.line_nos, {t}.line_no)], 0), {t}.quantity) END), 0)
    FROM voided v WHERE v.channel = {t}.channel AND v.order_id = {t}.order_id
    AND (cardinality(v.line_nos) = 0 OR {t}.line_no = ANY(v.line_nos)))"""


# A line is active unless cancellations or returns that arrived first took all of it back.
_ACTIVE = _owned("t")

_INSERT_LINES = f"""
INSERT INTO purchases (channel, order_id, line_no, category, customer_id, sku, gtin, title,
    placed_at, country, region, lat, lon, quantity, area_code, bucket, active)
SELECT t.*, customer_bucket(t.customer_id), {_ACTIVE}
FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::timestamptz[], $10::text[], $11::text[], $12::float8[], $13::float8[],
    $14::int[], $15::text[])
    AS t(channel, order_id, line_no, category, customer_id, sku, gtin, title, placed_at,
    country, region, lat, lon, quantity, area_code)
ON CONFLICT DO NOTHING
RETURNING channel, order_id, line_no, active
"""

_INSERT_UNCATEGORIZED = f"""
INSERT INTO uncategorized_lines (channel, order_id, line_no, customer_id, sku, gtin, title,
    placed_at, quantity, bucket, active)
SELECT t.*, customer_bucket(t.customer_id), {_ACTIVE}
FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::timestamptz[], $9::int[])
    AS t(channel, order_id, line_no, customer_id, sku, gtin, title, placed_at, quantity)
ON CONFLICT DO NOTHING
RETURNING channel, order_id, line_no, active
"""


async def record_orders(conn: Conn, orders: Sequence[m.OrderPlaced]) -> set[LineKey]:
    """Add the orders' lines to the history; return the lines new to it and still owned.

    A line in no safety category stays out of the purchase history: it is kept in
    `uncategorized_lines`, where only a recall by SKU or GTIN looks for it.
    """
    rows = [
        (
            o.channel,
            o.order_id,
            line.line_no,
            category,
            o.customer_id,
            line.sku,
            gtin.canonical(line.gtin),
            line.title,
            o.placed_at,
            o.location.country,
            o.location.region,
            o.location.lat,
            o.location.lon,
            line.quantity,
            o.location.area_code,
        )
        for o in orders
        for line in o.lines
        for category in line.categories
    ]
    bare = [
        (o.channel, o.order_id, line.line_no, o.customer_id, line.sku, gtin.canonical(line.gtin),
         line.title, o.placed_at, line.quantity)
        for o in orders
        for line in o.lines
        if not line.categories
    ]  # fmt: skip
    inserted = []
    for sql, table in ((_INSERT_LINES, rows), (_INSERT_UNCATEGORIZED, bare)):
        if table:
            inserted += await conn.fetch(sql, *(list(c) for c in zip(*table, strict=True)))
    return {(r["channel"], r["order_id"], r["line_no"]) for r in inserted if r["active"]}


async def areas_of(conn: Conn, customer_ids: Sequence[str]) -> dict[str, set[tuple[str, str]]]:
    """The (country, municipality or county code) of the places each customer's purchases
    ship to (a customer who moved, or sends gifts, has several); none where no code is known."""
    rows = await conn.fetch(
        "SELECT DISTINCT customer_id, country, area_code FROM purchases"
        " WHERE (customer_id, bucket) IN (SELECT c, customer_bucket(c) FROM unnest($1::text[]) c)"
        " AND area_code IS NOT NULL",
        list(customer_ids),
    )
    found: dict[str, set[tuple[str, str]]] = {c: set() for c in customer_ids}
    for r in rows:
        found[r["customer_id"]].add((r["country"], r["area_code"]))
    return found


async def record_voids(conn: Conn, events: Sequence[m.OrderCancelled | m.OrderReturned]) -> None:
    """Remember cancellations and returns, and stop counting the lines they took all of back."""
    if not events:
        return
    named = [_named(e) for e in events]
    await conn.executemany(
        "INSERT INTO voided (channel, order_id, event, line_nos, quantities, ref, at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        [
            (e.channel, e.order_id, "cancelled" if isinstance(e, m.OrderCancelled) else "returned",
             line_nos, quantities, e.ref, e.at)
            for e, (line_nos, quantities) in zip(events, named, strict=True)
        ],
    )  # fmt: skip
    await conn.executemany(
        "UPDATE purchases p SET active = false WHERE customer_id = $1"
        " AND bucket = customer_bucket($1) AND channel = $2 AND order_id = $3 AND active"
        f" AND (cardinality($4::int[]) = 0 OR line_no = ANY($4::int[])) AND NOT {_owned('p')}",
        [(e.customer_id, e.channel, e.order_id, n[0]) for e, n in zip(events, named, strict=True)],
    )
    await conn.executemany(
        "UPDATE uncategorized_lines u SET active = false WHERE channel = $1 AND order_id = $2"
        f" AND active AND (cardinality($3::int[]) = 0 OR line_no = ANY($3::int[]))"
        f" AND NOT {_owned('u')}",
        [(e.channel, e.order_id, n[0]) for e, n in zip(events, named, strict=True)],
    )


def _named(e: m.OrderCancelled | m.OrderReturned) -> tuple[list[int], list[int]]:
    """The event's lines in order, with their quantities (empty: each line whole)."""
    if not e.quantities:
        return sorted(e.line_nos), []
    pairs = sorted(zip(e.line_nos, e.quantities, strict=True))
    return [n for n, _ in pairs], [q for _, q in pairs]
