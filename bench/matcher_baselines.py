"""Raw baselines of a disaster fan-out, on the same rows: the audience query, COPY, publish."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import asyncpg
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig

from services.matcher import rules
from shared import bus
from shared import messages as m

BATCH = 500


async def run(
    pool: asyncpg.Pool, nc: Client, rule: m.AdvisoryRule, event: m.DisasterDeclared
) -> dict[str, float]:
    """Time each raw step of the fan-out alone; return seconds and the audience size."""
    declared = rules.Declared(areas=event.areas, occurred_at=event.occurred_at, places=event.places)
    w = rules.of(rule).audience(event.occurred_at, timedelta(0), declared)
    sql = (
        "SELECT DISTINCT ON (customer_id) customer_id, channel, order_id, sku, title, placed_at"
        f" FROM purchases WHERE {w.sql} ORDER BY customer_id, placed_at DESC"
    )
    async with pool.acquire() as conn:
        started = time.perf_counter()
        rows = await conn.fetch(sql, *w.params)
        query_s = time.perf_counter() - started

        await conn.execute("CREATE TABLE bench_matches (LIKE matches INCLUDING ALL)")
        now = event.occurred_at
        records = [("bench", event.event_id, r["customer_id"], now) for r in rows]
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "bench_matches",
            records=records,
            columns=["advisory_id", "event_id", "customer_id", "matched_at"],
        )
        copy_s = time.perf_counter() - started

    payloads = [_batch(rows[i : i + BATCH], event, now) for i in range(0, len(rows), BATCH)]
    config = StreamConfig(name="BENCH", subjects=["bench.>"], storage=StorageType.FILE)
    await nc.jetstream().add_stream(config)
    started = time.perf_counter()
    await bus.publish_many(
        nc, (("bench.deliveries", p, f"bench:{i}") for i, p in enumerate(payloads))
    )
    publish_s = time.perf_counter() - started
    return {
        "audience": float(len(rows)),
        "batches": float(len(payloads)),
        "query_s": query_s,
        "copy_s": copy_s,
        "publish_s": publish_s,
    }


def _batch(rows: list[asyncpg.Record], event: m.DisasterDeclared, now: datetime) -> bytes:
    recipients = [
        m.Recipient(
            customer_id=r["customer_id"],
            reason="disaster",
            purchases=[
                m.Purchase(
                    channel=r["channel"],
                    order_id=r["order_id"],
                    sku=r["sku"],
                    title=r["title"],
                    placed_at=r["placed_at"],
                )
            ],
        )
        for r in rows
    ]
    batch = m.DeliveryBatch(
        batch_id=f"bench:{rows[0]['customer_id']}",
        advisory_id="bench",
        kind="disaster",
        priority=m.Priority.DISASTER,
        requested_at=now,
        recipients=recipients,
        event_id=event.event_id,
    )
    return m.encode(batch)
