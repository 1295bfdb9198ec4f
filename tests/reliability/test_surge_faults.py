"""Surges of thousands of mails through the real stack while things break.

Each scenario runs the stack as `make up` does (`python -m deploy.local up`, processes, the
launcher restarting what dies) on NATS, PostgreSQL and SMTP servers of its own, posts a
shop's orders and a recall with an embargo a few seconds ahead, breaks something while
the mail flows, and then checks at the SMTP server that every customer got the recall,
none twice, and that the mailer's ledger agrees. The quick versions run in `make test`;
the full ones (more mail, every fault repeated) in `make reliability`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from deploy.servers import NatsServer
from tests.support.faults import CountingSink, NatsCluster
from tests.support.figures import record
from tests.support.stack import LaunchedStack, create_agency, launch_env
from tests.support.surge import (
    Verdict,
    email_of,
    load_shop,
    post_recall,
    verdict,
    wait_delivered,
)

FAST = pytest.param("fast", marks=pytest.mark.reliability_fast, id="fast")
FULL = pytest.param("full", marks=[pytest.mark.reliability, pytest.mark.timeout(1500)], id="full")
CUSTOMERS = {"fast": 1500, "full": 6000}
EMBARGO_SECONDS = 8
SETTLE_SECONDS = 7  # longer than the mailer's sweep: a late second copy would show


@dataclass
class Surge:
    """One surge in progress: what the faults need to know to strike at the right moment."""

    stack: LaunchedStack
    sink: CountingSink
    http: aiohttp.ClientSession
    database_url: str
    customers: int
    advisory_id: str = ""
    embargo: datetime = field(default_factory=lambda: datetime.now(UTC))

    def share_sent(self) -> float:
        """Share of the customers whose mail the SMTP server accepted."""
        if not self.advisory_id:
            return 0.0
        return len(self.sink.addresses_of(self.advisory_id)) / self.customers

    async def until(self, share: float, timeout: float = 600) -> None:
        """Wait until that share of the mail went out."""
        async with asyncio.timeout(timeout):
            while self.share_sent() < share:
                await asyncio.sleep(0.1)

    async def until_published(self) -> None:
        """Wait until the embargo time has passed."""
        while not self.advisory_id or datetime.now(UTC) < self.embargo:
            await asyncio.sleep(0.1)


Fault = Callable[[Surge], Awaitable[int]]


@contextlib.asynccontextmanager
async def launched(data: Path, **settings: str) -> AsyncIterator[LaunchedStack]:
    """The stack as `make up` runs it, stopped at the end."""
    stack = LaunchedStack(data, launch_env(data, **settings))
    await asyncio.to_thread(stack.start)
    try:
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)


async def surge(
    name: str, scale: str, stack: LaunchedStack, sink: CountingSink, database_url: str,
    fault: Fault, *, timeout: float = 300,
) -> tuple[Verdict, int]:  # fmt: skip
    """Run one surge with a fault striking in it; return the verdict and the faults injected."""
    customers = CUSTOMERS[scale]
    prefix = name.split()[0].lower()[:8] + scale[0]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        run = Surge(stack, sink, http, database_url, customers)
        key = await create_agency(stack.env, f"Agency {name}")
        started = time.monotonic()
        run.embargo = datetime.now(UTC) + timedelta(seconds=EMBARGO_SECONDS)
        run.advisory_id = await post_recall(http, stack, key, f"HZ-{prefix}", run.embargo)
        striking = asyncio.create_task(fault(run))
        await load_shop(http, stack, prefix, f"HZ-{prefix}", customers)
        await wait_delivered(sink, run.advisory_id, customers, database_url, timeout)
        delivered = time.monotonic()
        faults = await striking
        await asyncio.sleep(SETTLE_SECONDS)
        addresses = {email_of(prefix, i) for i in range(customers)}
        found = await verdict(sink, run.advisory_id, addresses, database_url, started)
        # From the embargo to the last mail recorded: the surge's own duration.
        found.seconds = delivered - started - EMBARGO_SECONDS
        return found, faults


def report(name: str, found: Verdict, faults: int, note: str = "", explained: int = 0) -> None:
    """Record the scenario's figures for the table."""
    survived = faults if found.lost == 0 and found.ledger_agrees else 0
    extra = f"; {explained} duplicates explained" if explained else ""
    record(
        name,
        load=found.expected,
        faults=faults,
        survived=survived,
        lost=found.lost,
        duplicates=found.duplicates,
        seconds=found.seconds,
        note=f"{found.expected / found.seconds:,.0f} mail/s from the embargo{extra}; {note}",
    )


def assert_whole(found: Verdict) -> None:
    """Every customer got the mail, and the ledger says so with the same Message-IDs."""
    assert found.lost == 0, found
    assert found.ledger_agrees, found


@pytest.mark.parametrize("scale", [FAST, FULL])
async def test_a_surge_survives_smtp_deferring_a_fifth(
    scale: str, tmp_path: Path, database_url: str, nats_url: str
) -> None:
    sink = CountingSink()
    await sink.start()

    async def fault(run: Surge) -> int:
        await run.until(0.05)
        sink.defer_share = 0.2  # 451 to a fifth of the messages...
        await run.until(0.6)
        sink.defer_share = 0.0  # ...for a while
        return 1

    try:
        async with launched(
            tmp_path / "data", NATS_URL=nats_url, DATABASE_URL=database_url,
            ANSHIN_SMTP_PORT=str(sink.port),
        ) as stack:  # fmt: skip
            found, faults = await surge("SMTP 4xx to a fifth", scale, stack, sink, database_url,
                                        fault)  # fmt: skip
    finally:
        await sink.stop()
    report(f"SMTP 451 to 1/5 of mail ({scale})", found, faults,
           f"{sink.deferred:,} mails deferred and retried")  # fmt: skip
    assert sink.deferred > 0
    assert_whole(found)
    assert found.duplicates == 0, found
