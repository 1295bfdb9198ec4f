"""The transactional outbox: write an event with the change, publish it afterwards.

A service inserts the event in the same transaction as its own change; the relay publishes
what the outbox holds and deletes it. A crash between commit and publish only delays the
event; a crash between publish and delete publishes it again, which the Nats-Msg-Id and the
idempotent consumers absorb.

A row the bus refuses for good (larger than the server's max_payload, or refused by
JetStream round after round) never holds up the rows behind it: it moves to `outbox_dead`
with the reason, is counted, and operators hear of it on the dead-letter stream
(`shared/outbox_dead.py`). A bus that answers nothing at all keeps every row for the next
round. The age of the oldest row waiting is measured after each round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import asyncpg
from nats.aio.client import Client

from shared import outbox_dead as dead
from shared.bus import publish_each, size
from shared.bus.channels import Channel, T
from shared.db import Conn

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy
from shared.messages import Message, encode
from shared.metrics import OUTBOX_DEAD, OUTBOX_OLDEST, OUTBOX_PUBLISHED

log = logging.getLogger(__name__)

DDL = """
CREATE TABLE IF NOT EXISTS outbox (
    id bigserial PRIMARY KEY,
    subject text NOT NULL,
    msg_id text NOT NULL,
    payload bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Refusals by JetStream itself, counted per row. Added once, so no start-up takes the
-- table's lock again.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'outbox'::regclass
                   AND attname = 'refusals' AND NOT attisdropped) THEN
        ALTER TABLE outbox ADD COLUMN refusals int NOT NULL DEFAULT 0;
    END IF;
END $$;
-- What the bus refused for good, with why; noticed_at once the DEAD stream has the notice.
CREATE TABLE IF NOT EXISTS outbox_dead (
    id bigint PRIMARY KEY,
    subject text NOT NULL,
    msg_id text NOT NULL,
    payload bytea NOT NULL,
    size int NOT NULL,
    reason text NOT NULL,
    created_at timestamptz NOT NULL,
    dead_at timestamptz NOT NULL DEFAULT now(),
    noticed_at timestamptz
);
-- A payload lives for a moment (written, published, deleted): compressing it was a tenth
-- of PostgreSQL's work in a backfill, for nothing. Only altered once, so no start-up
-- takes the table's lock again.
DO $$ BEGIN
    IF (SELECT attstorage FROM pg_attribute
        WHERE attrelid = 'outbox'::regclass AND attname = 'payload') <> 'e' THEN
        ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTERNAL;
    END IF;
END $$
"""

_CHANNEL = "anshin_outbox"


async def install_outbox(pool: asyncpg.Pool) -> None:
    """Create the outbox table in the pool's schema if it is not there yet."""
    async with pool.acquire() as conn:
        await conn.execute(DDL)


async def enqueue(conn: Conn, subject: str, msg_id: str, message: Message) -> None:
    """Add one event to the outbox inside the caller's transaction."""
    await enqueue_encoded(conn, [(subject, msg_id, encode(message))])


async def enqueue_on(conn: Conn, channel: Channel[T], message: T) -> None:
    """Add one event on its typed channel (its subject and id) inside the caller's transaction."""
    await enqueue_encoded(conn, [channel.outgoing(message)])


async def enqueue_encoded(conn: Conn, rows: Iterable[tuple[str, str, bytes]]) -> None:
    """Add many (subject, msg_id, payload) events with COPY inside the caller's transaction."""
    records = list(rows)
    if not records:
        return
    if len(records) < 20:
        await conn.executemany(
            "INSERT INTO outbox (subject, msg_id, payload) VALUES ($1, $2, $3)", records
        )
    else:
        await conn.copy_records_to_table(
            "outbox",
            records=records,
            columns=["subject", "msg_id", "payload"],
            schema_name=await conn.fetchval("SELECT current_schema()"),
        )
    await conn.execute("SELECT pg_notify($1, '')", _CHANNEL)


class OutboxRelay:
    """Publishes a schema's outbox to JetStream; any number of replicas may run it."""

    def __init__(
        self, pool: asyncpg.Pool, nc: Client, schema: str, *, batch: int = 2000, idle: float = 1.0
    ) -> None:
        self._pool = pool
        self._idle = idle  # how long to wait for a notice before looking anyway
        self._nc = nc
        self._schema = schema
        self._batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._listener: PoolConnectionProxy[asyncpg.Record] | None = None
        # Dead rows whose notice may not be on the bus yet: at start, those of a crash.
        self._unnoticed = True
        # Each series from 0, so that the first event set aside is an increase to alert on.
        OUTBOX_DEAD.labels(schema)
        OUTBOX_PUBLISHED.labels(schema)

    async def start(self) -> None:
        """Listen for new events and start relaying."""
        self._listener = await self._pool.acquire()
        await self._listener.add_listener(_CHANNEL, self._on_notify)
        self._task = asyncio.create_task(self._run(), name=f"outbox:{self._schema}")

    async def stop(self) -> None:
        """Stop relaying; what is left stays in the outbox for the next start."""
        if self._task is not None:
            # The flag as well as the cancel: a cancel can be lost in a library's own
            # wait_for (Python 3.11 drops one that meets a result), and stop() then hung.
            self._stopping = True
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener(_CHANNEL, self._on_notify)
            await self._pool.release(self._listener)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            # Cleared before reading, not after: a notice that arrives while a batch is
            # published must wake the next round, not be lost until the 1 s timeout.
            self._wake.clear()
            try:
                moved = await self.relay_once()
            except Exception:
                log.warning("outbox relay of %s failed; retrying", self._schema, exc_info=True)
                moved = 0
                await asyncio.sleep(1.0)
            try:
                await self.measure()
            except Exception:  # the database is away: readiness says so
                log.debug("could not measure the outbox of %s", self._schema, exc_info=True)
            if moved < self._batch and not self._stopping:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallowed a cancel
                # that arrived as a notice set the event, and the relay ran on.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle):
                        await self._wake.wait()

    async def relay_once(self) -> int:
        """Publish one batch from the outbox and delete it; set aside what the bus refuses
        for good; return how many were published."""
        size.heard(self._nc)  # a server reconnected to may announce another max_payload
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, subject, msg_id, payload, refusals FROM outbox"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch,
            )
            if not rows:
                published = []
            else:
                published = await self._publish(conn, rows)
        OUTBOX_PUBLISHED.labels(self._schema).inc(len(published))
        if self._unnoticed:
            self._unnoticed = not await dead.send_notices(self._pool, self._nc, self._schema)
        return len(published)

    async def _publish(self, conn: Conn, rows: list[asyncpg.Record]) -> list[int]:
        """Publish the rows; delete those stored, set aside what the bus refuses for good."""
        items = ((r["subject"], r["payload"], r["msg_id"]) for r in rows)
        outcomes = await publish_each(self._nc, items)
        published = [r["id"] for r, e in zip(rows, outcomes, strict=True) if e is None]
        await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", published)
        if await dead.settle(conn, self._schema, rows, outcomes, any_published=bool(published)):
            self._unnoticed = True
        return published

    async def measure(self) -> None:
        """Set the age of the oldest event still waiting in the outbox (0 when it is empty)."""
        age = await self._pool.fetchval(
            "SELECT extract(epoch FROM now() - created_at) FROM outbox ORDER BY id LIMIT 1"
        )
        OUTBOX_OLDEST.labels(self._schema).set(max(0.0, float(age or 0)))
