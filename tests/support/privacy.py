"""Building blocks for the tests of a customer's rights: a shop with mail sent, erasure polls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import asyncpg

from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import eventually, new_agency
from tests.support.keys import channel_header
from tests.support.shop import expect, order, power_bank_advisory

CATALOG = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]


async def rows(database_url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of a query over the services' schemas."""
    conn = await asyncpg.connect(database_url)
    try:
        return [tuple(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def shop_with_mail(
    http: aiohttp.ClientSession,
    settings: Settings,
    clock: Clock,
    urls: dict[str, str],
    people: list[tuple[str, str, str]],
    *,
    settle: bool = True,
) -> tuple[str, dict[str, str]]:
    """The catalog, one power-bank order per (order id, customer, address), and a published
    power-bank advisory: return its id and the web channel's header once the ledger shows
    every customer's mail settled (at once, without `settle`)."""
    ingest, advisory = urls["ingest"], urls["advisory"]
    agency = await new_agency(settings, "製品安全研究所")
    catalog = await channel_header(settings, "shop-catalog", catalog=True)
    web = await channel_header(settings, "web")
    await expect(await http.put(f"{ingest}/v1/catalog", json=CATALOG, headers=catalog), 200)
    for order_id, customer, email in people:
        placed = order(order_id, clock.now() - timedelta(days=2), customer=customer, email=email)
        await expect(await http.post(f"{ingest}/v1/orders", json=placed, headers=web), 202)
    created = await expect(
        await http.post(
            f"{advisory}/v1/advisories",
            json=power_bank_advisory(clock.now() + timedelta(minutes=1)),
            headers=agency,
        ),
        201,
    )
    clock.advance(timedelta(minutes=1, seconds=1))
    customers = sorted({c for _, c, _ in people})
    # Each customer's mail settled; an address of two customers is mailed once.
    settled = (
        "SELECT customer_id FROM mailer.deliveries"
        " WHERE state NOT IN ('queued', 'deferred', 'sending') ORDER BY 1"
    )

    async def all_sent() -> bool:
        return [r[0] for r in await rows(settings.database_url, settled)] == customers

    if settle:
        await eventually(all_sent, timeout=30)
    advisory_id: str = created["id"]
    return advisory_id, web


async def erase(
    http: aiohttp.ClientSession, ingest: str, headers: dict[str, str], customer_id: str
) -> str:
    """Ask for the customer's erasure; return the request's id."""
    url = f"{ingest}/v1/customers/{customer_id}/erase"
    answer = await expect(await http.post(url, headers=headers), 202)
    request_id: str = answer["id"]
    return request_id


async def erasure_status(
    http: aiohttp.ClientSession,
    ingest: str,
    headers: dict[str, str],
    customer_id: str,
    request_id: str,
) -> dict[str, Any]:
    """The erasure request as ingest reports it."""
    url = f"{ingest}/v1/customers/{customer_id}/erase/{request_id}"
    found: dict[str, Any] = await expect(await http.get(url, headers=headers), 200)
    return found


async def erased(
    http: aiohttp.ClientSession,
    ingest: str,
    headers: dict[str, str],
    customer_id: str,
    request_id: str,
    timeout: float = 30,
) -> dict[str, Any]:
    """Wait until every eraser confirmed the request; return its report."""

    async def done() -> dict[str, Any] | None:
        found = await erasure_status(http, ingest, headers, customer_id, request_id)
        return found if found["state"] == "done" else None

    report: dict[str, Any] = await eventually(done, timeout=timeout)
    return report
