"""Outbox relay throughput beside a raw JetStream publish of the same messages."""

from __future__ import annotations

import time

from shared import bus, db
from shared import messages as m
from shared.bus import Subjects
from shared.outbox import OutboxRelay, enqueue_encoded, install_outbox

N = 20_000


def _events(prefix: str) -> list[tuple[str, str, bytes]]:
    return [
        (
            Subjects.customer_upserted(f"c-{n}"),
            f"{prefix}:{n}",
            m.encode(m.CustomerUpserted(customer_id=f"c-{n}", email=f"{n}@example.org")),
        )
        for n in range(N)
    ]


async def run(nats_url: str, database_url: str) -> dict[str, float]:
    """Return messages per second for the raw publish and for the outbox relay."""
    nc = await bus.connect(nats_url, "bench")
    await bus.declare(nc)
    pool = await db.create_pool(database_url, "ingest")
    await install_outbox(pool)

    raw = _events("raw")
    started = time.perf_counter()
    await bus.publish_many(nc, ((s, p, i) for s, i, p in raw))
    raw_rate = N / (time.perf_counter() - started)

    events = _events("outbox")
    started = time.perf_counter()
    async with pool.acquire() as c, c.transaction():
        await enqueue_encoded(c, events)
    relay = OutboxRelay(pool, nc, "ingest")
    while await relay.relay_once():
        pass
    outbox_rate = N / (time.perf_counter() - started)
    await pool.close()
    await nc.drain()
    return {"raw_publish_per_s": raw_rate, "outbox_per_s": outbox_rate}
