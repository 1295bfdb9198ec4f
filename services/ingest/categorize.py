"""Finding each line's safety categories: the catalog first, then the title rules."""

from __future__ import annotations

from services.ingest import categories, store
from services.ingest.normalize import Prepared
from shared.db import Conn


async def categorize(conn: Conn, batch: list[Prepared]) -> None:
    """Set each order's `categories`: per line, (codes, "catalog" | "rule" | "none")."""
    skus = {line.sku for p in batch for line in p.order.lines}
    gtins = {line.gtin for p in batch for line in p.order.lines if line.gtin}
    by_sku, by_gtin = await store.catalog_categories(conn, skus, gtins)
    by_title: dict[str, list[str]] = {}  # a batch repeats its bestsellers
    for p in batch:
        found: list[tuple[list[str], str]] = []
        for line in p.order.lines:
            known = by_sku.get(line.sku) or (by_gtin.get(line.gtin) if line.gtin else None)
            if known:
                found.append((categories.expand(known), "catalog"))
            else:
                codes = by_title.get(line.title)
                if codes is None:
                    codes = by_title[line.title] = categories.from_title(line.title)
                found.append((codes, "rule" if codes else "none"))
        p.categories = found
