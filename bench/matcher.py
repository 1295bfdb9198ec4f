"""Matcher benchmark: a disaster fan-out over a generated shop beside raw baselines measured in
the same run, per-order rule evaluation throughput, and the peak memory of a replica.

Replicas run as their own processes (`python -m services.matcher`), as in production.
Scale with ANSHIN_BENCH_CUSTOMERS (default 1,000,000), ANSHIN_BENCH_REPLICAS (2) and
ANSHIN_BENCH_ORDERS (50,000).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from datetime import UTC, datetime

import asyncpg
import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg

from bench import matcher_baselines, matcher_shop
from bench.matcher_replica import Replica
from services.ingest.publishing import BATCH_ORDERS
from services.matcher import store
from shared import bus, db
from shared import messages as m
from shared.bus import Subjects
from shared.outbox import DDL

CUSTOMERS = int(os.environ.get("ANSHIN_BENCH_CUSTOMERS", "1000000"))
REPLICAS = int(os.environ.get("ANSHIN_BENCH_REPLICAS", "2"))
ORDERS = int(os.environ.get("ANSHIN_BENCH_ORDERS", "50000"))
COLUMNS = ["channel", "order_id", "line_no", "category", "customer_id", "sku", "gtin", "title"]
COLUMNS += ["placed_at", "country", "region", "lat", "lon", "bucket"]
PLAYBOOK = m.Disaster(
    categories=matcher_shop.PLAYBOOK_CATEGORIES,
    hazards=["earthquake"],
    countries=["JP"],
)


class _Count(msgspec.Struct):
    recipients: list[msgspec.Raw]


async def run(nats_url: str, database_url: str) -> dict[str, float]:
    """Generate the shop, then measure; return the figures."""
    now = datetime.now(UTC)
    conn = await asyncpg.connect(database_url)
    await conn.execute("CREATE SCHEMA IF NOT EXISTS matcher")
    await conn.close()
    pool = await db.create_pool(database_url, "matcher")
    async with pool.acquire() as c:
        await c.execute(DDL)
    await db.migrate(pool, "matcher", "services.matcher")
    started = time.perf_counter()
    async with pool.acquire() as c:
        await c.copy_records_to_table(
            "purchases", records=matcher_shop.rows(CUSTOMERS, now), columns=COLUMNS
        )
        await c.execute("VACUUM ANALYZE purchases")
    figures: dict[str, float] = {"customers": CUSTOMERS, "load_s": time.perf_counter() - started}
    nc = await bus.connect(nats_url, "bench-matcher")
    await bus.declare(nc)
    event = m.DisasterDeclared(
        event_id="nankai-1",
        hazard="earthquake",
        title="Nankai Trough earthquake",
        occurred_at=now,
        areas=[m.Regions(codes=matcher_shop.NANKAI)],
        countries=["JP"],
        advisory_ids=["playbook"],
    )
    figures |= await matcher_baselines.run(pool, nc, PLAYBOOK, event)
    figures |= await _fanout(nc, pool, nats_url, database_url, event, int(figures["audience"]))
    figures |= await _orders(nc, pool, nats_url, database_url, now)
    await pool.close()
    await nc.drain()
    return figures


async def _fanout(
    nc: Client,
    pool: asyncpg.Pool,
    nats_url: str,
    database_url: str,
    event: m.DisasterDeclared,
    audience: int,
) -> dict[str, float]:
    replicas = [Replica(nats_url, database_url) for _ in range(REPLICAS)]
    await asyncio.gather(*(r.ready() for r in replicas))
    playbook = m.AdvisoryPublished(
        advisory_id="playbook",
        version=1,
        agency_id="fdma",
        agency_name="Fire and Disaster Management Agency",
        rule=PLAYBOOK,
        title={"en": "After the earthquake: generators and gas stoves"},
        body={"en": "…"},
        published_at=event.occurred_at,
    )
    await bus.publish(nc, Subjects.ADVISORIES_PUBLISHED, playbook, "bench:playbook")
    while True:  # the replicas must hold the playbook before the disaster comes
        if await pool.fetchval("SELECT count(*) FROM rules"):
            break
        await asyncio.sleep(0.05)
    seen = 0
    done = asyncio.Event()
    decode = msgspec.json.Decoder(_Count).decode

    async def count(msg: Msg) -> None:
        nonlocal seen
        seen += len(decode(msg.data).recipients)
        if seen >= audience:
            done.set()

    sub = await nc.jetstream().subscribe(
        Subjects.DELIVERIES_REQUESTED, cb=count, ordered_consumer=True
    )
    started = time.perf_counter()
    await bus.publish(nc, Subjects.DISASTERS_DECLARED, event, "bench:quake")
    await asyncio.wait_for(done.wait(), timeout=1800)
    fanout_s = time.perf_counter() - started
    await sub.unsubscribe()
    peak = max(r.stop() for r in replicas)
    return {"fanout_s": fanout_s, "fanout_recipients": float(seen), "fanout_peak_mb": peak}


async def _orders(
    nc: Client, pool: asyncpg.Pool, nats_url: str, database_url: str, now: datetime
) -> dict[str, float]:
    rng = random.Random(7)
    rules: dict[str, m.AdvisoryRule] = {
        "st": m.ShortTerm(categories=["power_bank"], window_days=30),
        "lt": m.LongTerm(categories=["heater", "gas_appliance"]),
        "combo": m.Combination(groups=[["honey"], ["baby_food"]]),
        "recall": m.Recall(skus=["EBI-0007", "HEA-0003"]),
    }
    async with pool.acquire() as conn:
        for advisory_id, rule in rules.items():  # installed directly: no publication fan-out
            event = m.AdvisoryPublished(
                advisory_id=advisory_id, version=1, agency_id="a", agency_name="a", rule=rule,
                title={}, body={}, published_at=now,
            )  # fmt: skip
            await store.save_rule(conn, event)
    orders = []
    for n in range(ORDERS):
        category, _, title = rng.choice(matcher_shop.CATEGORIES)
        sku = f"{category[:3].upper()}-{rng.randrange(40):04d}"
        line = m.OrderLine(line_no=1, sku=sku, title=title, categories=[category])
        orders.append(
            m.OrderPlaced(
                channel="web",
                order_id=f"new-{n}",
                customer_id=f"c-{rng.randrange(CUSTOMERS):07d}",
                placed_at=now,
                location=m.Location(country="JP", region="JP-13"),
                lines=[line],
            )
        )
    half = len(orders) // 2
    # One order per message, as a single order posted to ingest travels ...
    single = [(Subjects.ORDERS_PLACED, m.encode(o), f"bench:{o.order_id}") for o in orders[:half]]
    # ... and many per orders.batch message, as ingest publishes a batch or a backfill.
    batched = [
        (
            Subjects.ORDERS_BATCH,
            m.encode(m.OrderBatch(orders=orders[i : i + BATCH_ORDERS])),
            f"b:{i}",
        )
        for i in range(half, len(orders), BATCH_ORDERS)
    ]
    single_s, single_mb = await _evaluated(nc, nats_url, database_url, single)
    batch_s, batch_mb = await _evaluated(nc, nats_url, database_url, batched)
    return {
        "orders_per_s": half / single_s,
        "orders_batched_per_s": (len(orders) - half) / batch_s,
        "orders_peak_mb": max(single_mb, batch_mb),
    }


async def _evaluated(
    nc: Client, nats_url: str, database_url: str, messages: list[tuple[str, bytes, str]]
) -> tuple[float, float]:
    """Publish the messages, then time one replica from its first delivery to the last ack."""
    js = nc.jetstream()
    before = (await js.stream_info("ORDERS")).state.last_seq
    await bus.publish_many(nc, messages)
    last = (await js.stream_info("ORDERS")).state.last_seq
    replica = Replica(nats_url, database_url)
    first: float | None = None
    while True:
        info = await js.consumer_info("ORDERS", "matcher-orders")
        if first is None and info.delivered.stream_seq > before:
            first = time.perf_counter()
        if info.ack_floor.stream_seq >= last:
            break
        await asyncio.sleep(0.02)
    return time.perf_counter() - (first or 0.0), replica.stop()


def report(f: dict[str, float]) -> None:
    """Print the figures beside their baselines and goals."""
    raw = f["query_s"] + f["copy_s"] + f["publish_s"]
    print(f"matcher: a shop of {f['customers']:,.0f} customers (made in {f['load_s']:.0f} s)")
    print(f"  disaster fan-out to {f['audience']:,.0f} customers in {f['batches']:,.0f} batches")
    print(f"    audience query alone (baseline)    {f['query_s']:8.2f} s")
    print(f"    COPY of the same rows (baseline)   {f['copy_s']:8.2f} s")
    print(f"    raw JetStream publish (baseline)   {f['publish_s']:8.2f} s")
    print(f"    baselines added up                 {raw:8.2f} s")
    print(f"    matcher, {REPLICAS} replicas, all on the bus {f['fanout_s']:8.2f} s", end="")
    print(f"   ratio {f['fanout_s'] / raw:.2f} (goal <= 20 s, ratio <= 2)")
    single, batched = f["orders_per_s"], f["orders_batched_per_s"]
    print("  per-order rule evaluation, 1 replica (goal >= 10,000 orders/s)")
    print(f"    one order per orders.placed        {single:8,.0f} orders/s")
    print(f"    {BATCH_ORDERS} per orders.batch, as ingest sends {batched:8,.0f} orders/s")
    peak = max(f["fanout_peak_mb"], f["orders_peak_mb"])
    print(f"  peak memory of a replica             {peak:8.0f} MB (goal <= 200 MB)")
