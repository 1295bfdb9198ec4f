"""Publication at the embargo time: exactly once, with racing replicas and a restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import timedelta

import aiohttp
import msgspec
from prometheus_client import REGISTRY

from deploy.servers import free_port
from services.advisory.agencies import store as agencies
from services.advisory.app import build
from services.advisory.lifecycle import publication, store
from services.advisory.lifecycle.submission import AdvisoryIn
from shared import db
from shared.clock import Clock
from shared.config import Settings
from shared.outbox import DDL as OUTBOX_DDL
from tests.support.advisory import eventually, new_agency, stream_messages
from tests.support.fixtures import running
from tests.support.shop import power_bank_advisory


async def test_two_replicas_and_a_restart_publish_each_advisory_once(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async def published(count: int) -> list[str]:
        found = await stream_messages(settings.nats_url, "ADVISORIES")
        return [e["advisory_id"] for _, e in found] if len(found) >= count else []

    def relayed() -> float:
        """Events the outbox relays put on the bus: a second enqueue would show here."""
        sample = "anshin_outbox_published_total"
        return REGISTRY.get_sample_value(sample, {"schema": "advisory"}) or 0.0

    before = relayed()
    async with contextlib.AsyncExitStack() as replicas:
        first = await replicas.enter_async_context(
            running(build, settings, clock, settings.advisory_port)
        )
        await replicas.enter_async_context(running(build, settings, clock, free_port()))
        key = await new_agency(settings, "NITE")
        soon, later = clock.now() + timedelta(minutes=1), clock.now() + timedelta(minutes=2)
        created = []
        for at in [soon] * 10 + [later]:
            reply = await http.post(
                f"{first}/v1/advisories", json=power_bank_advisory(at), headers=key
            )
            created.append((await reply.json())["id"])
        await asyncio.sleep(0.6)  # both keepers have looked at least once: nothing was due
        assert await stream_messages(settings.nats_url, "ADVISORIES") == []
        clock.advance(timedelta(minutes=1, seconds=1))
        # Both keepers race for the same ten rows.
        assert sorted(await eventually(lambda: published(10))) == sorted(created[:10])

    # Every replica is down when the last embargo passes; one starting later publishes it.
    clock.advance(timedelta(minutes=1))
    async with running(build, settings, clock, settings.advisory_port):
        ids = await eventually(lambda: published(11))
        await asyncio.sleep(1.0)  # a few more keeper rounds: nothing more may appear
        ids = [e["advisory_id"] for _, e in await stream_messages(settings.nats_url, "ADVISORIES")]
    assert Counter(ids) == Counter(created)
    # JetStream's duplicate window would hide a second publish; the outbox count does not.
    assert relayed() - before == len(created)


async def test_keepers_racing_on_the_same_rows_publish_each_once(
    settings: Settings, clock: Clock
) -> None:
    pools = [
        await db.create_pool(settings.database_url, "advisory", min_size=1, max_size=2)
        for _ in range(2)
    ]
    try:
        async with pools[0].acquire() as conn:
            await conn.execute('CREATE SCHEMA IF NOT EXISTS "advisory"')
            await conn.execute(OUTBOX_DDL)
        await db.migrate(pools[0], "advisory", "services.advisory")
        agency = await agencies.create_agency(pools[0], "NITE", "hash")
        at = clock.now() + timedelta(minutes=1)
        advisory = msgspec.convert(power_bank_advisory(at), AdvisoryIn)
        created = {
            await store.create_advisory(pools[0], agency, advisory, clock.now()) for _ in range(60)
        }
        due = at + timedelta(seconds=1)
        batches = await asyncio.gather(
            *(publication.publish_due(pool, due, limit=30) for pool in pools * 2)
        )
        published = [i for batch in batches for i in batch]
        assert sorted(published) == sorted(created)
        async with pools[0].acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM outbox") == len(created)
    finally:
        for pool in pools:
            await pool.close()
