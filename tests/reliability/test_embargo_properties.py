"""Embargo, as properties over random embargo times, clock moves, restarts and requests.

The stack runs as `make up` runs it, its clock moved across processes by
ANSHIN_CLOCK_FILE. Hypothesis draws an embargo (two minutes to five years ahead), then a
list of steps before it: public requests, another agency's requests, clock moves towards
the embargo, SIGKILLs of any service. After every step nothing of the advisory (its id, or
a word of its text) may be on a public page, on the bus (a tap on `>` sees every message,
stored or not), in a log line or in a mail. Then the clock jumps past the embargo (by up to
eleven days more), perhaps a service dies again, and the advisory must be public, on the
bus once, and in the buyer's mailbox once.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.local_env import SERVICES
from shared.clock import FileClock
from tests.support.advisory import stream_messages
from tests.support.faults import CountingSink
from tests.support.figures import record
from tests.support.stack import LaunchedStack, create_agency, launch_env
from tests.support.surge import post_until_accepted, recall
from tests.support.watch import BusTap, lines_containing

EXAMPLES = {"fast": 6, "full": 40}
MARGIN = timedelta(seconds=60)  # the wall clock moves too: steps stay this far before it
PROBES = ("safety", "safety_one", "notices", "other_get", "other_list", "other_patch", "anon")


def plans(scale: str) -> st.SearchStrategy[dict[str, Any]]:
    """An embargo, the steps taken before it, how late the clock lands, a restart after."""
    restarts = 1 if scale == "fast" else 3
    step = st.one_of(
        st.tuples(st.just("probe"), st.sampled_from(PROBES)),
        st.tuples(st.just("advance"), st.floats(0.0, 0.99)),
        st.tuples(st.just("restart"), st.sampled_from(SERVICES)),
    )
    return st.fixed_dictionaries(
        {
            "ahead": st.one_of(st.integers(120, 3600), st.integers(3600, 5 * 365 * 86400)).map(
                lambda s: timedelta(seconds=s)
            ),
            "steps": st.lists(step, min_size=2, max_size=6).filter(
                lambda steps: sum(s[0] == "restart" for s in steps) <= restarts
            ),
            "late": st.integers(0, 10**6).map(lambda s: timedelta(seconds=s)),
            "restart_after": st.sampled_from([None, *SERVICES]),
        }
    )


class World:
    """The launched stack and everything that watches it."""

    def __init__(self, stack: LaunchedStack, sink: CountingSink, tap: BusTap, clock: FileClock,
                 http: aiohttp.ClientSession, owner: str, other: str) -> None:  # fmt: skip
        self.stack, self.sink, self.tap, self.clock, self.http = stack, sink, tap, clock, http
        self.owner = {"Authorization": f"Bearer {owner}"}
        self.other = {"Authorization": f"Bearer {other}"}
        self.figures = {"examples": 0, "probes": 0, "restarts": 0, "leaks": 0, "published": 0}

    def now(self) -> datetime:
        """The stack's time."""
        return self.clock.now()

    async def example(self, plan: dict[str, Any]) -> None:
        """One embargoed recall through its steps, then past its embargo."""
        self.figures["examples"] += 1
        token = secrets.token_hex(5)
        sku, advisory, ingest = f"EMB-{token}", self.stack.url("advisory"), self.stack.url("ingest")
        catalog = [{"sku": sku, "title": "Heater", "categories": ["electric_heater"]}]
        async with self.http.put(f"{ingest}/v1/catalog", json=catalog,
                                 headers=self.stack.operator()) as reply:  # fmt: skip
            assert reply.status == 200
        buyer = _order(token, sku, datetime.now(UTC) - timedelta(days=1))
        web = await self.stack.channel("web")
        await post_until_accepted(self.http, f"{ingest}/v1/orders", json.dumps(buyer).encode(),
                                  {"Content-Type": "application/json"} | web)  # fmt: skip
        embargo = self.now() + plan["ahead"]
        body = recall(sku, embargo)
        body["title"]["en"] += f" secret-{token}"
        body["body"]["en"] += f" secret-{token}"
        async with self.http.post(f"{advisory}/v1/advisories", json=body,
                                  headers=self.owner) as reply:  # fmt: skip
            assert reply.status == 201, await reply.text()
            advisory_id = (await reply.json())["id"]
        words = (f"secret-{token}", advisory_id)
        await self.no_leak(words)
        for kind, arg in plan["steps"]:
            if kind == "probe":
                await self.probe(arg, advisory_id, sku, token)
            elif kind == "advance":
                room = embargo - MARGIN - self.now()
                if room > timedelta(0):
                    self.clock.advance(room * arg)
            else:
                await self.stack.kill(arg, self.http)
                self.figures["restarts"] += 1
            await self.no_leak(words)
        assert self.now() < embargo - MARGIN / 2, "the example outlived its margin"
        self.clock.advance(embargo - self.now() + plan["late"])
        await self.published_once(advisory_id, plan["restart_after"])

    async def probe(self, kind: str, advisory_id: str, sku: str, token: str) -> None:
        """One request that must show nothing of the embargoed advisory."""
        self.figures["probes"] += 1
        base, one = self.stack.url("advisory"), f"/v1/advisories/{advisory_id}"
        missing = "/v1/advisories/adv_0000000000000000"
        request = {
            "safety": ("GET", "/safety", {}, 200),
            "safety_one": ("GET", f"/safety/{advisory_id}", {}, 404),
            "notices": ("GET", f"/v1/products/{sku}/notices", {}, 200),
            "other_get": ("GET", one, self.other, 403),
            "other_list": ("GET", "/v1/advisories", self.other, 200),
            "other_patch": ("PATCH", one, self.other, 403),
            "anon": ("GET", one, {}, 401),
        }[kind]
        method, path, headers, status = request
        body = {"title": {"en": "x"}} if method == "PATCH" else None
        async with self.http.request(method, base + path, headers=headers, json=body) as reply:
            text = await reply.text()
            assert reply.status == status, (kind, reply.status, text)
        for word in (advisory_id, f"secret-{token}"):
            assert word not in text, (kind, text[:300])
        if kind in ("other_get", "other_patch"):
            async with self.http.request(method, base + missing, headers=headers,
                                         json=body) as reply:  # fmt: skip
                assert (reply.status, await reply.text()) == (status, text), "existence leaks"

    async def no_leak(self, words: tuple[str, ...]) -> None:
        """Nothing of the advisory on the bus, in a log line or in a mail."""
        await self.tap.flush()
        leaks = self.tap.containing(*words)
        leaks += [line.encode() for line in lines_containing(self.stack.log_files(), *words)]
        leaks += [raw for _, raw in self.sink.kept if any(w.encode() in raw for w in words)]
        self.figures["leaks"] += len(leaks)
        assert not leaks, leaks[:3]

    async def published_once(self, advisory_id: str, restart: str | None) -> None:
        """Public, on the bus once, mailed once; and still once after a restart."""
        url = f"{self.stack.url('advisory')}/safety/{advisory_id}"
        async with asyncio.timeout(60):
            while not self.sink.of_advisory(advisory_id):
                await asyncio.sleep(0.2)
        async with self.http.get(url) as reply:
            assert reply.status == 200
        if restart:
            await self.stack.kill(restart, self.http)
            self.figures["restarts"] += 1
        await asyncio.sleep(1.5)  # a second publication would have reached the tap by now
        events = [
            m for s, m in await stream_messages(self.stack.env["NATS_URL"], "ADVISORIES")
            if s == "advisories.published" and m.get("advisory_id") == advisory_id
        ]  # fmt: skip
        assert len(events) == 1, events
        assert list(self.sink.of_advisory(advisory_id).values()) == [1]
        self.figures["published"] += 1


def _order(token: str, sku: str, placed_at: datetime) -> dict[str, Any]:
    return {
        "order_id": f"E-{token}", "channel": "web", "placed_at": placed_at.isoformat(),
        "customer": {"id": f"emb-{token}", "email": f"emb-{token}@buyer.example",
                     "locale": "en-US", "timezone": "Asia/Tokyo"},
        "ship_to": {"country": "JP", "region": "JP-13"},
        "lines": [{"sku": sku, "title": "Heater", "quantity": 1}],
    }  # fmt: skip


@pytest.mark.parametrize(
    "scale",
    [
        pytest.param("fast", marks=[pytest.mark.reliability_fast, pytest.mark.timeout(300)]),
        pytest.param("full", marks=[pytest.mark.reliability, pytest.mark.timeout(1800)]),
    ],
)
async def test_no_embargoed_advisory_is_seen_before_its_time_and_each_publishes_once(
    scale: str, tmp_path: Path, database_url: str, nats_url: str
) -> None:
    clock_file = tmp_path / "clock"
    sink, tap = CountingSink(keep=True), BusTap()
    await sink.start()
    await tap.start(nats_url)
    data = tmp_path / "data"
    env = launch_env(
        data,
        NATS_URL=nats_url,
        DATABASE_URL=database_url,
        ANSHIN_SMTP_PORT=str(sink.port),
        ANSHIN_CLOCK_FILE=str(clock_file),
    )
    stack = LaunchedStack(data, env)
    await asyncio.to_thread(stack.start)
    started = time.monotonic()
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True)
        ) as http:  # fmt: skip
            owner = await create_agency(env, "Owner Agency")
            other = await create_agency(env, "Other Agency")
            world = World(stack, sink, tap, FileClock(clock_file), http, owner, other)
            loop = asyncio.get_running_loop()

            @settings(max_examples=EXAMPLES[scale], deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            @given(plan=plans(scale))
            def each(plan: dict[str, Any]) -> None:
                asyncio.run_coroutine_threadsafe(world.example(plan), loop).result(240)

            try:
                await asyncio.to_thread(each)
            finally:
                f = world.figures
                record(
                    f"embargo properties ({scale})",
                    load=f["published"],
                    faults=f["restarts"],
                    survived=f["restarts"] if f["published"] == f["examples"] else 0,
                    inputs=f["examples"] + f["probes"],
                    leaks=f["leaks"],
                    seconds=time.monotonic() - started,
                    note=f"{f['examples']} embargoes, {f['probes']} probes, "
                    f"clock moved up to {world.clock.offset().days:,} days",
                )
    finally:
        await asyncio.to_thread(stack.stop)
        await tap.stop()
        await sink.stop()
