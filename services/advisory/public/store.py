"""What anyone may read: published, unexpired advisories. Embargoed ones never match."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from services.advisory.lifecycle.store import COLUMNS, FROM, as_dict

PUBLIC = "a.state = 'published' AND (a.expires_at IS NULL OR a.expires_at > $1)"
# A disaster playbook concerns a product page only while a disaster it answers is recent.
DISASTER_DAYS = 30

_FOR_PRODUCT = f"""
SELECT {COLUMNS} {FROM}
WHERE {PUBLIC} AND (
  (a.kind IN ('short_term', 'long_term') AND a.rule -> 'categories' ?| $2::text[])
  OR (a.kind = 'combination' AND EXISTS (
        SELECT 1 FROM jsonb_array_elements(a.rule -> 'groups') grp WHERE grp ?| $2::text[]))
  OR (a.kind = 'recall' AND (a.rule -> 'skus' ? $3 OR a.rule -> 'gtins' ? $4))
  OR (a.kind = 'disaster' AND a.rule -> 'categories' ?| $2::text[] AND EXISTS (
        SELECT 1 FROM disasters d WHERE a.id = ANY (d.advisory_ids)
        AND d.declared_at > $1 - make_interval(days => {DISASTER_DAYS})))
)
ORDER BY CASE a.kind WHEN 'recall' THEN 0 WHEN 'disaster' THEN 1 ELSE 2 END,
         a.published_at DESC
LIMIT 50
"""


async def for_product(
    pool: asyncpg.Pool, sku: str, gtin: str | None, categories: list[str], now: datetime
) -> list[dict[str, Any]]:
    """The public advisories that concern a product: by its categories, or recalled by id."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(_FOR_PRODUCT, now, categories, sku, gtin or "")
    return [as_dict(r) for r in rows]


async def published(pool: asyncpg.Pool, now: datetime) -> list[dict[str, Any]]:
    """Every public advisory, newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {COLUMNS} {FROM} WHERE {PUBLIC} ORDER BY a.published_at DESC LIMIT 500", now
        )
    return [as_dict(r) for r in rows]


async def public_one(
    pool: asyncpg.Pool, advisory_id: str, now: datetime
) -> tuple[str, dict[str, Any] | None]:
    """('public', advisory), ('gone', None) once withdrawn or expired, or ('none', None)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT {COLUMNS} {FROM} WHERE a.id = $1", advisory_id)
    if row is None or row["published_at"] is None:
        # Unknown and embargoed look the same from outside.
        return "none", None
    if row["state"] == "withdrawn" or (row["expires_at"] and row["expires_at"] <= now):
        return "gone", None
    return "public", as_dict(row)
