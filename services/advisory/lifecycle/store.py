"""Advisory's SQL: agencies, advisories and their versions, amendment and withdrawal."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from services.advisory.lifecycle.submission import AdvisoryIn
from shared import messages as m
from shared.bus import Subjects
from shared.db import Conn
from shared.errors import Conflict, Invalid, NotFound, field_error
from shared.outbox import enqueue

COLUMNS = (
    "a.id, a.agency_id, g.name AS agency_name, a.version, a.state, a.kind, a.rule, a.title,"
    " a.body, a.source_url, a.embargo_until, a.expires_at, a.created_at, a.published_at,"
    " a.withdrawn_at"
)
FROM = "FROM advisories a JOIN agencies g ON g.id = a.agency_id"


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
    async with pool.acquire() as conn, conn.transaction():
        try:
            await conn.execute(
                "INSERT INTO advisories (id, agency_id, kind, rule, title, body, source_url,"
                " embargo_until, expires_at, created_at)"
                " VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8, $9, $10)",
                advisory_id,
                agency_id,
                *_content_columns(advisory),
                now,
            )
        except asyncpg.ForeignKeyViolationError as exc:
            raise Invalid("unknown agency", [field_error("agency_id", "no such agency")]) from exc
        await _add_version(conn, advisory_id, 1, advisory, now)
    return advisory_id


def _content_columns(advisory: AdvisoryIn) -> tuple[Any, ...]:
    """kind, rule, title, body, source_url, embargo_until, expires_at as stored."""
    return (
        advisory.kind,
        msgspec.json.encode(advisory.rule()).decode(),
        json.dumps(advisory.title),
        json.dumps(advisory.body),
        advisory.source_url,
        advisory.embargo_until,
        advisory.expires_at,
    )


async def _add_version(
    conn: Conn, advisory_id: str, version: int, advisory: AdvisoryIn, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO advisory_versions (advisory_id, version, content, created_at)"
        " VALUES ($1, $2, $3::jsonb, $4)",
        advisory_id,
        version,
        msgspec.json.encode(advisory).decode(),
        now,
    )


async def get_advisory(pool: asyncpg.Pool, advisory_id: str) -> dict[str, Any]:
    """Return one advisory as a dict, or raise NotFound."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT {COLUMNS} {FROM} WHERE a.id = $1", advisory_id)
    if row is None:
        raise NotFound("no such advisory")
    return as_dict(row)


async def list_advisories(pool: asyncpg.Pool, agency_id: str | None) -> list[dict[str, Any]]:
    """Return an agency's advisories (every advisory for operators), newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {COLUMNS} {FROM}"
            " WHERE $1::text IS NULL OR a.agency_id = $1 ORDER BY a.created_at DESC LIMIT 500",
            agency_id,
        )
    return [as_dict(r) for r in rows]


def as_dict(row: asyncpg.Record) -> dict[str, Any]:
    """A row of COLUMNS as a dict, its JSON columns decoded."""
    result = dict(row)
    for key in ("rule", "title", "body"):
        result[key] = json.loads(result[key])
    return result


async def amend_advisory(
    pool: asyncpg.Pool,
    advisory_id: str,
    change: Callable[[AdvisoryIn], AdvisoryIn],
    now: datetime,
) -> int:
    """Apply `change` to the current version and store the result as a new one; return it.

    The row lock keeps the embargo keeper (SKIP LOCKED) off the advisory meanwhile, so an
    amendment and a publication never interleave.
    """
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT state, embargo_until, version FROM advisories WHERE id = $1 FOR UPDATE",
            advisory_id,
        )
        if row is None:
            raise NotFound("no such advisory")
        if row["state"] != "embargoed" or row["embargo_until"] <= now:
            raise Conflict(f"a {_shown_state(row, now)} advisory cannot be amended")
        content = await conn.fetchval(
            "SELECT content FROM advisory_versions WHERE advisory_id = $1 AND version = $2",
            advisory_id,
            row["version"],
        )
        amended = change(msgspec.json.decode(content, type=AdvisoryIn))
        version: int = row["version"] + 1
        await conn.execute(
            "UPDATE advisories SET version = $2, kind = $3, rule = $4::jsonb,"
            " title = $5::jsonb, body = $6::jsonb, source_url = $7, embargo_until = $8,"
            " expires_at = $9 WHERE id = $1",
            advisory_id,
            version,
            *_content_columns(amended),
        )
        await _add_version(conn, advisory_id, version, amended, now)
    return version


def _shown_state(row: asyncpg.Record, now: datetime) -> str:
    if row["state"] == "embargoed" and row["embargo_until"] <= now:
        return "published"
    return str(row["state"])


async def withdraw_advisory(pool: asyncpg.Pool, advisory_id: str, now: datetime) -> None:
    """Withdraw an advisory; once it was public, tell the bus (outbox). Idempotent."""
    async with pool.acquire() as conn, conn.transaction():
        state = await conn.fetchval(
            "SELECT state FROM advisories WHERE id = $1 FOR UPDATE", advisory_id
        )
        if state is None:
            raise NotFound("no such advisory")
        if state == "withdrawn":
            return
        await conn.execute(
            "UPDATE advisories SET state = 'withdrawn', withdrawn_at = $2 WHERE id = $1",
            advisory_id,
            now,
        )
        # An embargoed advisory never reached the bus, so there is nothing to take back.
        if state == "published":
            event = m.AdvisoryWithdrawn(advisory_id=advisory_id, withdrawn_at=now)
            await enqueue(
                conn, Subjects.ADVISORIES_WITHDRAWN, f"advisory:{advisory_id}:withdrawn", event
            )
