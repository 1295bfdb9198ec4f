"""Erasure under SIGKILL: erasure requests in flight while a service is killed mid-way.

On the stack as `make up` runs it (the launcher restarts what dies), with the test's own
NATS, PostgreSQL and SMTP servers: every request is confirmed by all four erasers once the
killed service is back, nothing of the erased customers is left, and the next recall reaches
everyone else and none of them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from deploy.servers import NatsServer
from tests.support.faults import CountingSink
from tests.support.figures import record
from tests.support.privacy import erase, erasure_status
from tests.support.stack import LaunchedStack, create_agency, fresh_database, launch_env
from tests.support.surge import email_of, load_shop, post_recall, wait_delivered

SCALES = [
    pytest.param("fast", marks=[pytest.mark.reliability_fast, pytest.mark.timeout(400)]),
    pytest.param("full", marks=[pytest.mark.reliability, pytest.mark.timeout(1800)]),
]
# Customers in the shop, customers erased per kill, services killed in turn.
SHOP = {"fast": 40, "full": 1000}
ERASED = {"fast": 4, "full": 30}
KILLED = {"fast": ["mailer"], "full": ["mailer", "matcher", "ingest"]}
PREFIX = "er"
SKU = "HT-ER"


Stack = tuple[LaunchedStack, CountingSink, str, str]


@pytest.fixture
async def stack(tmp_path: Path, postgres_admin_url: str) -> AsyncIterator[Stack]:
    """The launched stack, its mail sink, its database and an agency's key."""
    root = tmp_path
    nats = NatsServer(root / "nats").start()
    database_url = await fresh_database(postgres_admin_url)
    sink = CountingSink()
    await sink.start()
    env = launch_env(root / "data", NATS_URL=nats.url, DATABASE_URL=database_url,
                     ANSHIN_SMTP_PORT=str(sink.port),
                     ANSHIN_OPERATOR_KEY=secrets.token_urlsafe(24))  # fmt: skip
    launched = LaunchedStack(root / "data", env)
    await asyncio.to_thread(launched.start)
    try:
        key = await create_agency(env, "Erasure Agency")
        yield launched, sink, database_url, key
    finally:
        await asyncio.to_thread(launched.stop)
        await sink.stop()
        nats.stop()


async def _left(database_url: str, ids: list[str]) -> dict[str, int]:
    """Rows still naming the customers, per table."""
    tables = ["ingest.orders", "ingest.customers", "matcher.purchases", "matcher.matches",
              "mailer.contacts", "mailer.deliveries"]  # fmt: skip
    conn = await asyncpg.connect(database_url)
    try:
        return {
            t: await conn.fetchval(f"SELECT count(*) FROM {t} WHERE customer_id = ANY($1)", ids)
            for t in tables
        }
    finally:
        await conn.close()


async def _confirmations(database_url: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT request_id::text, service FROM ingest.erasure_confirmations"
        )
        return [(r[0], r[1]) for r in rows]
    finally:
        await conn.close()


@pytest.mark.parametrize("scale", SCALES)
async def test_erasure_survives_a_sigkill_mid_way(scale: str, stack: Stack) -> None:
    launched, sink, database_url, key = stack
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        await launched.wait_all_ready(http)
        count = SHOP[scale]
        assert await load_shop(http, launched, PREFIX, SKU, count) == count
        first = await post_recall(
            http, launched, key, SKU, datetime.now(UTC) + timedelta(seconds=2)
        )
        await wait_delivered(sink, first, count, database_url, timeout=120)

        op, ingest = launched.operator(), launched.url("ingest")
        requests: dict[str, str] = {}  # request id -> customer id
        for round_no, service in enumerate(KILLED[scale]):
            ids = [f"{PREFIX}-c{round_no * ERASED[scale] + i}" for i in range(ERASED[scale])]
            for customer in ids:
                requests[await erase(http, ingest, op, customer)] = customer
            # Killed while the requests are on their way through the erasers.
            await launched.kill(service, http)

        async def all_done() -> bool:
            for request_id, customer in requests.items():
                try:
                    report = await erasure_status(http, ingest, op, customer, request_id)
                except (aiohttp.ClientError, OSError):
                    return False
                if report["state"] != "done":
                    return False
            return True

        async with asyncio.timeout(180):
            while not await all_done():
                await asyncio.sleep(0.5)

        erased = sorted(set(requests.values()))
        left = await _left(database_url, erased)
        confirmations = await _confirmations(database_url)
        # The next recall reaches everyone else, and none of the erased.
        second = await post_recall(
            http, launched, key, SKU, datetime.now(UTC) + timedelta(seconds=2)
        )
        await wait_delivered(sink, second, count - len(erased), database_url, timeout=120)
        mailed = set(sink.addresses_of(second))
        erased_addresses = {email_of(PREFIX, int(c.rsplit("c", 1)[1])) for c in erased}
        record(
            f"erasure under SIGKILL ({scale})",
            load=len(requests),
            faults=len(KILLED[scale]),
            survived=len(KILLED[scale]),
            leaks=sum(left.values()) + len(mailed & erased_addresses),
            seconds=round(time.monotonic() - started, 1),
        )
        assert set(left.values()) == {0}, left
        assert len(confirmations) == 4 * len(requests)
        assert not mailed & erased_addresses
        assert len(mailed) == count - len(erased)
