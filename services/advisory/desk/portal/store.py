"""The portal's sessions in SQL: opened with a key, found by the hash of their id, closed."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def open_session(
    pool: asyncpg.Pool, id_hash: str, key_hash: str, now: datetime, expires_at: datetime
) -> tuple[str, str] | None:
    """Open a session for the agency of `key_hash`; its (id, name), or None for no agency.

    Expired sessions of every agency are deleted on the way: signing in is rare enough to
    carry the clean-up, and the index on expires_at makes it cheap.
    """
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM portal_sessions WHERE expires_at <= $1", now)
        agency = await conn.fetchrow("SELECT id, name FROM agencies WHERE key_hash = $1", key_hash)
        if agency is None:
            return None
        await conn.execute(
            "INSERT INTO portal_sessions (id_hash, agency_id, key_hash, expires_at)"
            " VALUES ($1, $2, $3, $4)",
            id_hash,
            agency["id"],
            key_hash,
            expires_at,
        )
    return agency["id"], agency["name"]


async def session_agency(
    pool: asyncpg.Pool, id_hash: str, now: datetime
) -> tuple[str, str, str] | None:
    """The (id, name, time zone) of the agency whose live session this is; None if expired or
    unknown, or if the agency's key is no longer the one the session was opened with."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT g.id, g.name, g.timezone FROM portal_sessions s"
            " JOIN agencies g ON g.id = s.agency_id AND g.key_hash = s.key_hash"
            " WHERE s.id_hash = $1 AND s.expires_at > $2",
            id_hash,
            now,
        )
    return None if row is None else (row[0], row[1], row[2])


async def close_session(pool: asyncpg.Pool, id_hash: str) -> None:
    """Delete a session: its id signs no one in again."""
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM portal_sessions WHERE id_hash = $1", id_hash)
