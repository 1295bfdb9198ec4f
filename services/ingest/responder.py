"""The answer to `ingest.catalog.lookup`: which safety categories a product has.

The advisory service asks it for product pages; replicas share the work in one queue group.
"""

from __future__ import annotations

import functools

import asyncpg

from services.ingest import categories, store
from shared import messages as m
from shared.bus import Subjects
from shared.bus.reply import responder
from shared.db import unit_of_work
from shared.http import POOL


async def answer(pool: asyncpg.Pool, question: m.CatalogLookup) -> m.CatalogEntry:
    """The catalog entry of the product a lookup names (found=False where there is none)."""
    async with unit_of_work(pool, transaction=False) as conn:
        row = await store.lookup(conn, question.sku)
    if row is None:
        return m.CatalogEntry(sku=question.sku, found=False)
    return m.CatalogEntry(
        sku=row["sku"],
        gtin=row["gtin"],
        title=row["title"],
        categories=categories.expand(list(row["categories"])),
        found=True,
    )


catalog_responder = responder(
    Subjects.INGEST_CATALOG_LOOKUP,
    "ingest",
    m.CatalogLookup,
    lambda app: functools.partial(answer, app[POOL]),
)
