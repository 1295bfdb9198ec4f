"""Ingest's SQL for the catalog: SKU and GTIN to safety categories."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from services.ingest.model import CatalogItem
from shared.db import Conn


async def upsert_catalog(conn: Conn, items: Iterable[CatalogItem]) -> int:
    """Insert or replace catalog entries; return how many were written."""
    latest = {i.sku: i for i in items}  # the last entry of a SKU wins
    rows = [(i.sku, i.gtin, i.title, i.categories) for i in latest.values()]
    await conn.execute(
        "INSERT INTO catalog (sku, gtin, title, categories)"
        # Category lists travel as array literals: unnest cannot yield arrays of arrays.
        " SELECT sku, gtin, title, categories::text[]"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
        " AS t(sku, gtin, title, categories)"
        " ON CONFLICT (sku) DO UPDATE SET gtin = excluded.gtin, title = excluded.title,"
        " categories = excluded.categories, updated_at = now()",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        ["{" + ",".join(r[3]) + "}" for r in rows],
    )
    return len(rows)


async def catalog_categories(
    conn: Conn, skus: set[str], gtins: set[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Return the catalog's categories by SKU and by GTIN for the given products."""
    rows = await conn.fetch(
        "SELECT sku, gtin, categories FROM catalog WHERE sku = ANY($1) OR gtin = ANY($2)",
        list(skus),
        list(gtins),
    )
    by_sku = {r["sku"]: list(r["categories"]) for r in rows}
    by_gtin = {r["gtin"]: list(r["categories"]) for r in rows if r["gtin"]}
    return by_sku, by_gtin


async def lookup(conn: Conn, sku: str) -> asyncpg.Record | None:
    """Return one catalog entry, or None."""
    return await conn.fetchrow(
        "SELECT sku, gtin, title, categories FROM catalog WHERE sku = $1", sku
    )
