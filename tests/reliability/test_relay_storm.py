"""A relay storm: the relay refuses every recipient for a minute (554 5.7.1, relay access
denied), then works again. Nobody is suppressed, every mail goes out once it recovers, and the
relay is not hammered while it refuses."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import asyncpg
import pytest
from prometheus_client import REGISTRY

from services.mailer.app import build
from shared.clock import Clock
from shared.config import Settings
from tests.support.figures import record
from tests.support.fixtures import running
from tests.support.mailer import advisory, customers, deliveries, eventually, nats, wait_states
from tests.support.smtp import SmtpSink

FAST = pytest.param("fast", marks=[pytest.mark.reliability_fast], id="fast")
FULL = pytest.param("full", marks=[pytest.mark.reliability, pytest.mark.timeout(900)], id="full")
PEOPLE = {"fast": 60, "full": 1_000}
DOMAINS = 7
RELAY_DENIED = "554 5.7.1 <{}>: Relay access denied"


def _paused(path: str, code: str) -> float | None:
    value: float | None = REGISTRY.get_sample_value(
        "anshin_mailer_path_paused", {"path": path, "code": code}
    )
    return value


async def _suppressed(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        found: int = await conn.fetchval("SELECT count(*) FROM mailer.suppressions")
        return found
    finally:
        await conn.close()


@pytest.mark.parametrize("scale", [FAST, FULL])
async def test_a_relay_storm_suppresses_no_one_and_loses_nothing(
    scale: str, settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    count = PEOPLE[scale]
    storm_ends = clock.now() + timedelta(minutes=1)
    smtp_sink.verdict = lambda rcpt: RELAY_DENIED.format(rcpt) if clock.now() < storm_ends else None
    people = [(f"c-{n}", f"p{n}@d{n % DOMAINS}.example", "en", "UTC") for n in range(count)]
    started = time.monotonic()
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "adv-storm", kind="recall")
        ids = [c for c, *_ in people]
        for start in range(0, count, 500):
            await deliveries(nc, "adv-storm", ids[start : start + 500], kind="recall")
        # Twenty refusals in a row pause the relay: what is left waits instead of hammering it.
        await eventually(lambda: _paused("relay", "554 5.7.1") == 1.0)
        await asyncio.sleep(2.0)
        refused_during_storm = len(smtp_sink.rcpt_attempts)
        clock.advance(timedelta(minutes=2))  # the minute is over; the paused relay is probed
        await wait_states(settings.database_url, {"sent": count}, "adv-storm")
    suppressed = await _suppressed(settings.database_url)
    delivered = smtp_sink.message_ids()
    record(
        f"relay storm: 554 5.7.1 to everyone for a minute ({scale})",
        load=count,
        faults=1,
        survived=int(suppressed == 0 and len(delivered) == count),
        lost=count - len(set(delivered)),
        duplicates=len(delivered) - len(set(delivered)),
        leaks=suppressed,
        seconds=time.monotonic() - started,
        note=f"{suppressed} suppressed; {refused_during_storm} RCPTs refused, then it paused",
    )
    assert suppressed == 0
    assert sorted(delivered) == sorted(set(delivered)) and len(delivered) == count
