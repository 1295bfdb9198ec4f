"""Helpers of the matcher's service tests (no tests here): the bus as the other services see it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg
import msgspec
from nats.aio.client import Client

from services.matcher.app import build
from shared import bus, db
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running

MATCHER_DURABLES = ("matcher-orders", "matcher-advisories", "matcher-disasters", "matcher-fanout")
JP_17 = m.Location(country="JP", region="JP-17", lat=37.39, lon=136.90)  # Wajima, Ishikawa
TOKYO = m.Location(country="JP", region="JP-13", lat=35.68, lon=139.76)
BOSTON = m.Location(country="US", region="US-MA", lat=42.36, lon=-71.06)

_ids = itertools.count(1)
_batch = m.decoder(m.DeliveryBatch)


def placed(
    customer: str,
    at: datetime,
    categories: list[str],
    *,
    sku: str = "SKU-1",
    gtin: str | None = None,
    channel: str = "web",
    where: m.Location = TOKYO,
) -> m.OrderPlaced:
    """A one-line order."""
    line = m.OrderLine(line_no=1, sku=sku, gtin=gtin, title=f"{sku} title", categories=categories)
    return m.OrderPlaced(
        channel=channel,
        order_id=f"o-{next(_ids)}",
        customer_id=customer,
        placed_at=at,
        location=where,
        lines=[line],
    )


def published(advisory_id: str, rule: m.AdvisoryRule, at: datetime) -> m.AdvisoryPublished:
    """A published advisory of one rule."""
    return m.AdvisoryPublished(
        advisory_id=advisory_id,
        version=1,
        agency_id="ag-1",
        agency_name="Safety Institute",
        rule=rule,
        title={"en": advisory_id},
        body={"en": "…"},
        published_at=at,
    )


class Shop:
    """Publishes facts as ingest and advisory do, and reads what the matcher requested."""

    def __init__(self, nc: Client, settings: Settings) -> None:
        self.nc = nc
        self.settings = settings
        self._seen: dict[int, m.DeliveryBatch] = {}

    async def send(self, event: m.Message) -> None:
        """Publish one fact under a fresh message id."""
        subject = {
            m.OrderPlaced: Subjects.ORDERS_PLACED,
            m.OrderBatch: Subjects.ORDERS_BATCH,
            m.OrderCancelled: Subjects.ORDERS_CANCELLED,
            m.OrderReturned: Subjects.ORDERS_RETURNED,
            m.AdvisoryPublished: Subjects.ADVISORIES_PUBLISHED,
            m.AdvisoryWithdrawn: Subjects.ADVISORIES_WITHDRAWN,
            m.DisasterDeclared: Subjects.DISASTERS_DECLARED,
        }[type(event)]
        await bus.publish(self.nc, subject, event, f"test:{next(_ids)}")

    async def send_many(self, events: list[m.OrderPlaced]) -> None:
        """Publish many orders without waiting for each ack."""
        await bus.publish_many(
            self.nc, ((Subjects.ORDERS_PLACED, m.encode(e), f"test:{next(_ids)}") for e in events)
        )

    async def batches(self) -> list[m.DeliveryBatch]:
        """Every delivery batch on the DELIVERIES stream so far."""
        js = self.nc.jetstream()
        last = (await js.stream_info("DELIVERIES")).state.last_seq
        for seq in range(1, last + 1):
            if seq not in self._seen:
                self._seen[seq] = _batch.decode((await js.get_msg("DELIVERIES", seq)).data or b"")
        return list(self._seen.values())

    async def requested(self, advisory_id: str) -> list[str]:
        """Customers requested for an advisory, in order, duplicates kept."""
        return [
            r.customer_id
            for b in await self.batches()
            if b.advisory_id == advisory_id
            for r in b.recipients
        ]

    async def idle(self, clock: Clock, timeout: float = 30.0) -> None:
        """Wait until the matcher has nothing left: consumers drained, outbox empty, nothing due."""
        js = self.nc.jetstream()
        conn = await asyncpg.connect(self.settings.database_url)
        quiet = 0
        try:
            async with asyncio.timeout(timeout):
                while quiet < 3:  # three quiet looks in a row: work may hop between queues
                    busy = 0
                    for durable in MATCHER_DURABLES:
                        info = await js.consumer_info(bus.CONSUMERS[durable].stream, durable)
                        busy += info.num_pending + info.num_ack_pending
                    busy += await conn.fetchval("SELECT count(*) FROM matcher.outbox")
                    busy += await conn.fetchval(
                        "SELECT count(*) FROM matcher.schedule WHERE due_at <= $1", clock.now()
                    )
                    quiet = quiet + 1 if busy == 0 else 0
                    await asyncio.sleep(0.2)
        finally:
            await conn.close()

    async def wait_for(self, advisory_id: str, count: int, timeout: float = 30.0) -> list[str]:
        """Wait until `count` recipients were requested for an advisory; return them."""
        async with asyncio.timeout(timeout):
            while len(found := await self.requested(advisory_id)) < count:
                await asyncio.sleep(0.1)
        return found


@contextlib.asynccontextmanager
async def shop(settings: Settings) -> AsyncIterator[Shop]:
    """A NATS connection with every stream declared, wrapped as a Shop."""
    nc = await bus.connect(settings.nats_url, "test-shop")
    await bus.declare(nc, max_deliver=settings.max_deliver)
    try:
        yield Shop(nc, settings)
    finally:
        await nc.drain()


def matcher(
    settings: Settings, clock: Clock, port: int = 0
) -> contextlib.AbstractAsyncContextManager[str]:
    """One in-process matcher replica."""
    return running(build, settings, clock, port or settings.matcher_port)


def small(settings: Settings, **changes: object) -> Settings:
    """Settings for quick tests: few shards, a fast scheduler."""
    defaults: dict[str, object] = {"matcher_fanout_shards": 4, "matcher_schedule_poll_s": 0.2}
    return msgspec.structs.replace(settings, **(defaults | changes))


async def matcher_pool(settings: Settings) -> asyncpg.Pool:
    """A pool on the matcher's schema (migrated by a replica that ran before)."""
    return await db.create_pool(settings.database_url, "matcher", min_size=1, max_size=4)
