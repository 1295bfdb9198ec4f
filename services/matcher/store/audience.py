"""Matcher's SQL for an audience: a `Where` clause over owned purchases, counted or read."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from shared import messages as m
from shared.db import Conn

if TYPE_CHECKING:  # the clauses are built in audience.py, which runs them through here
    from services.matcher.audience import Where


class Held(NamedTuple):
    """One purchase line of a customer as the rules see it."""

    placed_at: datetime
    categories: frozenset[str]
    purchase: m.Purchase


async def count(conn: Conn, w: Where) -> int:
    """How many customers the clause reaches."""
    value = await conn.fetchval(
        f"SELECT count(DISTINCT customer_id) FROM {w.source} WHERE {w.sql}", *w.params
    )
    return int(value or 0)


async def count_by_code(conn: Conn, w: Where) -> dict[str, int]:
    """How many customers the clause reaches in each area_code."""
    rows = await conn.fetch(
        f"SELECT area_code, count(DISTINCT customer_id) AS n FROM {w.source} WHERE {w.sql}"
        " GROUP BY area_code",
        *w.params,
    )
    return {r["area_code"]: r["n"] for r in rows}


Centre = tuple[int, float | None, float | None]  # customers, mean latitude and longitude


async def centres_by_code(conn: Conn, w: Where) -> dict[str, Centre]:
    """Each area_code's customers under the clause, and the centre of their coordinates."""
    rows = await conn.fetch(
        "SELECT area_code, count(DISTINCT customer_id) AS n, avg(lat) AS lat, avg(lon) AS lon"
        f" FROM {w.source} WHERE {w.sql} GROUP BY area_code",
        *w.params,
    )
    return {r["area_code"]: (r["n"], r["lat"], r["lon"]) for r in rows}


async def held(conn: Conn, w: Where) -> dict[str, list[Held]]:
    """Each customer's owned lines under the clause, categories gathered per line."""
    rows = await conn.fetch(
        "SELECT customer_id, channel, order_id, array_agg(category) AS categories,"
        " min(sku) AS sku, min(title) AS title, min(placed_at) AS placed_at"
        f" FROM purchases WHERE {w.sql} GROUP BY customer_id, channel, order_id, line_no",
        *w.params,
    )
    by_customer: dict[str, list[Held]] = defaultdict(list)
    for r in rows:
        purchase = m.Purchase(
            channel=r["channel"],
            order_id=r["order_id"],
            sku=r["sku"],
            title=r["title"],
            placed_at=r["placed_at"],
        )
        line = Held(r["placed_at"], frozenset(r["categories"]), purchase)
        by_customer[r["customer_id"]].append(line)
    return by_customer
