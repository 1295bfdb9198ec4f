"""Advisory's SQL: agencies, advisories, versions, and publication through the outbox."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from services.advisory.model import AdvisoryIn
from shared import messages as m
from shared.bus import Subjects
from shared.errors import Conflict, NotFound
from shared.outbox import enqueue

_COLUMNS = (
    "a.id, a.agency_id, g.name AS agency_name, a.version, a.state, a.kind, a.rule, a.title,"
    " a.body, a.source_url, a.embargo_until, a.expires_at, a.created_at, a.published_at,"
    " a.withdrawn_at"
)


async def create_agency(pool: asyncpg.Pool, name: str, key_hash: str) -> str:
    """Create an agency and return its id; a second agency of the same name is a Conflict."""
    agency_id = "ag_" + secrets.token_hex(6)
    async with pool.acquire() as conn:
        try:
            await conn.execute(
                "INSERT INTO agencies (id, name, key_hash) VALUES ($1, $2, $3)",
                agency_id,
                name,
                key_hash,
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


async def create_advisory(
    pool: asyncpg.Pool, agency_id: str, advisory: AdvisoryIn, now: datetime
) -> str:
    """Store a new embargoed advisory and its first version; return its id."""
    advisory_id = "adv_" + secrets.token_hex(8)
    content = msgspec.json.encode(advisory).decode()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO advisories (id, agency_id, kind, rule, title, body, source_url,"
            " embargo_until, expires_at, created_at)"
            " VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8, $9, $10)",
            advisory_id,
            agency_id,
            advisory.kind,
            msgspec.json.encode(advisory.rule()).decode(),
            json.dumps(advisory.title),
            json.dumps(advisory.body),
            advisory.source_url,
            advisory.embargo_until,
            advisory.expires_at,
            now,
        )
        await conn.execute(
            "INSERT INTO advisory_versions (advisory_id, version, content, created_at)"
            " VALUES ($1, 1, $2::jsonb, $3)",
            advisory_id,
            content,
            now,
        )
    return advisory_id


async def get_advisory(pool: asyncpg.Pool, advisory_id: str) -> dict[str, Any]:
    """Return one advisory as a dict, or raise NotFound."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM advisories a JOIN agencies g ON g.id = a.agency_id"
            " WHERE a.id = $1",
            advisory_id,
        )
    if row is None:
        raise NotFound("no such advisory")
    return _as_dict(row)


async def list_advisories(pool: asyncpg.Pool, agency_id: str | None) -> list[dict[str, Any]]:
    """Return an agency's advisories (every advisory for operators), newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM advisories a JOIN agencies g ON g.id = a.agency_id"
            " WHERE $1::text IS NULL OR a.agency_id = $1 ORDER BY a.created_at DESC LIMIT 500",
            agency_id,
        )
    return [_as_dict(r) for r in rows]


def _as_dict(row: asyncpg.Record) -> dict[str, Any]:
    result = dict(row)
    for key in ("rule", "title", "body"):
        result[key] = json.loads(result[key])
    return result


async def publish_due(pool: asyncpg.Pool, now: datetime, limit: int = 100) -> list[str]:
    """Publish every embargoed advisory whose time has come; return their ids.

    The state change and the event commit together (outbox), and SKIP LOCKED lets several
    replicas run this at once without publishing anything twice.
    """
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM advisories a JOIN agencies g ON g.id = a.agency_id"
            " WHERE a.state = 'embargoed' AND a.embargo_until <= $1"
            " ORDER BY a.embargo_until LIMIT $2 FOR UPDATE OF a SKIP LOCKED",
            now,
            limit,
        )
        for row in rows:
            await conn.execute(
                "UPDATE advisories SET state = 'published', published_at = $2 WHERE id = $1",
                row["id"],
                now,
            )
            event = published_event(_as_dict(row), now)
            await enqueue(
                conn,
                Subjects.ADVISORIES_PUBLISHED,
                f"advisory:{row['id']}:v{row['version']}:published",
                event,
            )
    return [r["id"] for r in rows]


def published_event(advisory: dict[str, Any], now: datetime) -> m.AdvisoryPublished:
    """The bus event announcing a published advisory."""
    return m.AdvisoryPublished(
        advisory_id=advisory["id"],
        version=advisory["version"],
        agency_id=advisory["agency_id"],
        agency_name=advisory["agency_name"],
        rule=msgspec.convert(advisory["rule"], m.AdvisoryRule),
        title=advisory["title"],
        body=advisory["body"],
        published_at=now,
        source_url=advisory["source_url"],
        expires_at=advisory["expires_at"],
    )
