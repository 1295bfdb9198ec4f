"""Agencies' SQL: create one, find one by its key's hash, read and set its time zone, list
them with their advisories."""

from __future__ import annotations

import secrets
from typing import Any

import asyncpg

from shared.errors import Conflict, NotFound


async def create_agency(pool: asyncpg.Pool, name: str, key_hash: str, timezone: str = "UTC") -> str:
    """Create an agency (its time zone an IANA name, checked by the caller) and return its
    id; a second agency of the same name is a Conflict."""
    agency_id = "ag_" + secrets.token_hex(6)
    async with pool.acquire() as conn:
        try:
            await conn.execute(
                "INSERT INTO agencies (id, name, key_hash, timezone) VALUES ($1, $2, $3, $4)",
                agency_id,
                name,
                key_hash,
                timezone,
            )
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(f"an agency named {name!r} exists already") from exc
    return agency_id


async def agency_by_key_hash(pool: asyncpg.Pool, key_hash: str) -> str | None:
    """Return the id of the agency with this key hash, or None."""
    async with pool.acquire() as conn:
        result: str | None = await conn.fetchval(
            "SELECT id FROM agencies WHERE key_hash = $1", key_hash
        )
        return result


async def agency(pool: asyncpg.Pool, agency_id: str) -> dict[str, Any]:
    """One agency's id, name and time zone (NotFound if there is none)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT id, name, timezone FROM agencies WHERE id = $1", agency_id
        )
    if row is None:
        raise NotFound("no such agency")
    return dict(row)


async def set_timezone(pool: asyncpg.Pool, agency_id: str, timezone: str) -> None:
    """Set an agency's time zone (an IANA name, checked by the caller)."""
    async with pool.acquire() as conn:
        await conn.execute("UPDATE agencies SET timezone = $2 WHERE id = $1", agency_id, timezone)


_WITH_COUNTS = """
SELECT g.id, g.name, g.timezone, g.created_at,
       count(a.id) FILTER (WHERE a.state = 'embargoed') AS embargoed,
       count(a.id) FILTER (WHERE a.state = 'published') AS published,
       count(a.id) FILTER (WHERE a.state = 'withdrawn') AS withdrawn
FROM agencies g LEFT JOIN advisories a ON a.agency_id = g.id
GROUP BY g.id ORDER BY g.created_at, g.id
"""


async def with_counts(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Every agency (id, name, timezone, created_at) with its advisories by state, oldest
    first."""
    async with pool.acquire() as conn:
        return [dict(r) for r in await conn.fetch(_WITH_COUNTS)]
