"""The feed reader's SQL: who polls (one replica, by a session advisory lock), each feed's
validators (ETag, Last-Modified), and the entries already taken."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import msgspec

from shared.db import Conn, unit_of_work

__all__ = ["Conn", "Validators"]

# One poller among the replicas: whoever holds this session lock; its connection dying frees it.
_LEADER = 0x616E7368696E_FEED  # "anshin" + "feed"


class Validators(msgspec.Struct, frozen=True):
    """What a conditional GET sends back: the ETag and Last-Modified of the last full read."""

    etag: str | None = None
    last_modified: str | None = None


async def try_lead(conn: Conn) -> bool:
    """Take the poller's lock on this connection if no one holds it."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", _LEADER))


async def still_leading(conn: Conn) -> bool:
    """Whether this connection still holds the poller's lock (it answers and holds it)."""
    return bool(
        await conn.fetchval(
            "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = $1",
            _LEADER,
        )
    )


async def resign(conn: Conn) -> None:
    """Give the poller's lock up."""
    await conn.execute("SELECT pg_advisory_unlock($1)", _LEADER)


async def validators(pool: asyncpg.Pool, feed: str) -> Validators:
    """The validators kept for a feed (none before its first full read)."""
    async with unit_of_work(pool, transaction=False) as conn:
        row = await conn.fetchrow(
            "SELECT etag, last_modified FROM feed_state WHERE feed = $1", feed
        )
    return Validators() if row is None else Validators(row["etag"], row["last_modified"])


async def keep_validators(pool: asyncpg.Pool, feed: str, kept: Validators, now: datetime) -> None:
    """Keep a feed's validators once every entry of that read was taken."""
    async with unit_of_work(pool, transaction=False) as conn:
        await conn.execute(
            "INSERT INTO feed_state (feed, etag, last_modified, read_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (feed) DO UPDATE SET etag = $2, last_modified = $3, read_at = $4",
            feed,
            kept.etag,
            kept.last_modified,
            now,
        )


async def seen(pool: asyncpg.Pool, feed: str, entries: list[str]) -> set[str]:
    """Which of these entries of a feed were taken before."""
    async with unit_of_work(pool, transaction=False) as conn:
        rows = await conn.fetch(
            "SELECT entry FROM feed_entries WHERE feed = $1 AND entry = ANY($2::text[])",
            feed,
            entries,
        )
    return {r["entry"] for r in rows}


async def remember(pool: asyncpg.Pool, feed: str, entry: str, outcome: str, now: datetime) -> None:
    """Record an entry as taken, with what it did."""
    async with unit_of_work(pool, transaction=False) as conn:
        await conn.execute(
            "INSERT INTO feed_entries (feed, entry, outcome, seen_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (feed, entry) DO NOTHING",
            feed,
            entry,
            outcome,
            now,
        )


async def forget(pool: asyncpg.Pool, now: datetime, keep: timedelta) -> int:
    """Forget entries taken longer ago than any feed lists them; return how many."""
    async with unit_of_work(pool, transaction=False) as conn:
        done = await conn.execute("DELETE FROM feed_entries WHERE seen_at < $1", now - keep)
    return int(done.split()[-1])
