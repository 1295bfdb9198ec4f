"""Embargo with two replicas of the advisory service on one in-process clock.

Hypothesis draws a handful of advisories with embargoes whole hours apart, then moves the
clock in steps that land half an hour away from any embargo (so the wall clock's own few
seconds never decide), restarting either replica between steps. After every step the
`ADVISORIES` stream must hold exactly the advisories whose time has come, each once: none
early, none twice though two keepers race for them, none lost to a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from typing import Any

import aiohttp
import msgspec
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from deploy.servers import free_port
from services.advisory.app import build
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import new_agency, stream_messages
from tests.support.figures import record
from tests.support.fixtures import running
from tests.support.shop import power_bank_advisory

EXAMPLES = {"fast": 5, "full": 30}

PLANS = st.fixed_dictionaries(
    {
        "hours": st.lists(st.integers(1, 24 * 400), min_size=1, max_size=5),
        "steps": st.lists(
            st.tuples(st.integers(0, 24 * 100), st.sampled_from([None, 0, 1])),
            min_size=1,
            max_size=4,
        ),
    }
)


class Replicas:
    """Two advisory services on one database, one NATS and one clock; either can restart."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = [
            msgspec.structs.replace(settings, advisory_port=free_port()) for _ in range(2)
        ]
        self.clock = clock
        self.stacks: list[contextlib.AsyncExitStack] = []
        self.restarts = 0

    async def start(self, n: int) -> None:
        stack = contextlib.AsyncExitStack()
        s = self.settings[n]
        await stack.enter_async_context(running(build, s, self.clock, s.advisory_port))
        self.stacks.insert(n, stack)

    async def restart(self, n: int) -> None:
        await self.stacks.pop(n).aclose()
        await self.start(n)
        self.restarts += 1

    async def close(self) -> None:
        for stack in self.stacks:
            await stack.aclose()


@pytest.mark.parametrize(
    "scale",
    [
        pytest.param("fast", marks=[pytest.mark.reliability_fast, pytest.mark.timeout(300)]),
        pytest.param("full", marks=[pytest.mark.reliability, pytest.mark.timeout(1800)]),
    ],
)
async def test_two_keepers_publish_each_advisory_once_at_its_time(
    scale: str, settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    replicas = Replicas(settings, clock)
    await replicas.start(0)
    await replicas.start(1)
    agency = await new_agency(settings, "Replicated Agency")
    loop, figures, started = (
        asyncio.get_running_loop(),
        {"checks": 0, "advisories": 0},
        time.monotonic(),
    )

    async def published() -> dict[str, int]:
        counts: dict[str, int] = {}
        for subject, body in await stream_messages(settings.nats_url, "ADVISORIES"):
            if subject == "advisories.published":
                counts[body["advisory_id"]] = counts.get(body["advisory_id"], 0) + 1
        return counts

    async def example(plan: dict[str, Any]) -> None:
        # Embargoes on whole hours from a base half an hour away from now.
        base = clock.now() + timedelta(minutes=30)
        embargoes = {}
        for hours in plan["hours"]:
            url = f"http://127.0.0.1:{replicas.settings[hours % 2].advisory_port}/v1/advisories"
            at = base + timedelta(hours=hours)
            async with http.post(url, json=power_bank_advisory(at), headers=agency) as reply:
                assert reply.status == 201, await reply.text()
                embargoes[(await reply.json())["id"]] = at
            figures["advisories"] += 1
        for hours, restart in plan["steps"]:
            clock.advance(timedelta(hours=hours))
            if restart is not None:
                await replicas.restart(restart)
            due = {a for a, at in embargoes.items() if at <= clock.now()}
            async with asyncio.timeout(15):
                while not due <= set(await published()):
                    await asyncio.sleep(0.2)
            await asyncio.sleep(1.2)  # two keeper rounds: a second copy or an early one shows
            counts = {a: n for a, n in (await published()).items() if a in embargoes}
            figures["checks"] += 1
            assert counts == dict.fromkeys(due, 1), (counts, due)
        clock.advance(timedelta(hours=24 * 401))  # past them all: the next example starts clean
        async with asyncio.timeout(15):
            while not set(embargoes) <= set(await published()):
                await asyncio.sleep(0.2)

    @examples(max_examples=EXAMPLES[scale], deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(plan=PLANS)
    def each(plan: dict[str, Any]) -> None:
        asyncio.run_coroutine_threadsafe(example(plan), loop).result(120)

    try:
        await asyncio.to_thread(each)
    finally:
        await replicas.close()
        record(f"embargo, two keepers, in-process clock ({scale})", load=figures["advisories"],
               faults=replicas.restarts, survived=replicas.restarts,
               inputs=figures["checks"], seconds=time.monotonic() - started,
               note="each published once at its time, none early")  # fmt: skip
    final = await published()
    assert all(n == 1 for n in final.values()), final
