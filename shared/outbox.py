"""The transactional outbox: write an event with the change, publish it afterwards.

A service inserts the event in the same transaction as its own change; the relay publishes
what the outbox holds and deletes it. A crash between commit and publish only delays the
event; a crash between publish and delete publishes it again, which the Nats-Msg-Id and the
idempotent consumers absorb.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import asyncpg
from nats.aio.client import Client

from shared.bus import publish_many
from shared.db import Conn

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy
from shared.messages import Message, encode
from shared.metrics import OUTBOX_PUBLISHED

log = logging.getLogger(__name__)

DDL = """
CREATE TABLE IF NOT EXISTS outbox (
    id bigserial PRIMARY KEY,
    subject text NOT NULL,
    msg_id text NOT NULL,
    payload bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
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
            if moved < self._batch and not self._stopping:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallowed a cancel
                # that arrived as a notice set the event, and the relay ran on.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle):
                        await self._wake.wait()

    async def relay_once(self) -> int:
        """Publish one batch from the outbox and delete it; return how many were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, subject, msg_id, payload FROM outbox"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch,
            )
            if not rows:
                return 0
            await publish_many(self._nc, ((r["subject"], r["payload"], r["msg_id"]) for r in rows))
            await conn.execute(
                "DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
            )
        OUTBOX_PUBLISHED.labels(self._schema).inc(len(rows))
        return len(rows)
