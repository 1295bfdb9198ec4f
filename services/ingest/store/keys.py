"""Ingest's SQL for the keys of those who write: sales channels and catalog writers."""

from __future__ import annotations

import asyncpg

from shared.db import Conn

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


async def create_key(conn: Conn, name: str, kind: str, key_id: str, key_hash: str) -> bool:
    """Store a new writer's key hash; False where a writer of that name (or, by a rare
    chance, that key) exists already."""
    created: str | None = await conn.fetchval(
        "INSERT INTO channel_keys (name, kind, key_id, key_hash) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING RETURNING name",
        name,
        kind,
        key_id,
        key_hash,
    )
    return created is not None


async def rotate_key(conn: Conn, name: str, key_id: str, key_hash: str) -> str | None:
    """Replace a writer's key (the old one stops working at once); return the writer's kind,
    None where there is no such writer."""
    kind: str | None = await conn.fetchval(
        "UPDATE channel_keys SET key_id = $2, key_hash = $3, rotated_at = now()"
        " WHERE name = $1 RETURNING kind",
        name,
        key_id,
        key_hash,
    )
    return kind


async def writer_by_key_hash(conn: Conn, key_hash: str) -> tuple[str, str] | None:
    """The (name, kind) of the writer with this key hash, or None; notes the key's use."""
    row = await conn.fetchrow(_FIND, key_hash)
    return None if row is None else (row["name"], row["kind"])


async def list_keys(conn: Conn) -> list[asyncpg.Record]:
    """Every writer, oldest first: name, kind, key id, created, rotated, last used."""
    return list(
        await conn.fetch(
            "SELECT name, kind, key_id, created_at, rotated_at, last_used_at"
            " FROM channel_keys ORDER BY created_at, name"
        )
    )
