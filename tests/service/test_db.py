"""Migrations and the outbox against a real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio

import asyncpg
from nats.aio.client import Client

from shared import bus, db
from shared import messages as m
from shared.bus import Subjects
from shared.outbox import OutboxRelay, enqueue, install_outbox


async def test_migrations_are_idempotent_and_safe_for_concurrent_replicas(
    database_url: str,
) -> None:
    pools = [await db.create_pool(database_url, "matcher") for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(db.migrate(p, "matcher", "services.matcher") for p in pools)
        )
        applied = [names for names in results if names]
        assert len(applied) == 1, "exactly one replica applies the migrations"
        assert applied[0] == [name for _, name, _ in db.migrations_of("services.matcher")]
        assert await db.migrate(pools[0], "matcher", "services.matcher") == []
        async with pools[0].acquire() as conn:
            count = await conn.fetchval("SELECT count(*) FROM matcher.schema_migrations")
        assert count == len(applied[0])
    finally:
        for pool in pools:
            await pool.close()


async def _outbox_pool(database_url: str) -> asyncpg.Pool:
    pool = await db.create_pool(database_url, "ingest")
    await install_outbox(pool)
    return pool


async def test_outbox_payloads_are_stored_uncompressed_from_the_first_install(
    database_url: str,
) -> None:
    admin = await asyncpg.connect(database_url)
    await admin.execute(
        "DROP SCHEMA IF EXISTS outbox_storage CASCADE; CREATE SCHEMA outbox_storage"
    )
    await admin.close()
    pool = await db.create_pool(database_url, "outbox_storage")
    try:
        async with pool.acquire() as conn:
            # The table as an earlier version created it: compressed payloads.
            await conn.execute(
                "CREATE TABLE outbox (id bigserial PRIMARY KEY, subject text NOT NULL,"
                " msg_id text NOT NULL, payload bytea NOT NULL,"
                " created_at timestamptz NOT NULL DEFAULT now())"
            )
        for _ in range(2):  # every start-up installs it again
            await install_outbox(pool)
            storage = await pool.fetchval(
                "SELECT attstorage FROM pg_attribute"
                " WHERE attrelid = 'outbox'::regclass AND attname = 'payload'"
            )
            assert storage == b"e"  # "char": EXTERNAL
    finally:
        async with pool.acquire() as conn:
            await conn.execute("DROP SCHEMA outbox_storage CASCADE")
        await pool.close()


async def _stored(nc: Client) -> int:
    return (await nc.jetstream().stream_info("CUSTOMERS")).state.messages


async def test_outbox_survives_a_crash_between_commit_and_publish(
    database_url: str, nats_url: str
) -> None:
    pool = await _outbox_pool(database_url)
    nc = await bus.connect(nats_url, "test")
    await bus.declare(nc)
    try:
        # The change commits with its event, then the process "dies" before any relay runs.
        async with pool.acquire() as conn, conn.transaction():
            for n in range(5):
                event = m.CustomerUpserted(customer_id=f"c-{n}", email=f"{n}@example.org")
                subject = Subjects.customer_upserted(f"c-{n}")
                await enqueue(conn, subject, f"customer:c-{n}", event)
        # A rolled-back change leaves no event behind.
        try:
            async with pool.acquire() as conn, conn.transaction():
                event = m.CustomerUpserted(customer_id="ghost", email="g@example.org")
                subject = Subjects.customer_upserted("ghost")
                await enqueue(conn, subject, "customer:ghost", event)
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
        assert await _stored(nc) == 0
        # After restart, the relay publishes what was committed.
        relay = OutboxRelay(pool, nc, "ingest")
        assert await relay.relay_once() == 5
        assert await _stored(nc) == 5
        # A crash after publishing but before deleting publishes again: the broker drops it.
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO outbox (subject, msg_id, payload) SELECT $1, 'customer:c-0', $2",
                Subjects.customer_upserted("c-0"),
                m.encode(m.CustomerUpserted(customer_id="c-0", email="0@example.org")),
            )
        assert await relay.relay_once() == 1
        assert await _stored(nc) == 5
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await nc.drain()
        await pool.close()


async def _enqueue_customer(pool: asyncpg.Pool, customer_id: str) -> None:
    """Commit one customers.upserted event to the outbox."""
    async with pool.acquire() as conn, conn.transaction():
        event = m.CustomerUpserted(customer_id=customer_id, email=f"{customer_id}@example.org")
        subject = Subjects.customer_upserted(customer_id)
        await enqueue(conn, subject, f"customer:{customer_id}", event)


async def test_relay_wakes_on_notify(database_url: str, nats_url: str) -> None:
    pool = await _outbox_pool(database_url)
    nc = await bus.connect(nats_url, "test")
    await bus.declare(nc)
    relay = OutboxRelay(pool, nc, "ingest")
    await relay.start()
    try:
        await _enqueue_customer(pool, "c-9")
        async with asyncio.timeout(5):
            while await _stored(nc) < 1:
                await asyncio.sleep(0.02)
    finally:
        await relay.stop()
        await nc.drain()
        await pool.close()


async def test_a_notice_during_a_busy_round_is_not_lost(database_url: str, nats_url: str) -> None:
    pool = await _outbox_pool(database_url)
    nc = await bus.connect(nats_url, "test")
    await bus.declare(nc)
    # Without notices the relay would look again only after an hour.
    relay = OutboxRelay(pool, nc, "ingest", idle=3600.0)
    publishing = relay.relay_once
    rounds = 0

    async def busy_round() -> int:
        nonlocal rounds
        rounds += 1
        moved = await publishing()
        if rounds == 2:  # the first round after start-up found the first event
            await _enqueue_customer(pool, "c-late")
            async with asyncio.timeout(5):  # the notice reaches the relay mid-round
                while not relay._wake.is_set():
                    await asyncio.sleep(0.01)
        return moved

    relay.relay_once = busy_round  # type: ignore[method-assign]
    await relay.start()
    try:
        await _enqueue_customer(pool, "c-first")
        async with asyncio.timeout(10):
            while await _stored(nc) < 2:
                await asyncio.sleep(0.02)
    finally:
        await relay.stop()
        await nc.drain()
        await pool.close()


async def test_the_relay_stops_when_a_notice_meets_the_stop(
    database_url: str, nats_url: str
) -> None:
    pool = await _outbox_pool(database_url)
    nc = await bus.connect(nats_url, "test")
    relay = OutboxRelay(pool, nc, "ingest", idle=3600.0)
    await relay.start()
    try:
        await asyncio.sleep(0.2)  # idle, waiting for a notice
        # A notice lands in the very tick the service stops: with wait_for on Python 3.11
        # the cancel was swallowed and stop() waited for good.
        relay._on_notify()
        stopping = asyncio.create_task(relay.stop())
        done, _ = await asyncio.wait([stopping], timeout=5)
        assert stopping in done, "stop() still waits for the relay"
    finally:
        await nc.drain()
        await pool.close()
