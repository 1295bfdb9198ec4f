"""What anyone may read, in SQL: public advisories (lifecycle/embargo.py); embargoed never."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.advisory.lifecycle import Advisory, embargo
from services.advisory.lifecycle.store import COLUMNS, FROM, advisory_of

# A playbook concerns a product page only while a disaster it answers is recent.
DISASTER_DAYS = 30

# What an advisory concerns was recorded with its rule (migration 006): no kind is named here.
# A notice naming the product itself (a recall) comes first, then an active playbook's.
_FOR_PRODUCT = f"""
SELECT {COLUMNS} {FROM}
WHERE {embargo.public_sql("$1")}
  AND (a.concern_categories && $2::text[] OR $3 = ANY (a.concern_skus)
       OR $4 = ANY (a.concern_gtins))
  AND (NOT a.concern_while_declared OR EXISTS (
        SELECT 1 FROM disasters d WHERE a.id = ANY (d.advisory_ids)
        AND d.declared_at > $1 - make_interval(days => {DISASTER_DAYS})))
ORDER BY CASE WHEN cardinality(a.concern_skus) + cardinality(a.concern_gtins) > 0 THEN 0
              WHEN a.concern_while_declared THEN 1 ELSE 2 END,
         a.published_at DESC
LIMIT 50
"""


async def for_product(
    pool: asyncpg.Pool, sku: str, gtin: str | None, categories: list[str], now: datetime
) -> list[Advisory]:
    """The public advisories that concern a product: by its categories, or recalled by id."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(_FOR_PRODUCT, now, categories, sku, gtin or "")
    return [advisory_of(r) for r in rows]


async def published(pool: asyncpg.Pool, now: datetime) -> list[Advisory]:
    """Every public advisory, newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {COLUMNS} {FROM} WHERE {embargo.public_sql('$1')}"
            " ORDER BY a.published_at DESC LIMIT 500",
            now,
        )
    return [advisory_of(r) for r in rows]


async def public_one(
    pool: asyncpg.Pool, advisory_id: str, now: datetime
) -> tuple[embargo.PublicView, Advisory | None]:
    """('public', advisory), ('gone', None) once withdrawn or expired, or ('none', None)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT {COLUMNS} {FROM} WHERE a.id = $1", advisory_id)
    if row is None:
        return "none", None
    view = embargo.public_view(row["state"], row["published_at"], row["expires_at"], now)
    return view, advisory_of(row) if view == "public" else None
