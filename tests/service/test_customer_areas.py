"""Municipality and county codes from ingest to the matcher's purchase history, against real
NATS and PostgreSQL: over HTTP and by backfill."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec
import pytest

from services.ingest import cli
from services.matcher import store
from shared.clock import Clock
from shared.config import Settings
from shared.db import unit_of_work
from tests.service.test_ingest_backfill import _args
from tests.service.test_matcher_kit import matcher_pool, shop
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.shop import expect, order

NDJSON = {"Content-Type": "application/x-ndjson"}
# (customer, country, region, postal code) and the code the matcher must keep (None: none).
SHIP_TO: list[tuple[str, str, str | None, str, str | None]] = [
    ("c-kanazawa", "JP", None, "920-0961", "17201"),
    ("c-wajima", "JP", "JP-17", "928-0001", "17204"),
    ("c-sf", "US", None, "94103", "06075"),
    ("c-nowhere", "JP", None, "999-9999", None),  # well formed, in no municipality
    ("c-moved", "JP", "JP-13", "920-0961", None),  # a Kanazawa code with Tokyo's region
]


def _orders(prefix: str, clock: Clock) -> list[dict[str, Any]]:
    """A power bank (a categorized line: it enters the purchase history) to each ship-to."""
    found = []
    for n, (customer, country, region, postal, _) in enumerate(SHIP_TO):
        o = order(f"{prefix}-{n}", clock.now() - timedelta(days=n), customer=customer)
        o["ship_to"] = {"country": country, "postal_code": postal}
        if region:
            o["ship_to"]["region"] = region
        found.append(o)
    return found


async def _kept(settings: Settings) -> dict[str, str | None]:
    """Each customer's area code as the matcher's purchase history holds it."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch("SELECT DISTINCT customer_id, area_code FROM matcher.purchases")
    finally:
        await conn.close()
    return {r["customer_id"]: r["area_code"] for r in rows}


def _counted(metrics: str, outcome: str) -> float:
    """The value of anshin_ingest_areas_total for Japan and an outcome."""
    labels = f'country="JP",outcome="{outcome}"'
    found = re.search(rf"^anshin_ingest_areas_total\{{{labels}\}} (\S+)$", metrics, re.M)
    assert found, f"no anshin_ingest_areas_total{{{labels}}}"
    return float(found.group(1))


EXPECTED = {customer: area for customer, *_, area in SHIP_TO}


async def test_an_order_reaches_the_matcher_with_its_municipality_or_county(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    web = await channel_header(settings, "web")
    async with contextlib.AsyncExitStack() as stack:
        s = await stack.enter_async_context(shop(settings))
        urls = await run_services(stack, settings, clock, "ingest", "matcher")
        before = await (await http.get(f"{urls['ingest']}/metrics")).text()
        body = b"".join(msgspec.json.encode(o) + b"\n" for o in _orders("A", clock))
        url = f"{urls['ingest']}/v1/orders"
        answer = await expect(await http.post(url, data=body, headers=NDJSON | web), 202)
        # Accepted all the same; the two that name no municipality are reported.
        assert (answer["accepted"], answer["rejected"]) == (5, [])
        assert [(u["index"], u["field"]) for u in answer["unlocated"]] == [
            (3, "ship_to.postal_code"),
            (4, "ship_to.postal_code"),
        ]
        assert answer["unlocated"][0]["problem"].startswith("999-9999 names no municipality")
        assert "outside the region JP-13" in answer["unlocated"][1]["problem"]
        after = await (await http.get(f"{urls['ingest']}/metrics")).text()
        for outcome, more in [("found", 2), ("unknown", 1), ("mismatch", 1), ("ambiguous", 0)]:
            assert _counted(after, outcome) - _counted(before, outcome) == more, outcome

        # Sent again: duplicates, neither counted nor reported a second time.
        again = await expect(await http.post(url, data=body, headers=NDJSON | web), 202)
        assert (again["duplicates"], again["unlocated"]) == (5, [])
        metrics = await (await http.get(f"{urls['ingest']}/metrics")).text()
        assert _counted(metrics, "unknown") == _counted(after, "unknown")

        await s.idle(clock)
        assert await _kept(settings) == EXPECTED
        pool = await matcher_pool(settings)
        try:
            async with unit_of_work(pool) as conn:
                held = await store.areas_of(conn, ["c-kanazawa", "c-sf", "c-nowhere"])
        finally:
            await pool.close()
        assert held == {
            "c-kanazawa": {("JP", "17201")},
            "c-sf": {("US", "06075")},
            "c-nowhere": set(),
        }


async def test_backfilled_orders_get_the_same_codes(
    settings: Settings, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orders.ndjson"
    path.write_bytes(b"".join(msgspec.json.encode(o) + b"\n" for o in _orders("B", clock)))
    async with contextlib.AsyncExitStack() as stack:
        s = await stack.enter_async_context(shop(settings))
        await run_services(stack, settings, clock, "matcher")
        assert await cli.load_orders(_args(path), settings) == 0  # nothing rejected
        out = capsys.readouterr().out
        assert "5 accepted, 0 duplicates, 0 rejected, 2 of the accepted without a" in out
        await s.idle(clock)
        assert await _kept(settings) == EXPECTED
