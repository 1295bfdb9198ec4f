"""Migrations and the outbox against a real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from nats.aio.client import Client

from shared import bus, db
from shared import messages as m
from shared import outbox_dead as dead
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
    messages: int = (await nc.jetstream().stream_info("CUSTOMERS")).state.messages
    return messages


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


async def _insert_rows(pool: asyncpg.Pool, rows: list[tuple[str, str, bytes]]) -> None:
    async with pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO outbox (subject, msg_id, payload) VALUES ($1, $2, $3)", rows
        )


def _sample(name: str, metric: str = "anshin_outbox_dead_total") -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(metric, {"schema": name}) or 0.0


async def test_a_row_the_bus_refuses_is_set_aside_and_the_rows_behind_it_go_on(
    database_url: str, nats_url: str
) -> None:
    pool = await _outbox_pool(database_url)
    nc = await bus.connect(nats_url, "test")
    await bus.declare(nc)
    limit = nc.max_payload
    first, last = (
        (Subjects.customer_upserted(c), f"customer:{c}", m.encode(m.CustomerUpserted(
            customer_id=c, email=f"{c}@example.org")))
        for c in ("c-before", "c-after")
    )  # fmt: skip
    # Over max_payload, and a payload that fits alone but not with its Nats-Msg-Id header:
    # the server counts both, and closes the connection of a client that sends more.
    rows = [
        first,
        (Subjects.ORDERS_PLACED, "order:web:huge:placed", b"x" * (limit + 1)),
        (Subjects.ORDERS_PLACED, "order:web:edge:placed", b"y" * (limit - 8)),
        last,
    ]
    await _insert_rows(pool, rows)
    dead_before = _sample("ingest")
    relay = OutboxRelay(pool, nc, "ingest")
    try:
        assert await relay.relay_once() == 2
        assert await _stored(nc) == 2  # the rows before and after the poison
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
            dead = await conn.fetch("SELECT msg_id, size, reason FROM outbox_dead ORDER BY id")
        assert [d["msg_id"] for d in dead] == ["order:web:huge:placed", "order:web:edge:placed"]
        assert [d["size"] for d in dead] == [limit + 1, limit - 8]
        assert all(f"max_payload {limit}" in d["reason"] for d in dead), dead
        assert _sample("ingest") == dead_before + 2
        # Operators hear of it on the dead-letter stream: a notice, never the payload.
        async with asyncio.timeout(10):
            while (await nc.jetstream().stream_info("DEAD")).state.messages < 2:
                await relay.relay_once()
                await asyncio.sleep(0.05)
        notice = await nc.jetstream().get_msg("DEAD", 1)
        assert notice.subject == "dead.outbox.ingest"
        assert notice.headers is not None
        assert notice.headers["Anshin-Dead-Subject"] == Subjects.ORDERS_PLACED
        assert notice.headers["Anshin-Dead-Size"] == str(limit + 1)
        assert len(notice.data or b"") < 1000
        # Nothing is left to retry: a later round publishes nothing and sets nothing aside.
        assert await relay.relay_once() == 0
        assert _sample("ingest") == dead_before + 2
    finally:
        await nc.drain()
        await pool.close()


async def test_the_age_of_the_oldest_unpublished_row_is_measured(
    database_url: str, nats_url: str
) -> None:
    pool = await _outbox_pool(database_url)
    nc = await bus.connect(nats_url, "test")
    await bus.declare(nc)
    relay = OutboxRelay(pool, nc, "ingest")
    try:
        await relay.measure()
        assert _sample("ingest", "anshin_outbox_oldest_seconds") == 0
        await _enqueue_customer(pool, "c-stale")
        async with pool.acquire() as conn:
            await conn.execute("UPDATE outbox SET created_at = now() - interval '90 seconds'")
        await relay.measure()
        assert 90 <= _sample("ingest", "anshin_outbox_oldest_seconds") < 120
        assert await relay.relay_once() == 1
        await relay.measure()
        assert _sample("ingest", "anshin_outbox_oldest_seconds") == 0
    finally:
        await nc.drain()
        await pool.close()


async def test_a_row_jetstream_refuses_again_and_again_is_set_aside(
    database_url: str, nats_url: str
) -> None:
    pool = await _outbox_pool(database_url)
    nc = await bus.connect(nats_url, "test")
    await bus.declare(nc)
    js = nc.jetstream()
    config = (await js.stream_info("ORDERS")).config
    config.max_msg_size = 1000  # a stream that takes less than the server would
    await js.update_stream(config)
    relay = OutboxRelay(pool, nc, "ingest")
    try:
        await _insert_rows(pool, [(Subjects.ORDERS_PLACED, "order:web:long:placed", b"z" * 2000)])
        for n in range(1, dead.MAX_REFUSALS):
            await _enqueue_customer(pool, f"c-{n}")
            assert await relay.relay_once() == 1  # the others go on meanwhile
            assert (
                await pool.fetchval("SELECT refusals FROM outbox WHERE payload = $1", b"z" * 2000)
                == n
            )
        await _enqueue_customer(pool, "c-last")
        assert await relay.relay_once() == 1
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
            reason = await conn.fetchval("SELECT reason FROM outbox_dead")
        assert reason.startswith(f"refused {dead.MAX_REFUSALS} times by JetStream"), reason
        assert await _stored(nc) == dead.MAX_REFUSALS
    finally:
        await nc.drain()
        await pool.close()


async def test_a_kept_connection_serves_unit_after_unit_and_is_given_back_when_one_fails(
    database_url: str,
) -> None:
    pool = await db.create_pool(database_url, "kept_connection", min_size=1, max_size=2)
    kept = db.KeptConnection(pool)
    try:
        async with kept.unit_of_work(transaction=False) as conn:
            backend = await conn.fetchval("SELECT pg_backend_pid()")
        async with kept.unit_of_work() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == backend
            assert conn.is_in_transaction()
        assert pool.get_idle_size() == 0  # still the unit's, between units
        with pytest.raises(asyncpg.DivisionByZeroError):
            async with kept.unit_of_work() as conn:
                await conn.execute("SELECT 1 / 0")
        assert pool.get_idle_size() == 1  # given back after the failure
        async with kept.unit_of_work(transaction=False) as conn:
            assert not conn.is_in_transaction()
    finally:
        await kept.release()
        await pool.close()
