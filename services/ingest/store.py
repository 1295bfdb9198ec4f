"""Ingest's SQL: the catalog, accepted orders, and their events in the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import asyncpg

from services.ingest.model import CatalogItem, Order
from shared import messages as m
from shared.bus import Subjects
from shared.outbox import enqueue_encoded


async def upsert_catalog(pool: asyncpg.Pool, items: Iterable[CatalogItem]) -> int:
    """Insert or replace catalog entries; return how many were written."""
    rows = [(i.sku, i.gtin, i.title, i.categories) for i in items]
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO catalog (sku, gtin, title, categories) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (sku) DO UPDATE SET gtin = excluded.gtin, title = excluded.title,"
            " categories = excluded.categories, updated_at = now()",
            rows,
        )
    return len(rows)


async def catalog_categories(
    pool: asyncpg.Pool, skus: set[str], gtins: set[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Return the catalog's categories by SKU and by GTIN for the given products."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT sku, gtin, categories FROM catalog WHERE sku = ANY($1) OR gtin = ANY($2)",
            list(skus),
            list(gtins),
        )
    by_sku = {r["sku"]: list(r["categories"]) for r in rows}
    by_gtin = {r["gtin"]: list(r["categories"]) for r in rows if r["gtin"]}
    return by_sku, by_gtin


async def lookup(pool: asyncpg.Pool, sku: str) -> asyncpg.Record | None:
    """Return one catalog entry, or None."""
    async with pool.acquire() as conn:
        return await conn.fetchrow(
            "SELECT sku, gtin, title, categories FROM catalog WHERE sku = $1", sku
        )


async def accept_orders(
    pool: asyncpg.Pool,
    orders: list[tuple[Order, list[tuple[list[str], str]]]],
    now: datetime,
) -> list[bool]:
    """Store new orders with their events in the outbox; return, per order, whether it was new.

    `orders` pairs each order with (categories, categorized_by) for each of its lines.
    """
    results: list[bool] = []
    encoder = m.encode
    async with pool.acquire() as conn, conn.transaction():
        for order, cats in orders:
            inserted = await conn.fetchval(
                "INSERT INTO orders (channel, order_id, customer_id, placed_at, country, region,"
                " postal_code, lat, lon) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
                " ON CONFLICT DO NOTHING RETURNING true",
                order.channel,
                order.order_id,
                order.customer.id,
                order.placed_at,
                order.ship_to.country,
                order.ship_to.region,
                order.ship_to.postal_code,
                order.ship_to.lat,
                order.ship_to.lon,
            )
            results.append(bool(inserted))
            if not inserted:
                continue
            await conn.executemany(
                "INSERT INTO order_lines (channel, order_id, line_no, sku, gtin, title, quantity,"
                " categories, categorized_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                [
                    (
                        order.channel,
                        order.order_id,
                        n,
                        line.sku,
                        line.gtin,
                        line.title,
                        line.quantity,
                        c,
                        how,
                    )
                    for n, (line, (c, how)) in enumerate(zip(order.lines, cats, strict=True), 1)
                ],
            )
            events = [_customer_event(order, now)]
            placed = _placed_event(order, cats)
            if placed.lines:
                events.append(
                    (
                        Subjects.ORDERS_PLACED,
                        f"order:{order.channel}:{order.order_id}:placed",
                        encoder(placed),
                    )
                )
            await enqueue_encoded(conn, events)
    return results


def _customer_event(order: Order, now: datetime) -> tuple[str, str, bytes]:
    c = order.customer
    event = m.CustomerUpserted(
        customer_id=c.id,
        email=c.email,
        locale=c.locale,
        timezone=c.timezone,
        name=c.name,
        updated_at=now,
    )
    return (
        Subjects.CUSTOMERS_UPSERTED,
        f"customer:{c.id}:{order.channel}:{order.order_id}",
        m.encode(event),
    )


def _placed_event(order: Order, cats: list[tuple[list[str], str]]) -> m.OrderPlaced:
    s = order.ship_to
    return m.OrderPlaced(
        channel=order.channel,
        order_id=order.order_id,
        customer_id=order.customer.id,
        placed_at=order.placed_at,
        location=m.Location(
            country=s.country, region=s.region, postal_code=s.postal_code, lat=s.lat, lon=s.lon
        ),
        lines=[
            m.OrderLine(
                line_no=n,
                sku=line.sku,
                gtin=line.gtin,
                title=line.title,
                quantity=line.quantity,
                categories=c,
            )
            for n, (line, (c, _)) in enumerate(zip(order.lines, cats, strict=True), 1)
            if c
        ],
    )
