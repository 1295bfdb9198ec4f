"""The historical backfill: a file of orders streamed through the same intake, at bulk speed.

Chunks are stored in bulk (one JSON document a chunk) and their events put in the outbox,
while a relay publishes the outbox of the chunk before (publish_many): reading, storing and
publishing overlap.
A crash loses nothing: a second run finds the stored orders to be duplicates and the
relay publishes whatever the outbox still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import IO

import asyncpg
import msgspec
from nats.aio.client import Client

from services.ingest import intake
from services.ingest.formats import Format
from services.ingest.model import OrderEvent
from shared.clock import Clock
from shared.outbox import OutboxRelay

Progress = Callable[[int, intake.Outcome], None]


class Totals(msgspec.Struct, kw_only=True):
    """What a backfill did."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    unlocated: int = 0  # accepted, but their postal code named no municipality or county
    published: int = 0
    seconds: float = 0.0


async def _relay_until(relay: OutboxRelay, wake: asyncio.Event, done: asyncio.Event) -> int:
    published = 0
    while True:
        wake.clear()
        while moved := await relay.relay_once():
            published += moved
        if done.is_set():
            while moved := await relay.relay_once():
                published += moved
            return published
        await wake.wait()


async def load(
    pool: asyncpg.Pool,
    nc: Client,
    stream: IO[bytes],
    fmt: Format,
    *,
    schema: str,
    secret: bytes,
    clock: Clock,
    batch: int = 5000,
    depth: int = 2,
    channel: str = "",
    on_chunk: Progress | None = None,
    rejects: Callable[[dict[str, object]], None] | None = None,
) -> Totals:
    """Stream `stream` through intake in chunks of `batch` records and publish it all.

    Up to `depth` chunks are stored at once, so that reading the next chunk overlaps
    with PostgreSQL storing the last ones. A record that names no channel is `channel`'s,
    by default the format's own.
    """
    started = time.perf_counter()
    totals = Totals()
    wake, done = asyncio.Event(), asyncio.Event()
    relay = OutboxRelay(pool, nc, schema, batch=batch)
    relaying = asyncio.create_task(_relay_until(relay, wake, done))
    storing: dict[asyncio.Task[intake.Outcome], int] = {}

    async def settle(until: int) -> None:
        while len(storing) > until:
            finished, _ = await asyncio.wait(storing, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                records = storing.pop(task)
                outcome = task.result()
                wake.set()
                totals.accepted += outcome.accepted
                totals.duplicates += outcome.duplicates
                totals.rejected += len(outcome.rejected)
                totals.unlocated += len(outcome.unlocated)
                for rejected in outcome.rejected:
                    if rejects is not None:
                        rejects(rejected)
                if on_chunk:
                    on_chunk(records, outcome)

    try:
        for chunk in fmt.chunks(stream, batch, channel or fmt.channel):
            # An event needs its order stored first: let the chunks before it finish.
            has_events = any(isinstance(record, OrderEvent) for _, record in chunk)
            await settle(0 if has_events else depth - 1)
            work = intake.ingest(
                pool,
                chunk,
                secret=secret,
                now=clock.now(),
                link_by_email=fmt.link_by_email,
                trusted=True,  # the shop's own history, run by its operator
            )
            storing[asyncio.create_task(work)] = len(chunk)
        await settle(0)
        done.set()
        wake.set()
        totals.published = await relaying
    finally:
        for task in [*storing, relaying]:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    totals.seconds = time.perf_counter() - started
    return totals
