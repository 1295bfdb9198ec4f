"""Ingest throughput: HTTP NDJSON batches and the backfill, beside a raw JetStream publish.

The raw baseline publishes N pre-encoded order messages with nats-py's fastest API
(publish_async with a window of acks, as shared.bus.publish_many does). The two ingest
paths are timed from the first byte sent until every event is stored in JetStream.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from bench.cpu import Span
from bench.memory import peak, reset_peak
from deploy.servers import free_port
from services.ingest import backfill, channel_cli, formats
from services.ingest.cli import _pool
from services.ingest.intake import email_secret
from shared import bus
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from shared.service import freeze_heap

N = 20_000
BATCH = 1_000
CONCURRENT = 4  # batches in flight, as several channel pushers would send them
CUSTOMERS = 2_000  # of the HTTP path, in Japan and the US: ten orders each
# A ten-year backfill is millions of orders: a file of 20,000 is mostly the start and end of
# its pipeline, so the backfill loads 100,000 (of 10,000 customers of its own).
BACKFILL_N = 100_000
PRODUCTS = [
    ("PB-10K", "モバイルバッテリー 10000mAh"),
    ("GEN-1600", "ポータブル発電機 1600W"),
    ("HNY-500", "国産はちみつ 500g"),
    ("DIA-M", "パンパース テープ Mサイズ"),
    ("LAD-3", "Aluminium step ladder, 3 steps"),
    ("FAN-30", "DCモーター扇風機"),
    ("TEE-01", "Organic cotton T-shirt"),
    ("MUG-02", "Stoneware mug 350 ml"),
    ("BOOK-3", "文庫本 セット"),
    ("SOCK-4", "Chaussettes en laine"),
]


def orders(
    prefix: str, count: int, seed: int, first: int = 0, customers: int = CUSTOMERS
) -> list[dict[str, Any]]:
    """Canonical orders of `customers` customers from number `first`, one to three lines each."""
    rnd = random.Random(seed)
    start = datetime(2016, 1, 1, tzinfo=UTC)
    result = []
    for n in range(count):
        customer = first + rnd.randrange(customers)
        # Each customer has one address: two thirds in Japan, one third in the US.
        postal_code = f"{(100, 530, 920, 980)[customer % 4]}-{customer % 10000:04d}"
        ship_to: dict[str, Any] = (
            {"country": "JP", "postal_code": postal_code}
            if customer % 3
            else {"country": "US", "region": ("CA", "NY", "TX")[customer % 9 // 3]}
        )
        lines = [
            {"sku": sku, "title": title, "quantity": 1}
            for sku, title in rnd.sample(PRODUCTS, rnd.randint(1, 3))
        ]
        result.append(
            {
                "order_id": f"{prefix}-{n}",
                "channel": "web",
                "placed_at": (start + timedelta(minutes=n * 13)).isoformat(),
                "customer": {"id": f"c-{customer}", "email": f"c{customer}@example.org"},
                "ship_to": ship_to,
                "lines": lines,
            }
        )
    return result


def _ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"".join(msgspec.json.encode(r) + b"\n" for r in records)


async def _stored(nc: Any) -> int:
    js = nc.jetstream()
    total = 0
    for stream in ("ORDERS", "CUSTOMERS"):
        total += (await js.stream_info(stream)).state.messages
    return int(total)


async def _outbox_empty(settings: Settings, timeout: float = 300.0) -> None:
    pool = await _pool(settings)
    try:
        for _ in range(int(timeout / 0.01)):
            if not await pool.fetchval("SELECT count(*) FROM outbox"):
                return
            await asyncio.sleep(0.01)
        raise TimeoutError("the outbox was not relayed in time")
    finally:
        await pool.close()


async def raw_baseline(nc: Any, count: int) -> float:
    """Publish `count` pre-encoded orders.placed messages: the ceiling of any ingest path."""
    placed = m.OrderPlaced(
        channel="web",
        order_id="x",
        customer_id="c-1",
        placed_at=datetime.now(UTC),
        location=m.Location(country="JP", region="JP-17", lat=36.77, lon=136.77),
        lines=[m.OrderLine(line_no=1, sku="PB-10K", categories=["power_bank"])],
    )
    payload = m.encode(placed)
    started = time.perf_counter()
    ids = (f"raw:{count}:{n}" for n in range(count))
    await bus.publish_many(nc, ((Subjects.ORDERS_PLACED, payload, i) for i in ids))
    return count / (time.perf_counter() - started)


def _start_ingest(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NATS_URL": settings.nats_url,
        "DATABASE_URL": settings.database_url,
        "ANSHIN_INGEST_PORT": str(port),
        "ANSHIN_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "-m", "services.ingest"], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise TimeoutError("ingest did not become ready")


async def over_http(settings: Settings, nc: Any) -> tuple[float, float, dict[str, float]]:
    """Post N orders as NDJSON batches to a running ingest: answered/s, on-bus/s, CPU."""
    bodies = [_ndjson(orders("http", N, 1)[i : i + BATCH]) for i in range(0, N, BATCH)]
    port = free_port()
    key = await channel_cli.issue(settings, "web")  # a channel posts with its own key
    process = await asyncio.to_thread(_start_ingest, settings, port)
    try:
        before = await _stored(nc)
        headers = {"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {key}"}
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/v1/orders"
            slots = asyncio.Semaphore(CONCURRENT)

            async def post(body: bytes) -> None:
                async with slots, http.post(url, data=body, headers=headers) as r:
                    answer = await r.json()
                    assert r.status == 202 and not answer["rejected"], answer

            span = Span()
            span.start()
            started = time.perf_counter()
            await asyncio.gather(*(post(body) for body in bodies))
            answered = time.perf_counter() - started
            await _outbox_empty(settings)
            on_bus = time.perf_counter() - started
            span.stop({process.pid: "ingest"})
        assert await _stored(nc) > before
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 10)
    return N / answered, N / on_bus, _cpu(span, "ingest", N)


def _cpu(span: Span, python: str, orders: int) -> dict[str, float]:
    """CPU µs an order of the Python process, PostgreSQL and NATS, and the cores kept busy."""
    return {
        "python_us": span.per_item_us(python, orders),
        "postgres_us": span.per_item_us("postgres", orders),
        "nats_us": span.per_item_us("nats-server", orders),
        "cores": span.cores_busy(),
    }


async def by_backfill(
    settings: Settings, nc: Any
) -> tuple[float, dict[str, float], dict[str, float]]:
    """Load BACKFILL_N orders from an NDJSON file with the backfill: orders/s until on the
    bus, its CPU and this process's resident memory at its start and at its peak."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.ndjson"
        # Customers of its own: the HTTP run's are known already, and their contact data
        # would not be published again.
        records = orders("file", BACKFILL_N, 2, first=CUSTOMERS, customers=BACKFILL_N // 10)
        path.write_bytes(_ndjson(records))
        del records
        pool = await _pool(settings)
        freeze_heap()  # as `anshin orders load` does
        span = Span()
        try:
            # The peak of the backfill alone: the orders written to the file were larger.
            rss = {"rss_start_mib": reset_peak() / 1024}
            span.start()
            with path.open("rb") as stream:
                totals = await backfill.load(
                    pool,
                    nc,
                    stream,
                    formats.get("canonical"),
                    schema="ingest",
                    secret=email_secret(settings.secret_key),
                    clock=Clock(),
                )
            span.stop()  # before the pool closes: its backends' CPU ends with them
            rss["rss_peak_mib"] = peak() / 1024
        finally:
            await pool.close()
    assert totals.accepted == BACKFILL_N and totals.rejected == 0, totals
    return BACKFILL_N / totals.seconds, _cpu(span, "bench", BACKFILL_N), rss


async def run(nats_url: str, database_url: str) -> dict[str, float]:
    """Return orders per second for the raw publish, HTTP and the backfill."""
    settings = Settings(nats_url=nats_url, database_url=database_url)
    nc = await bus.connect(nats_url, "bench-ingest")
    await bus.declare(nc)
    try:
        raw = await raw_baseline(nc, N)
        http_answered, http_on_bus, http_cpu = await over_http(settings, nc)
        raw_backfill = await raw_baseline(nc, BACKFILL_N)
        backfill_rate, backfill_cpu, backfill_memory = await by_backfill(settings, nc)
    finally:
        await nc.drain()
    return {
        "raw_publish_per_s": raw,
        "raw_backfill_publish_per_s": raw_backfill,
        "http_answered_per_s": http_answered,
        "http_per_s": http_on_bus,
        "backfill_per_s": backfill_rate,
        **{f"http_cpu_{k}": v for k, v in http_cpu.items()},
        **{f"backfill_cpu_{k}": v for k, v in backfill_cpu.items()},
        **{f"backfill_{k}": v for k, v in backfill_memory.items()},
    }


def report(figures: dict[str, float]) -> None:
    """Print the figures beside the raw baseline."""
    raw, raw_backfill = figures["raw_publish_per_s"], figures["raw_backfill_publish_per_s"]
    print(f"ingest: HTTP {N:,} orders in NDJSON batches of {BATCH}, {CONCURRENT} at a time")
    print(f"  raw JetStream publish of {N:,} (baseline) {raw:10,.0f} msg/s")
    for label, key in [
        ("HTTP, answered (202)", "http_answered_per_s"),
        ("HTTP, all events on the bus", "http_per_s"),
    ]:
        rate = figures[key]
        print(f"  {label:<32} {rate:10,.0f} orders/s   ratio {rate / raw:.2f}")
    _print_cpu(figures, "http", "ingest")
    print(f"ingest: backfill of a file of {BACKFILL_N:,} orders")
    print(f"  raw JetStream publish of {BACKFILL_N:,} (baseline) {raw_backfill:8,.0f} msg/s")
    rate = figures["backfill_per_s"]
    label = "backfill, all events on the bus"
    print(f"  {label:<32} {rate:10,.0f} orders/s   ratio {rate / raw_backfill:.2f}")
    _print_cpu(figures, "backfill", "loader")
    start, top = figures["backfill_rss_start_mib"], figures["backfill_rss_peak_mib"]
    print(f"    loader's resident memory: {top:,.0f} MiB at its peak, {start:,.0f} MiB at start")


def _print_cpu(figures: dict[str, float], path: str, python: str) -> None:
    """Where the CPU went: with both cores busy, their sum bounds the rate."""
    python_us, postgres_us, nats_us = (
        figures[f"{path}_cpu_{k}"] for k in ("python_us", "postgres_us", "nats_us")
    )
    total, cores = python_us + postgres_us + nats_us, os.cpu_count() or 1
    print(
        f"    CPU µs an order: {python} {python_us:.1f}, PostgreSQL {postgres_us:.1f},"
        f" NATS {nats_us:.1f}; {figures[f'{path}_cpu_cores']:.2f} of {cores} cores busy"
        f" (all of them all along: {cores * 1e6 / total:,.0f} orders/s)"
    )
