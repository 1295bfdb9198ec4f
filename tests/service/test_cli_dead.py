"""`anshin dead list|replay` against real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

from shared import bus, db
from shared import messages as m
from shared.bus import Subjects
from shared.config import Settings
from shared.outbox import OutboxRelay, install_outbox


async def anshin(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NATS_URL=settings.nats_url, DATABASE_URL=settings.database_url)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "services.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return await asyncio.to_thread(run)


async def test_dead_letters_are_listed_and_replayed_once(settings: Settings) -> None:
    nc = await bus.connect(settings.nats_url, "test")
    await bus.declare(nc, max_deliver=3)
    seen: list[Any] = []

    async def handler(event: Any) -> None:
        seen.append(event)

    consumer = bus.Consumer(nc, "mailer-customers", m.CustomerEvent, handler, max_deliver=3)
    try:
        await nc.jetstream().publish(Subjects.CUSTOMERS_UPSERTED, b"not json")
        consumer.start()
        async with asyncio.timeout(20):
            while (await nc.jetstream().stream_info("DEAD")).state.messages < 1:
                await asyncio.sleep(0.1)
        listed = await anshin(settings, "dead", "list")
        assert listed.returncode == 0, listed.stderr
        assert "mailer-customers" in listed.stdout and "customers.upserted" in listed.stdout
        assert "undecodable" in listed.stdout
        seq = listed.stdout.splitlines()[2].split()[0]
        scripted = json.loads((await anshin(settings, "dead", "list", "--json")).stdout)
        assert scripted["total"] == 1 and scripted["letters"][0]["seq"] == int(seq)
        assert scripted["letters"][0]["consumer"] == "mailer-customers"

        first = await anshin(settings, "dead", "replay", seq)
        assert first.returncode == 0, first.stderr
        assert f"replay:{seq}" in first.stdout
        again = await anshin(settings, "dead", "replay", seq)
        assert again.returncode == 1
        assert again.stderr.strip() == f"anshin: dead letter {seq} was replayed already"
        missing = await anshin(settings, "dead", "replay", "9999")
        assert missing.returncode == 1 and "no dead letter 9999" in missing.stderr
        # The replayed message is poison still: it lands in the dead letters a second time.
        async with asyncio.timeout(20):
            while (await nc.jetstream().stream_info("DEAD")).state.messages < 2:
                await asyncio.sleep(0.1)
    finally:
        await consumer.stop()
        await nc.drain()
    assert seen == []


async def test_an_outbox_row_the_bus_refused_is_listed_and_not_replayed(
    settings: Settings,
) -> None:
    pool = await db.create_pool(settings.database_url, "ingest", min_size=1, max_size=2)
    await install_outbox(pool)
    nc = await bus.connect(settings.nats_url, "test")
    await bus.declare(nc, max_deliver=3)
    try:
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO outbox (subject, msg_id, payload) VALUES ($1, $2, $3)",
                Subjects.ORDERS_BATCH,
                "order-batch:too-big",
                b"x" * (nc.max_payload + 1),
            )
        relay = OutboxRelay(pool, nc, "ingest")
        async with asyncio.timeout(20):
            while (await nc.jetstream().stream_info("DEAD")).state.messages < 1:
                await relay.relay_once()
                await asyncio.sleep(0.1)
        listed = await anshin(settings, "dead", "list")
        assert listed.returncode == 0, listed.stderr
        row = listed.stdout.splitlines()[2]
        assert "outbox:ingest" in row and Subjects.ORDERS_BATCH in row, listed.stdout
        assert "max_payload" in row and str(nc.max_payload + 1) in row, listed.stdout
        seq = row.split()[0]
        # Its payload stays in ingest's table: the notice on the bus is not the message.
        again = await anshin(settings, "dead", "replay", seq)
        assert again.returncode == 1 and "ingest.outbox_dead" in again.stderr, again.stderr
    finally:
        await nc.drain()
        await pool.close()
