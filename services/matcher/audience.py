"""Who a rule reaches in the purchase history: one WHERE clause per kind, read by shard.

The clauses are built here, pure; `store` runs them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.matcher import rules, store
from shared import gtin
from shared import messages as m
from shared.db import Conn

EARTH_RADIUS_KM = 6371.0088

# Every owned line by product, categorized or not: what a recall reads. The quals of a WHERE
# reach both branches (PostgreSQL pushes them into a UNION ALL), so each uses its SKU and GTIN
# indexes.
ANY_LINE = """(
    SELECT customer_id, bucket, channel, order_id, line_no, sku, gtin, title, placed_at, active
    FROM purchases
    UNION ALL
    SELECT customer_id, bucket, channel, order_id, line_no, sku, gtin, title, placed_at, active
    FROM uncategorized_lines
) AS purchases"""


class Where:
    """A WHERE clause over owned purchases, with its $n parameters and the rows it reads."""

    def __init__(self, source: str = "purchases") -> None:
        self.parts = ["active"]
        self.params: list[Any] = []
        # The category history; a recall reads ANY_LINE, uncategorized lines included.
        self.source = source

    def p(self, value: Any) -> str:
        """Bind a parameter and return its placeholder."""
        self.params.append(value)
        return f"${len(self.params)}"

    def add(self, sql: str) -> Where:
        """AND one more condition."""
        self.parts.append(sql)
        return self

    def shard(self, lo: int, hi: int) -> Where:
        """Keep the customers whose bucket lies in [lo, hi)."""
        return self.add(f"bucket >= {self.p(lo)} AND bucket < {self.p(hi)}")

    @property
    def sql(self) -> str:
        """The clause."""
        return " AND ".join(self.parts)


def _categories(w: Where, categories: list[str]) -> Where:
    return w.add(f"category = ANY({w.p(categories)}::text[])")


def short_term(rule: m.AdvisoryRule, now: datetime) -> Where:
    """Purchases of the categories still inside the window (stamped ahead of us too)."""
    w = _categories(Where(), rule.categories)
    return w.add(f"placed_at >= {w.p(now - timedelta(days=rule.window_days))}")


def recall(rule: m.AdvisoryRule) -> Where:
    """Purchases of a listed SKU or GTIN, ever, whether the product has safety categories or not."""
    w = Where(ANY_LINE)
    gtins = [gtin.canonical(g) for g in rule.gtins]  # stored as GTIN-14 (migration 005)
    return w.add(f"(sku = ANY({w.p(rule.skus)}::text[]) OR gtin = ANY({w.p(gtins)}::text[]))")


def long_term(rule: m.AdvisoryRule, now: datetime, late: timedelta) -> Where:
    """Purchases of the categories whose anniversary is ahead, or passed less than `late` ago."""
    w = _categories(Where(), rule.categories)
    years = w.p(rule.after_years)
    return w.add(f"placed_at + make_interval(years => {years}::int) >= {w.p(now - late)}")


def combination(rule: m.AdvisoryRule, now: datetime) -> Where:
    """Purchases that could be part of a combination completed inside the last window."""
    w = _categories(Where(), sorted({c for group in rule.groups for c in group}))
    return w.add(f"placed_at >= {w.p(now - timedelta(days=2 * rule.window_days))}")


def disaster(
    rule: m.AdvisoryRule, occurred_at: datetime, areas: list[m.Area] | None = None
) -> Where:
    """Purchases of the categories within the lookback, shipped into the area (any area)."""
    w = _categories(Where(), rule.categories)
    since = occurred_at - timedelta(days=rule.lookback_days)
    w.add(f"placed_at >= {w.p(since)} AND placed_at <= {w.p(occurred_at)}")
    if rule.countries:
        w.add(f"country = ANY({w.p(rule.countries)}::text[])")
    if areas is not None:
        w.add("(" + " OR ".join(_area(w, a) for a in areas) + ")" if areas else "false")
    return w


def _area(w: Where, area: m.Area) -> str:
    match area:
        case m.Regions(codes=codes):
            # An ISO 3166-2 code names a region, a two-letter code a whole country.
            c = w.p(codes)
            return f"(region = ANY({c}::text[]) OR country = ANY({c}::text[]))"
        case m.Circle(lat=lat, lon=lon, radius_km=radius):
            a, o = w.p(lat), w.p(lon)
            haversine = (
                f"power(sin(radians(lat - {a}::float8) / 2), 2) + cos(radians({a}::float8))"
                f" * cos(radians(lat)) * power(sin(radians(lon - {o}::float8) / 2), 2)"
            )
            return (
                f"(lat IS NOT NULL AND 2 * {EARTH_RADIUS_KM} * asin(least(1, sqrt({haversine})))"
                f" <= {w.p(radius)}::float8)"
            )
        case m.Polygon(points=points):
            ring = asyncpg.Polygon(*((lon, lat) for lat, lon in points))
            return f"(lat IS NOT NULL AND {w.p(ring)}::polygon @> point(lon, lat))"


async def combinations(
    conn: Conn, rule: m.AdvisoryRule, w: Where, now: datetime, reason: str
) -> list[m.Recipient]:
    """Customers holding a combination completed within the last window, with its purchases."""
    since = now - timedelta(days=rule.window_days)
    found = []
    for customer_id, lines in sorted((await store.held(conn, w)).items()):
        purchases = rules.combination_match(rule, lines, since)
        if purchases is not None:
            found.append(m.Recipient(customer_id=customer_id, reason=reason, purchases=purchases))
    return found
