"""Ingest's SQL for the keys of those who write: sales channels and catalog writers."""

from __future__ import annotations

import asyncpg

from shared.errors import Conflict, NotFound

# A key's last use is written at most once a minute: enough to tell a live channel from a
# forgotten one, and no write per request under load.
_FIND = """
WITH found AS (SELECT name, kind, last_used_at FROM channel_keys WHERE key_hash = $1),
touched AS (
    UPDATE channel_keys k SET last_used_at = now() FROM found
    WHERE k.key_hash = $1
      AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '1 minute')
)
SELECT name, kind FROM found
"""


async def create_key(pool: asyncpg.Pool, name: str, kind: str, key_id: str, key_hash: str) -> None:
    """Store a new writer's key hash; a second writer of the same name is a Conflict."""
    async with pool.acquire() as conn:
        try:
            await conn.execute(
                "INSERT INTO channel_keys (name, kind, key_id, key_hash) VALUES ($1, $2, $3, $4)",
                name,
                kind,
                key_id,
                key_hash,
            )
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(
                f"{name!r} exists already: `anshin channel rotate {name}` gives it a new key"
            ) from exc


async def rotate_key(pool: asyncpg.Pool, name: str, key_id: str, key_hash: str) -> str:
    """Replace a writer's key (the old one stops working at once); return the writer's kind."""
    async with pool.acquire() as conn:
        kind: str | None = await conn.fetchval(
            "UPDATE channel_keys SET key_id = $2, key_hash = $3, rotated_at = now()"
            " WHERE name = $1 RETURNING kind",
            name,
            key_id,
            key_hash,
        )
    if kind is None:
        raise NotFound(f"no channel {name!r}: `anshin channel list` shows them")
    return kind


async def writer_by_key_hash(pool: asyncpg.Pool, key_hash: str) -> tuple[str, str] | None:
    """The (name, kind) of the writer with this key hash, or None; notes the key's use."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_FIND, key_hash)
    return None if row is None else (row["name"], row["kind"])


async def list_keys(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every writer, oldest first: name, kind, key id, created, rotated, last used."""
    async with pool.acquire() as conn:
        return list(
            await conn.fetch(
                "SELECT name, kind, key_id, created_at, rotated_at, last_used_at"
                " FROM channel_keys ORDER BY created_at, name"
            )
        )
